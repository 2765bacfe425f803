"""Reminders: each worker's digest of a day (cases to accept, overdue, due soon) into the
outbox (:class:`~grid_model.models.ReminderOutbox`), then by e-mail through SMTP when
``GRIDLAW_SMTP_URL`` is set (:func:`grid_model.config.smtp_url`).

A digest names cases by id, external id, category, status and due day — never a description
or a resident's name (a digest leaves the database for a mailbox). Building is idempotent (one
digest per worker and day); sending tries every unsent digest with an address and keeps the
failure (its kind, never the server's reply) on the row.
"""

from __future__ import annotations

import datetime as dt
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from grid_model import config, instants
from grid_model.cases import limits
from grid_model.errors import PermissionDeniedError
from grid_model.measures.definitions import due_date_expr
from grid_model.messages import t
from grid_model.models import Need, ReminderOutbox, Worker
from grid_model.queries import read_frame
from grid_model.scope import Viewer, check_viewer

OPEN_STEPS = ("dispatched", "accepted", "in_progress", "on_hold")
SMTP_TIMEOUT_S = 20
DEFAULT_SENDER = "gridlaw@localhost"


@dataclass
class SendResult:
    sent: int = 0
    failed: int = 0


def _open_cases(session: Session) -> pd.DataFrame:
    due = due_date_expr().label("due")
    stmt = select(Need.id, Need.external_id, Need.category, Need.status, Need.assignee_code,
                  Need.supervised_due, due).where(Need.status.in_(OPEN_STEPS)
                                                  & Need.assignee_code.is_not(None))  # fmt: skip
    return read_frame(session, stmt.order_by(Need.id))


def _groups(cases: pd.DataFrame, day: dt.date) -> dict[str, pd.DataFrame]:
    due = pd.to_datetime(cases["supervised_due"].fillna(cases["due"])).dt.date
    soon = limits.add_working_days(day, limits.DUE_SOON_WORKING_DAYS)
    return {
        "to_accept": cases[cases["status"] == "dispatched"],
        "overdue": cases[due < day],
        "due_soon": cases[(due >= day) & (due <= soon)],
    }


def _body(groups: dict[str, pd.DataFrame], lang: str) -> str:
    lines = []
    for name, rows in groups.items():
        if not len(rows):
            continue
        lines.append(t(f"reminder_{name}", lang, n=len(rows)))
        for r in rows.itertuples():
            due = pd.Timestamp(r.supervised_due if pd.notna(r.supervised_due) else r.due).date()
            lines.append(f"  #{r.id} {r.external_id} · {r.category} · {r.status} · {due}")
    return "\n".join(lines)


def build_digests(session: Session, viewer: Viewer, *, day: dt.date, lang: str = "zh") -> int:
    """Put each worker's digest of ``day`` in the outbox (workers with nothing to do get
    none; a digest already built for the day is kept); return how many were added."""
    viewer = check_viewer(session, viewer, lang=lang)
    if viewer.role != "admin" or viewer.area_code:
        raise PermissionDeniedError(t("not_allowed", lang, role=viewer.role,
                                      action=t("action.reminders", lang)))  # fmt: skip
    cases = _open_cases(session)
    done = set(session.scalars(select(ReminderOutbox.worker_code).where(ReminderOutbox.day == day)))
    workers = {w.code: w for w in session.scalars(select(Worker).where(Worker.active))}
    added = 0
    for code, mine in cases.groupby("assignee_code"):
        groups = _groups(mine, day)
        if code in done or code not in workers or not any(len(g) for g in groups.values()):
            continue
        subject = t("reminder_subject", lang, day=day.isoformat(),
                    n=sum(len(g) for g in groups.values()))  # fmt: skip
        session.add(ReminderOutbox(worker_code=code, day=day, recipient=workers[code].email,
                                   subject=subject, body=_body(groups, lang),
                                   error=None if workers[code].email else "no_address"))  # fmt: skip
        added += 1
    session.flush()
    return added


@dataclass(frozen=True)
class _Smtp:
    host: str
    port: int
    tls: bool
    starttls: bool
    user: str | None
    password: str | None
    sender: str


def _smtp(url: str) -> _Smtp:
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    tls = parts.scheme == "smtps"
    return _Smtp(
        host=parts.hostname, port=parts.port or (465 if tls else 25), tls=tls,
        starttls=query.get("starttls", ["yes"])[0] != "no",
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        sender=query.get("from", [DEFAULT_SENDER])[0],
    )  # fmt: skip


def _connect(smtp: _Smtp) -> smtplib.SMTP:
    if smtp.tls:
        server = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=SMTP_TIMEOUT_S,
                                  context=ssl.create_default_context())  # fmt: skip
    else:
        server = smtplib.SMTP(smtp.host, smtp.port, timeout=SMTP_TIMEOUT_S)
        server.ehlo()
        if smtp.starttls and server.has_extn("starttls"):
            server.starttls(context=ssl.create_default_context())
            server.ehlo()
    if smtp.user:
        server.login(smtp.user, smtp.password or "")
    return server


def send_outbox(session: Session, *, day: dt.date | None = None) -> SendResult:
    """E-mail every unsent digest with an address (of ``day``, or all), when
    ``GRIDLAW_SMTP_URL`` is set; nothing otherwise."""
    url = config.smtp_url()
    result = SendResult()
    if url is None:
        return result
    stmt = select(ReminderOutbox).where(ReminderOutbox.sent_at.is_(None)
                                        & ReminderOutbox.recipient.is_not(None))  # fmt: skip
    if day is not None:
        stmt = stmt.where(ReminderOutbox.day == day)
    rows = session.scalars(stmt.order_by(ReminderOutbox.id)).all()
    if not rows:
        return result
    smtp = _smtp(url)
    try:
        server = _connect(smtp)
    except (OSError, smtplib.SMTPException) as exc:
        for row in rows:
            row.error = f"connect: {type(exc).__name__}"
        result.failed = len(rows)
        return result
    with server:
        for row in rows:
            _send_one(server, smtp, row, result)
    session.flush()
    return result


def _send_one(server: smtplib.SMTP, smtp: _Smtp, row: ReminderOutbox, result: SendResult) -> None:
    message = EmailMessage()
    message["From"], message["Subject"] = smtp.sender, row.subject
    message.set_content(row.body)
    try:
        message["To"] = row.recipient  # a header with a line break is refused here
        server.send_message(message)
    except (OSError, ValueError, smtplib.SMTPException) as exc:
        row.error = f"send: {type(exc).__name__}"
        result.failed += 1
        return
    row.sent_at, row.error = instants.now_stored(), None
    result.sent += 1


__all__ = ["SendResult", "build_digests", "send_outbox"]
