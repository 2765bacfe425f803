"""What an import did (:class:`ImportReport`) and what it refused: the bad rows.

An import with bad rows raises :class:`~grid_model.errors.ImportValidationError`, or, with
``skip_invalid``, keeps them in the report and writes them to ``errors_out``
(:func:`settle_errors`).

>>> from grid_model.errors import RowError
>>> error = RowError(row=3, record_id="N2", field="lat", value="x", expected="a latitude")
>>> format_errors([error], "en")
["row 3 (id N2): field 'lat' has 'x', expected a latitude"]
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from geodata import io as gio
from grid_model.errors import ImportValidationError, RowError
from grid_model.fields import Collector
from grid_model.messages import t


@dataclass
class ImportReport:
    """What an import did. ``invalid`` is non-empty only with ``skip_invalid``."""

    kind: str
    total: int
    inserted: int = 0
    updated: int = 0
    existing: int = 0
    invalid: list[RowError] = field(default_factory=list)
    errors_out: Path | None = None
    created_areas: list[str] = field(default_factory=list)

    def summary(self, lang: str = "zh") -> str:
        return t(
            "import_done",
            lang,
            kind=t(f"kind_{self.kind}", lang),
            inserted=self.inserted + self.updated,
            existing=self.existing,
            invalid=self.invalid_rows,
        )

    @property
    def invalid_rows(self) -> int:
        """Rows skipped (``invalid`` lists every problem, several per row at times)."""
        return len({e.row for e in self.invalid})


def format_errors(errors: Iterable[RowError], lang: str = "zh") -> list[str]:
    """One line per bad row/field, in the user's language."""
    return [
        t(
            "import_row_error",
            lang,
            row=e.row,
            id=e.record_id if e.record_id not in (None, "") else "-",
            field=e.field,
            value="" if e.value is None else e.value,
            expected=e.expected,
        )
        for e in errors
    ]


def settle_errors(
    report: ImportReport, col: Collector, original: pd.DataFrame, *, skip_invalid: bool, errors_out
) -> set[int]:
    """Raise on bad rows unless skipping; write the bad rows out when asked. Returns the
    positions of the bad rows."""
    errors = col.sorted()
    if errors and not skip_invalid:
        raise ImportValidationError(errors=errors, total_rows=len(original))
    report.invalid = errors
    bad = col.bad_positions()
    if errors and errors_out:
        report.errors_out = _write_bad_rows(errors, original, bad, Path(errors_out), col.lang)
    return bad


def _write_bad_rows(
    errors: list[RowError], original: pd.DataFrame, bad: set[int], path: Path, lang: str
) -> Path:
    """The original columns of the bad rows plus ``error``: every problem of the row."""
    by_row: dict[int, list[str]] = {}
    for e, line in zip(errors, format_errors(errors, lang), strict=True):
        by_row.setdefault(e.row - 2, []).append(line)
    out = original.iloc[sorted(bad)].copy()
    out["error"] = ["; ".join(by_row[p]) for p in sorted(bad)]
    gio.write_frame(out, path)
    return path
