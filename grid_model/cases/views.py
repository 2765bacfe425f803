"""What a case looks like to someone who may see it: its columns (redacted), its timeline of
steps and its mediation case file; and the lists of "my cases" (我的待办) and the supervision
list (督办) built on the same columns.

Every reader checks the viewer (:func:`grid_model.scope.check_viewer`) and cuts to what they
may see (:meth:`grid_model.scope.Scope.visible_needs`, :func:`grid_model.scope.redact`).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from grid_model import instants
from grid_model.cases import limits, mediation
from grid_model.cases.steps import DISPATCHERS, allowed_steps
from grid_model.cases.workflow import get_case
from grid_model.measures.definitions import due_date_expr, not_closed, overdue_at
from grid_model.models import CaseEvent, Need
from grid_model.queries import read_frame
from grid_model.scope import Scope, Viewer, check_viewer, redact

#: The columns of a case in lists and on its page.
CASE_COLUMNS = [
    Need.id, Need.external_id, Need.grid_code, Need.category, Need.dispute_type,
    Need.description, Need.status, Need.priority, Need.assignee_code, Need.reported_at,
    Need.due_date, Need.supervised_due, Need.dispatched_at, Need.accepted_at, Need.handled_at,
    Need.verified_at, Need.visited_at, Need.closed_at, Need.outcome, Need.satisfaction,
    Need.rework_count, Need.lon, Need.lat, Need.resident_name, Need.resident_phone,
    Need.under_correction,
]  # fmt: skip
#: The groups of "my cases", in the order a page shows them.
MY_GROUPS = ("to_dispatch", "to_accept", "overdue", "due_soon", "in_progress", "to_verify",
             "to_visit")  # fmt: skip


def _plain(value):
    if isinstance(value, dt.datetime):
        return instants.iso(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def case_detail(session: Session, need_id: int, viewer: Viewer, *, lang: str = "zh") -> dict:
    """One case for ``viewer``: its columns (personal data only for those who may see it),
    ``allowed_steps``, ``timeline`` (every step, oldest first, instants in the local zone)
    and ``mediation`` (the case file, or None).

    Raises
    ------
    NotFoundError
        No such case, or one the viewer may not see.
    """
    viewer = check_viewer(session, viewer, lang=lang)
    need = get_case(session, need_id, viewer, lang)
    row = read_frame(session, select(*CASE_COLUMNS).where(Need.id == need.id))
    record = {k: _plain(v) for k, v in redact(row, viewer).iloc[0].to_dict().items()}
    record = {k: (None if isinstance(v, float) and pd.isna(v) else v) for k, v in record.items()}
    record["allowed_steps"] = list(allowed_steps(need.status))
    events = session.scalars(
        select(CaseEvent).where(CaseEvent.need_id == need.id).order_by(CaseEvent.at, CaseEvent.id)
    ).all()
    record["timeline"] = [
        {"step": e.step, "from": e.from_status, "to": e.to_status, "at": instants.iso(e.at),
         "actor": e.actor, "role": e.actor_role, "worker": e.worker_code, "note": e.note,
         "details": e.details or {}, "synthesised": bool(e.synthesised)}
        for e in events
    ]  # fmt: skip
    record["mediation"] = mediation.case_file(session, need, viewer)
    return record


def _group(frame: pd.DataFrame, today: dt.date) -> pd.Series:
    """The group of "my cases" each row falls in (None: none)."""
    soon = pd.Timestamp(limits.add_working_days(today, limits.DUE_SOON_WORKING_DAYS))
    due = pd.to_datetime(frame["supervised_due"]).fillna(pd.to_datetime(frame["due_on"]))
    today = pd.Timestamp(today)
    status = frame["status"]
    out = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    working = status.isin(["accepted", "in_progress", "on_hold"])
    out[working] = "in_progress"
    out[working & (due <= soon)] = "due_soon"
    out[status.isin(["dispatched", "accepted", "in_progress", "on_hold"]) & (due < today)] = (
        "overdue"
    )
    out[status == "dispatched"] = "to_accept"
    return out


def my_cases(
    session: Session, viewer: Viewer, *, worker_code: str | None = None, today: dt.date,
    lang: str = "zh",
) -> pd.DataFrame:  # fmt: skip
    """The cases a worker has to act on, with a ``group`` column (:data:`MY_GROUPS`): for
    those who dispatch, the recorded and returned cases of their area; dispatched to them and
    not accepted, overdue, due within
    :data:`~grid_model.cases.limits.DUE_SOON_WORKING_DAYS` working days, in progress; and,
    for those who verify and visit (grid assistants, community leaders), the handled cases to
    verify and the closed cases not yet visited in their area.

    ``worker_code`` defaults to the viewer's own (a worker account's username)."""
    viewer = check_viewer(session, viewer, lang=lang)
    code = worker_code or viewer.username
    visible = Scope().visible_needs(viewer)
    mine = select(*CASE_COLUMNS, due_date_expr().label("due_on"))
    mine = mine.where(visible & (Need.assignee_code == (code or "")))
    mine = mine.where(Need.status.in_(["dispatched", "accepted", "in_progress", "on_hold"]))
    frame = read_frame(session, mine)
    frame["group"] = _group(frame, today) if len(frame) else pd.Series(dtype=object)
    parts = [frame]
    if viewer.role in DISPATCHERS:
        waiting = read_frame(session, select(*CASE_COLUMNS).where(
            visible & Need.status.in_(["recorded", "returned"])
        ).order_by(Need.reported_at.desc(), Need.id.desc()).limit(200))  # fmt: skip
        waiting["group"] = "to_dispatch"
        parts.append(waiting)
    if viewer.role in ("grid_assistant", "community_leader", "admin"):
        verify = read_frame(session, select(*CASE_COLUMNS).where(
            visible & (Need.status == "handled") & (Need.assignee_code != (code or ""))))  # fmt: skip
        verify["group"] = "to_verify"
        visit = read_frame(session, select(*CASE_COLUMNS).where(
            visible & (Need.status == "closed") & Need.visited_at.is_(None)
            & Need.dispatched_at.is_not(None)).order_by(Need.closed_at.desc()).limit(200))  # fmt: skip
        visit["group"] = "to_visit"
        parts += [verify, visit]
    out = (
        pd.concat([p for p in parts if len(p)], ignore_index=True)
        if any(len(p) for p in parts)
        else frame
    )
    return redact(out, viewer)


def supervision_list(
    session: Session, scope: Scope, viewer: Viewer, *, today: dt.date, lang: str = "zh"
) -> pd.DataFrame:
    """Open cases of ``scope`` past their due date (督办 list), most overdue first, with
    ``days_overdue`` and whether the street office supervises them already (``supervised_due``)."""
    viewer = check_viewer(session, viewer, lang=lang)
    due_on = due_date_expr().label("due_on")
    stmt = select(*CASE_COLUMNS, due_on).where(
        scope.visible_needs(viewer) & not_closed() & overdue_at(today)
    )
    frame = read_frame(session, stmt.order_by(due_on, Need.id).limit(2000))
    due = pd.to_datetime(frame["due_on"])
    frame["days_overdue"] = (pd.Timestamp(today) - due).dt.days if len(frame) else []
    return redact(frame, viewer)


__all__ = ["CASE_COLUMNS", "MY_GROUPS", "case_detail", "my_cases", "supervision_list"]
