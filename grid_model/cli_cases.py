"""``gridlaw case …``, ``gridlaw indicators`` and ``gridlaw remind``: the closed loop on the
command line (registered by :func:`add_parsers`; services imported inside the handlers).

Every step takes ``--at TIMESTAMP`` (entries copied from paper records; a time without an
offset is read in GRIDLAW_TIMEZONE) and ``--as CODE`` (the worker the step is entered for; the
command line acts as the local administrator, who may enter steps for anyone).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

#: step → (its options as (flags, keyword, help)), in the order of the loop.
_STEP_OPTIONS: dict[str, list[tuple[tuple[str, ...], str, str]]] = {
    "dispatch": [(("--to",), "to", "worker code to dispatch to (required)"),
                 (("--priority",), "priority", "normal or urgent")],
    "accept": [],
    "return": [(("--reason",), "reason", "why it is returned (required)")],
    "start": [],
    "hold": [(("--reason",), "reason", "why it is put on hold (required)")],
    "resume": [],
    "handle": [(("--outcome",), "outcome", "resolved, mediated, mediation_failed, referred, rejected")],
    "verify": [(("--outcome",), "outcome", "the outcome, when the handling was not entered")],
    "close": [(("--outcome",), "outcome", "closed on the spot with this outcome (required)")],
    "visit": [(("--satisfaction",), "satisfaction", "satisfied, basically_satisfied, dissatisfied"),
              (("--performing",), "performing", "mediation: is the agreement performed (yes/no)")],
    "supervise": [(("--due",), "due", "supervision deadline, a date (required)")],
}  # fmt: skip


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a date like 2025-03-01, got {value!r}") from exc


def add_parsers(add) -> None:
    """Register ``case``, ``indicators`` and ``remind`` with ``add(name, fn, help)`` of
    :func:`grid_model.cli.build_parser`."""
    case = add("case", None, "the case closed loop: take a step, show a case")
    steps = case.add_subparsers(dest="step", required=True, metavar="STEP")
    for step, options in _STEP_OPTIONS.items():
        p = steps.add_parser(step, help=f"{step} a case")
        p.set_defaults(func=cmd_step)
        p.add_argument("id", type=int, help="the case (need) id")
        for flags, dest, help_ in options:
            p.add_argument(*flags, dest=dest, help=help_)
        if step == "verify":
            group = p.add_mutually_exclusive_group(required=True)
            group.add_argument("--pass", dest="passed", action="store_true", default=None)
            group.add_argument("--fail", dest="passed", action="store_false")
        p.add_argument("--note", help="a note kept with the step")
        p.add_argument("--at", help="when it happened, e.g. '2025-03-04 09:30' (default: now)")
        p.add_argument("--as", dest="acting_for", metavar="CODE", help="worker the step is for")
    p = steps.add_parser("show", help="a case, its timeline and mediation case file")
    p.set_defaults(func=cmd_show)
    p.add_argument("id", type=int)
    p.add_argument("--json", action="store_true")
    p = add("indicators", cmd_indicators, "every indicator of the closed loop for a scope")
    p.add_argument("--json", action="store_true")
    p.add_argument("--area")
    p.add_argument("--start", type=_date)
    p.add_argument("--end", type=_date)
    p.add_argument("--category", action="append")
    p.add_argument("--as-of", dest="as_of", type=_date, help="day (default: today)")
    p = add("remind", cmd_remind, "build each worker's reminder digest; e-mail it via SMTP")
    p.add_argument("--day", type=_date, help="day of the digest (default: today)")


def _values(args) -> dict:
    values = {dest: getattr(args, dest) for _, dest, _ in _STEP_OPTIONS[args.step]}
    if args.step == "verify":
        values["passed"] = args.passed
    return {k: v for k, v in values.items() if v is not None}


def cmd_step(args) -> int:
    from grid_model import instants
    from grid_model.cases.workflow import apply_step
    from grid_model.cli import CLI_VIEWER, EXIT_OK, _write
    from grid_model.messages import t

    def work(session):
        event = apply_step(session, args.id, args.step, CLI_VIEWER, at=args.at, note=args.note,
                           acting_for=args.acting_for, lang=args.lang, **_values(args))  # fmt: skip
        return event.to_status, instants.iso(event.at)

    status, at = _write(args, work)
    print(t("case_step_done", args.lang, id=args.id, step=args.step, status=status, at=at))
    return EXIT_OK


def cmd_show(args) -> int:
    from grid_model.cases.views import case_detail
    from grid_model.cli import CLI_VIEWER, EXIT_OK, _session

    with _session(args, write=False) as s:
        detail = case_detail(s, args.id, CLI_VIEWER, lang=args.lang)
    if args.json:
        print(json.dumps(detail, ensure_ascii=False, indent=2, default=str))
        return EXIT_OK
    for key in ("id", "external_id", "category", "status", "priority", "assignee_code",
                "reported_at", "due_date", "supervised_due", "outcome", "satisfaction"):  # fmt: skip
        print(f"{key}: {_shown(detail.get(key))}")
    for e in detail["timeline"]:
        mark = " *" if e["synthesised"] else ""
        print(f"  {e['at']}  {e['step']:<9} → {e['to']:<11} {_shown(e['actor'])}{mark}"
              f"  {_shown(e['note'] or '')}")  # fmt: skip
    return EXIT_OK


def _shown(value) -> str:
    """A stored value on a terminal: control characters (escape sequences) shown, not run."""
    text = "" if value is None else str(value)
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def cmd_indicators(args) -> int:
    from grid_model import config
    from grid_model.cases.indicators import case_indicators
    from grid_model.cli import CLI_VIEWER, EXIT_OK, _scope, _session

    with _session(args, write=False) as s:
        got = case_indicators(s, _scope(args), CLI_VIEWER, as_of=args.as_of or config.today(),
                              lang=args.lang)  # fmt: skip
    figures = got.as_dict()
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, indent=2))
    else:
        for key, value in figures.items():
            shown = f"{value:.4f}" if isinstance(value, float) else value
            print(f"{key}: {'—' if value is None else shown}")
    return EXIT_OK


def cmd_remind(args) -> int:
    from grid_model import config
    from grid_model.cases import reminders
    from grid_model.cli import CLI_VIEWER, EXIT_OK, _write
    from grid_model.messages import t

    day = args.day or config.today()
    built = _write(args, lambda s: reminders.build_digests(s, CLI_VIEWER, day=day, lang=args.lang))
    sent = _write(args, lambda s: reminders.send_outbox(s, day=day))
    print(t("reminders_done", args.lang, built=built, sent=sent.sent, failed=sent.failed,
            day=day.isoformat()), file=sys.stdout)  # fmt: skip
    return EXIT_OK
