"""Field vocabulary: what a value typed into a file, a form or the search box may be.

One set of rules for the importers (:mod:`grid_model.imports.importing`), the diary form
(:func:`grid_model.needs.cases.record_need`) and the search box (:func:`grid_model.needs.cases.search_needs`),
the same on SpatiaLite and PostGIS. Each check is vectorised: it takes a column of typed values
and returns the clean values with a mask (or a problem code) per row; the callers name the row
and the field.

Booleans (:data:`TRUE_WORDS`, :data:`FALSE_WORDS`, case-insensitive, surrounding blanks
ignored)
    yes: 是 √ ✓ ✔ 1 true yes y — no: 否 × ✗ ✘ 0 false no n. Anything else (是的, 对, X, ture,
    2, …) is an error. An empty cell means "not given": the field's default (not under
    community correction; a worker is active).
Text
    No control characters: Unicode category Cc (NUL, ESC, BEL, DEL, …) and the bidirectional
    overrides and isolates U+202A–U+202E, U+2066–U+2069 (they reorder what a reader sees).
    Free text (:data:`MULTILINE`, descriptions) may hold tab, newline and carriage return.
    Lengths in characters, at most the model's ``String(n)`` (:func:`max_length`), and
    :data:`TEXT_MAX` for ``Text`` columns; search text at most :data:`SEARCH_MAX`.
Dates
    From :data:`EARLIEST` (1990-01-01) to :func:`latest_reported` (tomorrow, one day of leeway
    for the clock of the device that filled the form, relative to :func:`today`) for report
    and closing dates; due dates and the start of an assignment up to :func:`latest_planned`
    (a year after tomorrow).
Numbers
    Finite (no ``inf``, ``nan``, ``1e309``); worker capacity in (0, :data:`CAPACITY_MAX`];
    population and households whole numbers from 0 to :data:`COUNT_MAX` (the database's
    32-bit ``INTEGER``).
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd
from sqlalchemy import String
from sqlalchemy.orm import InstrumentedAttribute

from grid_model import config

TRUE_WORDS: frozenset[str] = frozenset({"是", "√", "✓", "✔", "1", "true", "yes", "y"})
FALSE_WORDS: frozenset[str] = frozenset({"否", "×", "✗", "✘", "0", "false", "no", "n"})
#: The spellings as shown in messages.
BOOLEAN_CHOICES = "是/否, √/×, ✓/✗, 1/0, true/false, yes/no, y/n"

#: Longest text in a ``Text`` column (a need's description), in characters.
TEXT_MAX = 5000
#: Longest search text, in characters.
SEARCH_MAX = 200
#: Fields of free text: tab and line breaks allowed.
MULTILINE: frozenset[str] = frozenset({"description"})

EARLIEST = dt.date(1990, 1, 1)
CAPACITY_MAX = 10.0
COUNT_MAX = 2**31 - 1

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def today() -> dt.date:
    """The day the checks count from: :func:`grid_model.config.today`."""
    return config.today()


def latest_reported() -> dt.date:
    """The latest report or closing date accepted: tomorrow."""
    return today() + dt.timedelta(days=1)


def latest_planned() -> dt.date:
    """The latest due date or assignment start accepted: a year after tomorrow."""
    return latest_reported() + dt.timedelta(days=366)


def max_length(column: InstrumentedAttribute) -> int:
    """The most characters ``column`` holds: its ``String(n)``, or :data:`TEXT_MAX`."""
    kind = column.property.columns[0].type
    length = getattr(kind, "length", None) if isinstance(kind, String) else None
    return int(length) if length else TEXT_MAX


def parse_booleans(raw: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Map typed yes/no values onto True/False (None where empty).

    Returns the values and a mask of cells given but not in the vocabulary."""
    values: list[bool | None] = []
    bad = np.zeros(len(raw), dtype=bool)
    for pos, v in enumerate(raw.tolist()):
        word = _blank_to_none(v)
        if word is None:
            values.append(None)
            continue
        word = word.lower()
        if word in TRUE_WORDS:
            values.append(True)
        elif word in FALSE_WORDS:
            values.append(False)
        else:
            values.append(None)
            bad[pos] = True
    return pd.Series(values, index=raw.index, dtype=object), bad


