"""``gridlaw report monthly|mediation|agreement``: the reports a street office files.

Registered from :mod:`grid_model.cli`; the services and renderers are imported inside the
handlers, so ``gridlaw --help`` stays fast. ``--role`` (with ``--area``) makes the report
that role of that area would get (redaction included); the default is the local
administrator.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from grid_model import config
from grid_model.messages import t
from grid_model.scope import ROLES


def _viewer(args):
    from grid_model.cli import CLI_VIEWER

    return replace(CLI_VIEWER, role=args.role or CLI_VIEWER.role, area_code=args.area)


def _write(args, kind: str, render) -> int:
    """Check the output format first, then read and render in one read session."""
    from grid_model.cli import EXIT_OK, _session
    from reporting.files import output_format

    fmt = output_format(kind, args.out, args.lang)
    with _session(args, write=False) as session:
        data = render(session, fmt)
    Path(args.out).write_bytes(data)
    print(t("report_written", args.lang, path=args.out))
    return EXIT_OK


def cmd_report_monthly(args) -> int:
    from grid_model.reports.monthly import monthly_report
    from reporting.files import render_monthly

    def render(session, fmt):
        report = monthly_report(
            session,
            month=args.month,
            area_code=args.area,
            viewer=_viewer(args),
            today=args.today,
            lang=args.lang,
        )
        return render_monthly(report, fmt, args.lang)

    return _write(args, "monthly", render)


def cmd_report_mediation(args) -> int:
    from grid_model.reports.mediation import mediation_form
    from reporting.files import render_mediation

    def render(session, fmt):
        form = mediation_form(
            session,
            start=args.start,
            end=args.end,
            area_code=args.area,
            viewer=_viewer(args),
            today=args.today,
            lang=args.lang,
        )
        return render_mediation(form, args.lang)

    return _write(args, "mediation", render)


def cmd_report_agreement(args) -> int:
    from grid_model.reports.agreement import agreement_case
    from reporting.files import render_agreement

    def render(session, fmt):
        return render_agreement(
            agreement_case(session, args.case_id, _viewer(args), lang=args.lang)
        )

    return _write(args, "agreement", render)


def add_commands(add) -> None:
    """``report`` with its three kinds (``add`` as in :func:`grid_model.cli.build_parser`)."""
    from grid_model.cli import _date

    parser = add("report", None, "generate the monthly report, the mediation form or an agreement")
    kinds = parser.add_subparsers(dest="report_kind", required=True, metavar="KIND")

    def kind(name, fn, help_):
        p = kinds.add_parser(name, help=help_, description=help_)
        p.set_defaults(func=fn)
        p.add_argument("--out", required=True, help="output file")
        p.add_argument("--role", choices=list(ROLES), help="make it as this role would get it")
        p.add_argument("--today", type=_date, default=config.today())
        return p

    p = kind("monthly", cmd_report_monthly, "monthly report (月报) as .xlsx or .pdf")
    p.add_argument("--month", required=True, help="YYYY-MM, e.g. 2025-11")
    p.add_argument("--area", help="district, street, community or grid code")
    p = kind("mediation", cmd_report_mediation, "people's-mediation statistics form (.xlsx)")
    p.add_argument("--start", type=_date, required=True)
    p.add_argument("--end", type=_date, required=True)
    p.add_argument("--area", help="district, street, community or grid code")
    p = kind("agreement", cmd_report_agreement, "mediation agreement of a case (.docx)")
    p.add_argument("case_id", type=int)
    p.set_defaults(area=None)
