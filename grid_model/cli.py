"""The ``gridlaw`` command line.

Exit status: 0 ok, 1 error, 2 usage, 3 invalid input (nothing stored), 4 the database was busy
or the data were changed by someone else meanwhile (nothing stored; try again).
The command line acts as the local administrator (:meth:`grid_model.scope.Viewer.local_admin`,
audit actor ``cli``): whoever runs it already holds the database. ``export --role/--area``
exports what that role of that area would see.
Messages in Chinese or English: ``--lang zh|en`` (default from GRIDLAW_LANG or the locale).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from geodata.errors import GeodataError
from grid_model import cli_cases, cli_reports, config, db
from grid_model.errors import GridLawError, ImportValidationError, InvalidInputError
from grid_model.messages import geodata_message, t
from grid_model.scope import ROLES, Scope, Viewer

# Each command imports the services it runs inside its own function: ``gridlaw --help`` and a
# small command start in 0.8 s instead of 2.5 s (geopandas, esda, spopt, openpyxl loaded for
# every command otherwise).

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INVALID = 0, 1, 2, 3
ROOT = Path(__file__).resolve().parent.parent


def _progress(total: int | None, desc: str, args):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="row", disable=args.quiet or None, file=sys.stderr)


@contextmanager
def _session(args, *, write: bool):
    """A read session, or a write transaction run once (see :func:`_write` for a unit run
    again while the database is busy)."""
    engine = db.make_engine(args.db)
    try:
        if write:
            db.upgrade(engine)
            with db.writing(engine, lang=args.lang) as session:
                yield session
        else:
            with db.reading(engine, lang=args.lang) as session:
                yield session
    finally:
        engine.dispose()


def _write(args, work, *, vacuum: tuple[str, ...] = ()):
    """``work(session)`` in one write transaction, run again while the database is busy
    (:func:`grid_model.db.run_write`); what it returned. ``vacuum``: tables to vacuum once
    it has committed (:func:`grid_model.db.vacuum`, after a bulk load)."""
    engine = db.make_engine(args.db)
    try:
        db.upgrade(engine)
        out = db.run_write(engine, work, lang=args.lang)
        if vacuum:
            db.vacuum(engine, *vacuum)
        return out
    finally:
        engine.dispose()


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a date like 2025-03-01, got {value!r}") from exc


def _scope(args) -> Scope:
    cats = tuple(args.category) if getattr(args, "category", None) else ()
    return Scope(
        area_code=getattr(args, "area", None),
        start=getattr(args, "start", None),
        end=getattr(args, "end", None),
        categories=cats,
    )


#: Who the command line acts as.
CLI_VIEWER = Viewer.local_admin(name="cli")


def _viewer(args) -> Viewer:
    """The local administrator, narrowed to ``--role``/``--area`` where a command offers them."""
    return replace(
        CLI_VIEWER,
        role=getattr(args, "role", None) or CLI_VIEWER.role,
        area_code=getattr(args, "area", None),
    )


# --- commands --------------------------------------------------------------------------------


def cmd_init(args) -> int:
    engine = db.make_engine(args.db)
    db.upgrade(engine)
    engine.dispose()
    print(t("initialised", args.lang, url=engine.url.render_as_string(hide_password=True)))
    return EXIT_OK


def cmd_seed_demo(args) -> int:
    from grid_model.imports.seed import seed_demo

    with _session(args, write=True) as s, _progress(args.needs, "needs", args) as bar:
        report = seed_demo(
            s,
            viewer=CLI_VIEWER,
            scale=args.scale,
            needs=args.needs,
            seed=args.seed,
            replace=args.replace,
            progress=bar,
        )
    print(report.summary(args.lang))
    return EXIT_OK


def cmd_demo(args) -> int:
    from grid_model.imports.seed import is_empty, seed_demo

    with _session(args, write=True) as s:
        if is_empty(s):
            report = seed_demo(s, viewer=CLI_VIEWER, scale=args.scale, seed=args.seed)
            print(report.summary(args.lang))
    env = dict(
        os.environ, GRIDLAW_DATABASE_URL=args.db or config.database_url(), GRIDLAW_LANG=args.lang
    )
    # The demo's two years end on geodata.demo.END: look at it as of that day, or every case
    # still open would read as a year overdue. GRIDLAW_TODAY set by the user wins.
    from geodata.demo import END

    env.setdefault("GRIDLAW_TODAY", END.isoformat())
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(ROOT / "app.py"),
        "--server.port",
        str(args.port),
    ]
    if args.headless:
        cmd += ["--server.headless", "true"]
    return subprocess.call(cmd, env=env)


def _print_import_errors(exc: ImportValidationError, lang: str) -> None:
    from grid_model.imports import format_errors

    print(exc.summary(lang), file=sys.stderr)
    for line in format_errors(exc.errors, lang):
        print("  " + line, file=sys.stderr)


def _import(args, fn, *, vacuum: tuple[str, ...] = (), **kw) -> int:
    from grid_model.cli_places import import_mapping

    kw["mapping"] = import_mapping(args)
    try:
        report = _write(
            args,
            lambda s: fn(s, args.file, lang=args.lang, viewer=CLI_VIEWER, **kw),
            vacuum=vacuum,
        )
    except ImportValidationError as exc:
        _print_import_errors(exc, args.lang)
        return EXIT_INVALID
    print(report.summary(args.lang))
    if report.invalid:
        from grid_model.imports import format_errors

        for line in format_errors(report.invalid, args.lang):
            print("  " + line, file=sys.stderr)
        if report.errors_out:
            print(t("import_errors_written", args.lang, path=report.errors_out))
    return EXIT_OK


def cmd_import_grids(args) -> int:
    from grid_model.imports import import_grids

    return _import(
        args,
        import_grids,
        crs=args.crs,
        skip_invalid=args.skip_invalid,
        errors_out=args.errors_out,
        snap_m=args.snap_m,
    )


def cmd_import_needs(args) -> int:
    from geodata.io import limits
    from grid_model.imports import import_needs

    # a city's several years of needs are past the dashboard's 200 MB uploads; the limit is
    # the process's, given back after the command (main() may be called again, as in tests)
    upload_limit = limits.MAX_FILE_BYTES
    limits.MAX_FILE_BYTES = max(upload_limit, limits.CLI_MAX_FILE_BYTES)
    try:
        return _import_needs_file(args, import_needs)
    finally:
        limits.MAX_FILE_BYTES = upload_limit


def _import_needs_file(args, import_needs) -> int:
    with _progress(None, "needs", args) as bar:
        return _import(
            args,
            import_needs,
            vacuum=("needs", "case_events"),  # the rows and the synthesised case steps
            crs=args.crs or "wgs84",
            skip_invalid=args.skip_invalid,
            errors_out=args.errors_out,
            snap_m=args.snap_m,
            progress=bar,
        )


def cmd_import_workers(args) -> int:
    from grid_model.imports import import_workers

    return _import(args, import_workers, skip_invalid=args.skip_invalid, errors_out=args.errors_out)


def cmd_export(args) -> int:
    from grid_model.imports.exporting import export_to_file

    with _session(args, write=False) as s:
        n = export_to_file(s, args.kind, args.file, _scope(args), _viewer(args), today=args.today)
    print(t("exported", args.lang, n=n, path=args.file))
    return EXIT_OK


def cmd_check_grids(args) -> int:
    from grid_model.needs.boundaries import check_grids, check_stored_grids

    if args.file:
        from geodata import io as gio
        from grid_model.imports.rows import GRID_COLUMNS, rename_columns

        gdf = rename_columns(gio.read_vector(args.file, crs=args.crs), GRID_COLUMNS)
        if "community_code" not in gdf and "code" in gdf:
            from grid_model.imports.grids import community_column

            gdf["community_code"] = community_column(gdf)
        result = check_grids(gdf)
    else:
        with _session(args, write=False) as s:
            result = check_stored_grids(s)
    if args.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
    elif result.ok:
        print(t("grids_ok", args.lang, n=result.grids))
    else:
        print(t("grids_problems", args.lang, n=len(result.problems)))
        for p in result.problems:
            area = f" ({p.area_m2} m²)" if p.area_m2 else ""
            print(f"  {p.kind}: {', '.join(p.codes)} — {p.detail}{area}")
    return EXIT_OK if result.ok else EXIT_INVALID


def cmd_relocate(args) -> int:
    from grid_model.needs.boundaries import relocate_needs

    with _session(args, write=True) as s:
        report = relocate_needs(s, snap_m=args.snap_m, viewer=CLI_VIEWER, lang=args.lang)
    print(t("relocated", args.lang, checked=report.checked, changed=report.changed))
    return EXIT_OK


def _read_password(args) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    import getpass

    first = getpass.getpass("密码 / password: ")
    if getpass.getpass("再次输入 / again: ") != first:
        raise InvalidInputError(t("passwords_differ", args.lang))
    return first


def cmd_account(args) -> int:
    from grid_model import accounts

    if args.action == "key":
        from grid_model.cli_api import cmd_account_key

        return cmd_account_key(args)
    if args.action == "list":
        with _session(args, write=False) as s:
            rows = accounts.list_accounts(s, CLI_VIEWER, lang=args.lang)
        if args.json:
            print(json.dumps(rows, ensure_ascii=False, indent=2))
        else:
            for r in rows:
                state = "" if r["active"] else " (disabled)"
                print(f"{r['username']}\t{r['role']}\t{r['area_code'] or '-'}\t{r['name']}{state}")
        return EXIT_OK
    if not args.username:
        raise InvalidInputError(t("account_bad_username", args.lang, value=args.username))
    if args.action == "add":
        if not args.role:
            choices = ", ".join(ROLES)
            raise InvalidInputError(t("account_bad_role", args.lang, value=None, choices=choices))
        password = _read_password(args)
        with _session(args, write=True) as s:
            accounts.add_account(s, args.username, password, role=args.role,
                                 area_code=args.area, name=args.name, viewer=CLI_VIEWER,
                                 lang=args.lang)  # fmt: skip
        area = args.area or "-"
        print(t("account_added", args.lang, username=args.username, role=args.role, area=area))
        return EXIT_OK
    active = args.action == "enable"
    with _session(args, write=True) as s:
        accounts.set_active(s, args.username, active, viewer=CLI_VIEWER, lang=args.lang)
    key = "account_enabled" if active else "account_disabled"
    print(t(key, args.lang, username=args.username))
    return EXIT_OK


def cmd_refresh_summary(args) -> int:
    from grid_model.measures import need_stats
    from grid_model.models import Need

    with _session(args, write=True) as s:
        buckets = need_stats.refresh(s, full=args.full, wait=True)
        db.analyze(s, Need.__tablename__)
    print(t("summary_refreshed", args.lang, buckets=buckets))
    return EXIT_OK


def cmd_stats(args) -> int:
    from sqlalchemy import func, select

    from grid_model.models import (
        Account,
        Area,
        Grid,
        Need,
        NeedMonthStat,
        NeedStatsDirty,
        ServiceEvent,
        ServicePoint,
        Worker,
    )

    with _session(args, write=False) as s:
        counts = {
            "areas": s.scalar(select(func.count()).select_from(Area)),
            "grids": s.scalar(select(func.count()).select_from(Grid)),
            "workers": s.scalar(select(func.count()).select_from(Worker)),
            "needs": s.scalar(select(func.count()).select_from(Need)),
            "service_events": s.scalar(select(func.count()).select_from(ServiceEvent)),
            "service_points": s.scalar(select(func.count()).select_from(ServicePoint)),
            "accounts": s.scalar(select(func.count()).select_from(Account)),
            # the closed-needs summary: its rows, and the (grid, month) buckets awaiting refresh
            "summary_rows": s.scalar(select(func.count()).select_from(NeedMonthStat)),
            "summary_marked": s.scalar(select(func.count()).select_from(NeedStatsDirty)),
        }
        by_quality = dict(
            s.execute(select(Need.quality, func.count()).group_by(Need.quality)).all()
        )
        by_status = dict(s.execute(select(Need.status, func.count()).group_by(Need.status)).all())
    stats = {**counts, "needs_by_quality": by_quality, "needs_by_status": by_status}
    if args.json:
        print(json.dumps(stats, ensure_ascii=False, indent=2))
    else:
        for key, value in stats.items():
            print(f"{key}: {value}")
    return EXIT_OK


def cmd_hotspots(args) -> int:
    from grid_model.analysis.hotspots import hotspot_table

    with _session(args, write=False) as s:
        table = hotspot_table(
            s, _scope(args), CLI_VIEWER, permutations=args.permutations, seed=args.seed
        )
    if (table["count"] % 1 == 0).all():  # counts of needs: print them as whole numbers
        table["count"] = table["count"].astype("int64")
    cols = [c for c in ("grid_code", "count", "z", "p", "p_fdr", "class") if c in table.columns]
    records = json.loads(table[cols].to_json(orient="records", force_ascii=False))
    if args.json:
        print(json.dumps(records, ensure_ascii=False, indent=2))
    else:
        print(table[cols].to_string(index=False))
    return EXIT_OK


def cmd_rebalance(args) -> int:
    from grid_model.rebalance import apply_plan, rebalance_community

    scope = Scope(area_code=args.community)
    with _session(args, write=args.apply) as s:
        plan = rebalance_community(
            s, scope, k=args.assistants, tolerance=args.tolerance, locked=tuple(args.lock or ())
        )
        out = plan.assignment[["grid_code", "assistant", "workload"]]
        if args.out:
            from geodata import io as gio

            gio.write_frame(out, Path(args.out))
        if args.apply:
            apply_plan(s, plan, viewer=CLI_VIEWER, on=config.today(), lang=args.lang)
    print(plan.message if getattr(plan, "message", None) else "")
    print(f"max_deviation={plan.max_deviation:.3f} moved={plan.moved} contiguous={plan.contiguous}")
    return EXIT_OK if getattr(plan, "within_tolerance", True) else EXIT_ERROR


# --- parser -----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The ``gridlaw`` parser: global options, then one subcommand per task, in groups."""
    parser = argparse.ArgumentParser(
        prog="gridlaw", description="GridLaw 网格法治地图 — grid-based community legal services"
    )
    parser.add_argument(
        "--db", help="database URL (default: GRIDLAW_DATABASE_URL or sqlite:///gridlaw.sqlite)"
    )
    parser.add_argument(
        "--lang", choices=["zh", "en"], default=config.default_lang(), help="message language"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name, fn, help_):
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(func=fn)
        return p

    for group in (
        _database_commands,
        _import_commands,
        _export_commands,
        _admin_commands,
        _analysis_commands,
        cli_cases.add_parsers,
        _places().add_commands,
        cli_reports.add_commands,
    ):
        group(add)
    from grid_model import cli_api

    cli_api.add_parsers(add)
    return parser