def text_problems(raw: pd.Series, *, max_length: int, multiline: bool = False) -> pd.Series:
    """Per cell: ``None`` when fine (or empty), ``"control"`` for a control character,
    ``"too_long"`` for more than ``max_length`` characters."""
    pattern = _CONTROL_MULTILINE if multiline else _CONTROL
    cells = [str(v) for v in raw.tolist() if isinstance(v, str) or _blank_to_none(v) is not None]
    if not cells or (max(map(len, cells)) <= max_length and not pattern.search("".join(cells))):
        # The usual column: one pass over all of it instead of a test per cell.
        return pd.Series([None] * len(raw), index=raw.index, dtype=object)
    out: list[str | None] = []
    for v in raw.tolist():
        text = _blank_to_none(v)
        if text is None:
            out.append(None)
        elif pattern.search(text):
            out.append("control")
        elif len(text) > max_length:
            out.append("too_long")
        else:
            out.append(None)
    return pd.Series(out, index=raw.index, dtype=object)


def text_problem(value: str, *, max_length: int, multiline: bool = False) -> str | None:
    """:func:`text_problems` of one value."""
    return text_problems(
        pd.Series([value], dtype=object), max_length=max_length, multiline=multiline
    ).iloc[0]


def outside(dates: pd.Series, earliest: dt.date, latest: dt.date) -> np.ndarray:
    """Mask of dates before ``earliest`` or after ``latest`` (empty cells are not)."""
    return np.array(
        [d is not None and not (earliest <= d <= latest) for d in dates.tolist()], dtype=bool
    )


def parse_numbers(
    raw: pd.Series, *, low: float, high: float, low_open: bool = False
) -> tuple[pd.Series, np.ndarray]:
    """Finite numbers in [low, high] (or (low, high] with ``low_open``); NaN where empty.

    Returns the numbers and a mask of cells given but not such a number."""
    given = np.array([_blank_to_none(v) is not None for v in raw.tolist()], dtype=bool)
    num = pd.to_numeric(
        pd.Series([_blank_to_none(v) for v in raw.tolist()], index=raw.index, dtype=object),
        errors="coerce",
    ).astype(float)
    ok = np.isfinite(num.to_numpy()) & (num.to_numpy() <= high)
    ok &= (num.to_numpy() > low) if low_open else (num.to_numpy() >= low)
    return num.where(ok), given & ~ok


def parse_counts(raw: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Whole numbers from 0 to :data:`COUNT_MAX` (None where empty), and a mask of bad cells."""
    num, bad = parse_numbers(raw, low=0, high=COUNT_MAX)
    fraction = num.notna().to_numpy() & (num.fillna(0).to_numpy() % 1 != 0)
    bad = bad | fraction
    values = [None if pd.isna(v) or f else int(v) for v, f in zip(num, fraction, strict=True)]
    return pd.Series(values, index=raw.index, dtype=object), bad


def shown(value: object, *, limit: int = 40) -> str:
    """A value as an error message may show it: control characters escaped, long text cut."""
    text = "" if value is None else str(value)
    text = _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
    return text if len(text) <= limit else f"{text[:limit]}…"


def _blank_to_none(v: object) -> str | None:
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return None
    text = str(v).strip()
    return text or None


__all__ = [
    "BOOLEAN_CHOICES",
    "CAPACITY_MAX",
    "COUNT_MAX",
    "EARLIEST",
    "FALSE_WORDS",
    "MULTILINE",
    "SEARCH_MAX",
    "TEXT_MAX",
    "TRUE_WORDS",
    "latest_planned",
    "latest_reported",
    "max_length",
    "outside",
    "parse_booleans",
    "parse_counts",
    "parse_numbers",
    "shown",
    "text_problem",
    "text_problems",
    "today",
]
