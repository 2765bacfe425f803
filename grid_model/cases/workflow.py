"""The one writer of a case's steps: :func:`apply_step` checks, stores the
:class:`~grid_model.models.CaseEvent` and keeps the need's status and step columns consistent
with it, in one guarded ``UPDATE``.

Every change of a need's status goes through :func:`take_steps` (``apply_step`` for one step
with the role rules of :mod:`grid_model.cases.steps`; :func:`grid_model.needs.cases.change_status`
for the old four-status changes, as a short sequence of steps). Nothing here commits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from grid_model import audit, fields, instants
from grid_model.cases import limits
from grid_model.cases.steps import (
    PRIORITY_ALIASES,
    SATISFACTION_ALIASES,
    STEP_ORDER,
    STEPS,
    Step,
    allowed_steps,
)
from grid_model.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from grid_model.measures import need_stats
from grid_model.messages import t
from grid_model.models import CaseEvent, MediationCase, Need, Outcome, Worker
from grid_model.scope import Viewer, check_viewer

REASON_MAX = 500
MEDIATION_OUTCOMES = frozenset({"mediated", "mediation_failed"})
#: A step may be dated this far ahead of the clock (clocks of two machines differ a little).
FUTURE_SLACK = dt.timedelta(minutes=5)
_YES = {"1", "true", "yes", "y", "是", "√", "✓", "pass", "通过"}
_NO = {"0", "false", "no", "n", "否", "×", "✗", "fail", "不通过"}


@dataclass(frozen=True)
class Actor:
    """Who takes a step: the name written to the event, the role the rules read and the worker
    code (None for someone who is no worker: an administrator, a community leader)."""

    name: str
    role: str
    worker_code: str | None


def _invalid(field: str, value: object, expected: str, lang: str) -> InvalidInputError:
    shown = "" if value is None else fields.shown(value)
    return InvalidInputError(t("invalid_field", lang, field=field, value=shown, expected=expected))


# --- who acts ---------------------------------------------------------------------------


def resolve_actor(
    session: Session, viewer: Viewer, acting_for: str | None, lang: str = "zh"
) -> Actor:
    """The actor of a step ``viewer`` enters: a worker account acts as the worker of its
    username; an administrator may enter a step for any worker (``acting_for``: paper records,
    ``--as CODE``), and so may the dashboard's demo mode (while no account is stored); no
    signed-in account may act for another worker."""
    own = session.scalar(select(Worker).where(Worker.code == (viewer.username or "")))
    if acting_for is None or (own is not None and acting_for == own.code):
        if own is not None:
            return Actor(own.name or own.code, own.role, own.code)
        return Actor(viewer.name, viewer.role, None)
    # the dashboard's demo mode (no account stored: check_viewer let it through) has no one to
    # sign in as a worker, so it may pick the worker it acts as
    demo = viewer.username is None and not viewer.local
    if viewer.role != "admin" and not demo:
        raise PermissionDeniedError(t("case_act_for", lang, worker=fields.shown(acting_for)))
    worker = session.scalar(select(Worker).where(Worker.code == acting_for))
    if worker is None:
        raise _invalid("as", acting_for, t("expected_known_worker", lang), lang)
    return Actor(worker.code, worker.role, worker.code)


def _check_role(step: Step, actor: Actor, viewer: Viewer, need: Need, lang: str) -> None:
    """The step's role rule: :data:`Step.roles`, the assignee rule, no self-verification."""
    if actor.role not in step.roles:
        roles = ", ".join(sorted(step.roles))
        raise PermissionDeniedError(
            t("case_role_refused", lang, role=actor.role, step=step.name, roles=roles)
        )
    admin_override = viewer.role == "admin" and actor.worker_code is None
    if step.assignee_only and not admin_override and actor.worker_code != need.assignee_code:
        raise PermissionDeniedError(
            t("case_not_assignee", lang, assignee=need.assignee_code or "—", id=need.id,
              step=step.name)
        )  # fmt: skip
    if step.name == "verify" and actor.worker_code and actor.worker_code == need.assignee_code:
        raise PermissionDeniedError(
            t("case_self_verify", lang, worker=actor.worker_code, id=need.id)
        )


# --- the values of a step ------------------------------------------------------------------


def parse_instant(value: object, lang: str = "zh", *, last: dt.datetime | None = None):
    """``value`` (a datetime, a date — local midnight —, or ISO text such as ``2025-03-04
    09:30`` or with an offset) as a stored instant; None for None."""
    if value is None:
        return None
    expected = t("expected_case_instant", lang, last=instants.iso(last) if last else "—")
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise _invalid("at", value, expected, lang) from None
    if not isinstance(value, dt.date):
        raise _invalid("at", value, expected, lang)
    return instants.to_stored(value)


