"""Domain errors. Pages and the CLI catch only these and show them in the user's language."""

from __future__ import annotations

from dataclasses import dataclass, field

from grid_model.messages import t


class GridLawError(Exception):
    """Base of every error GridLaw raises on purpose."""

    exit_code = 1


class ConfigError(GridLawError):
    """The configuration (database URL, environment) is unusable."""


class DatabaseError(GridLawError):
    """The database refused an operation; wraps the driver's error."""


class NotFoundError(GridLawError, LookupError):
    """A grid, worker, need or area that was asked for does not exist."""


class PermissionDeniedError(GridLawError, PermissionError):
    """The viewer's role may not do this (:data:`grid_model.scope.PERMISSIONS`)."""


class InvalidInputError(GridLawError, ValueError):
    """Input (a file, a form, an argument) is not what was expected."""

    exit_code = 3


@dataclass
class RowError:
    """One problem in one row of an input file.

    ``row`` is the 1-based data row number as a spreadsheet user sees it
    (header is row 1, so the first data row is row 2).
    """

    row: int
    record_id: str | None
    field: str
    value: object
    expected: str

    def as_dict(self) -> dict:
        return {
            "row": self.row,
            "id": self.record_id,
            "field": self.field,
            "value": None if self.value is None else str(self.value),
            "expected": self.expected,
        }


@dataclass
class ImportValidationError(InvalidInputError):
    """A file had bad rows; nothing was stored. ``errors`` lists every problem (a row may
    have several); :attr:`invalid_rows` counts the rows."""

    errors: list[RowError] = field(default_factory=list)
    total_rows: int = 0

    def __post_init__(self) -> None:
        super().__init__(self.summary("en"))

    @property
    def invalid_rows(self) -> int:
        return len({e.row for e in self.errors})

    def summary(self, lang: str = "zh") -> str:
        """ "11 invalid rows of 30, 22 problems; nothing was stored", in ``lang``."""
        return t(
            "import_invalid",
            lang,
            rows=self.invalid_rows,
            total=self.total_rows,
            n=len(self.errors),
        )


# --- concurrent writes and database errors (issue 8, classes 8 and 10) -----------------------
# grid_model.db.translate_error maps what a driver raises to these; their messages never carry
# a stored value or the SQL parameters (they may hold a resident's name or phone).


class BusyError(DatabaseError):
    """Another writer held the database longer than the busy timeout, on every attempt:
    nothing was saved, trying again later may work."""

    exit_code = 4


class ConflictError(GridLawError):
    """What was to be changed was changed by someone else meanwhile; nothing was saved."""

    exit_code = 4


class RejectedValueError(DatabaseError, InvalidInputError):
    """The database refused a value (too long, a NUL character, a broken constraint) that
    got past the validation; nothing was saved."""

    exit_code = 3
