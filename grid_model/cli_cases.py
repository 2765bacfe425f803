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
    _add_file_parsers(steps)
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
    if detail.get("mediation"):
        _print_file(detail["mediation"])
    return EXIT_OK


def _print_file(file: dict) -> None:
    """The mediation case file on a terminal (already redacted for the viewer)."""
    print("mediation case file:")
    for key, value in file.items():
        if key in ("parties", "sessions"):
            continue
        print(f"  {key}: {_shown(value)}")
    for p in file["parties"]:
        print("  party: " + "  ".join(_shown(v) for v in p.values()))
    for row in file["sessions"]:
        print("  session: " + "  ".join(_shown(v) for v in row.values()))


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


# --- the mediation case file: ``gridlaw case file ID ACTION …`` -------------------------------

#: action → its options as (flags, keyword, help, required).
_FILE_OPTIONS: dict[str, list[tuple[tuple[str, ...], str, str, bool]]] = {
    "open": [(("--accepted",), "accepted_on", "acceptance day (required)", True),
             (("--party",), "parties", "side:name[:phone[:id_number]], repeated (required)", True),
             (("--mediator",), "mediators", "mediator's worker code, repeated (required)", True),
             (("--dispute-type",), "dispute_type", "dispute type (default: the need's)", False)],
    "extend": [(("--to",), "to", "the new due day (required)", True),
               (("--reason",), "reason", "why it is extended (required)", True)],
    "session": [(("--on",), "held_on", "day of the session (required)", True),
                (("--place",), "place", "where it was held", False),
                (("--summary",), "summary", "what was said and done", False)],
    "agreement": [(("--kind",), "kind", "written or oral (required)", True),
                  (("--on",), "on", "day of the agreement (required)", True),
                  (("--text",), "text", "its text (required when written)", False),
                  (("--due",), "performance_due", "when performance is due", False)],
    "follow-up": [(("--result",), "result", "performed, partly_performed, not_performed", True)],
    "judicial": [(("--asked",), "asked_on", "day confirmation was asked for", False),
                 (("--granted",), "granted_on", "day it was granted", False)],
}  # fmt: skip
_REPEATED = ("parties", "mediators")


def _add_file_parsers(steps) -> None:
    file = steps.add_parser("file", help="fill in the people's-mediation case file (人民调解案卷)")
    file.add_argument("id", type=int, help="the case (need) id")
    actions = file.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, options in _FILE_OPTIONS.items():
        p = actions.add_parser(action, help=f"case file: {action}")
        p.set_defaults(func=cmd_file)
        for flags, dest, help_, _ in options:
            p.add_argument(*flags, dest=dest, help=help_,
                           action="append" if dest in _REPEATED else "store")  # fmt: skip
        p.add_argument("--role", help="act with this role's rights (default: admin)")
        p.add_argument("--as", dest="acting_for", metavar="CODE",
                       help="act as this worker (their role's rights)")  # fmt: skip


def _file_viewer(session, args):
    """The local administrator, narrowed to ``--role`` or to the role of worker ``--as``."""
    from dataclasses import replace

    from sqlalchemy import select

    from grid_model.cli import CLI_VIEWER
    from grid_model.errors import InvalidInputError
    from grid_model.messages import t
    from grid_model.models import Worker
    from grid_model.scope import ROLES

    role, name = args.role, CLI_VIEWER.name
    if args.acting_for:
        role = session.scalar(select(Worker.role).where(Worker.code == args.acting_for))
        if role is None:
            raise InvalidInputError(t("invalid_field", args.lang, field="as",
                                      value=_shown(args.acting_for)[:40],
                                      expected=t("expected_worker", args.lang)))  # fmt: skip
        name = args.acting_for
    if role is not None and role not in ROLES:
        raise InvalidInputError(t("invalid_field", args.lang, field="role", value=_shown(role)[:40],
                                  expected=t("expected_one_of", args.lang,
                                             choices=", ".join(ROLES))))  # fmt: skip
    return replace(CLI_VIEWER, role=role or CLI_VIEWER.role, name=name)


def _party_arg(value: str, lang: str):
    from grid_model.cases.mediation import Party
    from grid_model.errors import InvalidInputError
    from grid_model.messages import t

    parts = value.split(":")
    if not 2 <= len(parts) <= 4:
        raise InvalidInputError(t("invalid_field", lang, field="party", value="…",
                                  expected="side:name[:phone[:id_number]]"))  # fmt: skip
    parts += [None] * (4 - len(parts))
    return Party(parts[0], parts[1], parts[2] or None, parts[3] or None)


def cmd_file(args) -> int:
    from grid_model.cases import mediation
    from grid_model.cli import EXIT_OK, _write
    from grid_model.messages import t

    values = {dest: getattr(args, dest) for _, dest, _, _ in _FILE_OPTIONS[args.action]}
    if args.action == "open":
        values["parties"] = [_party_arg(v, args.lang) for v in values["parties"] or []]
        values["mediators"] = values["mediators"] or []
    service = {"open": mediation.open_case_file, "extend": mediation.extend,
               "session": mediation.add_session, "agreement": mediation.record_agreement,
               "follow-up": mediation.follow_up,
               "judicial": mediation.judicial_confirmation}[args.action]  # fmt: skip

    def work(session):
        service(session, args.id, _file_viewer(session, args), lang=args.lang, **values)

    _write(args, work)
    print(t("case_file_done", args.lang, id=args.id, action=args.action))
    return EXIT_OK
