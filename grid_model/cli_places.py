"""The command line of places: ``gridlaw import-areas`` and the mapping options of the
import commands (``--column``, ``--mapping``, ``--value-map``, ``--date-format``,
``--dayfirst``, ``--timezone``). Services are imported inside the handlers (see
:mod:`grid_model.cli`)."""

from __future__ import annotations


def add_mapping_options(p, command: str) -> None:
    """The mapping options of ``command`` (import-grids, import-needs, import-workers)."""
    p.add_argument(
        "--column",
        action="append",
        metavar="FIELD=HEADER",
        help="the file's header for a field, e.g. id='Unique Key' (repeatable)",
    )
    p.add_argument(
        "--mapping", metavar="FILE.toml", help="a saved mapping (columns, value maps, dates)"
    )
    if command != "import-needs":
        return
    p.add_argument(
        "--value-map",
        action="append",
        metavar="FIELD=MAP.csv",
        help="translate the file's values of category, status, outcome, source or dispute_type "
        "(CSV with columns value,code; repeatable)",
    )
    p.add_argument("--date-format", metavar="STRFTIME", help="e.g. '%%m/%%d/%%Y %%I:%%M:%%S %%p'")
    p.add_argument("--dayfirst", action="store_true", help="read 01/05/2022 as 1 May")
    p.add_argument(
        "--timezone",
        metavar="TZ",
        help="zone of times without an offset (default GRIDLAW_TIMEZONE or Asia/Shanghai)",
    )


def import_mapping(args):
    """The :class:`~grid_model.imports.mapping.ImportMapping` of an import command's options."""
    from grid_model.imports.mapping import from_options

    kind = {"import-grids": "grids", "import-workers": "workers", "import-areas": "areas"}
    return from_options(
        columns=getattr(args, "column", None),
        value_maps=getattr(args, "value_map", None),
        mapping_file=getattr(args, "mapping", None),
        date_format=getattr(args, "date_format", None),
        dayfirst=getattr(args, "dayfirst", False),
        timezone=getattr(args, "timezone", None),
        kind=kind.get(args.command, "needs"),
        lang=args.lang,
    )


def cmd_import_areas(args) -> int:
    from grid_model.cli import _import
    from grid_model.imports.areas import import_areas

    return _import(args, import_areas, skip_invalid=args.skip_invalid, errors_out=args.errors_out)


def add_commands(add) -> None:
    """import-areas."""
    p = add(
        "import-areas",
        cmd_import_areas,
        "import districts, streets and communities with their parents (CSV/XLSX, or a vector "
        "file with their polygons)",
    )
    p.add_argument("file")
    p.add_argument("--skip-invalid", action="store_true", help="store the good rows, print the bad")
    p.add_argument("--errors-out", help="CSV file for the rows that were skipped")
    add_mapping_options(p, "import-areas")
