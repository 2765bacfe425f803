"""Field vocabulary: what a value typed into a file, a form or the search box may be.

One set of rules for the importers (:mod:`grid_model.imports`), the diary form
(:func:`grid_model.needs.cases.record_need`) and the search box (:func:`grid_model.needs.cases.search_needs`),
the same on SpatiaLite and PostGIS. Each check is vectorised: it takes a column of typed values
and returns the clean values with a mask (or a problem code) per row. The column checks at the
end (:func:`check_texts`, :func:`check_dates`, :func:`check_booleans`, :func:`check_vocabulary`)
name the row and the field: they record each bad cell in a :class:`Collector`.

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
from collections.abc import Iterable

import numpy as np
import pandas as pd
from sqlalchemy import String
from sqlalchemy.orm import InstrumentedAttribute

from grid_model import config
from grid_model.errors import InvalidInputError, RowError
from grid_model.messages import t

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
        word = clean_cell(v)
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
    cells = [str(v) for v in raw.tolist() if isinstance(v, str) or clean_cell(v) is not None]
    if not cells or (max(map(len, cells)) <= max_length and not pattern.search("".join(cells))):
        # The usual column: one pass over all of it instead of a test per cell.
        return pd.Series([None] * len(raw), index=raw.index, dtype=object)
    out: list[str | None] = []
    for v in raw.tolist():
        text = clean_cell(v)
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
    far = per_value(dates, lambda d: not (earliest <= d <= latest))
    return np.equal(far.to_numpy(), True)


def parse_numbers(
    raw: pd.Series, *, low: float, high: float, low_open: bool = False
) -> tuple[pd.Series, np.ndarray]:
    """Finite numbers in [low, high] (or (low, high] with ``low_open``); NaN where empty.

    Returns the numbers and a mask of cells given but not such a number."""
    given = np.array([clean_cell(v) is not None for v in raw.tolist()], dtype=bool)
    num = pd.to_numeric(
        pd.Series([clean_cell(v) for v in raw.tolist()], index=raw.index, dtype=object),
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


def clean_cell(v: object) -> str | None:
    """A typed cell stripped; None when empty (None, NaN, NA or blanks).

    >>> clean_cell("  漏水 "), clean_cell("  "), clean_cell(float("nan"))
    ('漏水', None, None)
    """
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return None
    text = str(v).strip()
    return text or None


# --- column checks: every bad cell recorded with its row and field ---------------------------

#: Fields whose values an error message never shows (DESIGN §3: personal data).
PERSONAL_FIELDS = frozenset({"resident_name", "resident_phone", "phone"})


class Collector:
    """Gathers RowErrors for one file. Values are kept as a message may show them: control
    characters escaped, long text cut, personal data hidden (:data:`PERSONAL_FIELDS`)."""

    def __init__(self, frame: pd.DataFrame, ids: pd.Series | None, lang: str):
        self.frame = frame
        self.ids = ids
        self.lang = lang
        self.errors: list[RowError] = []

    def add(self, mask: np.ndarray | pd.Series, fld: str, values: pd.Series, expected: str) -> None:
        mask = np.asarray(mask, dtype=bool)
        for pos in np.flatnonzero(mask):
            self.errors.append(
                RowError(
                    row=int(pos) + 2,
                    record_id=None if self.ids is None else self._id(self.ids.iloc[pos]),
                    field=fld,
                    value=self._shown(fld, values.iloc[pos] if values is not None else None),
                    expected=expected,
                )
            )

    def add_at(self, pos: int, fld: str, values: pd.Series, expected: str) -> None:
        """Record the one cell at position ``pos`` (a message of its own, e.g. its length)."""
        self.add(np.arange(len(self.frame)) == pos, fld, values, expected)

    @staticmethod
    def _id(value: object) -> str | None:
        return None if value is None else shown(value)

    def _shown(self, fld: str, value: object) -> str | None:
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
            return None
        if fld in PERSONAL_FIELDS:
            return t("value_hidden", self.lang, n=len(str(value)))
        return shown(value)

    def bad_positions(self) -> set[int]:
        return {e.row - 2 for e in self.errors}

    def sorted(self) -> list[RowError]:
        return sorted(self.errors, key=lambda e: (e.row, e.field))


def stripped(series: pd.Series) -> pd.Series:
    """Stripped text with blanks as None (object dtype, whatever pandas inferred).

    >>> stripped(pd.Series([" a ", "", 3])).tolist()
    ['a', None, '3']
    """
    values = series.to_numpy(dtype=object)
    if set(map(type, values)) <= {str, type(None)}:  # a file's cells: stripped in one go
        if not _needs_strip(values):
            return pd.Series(values, index=series.index, dtype=object, copy=True)
        return per_value(pd.Series(values, index=series.index, dtype=object), clean_cell)
    return pd.Series([clean_cell(v) for v in series.tolist()], index=series.index, dtype=object)


def _needs_strip(values: np.ndarray) -> bool:
    """Whether any cell of ``values`` (text or None) is empty or has blanks at either end
    (``str.strip`` gives back the very string when there is nothing to take away)."""
    present = values[np.not_equal(values, None)]
    return bool((present == "").any()) or any(v is not v.strip() for v in present)


def per_value(series: pd.Series, fn) -> pd.Series:
    """``fn`` of each cell of ``series`` (an object column), called once per distinct value;
    None where the cell is None or NaN. A file repeats its categories, statuses and days
    a million times.

    >>> per_value(pd.Series(["a", None, "a"], dtype=object), str.upper).tolist()
    ['A', None, 'A']
    """
    codes, uniques = pd.factorize(series.to_numpy(dtype=object), use_na_sentinel=True)
    done = np.empty(len(uniques) + 1, dtype=object)
    done[:-1] = [fn(v) for v in uniques]
    done[-1] = None
    return pd.Series(done[codes], index=series.index, dtype=object)


def optional_text(frame: pd.DataFrame, column: str) -> pd.Series:
    """:func:`stripped` of an optional column; all None when the file does not have it."""
    if column in frame:
        return stripped(frame[column])
    return pd.Series([None] * len(frame), index=frame.index, dtype=object)


def require_columns(frame: pd.DataFrame, required: Iterable[str], lang: str) -> None:
    """InvalidInputError naming the ``required`` columns ``frame`` lacks."""
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InvalidInputError(t("expected_columns", lang, columns=", ".join(missing)))


_DATE_RE = re.compile(
    r"^\s*(\d{4})\s*(?:[-/.年])\s*(\d{1,2})\s*(?:[-/.月])\s*(\d{1,2})\s*日?(?:[ T].*)?$"
)


def parse_dates(series: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Parse 2025-03-01, 2025/3/1, 2025.3.1 or 2025年3月1日 (time of day ignored).

    Returns the dates (``datetime.date`` or None) and a mask of values that were given but
    are not real dates (wrong form, or impossible such as 2025-02-30).

    >>> dates, bad = parse_dates(pd.Series(["2025年3月1日", "2025-02-30", None]))
    >>> dates.tolist(), bad.tolist()
    ([datetime.date(2025, 3, 1), None, None], [False, True, False])
    """
    text = stripped(series)
    parts = text.str.extract(_DATE_RE) if len(text) else pd.DataFrame(columns=[0, 1, 2])
    parsed = (
        pd.to_datetime(
            {
                "year": pd.to_numeric(parts[0], errors="coerce"),
                "month": pd.to_numeric(parts[1], errors="coerce"),
                "day": pd.to_numeric(parts[2], errors="coerce"),
            },
            errors="coerce",
        )
        if len(text)
        else pd.Series([], dtype="datetime64[ns]")
    )
    given = text.notna().to_numpy()
    bad = given & parsed.isna().to_numpy()
    dates = pd.Series(
        [None if pd.isna(v) else v.date() for v in parsed], index=series.index, dtype=object
    )
    return dates, bad