def _check_at(at: dt.datetime, last: dt.datetime | None, raw: object, lang: str) -> None:
    too_early = last is not None and at < last
    if too_early or at > instants.now_stored() + FUTURE_SLACK:
        expected = t("expected_case_instant", lang, last=instants.iso(last) if last else "—")
        raise _invalid("at", raw if raw is not None else instants.iso(at), expected, lang)


def _vocabulary(name: str, value: object, aliases: dict[str, list[str]], key: str, lang: str):
    choices = fields.vocabulary(aliases)
    got = choices.get(str(value).strip().lower()) if isinstance(value, str) else None
    if got is None:
        shown = ", ".join(aliases)
        raise _invalid(name, value, t(key, lang, choices=shown), lang)
    return got


def _yes_no(name: str, value: object, lang: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if isinstance(value, str | int) else None
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise _invalid(name, value, t("expected_yes_no", lang), lang)


def _reason(name: str, value: object, lang: str) -> str:
    text = " ".join(str(value).split()) if isinstance(value, str) else ""
    if not text or fields.text_problem(text, max_length=REASON_MAX):
        raise _invalid(name, value, t("expected_reason", lang, n=REASON_MAX), lang)
    return text


def check_outcome(need: Need, outcome: object, lang: str = "zh") -> str:
    """``outcome`` when it is an :class:`~grid_model.models.Outcome` fit for the need's
    category (the mediation outcomes close mediation needs only)."""
    fit = [o.value for o in Outcome if (o in MEDIATION_OUTCOMES) <= (need.category == "mediation")]
    if outcome not in {o.value for o in Outcome}:
        expected = t("expected_outcome_on_close", lang, choices=", ".join(fit))
        raise _invalid("outcome", outcome, expected, lang)
    if outcome not in fit:
        expected = t("expected_mediation_outcome", lang, category=need.category,
                     choices=", ".join(fit))  # fmt: skip
        raise _invalid("outcome", outcome, expected, lang)
    return outcome


def _worker(session: Session, need: Need, code: object, lang: str) -> str:
    worker = session.scalar(select(Worker).where(Worker.code == str(code))) if code else None
    if worker is None or not worker.active:
        raise _invalid("to", code, t("expected_active_worker", lang), lang)
    return worker.code


def _clean_values(session: Session, step: Step, need: Need, at, given: dict, lang: str) -> dict:
    """The step's values checked against their vocabularies; every required one present,
    nothing else."""
    unknown = sorted(set(given) - set(step.required) - set(step.optional))
    if unknown:
        choices = ", ".join(step.required + step.optional) or "—"
        raise InvalidInputError(t("case_field_unknown", lang, step=step.name,
                                  fields=", ".join(unknown), choices=choices))  # fmt: skip
    for name in step.required:
        if given.get(name) is None or given.get(name) == "":
            raise _invalid(name, None, t("expected_required", lang), lang)
    out: dict = {}
    for name, value in given.items():
        if value is None:
            continue
        out[name] = _clean_one(session, need, name, value, at, lang)
    return out


def _clean_one(session: Session, need: Need, name: str, value: object, at, lang: str):
    if name == "to":
        return _worker(session, need, value, lang)
    if name == "reason":
        return _reason(name, value, lang)
    if name == "outcome":
        return check_outcome(need, value, lang)
    if name in ("passed", "performing"):
        return _yes_no(name, value, lang)
    if name == "satisfaction":
        return _vocabulary(name, value, SATISFACTION_ALIASES, "expected_satisfaction", lang)
    if name == "priority":
        return _vocabulary(name, value, PRIORITY_ALIASES, "expected_priority", lang)
    if name == "due":
        due = _date(value)
        if due is None or due < instants.local_day(at):
            raise _invalid(name, value, t("expected_supervise_due", lang), lang)
        return due
    raise AssertionError(name)  # every field of STEPS is handled above


def _date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        parsed, bad = fields.parse_dates(pd.Series([value], dtype=object))
        return None if bad[0] or parsed.iloc[0] is None else parsed.iloc[0]
    return None


# --- the guards -----------------------------------------------------------------------------


def _check_allowed(step_name: str, need: Need, lang: str) -> Step:
    step = STEPS.get(step_name) if isinstance(step_name, str) else None
    if step is None:
        raise InvalidInputError(
            t(
                "case_step_unknown",
                lang,
                step=fields.shown(step_name),
                choices=", ".join(STEP_ORDER),
            )
        )
    if need.status not in step.sources:
        allowed = ", ".join(allowed_steps(need.status)) or t("case_none_allowed", lang)
        raise InvalidInputError(t("case_step_not_allowed", lang, id=need.id, status=need.status,
                                  step=step.name, allowed=allowed))  # fmt: skip
    return step


def _check_state(
    session: Session, step: Step, need: Need, at: dt.datetime, values: dict, lang: str
) -> None:
    """What the table cannot say: a case is visited once; only an overdue case is supervised;
    a case closes with the outcome it was handled with (given at verification when the
    handling was not entered)."""
    closing = step.name == "verify" and values.get("passed") and not values.get("outcome")
    if closing and _handled_outcome(session, need) is None:
        raise _invalid("outcome", None, t("expected_required", lang), lang)
    if step.name == "visit" and need.visited_at is not None:
        raise InvalidInputError(
            t("case_already_visited", lang, id=need.id, at=instants.iso(need.visited_at))
        )
    if step.name == "supervise":
        due = need.due_date or limits.due_date(need.reported_at, need.category, need.priority)
        if instants.local_day(at) <= due:
            raise InvalidInputError(t("case_not_overdue", lang, id=need.id, due=due.isoformat()))


def _last_at(session: Session, need: Need) -> dt.datetime | None:
    return session.scalar(select(CaseEvent.at).where(CaseEvent.need_id == need.id)
                          .order_by(CaseEvent.at.desc(), CaseEvent.id.desc()).limit(1))  # fmt: skip


def _handled_outcome(session: Session, need: Need) -> str | None:
    details = session.scalar(
        select(CaseEvent.details)
        .where((CaseEvent.need_id == need.id) & (CaseEvent.step == "handle"))
        .order_by(CaseEvent.at.desc(), CaseEvent.id.desc())
        .limit(1)
    )
    return (details or {}).get("outcome")


# --- what a step writes --------------------------------------------------------------------


def _need_values(session: Session, step: Step, need: Need, at: dt.datetime, values: dict) -> dict:
    """The need's columns after ``step``: status and the step's own columns."""
    name = step.name
    out = {"status": step.target(status=need.status, passed=values.get("passed"))}
    if name == "dispatch":
        priority = values.get("priority", need.priority or "normal")
        out.update(assignee_code=values.get("to"), dispatched_at=at, accepted_at=None,
                   priority=priority)  # fmt: skip
        if need.due_date is None:
            out["due_date"] = limits.due_date(need.reported_at, need.category, priority)
    elif name == "accept":
        out["accepted_at"] = at
    elif name == "return":
        out.update(assignee_code=None, accepted_at=None)
    elif name == "handle":
        out["handled_at"] = at
    elif name == "verify":
        out["verified_at"] = at
        if values["passed"]:
            outcome = values.get("outcome") or _handled_outcome(session, need)
            out.update(closed_at=instants.local_day(at), closed_time=at, outcome=outcome)
        else:
            out.update(handled_at=None, rework_count=(need.rework_count or 0) + 1)
    elif name == "close":
        out.update(closed_at=instants.local_day(at), closed_time=at, outcome=values["outcome"])
    elif name == "visit":
        out.update(visited_at=at, satisfaction=values["satisfaction"])
    elif name == "supervise":
        out["supervised_due"] = values["due"]
    return out


def _write_guarded(session: Session, need: Need, values: dict, lang: str) -> None:
    """``UPDATE needs SET … , case_version = v + 1 WHERE id = … AND case_version = v``:
    ConflictError when another transaction took a step since the need was read."""
    session.flush()
    version = need.case_version or 0
    stmt = (
        update(Need)
        .where((Need.id == need.id) & (Need.case_version == version))
        .values(**values, case_version=version + 1)
        .execution_options(synchronize_session=False)
    )
    changed = session.execute(stmt).rowcount
    session.refresh(need)
    if changed != 1:
        raise ConflictError(t("status_changed_meanwhile", lang, id=need.id, status=need.status))


def _jsonable(values: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in values.items()}


def take_step(
    session: Session,
    need: Need,
    step_name: str,
    actor: Actor,
    at: dt.datetime,
    values: dict,
    *,
    note: str | None = None,
    lang: str = "zh",
) -> CaseEvent:
    """Write one step already checked for permission: the table's guard, the state's guards,
    the need's columns (guarded by its version) and the event. No audit entry, no refresh of
    the closed-needs summary: the callers do that once per change."""
    step = _check_allowed(step_name, need, lang)
    _check_state(session, step, need, at, values, lang)
    old = need.status
    _write_guarded(session, need, _need_values(session, step, need, at, values), lang)
    event = CaseEvent(
        need_id=need.id, district_code=need.district_code, step=step.name, from_status=old,
        to_status=need.status, actor=actor.name, actor_role=actor.role,
        worker_code=actor.worker_code, at=at, note=note, details=_jsonable(values) or None,
        synthesised=False,
    )  # fmt: skip
    session.add(event)
    if step.name == "visit" and "performing" in values:
        _performance_seen(session, need, values["performing"])
    session.flush()
    return event


def _performance_seen(session: Session, need: Need, performing: bool) -> None:
    """A return visit that saw whether a mediation agreement is performed writes it to the
    case file (when there is one)."""
    file = session.scalar(select(MediationCase).where(MediationCase.need_id == need.id))
    if file is not None:
        file.performance_result = "performed" if performing else "not_performed"


def get_case(session: Session, need_id: object, viewer: Viewer, lang: str = "zh") -> Need:
    """The need ``need_id`` if ``viewer`` may see it; NotFoundError otherwise (the same
    message either way)."""
    need = None
    if isinstance(need_id, int) and not isinstance(need_id, bool):
        need = session.get(Need, need_id)
    if need is None or not viewer.sees_need(need):
        raise NotFoundError(t("need_not_found", lang, id=fields.shown(need_id)))
    return need


def apply_step(
    session: Session,
    need_id: int,
    step: str,
    viewer: Viewer,
    *,
    at: dt.datetime | dt.date | str | None = None,
    note: str | None = None,
    expected_status: str | None = None,
    acting_for: str | None = None,
    lang: str = "zh",
    **values,
) -> CaseEvent:
    """Take ``step`` (a key of :data:`grid_model.cases.steps.STEPS`) on need ``need_id``.

    The public service every face uses (pages, CLI, the Open311 API): it checks the viewer
    (account active, the need in their area), the role rules of the step, the step's values
    and the moment, then writes the event, the need's status and columns and an audit entry
    (``case_step``) in the caller's transaction. Of two steps taken on one case at once exactly
    one is stored (the need's ``case_version`` guards the write).

    Parameters
    ----------
    at : datetime, date or ISO text, optional
        When the step was taken (default now). Naive times are read in
        :func:`grid_model.config.timezone`; a date is its local midnight. Not before the case's
        previous step, not in the future: entries copied from paper records give it.
    note : str, optional
        Free text kept with the event.
    expected_status : str, optional
        The status the caller saw; when the case is no longer in it, ConflictError.
    acting_for : str, optional
        A worker code: an administrator enters the step for that worker (``--as CODE``).
    **values
        The step's values: ``to`` (worker code) and ``priority`` for ``dispatch``; ``reason``
        for ``return`` and ``hold``; ``outcome`` for ``handle`` and ``close``; ``passed`` for
        ``verify``; ``satisfaction`` (and, for mediation, ``performing``) for ``visit``;
        ``due`` for ``supervise``.

    Raises
    ------
    InvalidInputError
        An unknown step or one not allowed from the case's status (naming the allowed ones), a
        bad or missing value, a bad moment — in ``lang``.
    PermissionDeniedError
        The viewer's (or acted-for worker's) role may not take the step, or is not the assignee.
    ConflictError
        The case changed meanwhile (or is no longer in ``expected_status``).
    NotFoundError
        No such case, or not one the viewer may see.
    """
    viewer = check_viewer(session, viewer, lang=lang)
    need = get_case(session, need_id, viewer, lang)
    if expected_status is not None and need.status != expected_status:
        raise ConflictError(t("status_changed_meanwhile", lang, id=need.id, status=need.status))
    chosen = _check_allowed(step, need, lang)
    actor = resolve_actor(session, viewer, acting_for, lang)
    _check_role(chosen, actor, viewer, need, lang)
    last = _last_at(session, need)
    when = parse_instant(at, lang, last=last) if at is not None else instants.now_stored()
    _check_at(when, last, at, lang)
    clean = _clean_values(session, chosen, need, when, values, lang)
    text = None if note is None else _reason("note", note, lang)
    event = take_step(session, need, chosen.name, actor, when, clean, note=text, lang=lang)
    details = {"step": chosen.name, "from": event.from_status, "to": event.to_status,
               "at": instants.iso(when), "worker": actor.worker_code, **_jsonable(clean)}  # fmt: skip
    audit.record(session, viewer, "case_step", "need", entity_id=need.id, details=details)
    session.flush()
    need_stats.refresh(session)
    return event


def record_event(session: Session, need: Need, viewer: Viewer, at: dt.datetime) -> CaseEvent:
    """The ``recorded`` event of a need just stored (by :func:`grid_model.needs.cases.record_need`)."""
    event = CaseEvent(need_id=need.id, district_code=need.district_code, step="record",
                      from_status=None, to_status="recorded", actor=viewer.name,
                      actor_role=viewer.role, at=at, synthesised=False)  # fmt: skip
    session.add(event)
    return event


__all__ = [
    "Actor",
    "apply_step",
    "check_outcome",
    "get_case",
    "parse_instant",
    "record_event",
    "resolve_actor",
    "take_step",
]