def _database_commands(add) -> None:
    """init, seed-demo, demo."""
    add("init", cmd_init, "create or upgrade the database schema (and the postgis extension)")
    p = add("seed-demo", cmd_seed_demo, "fill the database with the demo data set (Yude / Huanshi)")
    p.add_argument("--scale", choices=["community", "street"], default="community")
    p.add_argument(
        "--needs", type=int, help="number of needs (default ≈1,200 per community; up to 1,000,000)"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--replace", action="store_true", help="delete what the database holds first")
    p = add("demo", cmd_demo, "seed the demo when the database is empty, then start the dashboard")
    p.add_argument("--scale", choices=["community", "street"], default="community")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--headless", action="store_true", help="do not open a browser")


def _places():
    from grid_model import cli_places

    return cli_places


def _import_commands(add) -> None:
    """import-grids, import-needs, import-workers: one file each, all or nothing."""
    for name, fn, help_ in [
        (
            "import-grids",
            cmd_import_grids,
            "import grid boundaries (GeoJSON, Shapefile/.zip, GeoPackage, KML)",
        ),
        ("import-needs", cmd_import_needs, "import needs (CSV UTF-8/GBK or XLSX); all or nothing"),
        ("import-workers", cmd_import_workers, "import workers and grid assignments (CSV/XLSX)"),
    ]:
        p = add(name, fn, help_)
        p.add_argument("file")
        if name != "import-workers":
            p.add_argument(
                "--crs", help="coordinate system of the file: wgs84, gcj02, bd09 or EPSG:n"
            )
            p.add_argument(
                "--snap-m",
                type=float,
                help="snap tolerance in metres (default GRIDLAW_SNAP_M or 30)",
            )
        p.add_argument(
            "--skip-invalid",
            action="store_true",
            help="store the good rows and print the bad ones (and write them to --errors-out)",
        )
        p.add_argument("--errors-out", help="CSV file for the rows that were skipped")
        _places().add_mapping_options(p, name)


def _export_commands(add) -> None:
    """export, check-grids, relocate."""
    from grid_model.imports.exporting import KINDS  # lazily, as every command (see top)

    p = add(
        "export",
        cmd_export,
        "export grids, needs, workers, workload or gaps (.geojson .gpkg .csv .xlsx)",
    )
    p.add_argument("kind", choices=KINDS)
    p.add_argument("file")
    p.add_argument("--area", help="district, street, community or grid code")
    p.add_argument(
        "--role",
        default="admin",
        help="role of the person exporting (personal data only for roles allowed)",
    )
    p.add_argument("--today", type=_date, default=config.today())
    p = add(
        "check-grids",
        cmd_check_grids,
        "report invalid geometries, overlaps, gaps and duplicate codes",
    )
    p.add_argument("file", nargs="?", help="a grids file to check instead of the database")
    p.add_argument("--crs")
    p.add_argument("--json", action="store_true")
    p = add("relocate", cmd_relocate, "re-geolocate every need against the current grid boundaries")
    p.add_argument(
        "--snap-m", type=float, help="snap tolerance in metres (default GRIDLAW_SNAP_M or 30)"
    )


def _admin_commands(add) -> None:
    """account, refresh-summary, stats."""
    p = add(
        "account",
        cmd_account,
        "dashboard accounts: once one exists, visitors sign in and see what their role and "
        "area allow",
    )
    p.add_argument("action", choices=["add", "list", "disable", "enable", "key"])
    p.add_argument("username", nargs="?")
    p.add_argument("key_user", nargs="?", help="key create|revoke USER: an API key")
    p.add_argument("--role", choices=list(ROLES))
    p.add_argument("--area", help="area code the account is limited to (default: all)")
    p.add_argument("--name", help="display name (default: the username)")
    p.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    p.add_argument("--json", action="store_true")
    p = add(
        "refresh-summary",
        cmd_refresh_summary,
        "recompute the closed-needs summary where needs changed (after writing needs with other "
        "tools; GridLaw's own writes do it) and ANALYZE needs",
    )
    p.add_argument("--full", action="store_true", help="rebuild the whole summary")
    p = add("stats", cmd_stats, "counts of what the database holds")
    p.add_argument("--json", action="store_true")


def _analysis_commands(add) -> None:
    """hotspots, rebalance."""
    p = add("hotspots", cmd_hotspots, "local Getis-Ord Gi* hot and cold spots per grid")
    p.add_argument("--json", action="store_true")
    p.add_argument("--area")
    p.add_argument("--start", type=_date)
    p.add_argument("--end", type=_date)
    p.add_argument("--category", action="append")
    p.add_argument("--permutations", type=int, default=999)
    p.add_argument("--seed", type=int, default=12345)
    p = add("rebalance", cmd_rebalance, "plan (and apply) which assistant covers which grids")
    p.add_argument("--assistants", type=int, help="number of assistants (default: today's)")
    p.add_argument("--tolerance", type=float, default=0.1)
    p.add_argument("--community", help="community code (default: every grid)")
    p.add_argument(
        "--lock", action="append", help="grid code that keeps its assistant (repeatable)"
    )
    p.add_argument("--out", help="plan file (.csv/.xlsx): grid_code, assistant, workload")
    p.add_argument("--apply", action="store_true", help="store the plan as new assignment periods")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except GridLawError as exc:
        print(t("error", args.lang, msg=exc), file=sys.stderr)
        return exc.exit_code
    except GeodataError as exc:  # a file that cannot be read or written
        print(t("error", args.lang, msg=geodata_message(exc, args.lang)), file=sys.stderr)
        return EXIT_INVALID
    except Exception as exc:
        if db.is_database_error(exc):  # its text holds the SQL and values: say what it means
            translated = db.translate_error(exc, args.lang)
            print(t("error", args.lang, msg=translated), file=sys.stderr)
            return translated.exit_code
        if isinstance(exc, (ValueError, OSError)):  # geodata errors, unreadable files
            print(t("error", args.lang, msg=exc), file=sys.stderr)
            return EXIT_INVALID if isinstance(exc, ValueError) else EXIT_ERROR
        raise


if __name__ == "__main__":
    sys.exit(main())
