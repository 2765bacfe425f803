"""Status updates in FixMyStreet's style: one in (a case step through
:func:`grid_model.needs.cases.change_status`, by the table of :mod:`grid_model.open311.steps`),
updates out (the status changes of the audit log, for the needs the viewer may see).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import String, cast, select
from sqlalchemy.orm import Session

from grid_model import fields, instants
from grid_model.errors import InvalidInputError
from grid_model.messages import t
from grid_model.models import AuditEntry, Need
from grid_model.needs.cases import change_status
from grid_model.open311 import steps
from grid_model.open311.requests import _bad, _day
from grid_model.scope import Scope, Viewer, check_viewer

MAX_UPDATES = 1000
MAX_NOTE = 2000


@dataclass
class UpdateInput:
    """A ``POST requests/{id}/updates.json`` as sent."""

    status: str | None
    description: str | None = None
    outcome: str | None = None

    def as_payload(self) -> dict:
        return {"status": self.status, "description": self.description, "outcome": self.outcome}


def _note(data: UpdateInput, lang: str) -> str | None:
    """The update's text, stripped; InvalidInputError for control characters or more than
    :data:`MAX_NOTE` characters."""
    note = (data.description or "").strip() or None
    problem = fields.text_problem(note, max_length=MAX_NOTE, multiline=True) if note else None
    if problem == "control":
        raise _bad("description", fields.shown(note), t("expected_no_control", lang), lang)
    if problem:
        raise _bad("description", fields.shown(note),
                   t("expected_max_length", lang, n=MAX_NOTE, length=len(note)), lang)  # fmt: skip
    return note


def _step(data: UpdateInput, lang: str) -> tuple[str, str | None]:
    """The case step and outcome ``data.status`` means (with the outcome the update names)."""
    if data.status not in steps.UPDATE_STEPS:
        raise _bad("status", data.status,
                   t("expected_one_of", lang, choices=", ".join(steps.UPDATE_STEPS)), lang)  # fmt: skip
    step, outcome = steps.UPDATE_STEPS[data.status]
    if data.outcome is None:
        return step, outcome
    if outcome is not None and data.outcome != outcome:
        raise _bad("outcome", data.outcome,
                   t("o311.outcome_fixed", lang, status=data.status, outcome=outcome), lang)  # fmt: skip
    if step != "closed":
        raise _bad("outcome", data.outcome, t("expected_outcome_for_closed", lang), lang)
    return step, data.outcome


def _last_change(session: Session, need_id: int) -> AuditEntry:
    return session.scalars(
        select(AuditEntry)
        .where((AuditEntry.entity == "need") & (AuditEntry.entity_id == str(need_id))
               & (AuditEntry.action == "change_status"))
        .order_by(AuditEntry.id.desc())
        .limit(1)
    ).one()  # fmt: skip


def post_update(
    session: Session, need_id: int, data: UpdateInput, *, viewer: Viewer, on: dt.date,
    lang: str = "zh",
) -> dict:  # fmt: skip
    """Move need ``need_id`` to the step ``data.status`` means (:data:`steps.UPDATE_STEPS`)
    on day ``on``, its text kept with the audit entry of the change; the update as
    :func:`list_updates` shows it. Every check of the change is :func:`change_status`'s (role,
    area, transition, outcome)."""
    note = _note(data, lang)
    step, outcome = _step(data, lang)
    try:
        change_status(session, need_id, step, outcome=outcome, viewer=viewer, on=on, lang=lang)
    except InvalidInputError as exc:
        if not getattr(exc, "fields", None):
            exc.fields = (("status", str(exc)),)
        raise
    entry = _last_change(session, need_id)
    if note:
        entry.details = {**(entry.details or {}), "note": note}
        session.flush()
    return _update(entry, data.status)


def _update(entry: AuditEntry, status: str | None = None) -> dict:
    details = entry.details or {}
    to = details.get("to")
    if status is None:
        status = steps.shown_status(to, details.get("outcome"))[1]
    return {
        "update_id": str(entry.id),
        "service_request_id": str(entry.entity_id),
        "status": status,
        "external_status_code": to,
        "description": details.get("note"),
        "updated_datetime": instants.iso(entry.at) if entry.at else None,
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
    """The status changes of the needs ``viewer`` may see, oldest first (at most
    :data:`MAX_UPDATES`), between ``start_date`` and ``end_date`` (days, in the area's zone)."""
    viewer = check_viewer(session, viewer, lang=lang)
    start, end = _day(start_date, "start_date", lang), _day(end_date, "end_date", lang)
    stmt = (
        select(AuditEntry)
        .join(Need, AuditEntry.entity_id == cast(Need.id, String))
        .where((AuditEntry.entity == "need") & (AuditEntry.action == "change_status"))
        .where(Scope().visible_needs(viewer))
        .order_by(AuditEntry.id)
        .limit(MAX_UPDATES)
    )
    if start is not None:
        stmt = stmt.where(AuditEntry.at >= instants.to_stored(start))
    if end is not None:
        stmt = stmt.where(AuditEntry.at < instants.to_stored(end + dt.timedelta(days=1)))
    return [_update(e) for e in session.scalars(stmt).all()]


__all__ = ["UpdateInput", "list_updates", "post_update"]