def check_dates(
    raw: pd.Series, column: str, col: Collector, latest: dt.date
) -> tuple[pd.Series, np.ndarray]:
    """:func:`parse_dates` of ``raw``, recording values that are not dates or fall outside
    :data:`EARLIEST`..``latest`` (those become None); returns the dates and the bad mask."""
    dates, bad = parse_dates(raw)
    col.add(bad, column, raw, t("expected_date", col.lang))
    # An absurd year (0001, 9999) is a real date but breaks date arithmetic and analyses.
    far = outside(dates, EARLIEST, latest)
    key = "expected_date_recent" if latest <= latest_reported() else "expected_date_planned"
    expected = t(key, col.lang, earliest=EARLIEST, latest=latest, today=today())
    col.add(far, column, raw, expected)
    return dates.where(~far, None), bad | far


def check_optional_dates(
    frame: pd.DataFrame, column: str, col: Collector, latest: dt.date
) -> tuple[pd.Series, np.ndarray]:
    """:func:`check_dates` of an optional column (all None when the file does not have it)."""
    if column not in frame:
        return optional_text(frame, column), np.zeros(len(frame), dtype=bool)
    return check_dates(frame[column], column, col, latest)


def check_texts(frame: pd.DataFrame, col: Collector, columns: dict[str, object]) -> None:
    """Record cells of each of ``columns`` (column → model attribute) with control characters
    or longer than the attribute holds (:func:`max_length`)."""
    for column, attribute in columns.items():
        if column in frame:
            _check_text(frame, col, column, attribute)


