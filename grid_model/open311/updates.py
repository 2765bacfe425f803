"""Status updates in FixMyStreet's style, on the case loop: one in (a step through
:func:`grid_model.cases.workflow.apply_step`, chosen by the table of
:mod:`grid_model.open311.steps`), updates out (the case events of the needs the viewer may
see). Every check of a step — role, assignee, transition, values, moment — is the loop's own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from grid_model import fields, instants
from grid_model.cases import workflow
from grid_model.cases.steps import STEPS
from grid_model.messages import t
from grid_model.models import CaseEvent, Need
from grid_model.open311 import steps
from grid_model.open311.requests import _bad, _day
from grid_model.scope import Scope, Viewer, check_viewer

MAX_UPDATES = 1000
MAX_NOTE = workflow.REASON_MAX
_REASON_STEPS = frozenset(name for name, s in STEPS.items() if "reason" in s.required)


@dataclass
class UpdateInput:
    """A ``POST requests/{id}/updates.json`` as sent: FixMyStreet's ``status`` and
    ``description``, and the values some steps need (``outcome``; this API's extensions
    ``assignee`` — the worker dispatched to —, ``satisfaction``, ``due``)."""

    status: str | None
    description: str | None = None
    outcome: str | None = None
    assignee: str | None = None
    satisfaction: str | None = None
    due: str | None = None

    def as_payload(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _note(data: UpdateInput, lang: str) -> str | None:
    """The update's text, stripped; InvalidInputError naming ``description`` for control
    characters or more than :data:`MAX_NOTE` characters."""
    note = (data.description or "").strip() or None
    problem = fields.text_problem(note, max_length=MAX_NOTE, multiline=True) if note else None
    if problem == "control":
        raise _bad("description", fields.shown(note), t("expected_no_control", lang), lang)
    if problem:
        raise _bad("description", fields.shown(note),
                   t("expected_max_length", lang, n=MAX_NOTE, length=len(note)), lang)  # fmt: skip
    return note


def _values(data: UpdateInput, carried: dict) -> dict:
    given = {"outcome": data.outcome, "to": data.assignee, "satisfaction": data.satisfaction,
             "due": data.due}  # fmt: skip
    return {**carried, **{k: v for k, v in given.items() if v is not None}}


def post_update(
    session: Session, need_id: int, data: UpdateInput, *, viewer: Viewer, lang: str = "zh"
) -> dict:
    """Take the step ``data.status`` means for need ``need_id`` now (its text as the step's
    reason where it needs one, else as its note); the update as :func:`list_updates` shows
    it."""
    note = _note(data, lang)
    viewer = check_viewer(session, viewer, lang=lang)
    need = workflow.get_case(session, need_id, viewer, lang)
    chosen = steps.step_for(data.status or "", need.status)
    if chosen is None:
        raise _bad("status", data.status,
                   t("expected_one_of", lang, choices=", ".join(steps.UPDATE_CHOICES)), lang)  # fmt: skip
    step, carried = chosen
    values = _values(data, carried)
    if step in _REASON_STEPS:
        values.setdefault("reason", note)
        note = None
    event = workflow.apply_step(session, need_id, step, viewer, note=note, lang=lang, **values)
    return _update(event, viewer, data.status)


def _update(event: CaseEvent, viewer: Viewer, status: str | None = None) -> dict:
    details = event.details or {}
    if status is None or status.startswith("step:"):
        status = steps.shown_status(event.to_status, details.get("outcome"))[1]
    text = event.note or details.get("reason")
    return {
        "update_id": str(event.id),
        "service_request_id": str(event.need_id),
        "status": status,
        "external_status_code": event.step,
        "description": text if viewer.sees_personal_data else None,
        "updated_datetime": instants.iso(event.at),
        "media_url": None,
    }


def list_updates(
    session: Session,
    *,
    viewer: Viewer,
    start_date: str | None = None,
    end_date: str | None = None,
    lang: str = "zh",
) -> list[dict]:
    """The steps taken on the needs ``viewer`` may see (not their recording), oldest first (at
    most :data:`MAX_UPDATES`), between ``start_date`` and ``end_date`` (days, in the area's
    zone). Their texts only for viewers who may see personal data."""
    viewer = check_viewer(session, viewer, lang=lang)
    start, end = _day(start_date, "start_date", lang), _day(end_date, "end_date", lang)
    stmt = (
        select(CaseEvent)
        .join(Need, CaseEvent.need_id == Need.id)
        .where((CaseEvent.step != "record") & Scope().visible_needs(viewer))
        .order_by(CaseEvent.at, CaseEvent.id)
        .limit(MAX_UPDATES)
    )
    if start is not None:
        stmt = stmt.where(CaseEvent.at >= instants.to_stored(start))
    if end is not None:
        stmt = stmt.where(CaseEvent.at < instants.to_stored(end + dt.timedelta(days=1)))
    return [_update(e, viewer) for e in session.scalars(stmt).all()]


__all__ = ["UpdateInput", "list_updates", "post_update"]
