"""Files in and out: one implementation for the command line and the dashboard.

Every import is all-or-nothing: a file with any bad row stores nothing and raises
:class:`~grid_model.errors.ImportValidationError` naming every bad row (row number as the
user sees it in a spreadsheet — header is row 1 — id, field, value, what was expected).
With ``skip_invalid=True`` the good rows are stored and the bad ones returned (and written to
``errors_out`` as CSV: the original columns plus ``error``). Nothing here commits.

Modules
-------
rows
    Reading a file: drivers, header vocabularies (``NEED_COLUMNS`` …), ``rename_columns``.
report
    :class:`ImportReport`, the bad rows and :func:`format_errors`.
needs
    :func:`import_needs`, :func:`store_needs` (the rules of a need are
    :mod:`grid_model.needs.validate`).
grids
    :func:`validate_grids`, :func:`import_grids`.
workers
    :func:`validate_workers`, :func:`import_workers`.
exporting
    Exports in the formats of :data:`grid_model.imports.exporting.KINDS`.
seed
    The demo data set (``gridlaw seed-demo``).
"""

from grid_model.imports.grids import import_grids, validate_grids
from grid_model.imports.needs import import_needs, store_needs
from grid_model.imports.report import ImportReport, format_errors
from grid_model.imports.workers import import_workers, validate_workers

__all__ = [
    "ImportReport",
    "format_errors",
    "import_grids",
    "import_needs",
    "import_workers",
    "store_needs",
    "validate_grids",
    "validate_workers",
]