def _check_text(frame: pd.DataFrame, col: Collector, column: str, attribute) -> None:
    limit = max_length(attribute)
    multiline = column in MULTILINE
    raw = frame[column]
    problems = text_problems(raw, max_length=limit, multiline=multiline).to_numpy()
    control = "expected_no_control_multiline" if multiline else "expected_no_control"
    col.add(problems == "control", column, raw, t(control, col.lang))
    for pos in np.flatnonzero(problems == "too_long"):
        length = len(clean_cell(raw.iloc[pos]))
        col.add_at(pos, column, raw, t("expected_max_length", col.lang, n=limit, length=length))


def check_booleans(frame: pd.DataFrame, col: Collector, column: str, **extra: bool) -> pd.Series:
    """:func:`parse_booleans` of an optional column (None where empty), recording values
    outside the vocabulary (plus ``extra`` spellings of this field)."""
    raw = optional_text(frame, column)
    words = raw.map(
        lambda v: v if v is None or v.lower() not in extra else ("1" if extra[v.lower()] else "0")
    )
    values, bad = parse_booleans(words)
    choices = ", ".join([BOOLEAN_CHOICES, *extra])
    col.add(bad, column, raw, t("expected_boolean", col.lang, choices=choices))
    return values


def vocabulary(aliases: dict[str, list[str]]) -> dict[str, str]:
    """Accepted spelling (codes as they are, names lower-cased) → code.

    >>> vocabulary({"phone": ["电话", "Hotline"]})
    {'phone': 'phone', '电话': 'phone', 'hotline': 'phone'}
    """
    vocab = {code: code for code in aliases}
    for code, names in aliases.items():
        for name in names:
            vocab[name.lower()] = code
    return vocab


def _map_vocabulary(series: pd.Series, aliases: dict[str, list[str]]) -> pd.Series:
    vocab = vocabulary(aliases)
    return per_value(series, lambda v: vocab.get(v.lower(), vocab.get(v)))


def _choices(aliases: dict[str, list[str]], lang: str = "zh") -> str:
    """The codes of a vocabulary as a message lists them: with their Chinese names in
    Chinese, the codes alone in English (a value map, ``--value-map``, translates others).

    >>> _choices({"phone": ["电话"]}, "zh"), _choices({"phone": ["电话"]}, "en")
    ('phone (电话)', 'phone')
    """
    if lang != "zh":
        return ", ".join(aliases)
    return ", ".join(f"{code} ({names[0]})" for code, names in aliases.items())


def check_vocabulary(
    frame: pd.DataFrame,
    col: Collector,
    column: str,
    aliases: dict[str, list[str]],
    *,
    required: bool,
) -> pd.Series:
    """The codes of ``column`` (canonical value ← accepted spellings in ``aliases``), None
    where empty; records values outside the vocabulary, and empty ones when ``required``."""
    if column not in frame.columns:
        return pd.Series([None] * len(frame), index=frame.index, dtype=object)
    raw = stripped(frame[column])
    mapped = _map_vocabulary(raw, aliases)
    expected = t("expected_one_of", col.lang, choices=_choices(aliases, col.lang))
    col.add(raw.notna().to_numpy() & mapped.isna().to_numpy(), column, frame[column], expected)
    if required:
        col.add(
            raw.isna().to_numpy(),
            column,
            frame[column],
            t("expected_required", col.lang) + "; " + expected,
        )
    return mapped


__all__ = [
    "BOOLEAN_CHOICES",
    "CAPACITY_MAX",
    "COUNT_MAX",
    "EARLIEST",
    "FALSE_WORDS",
    "MULTILINE",
    "PERSONAL_FIELDS",
    "SEARCH_MAX",
    "TEXT_MAX",
    "TRUE_WORDS",
    "Collector",
    "check_booleans",
    "check_dates",
    "check_optional_dates",
    "check_texts",
    "check_vocabulary",
    "clean_cell",
    "latest_planned",
    "latest_reported",
    "max_length",
    "outside",
    "parse_booleans",
    "parse_counts",
    "parse_dates",
    "parse_numbers",
    "per_value",
    "require_columns",
    "shown",
    "stripped",
    "text_problem",
    "text_problems",
    "today",
    "vocabulary",
]
