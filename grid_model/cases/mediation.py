"""The people's-mediation case file (人民调解案卷) of a mediation need.

受理登记 (open the file: parties, dispute type, mediators, acceptance day) → 调查/调解 (sessions:
day, place, summary) → 协议 (written or oral; text required when written) → 履行回访
(performance follow-up: due day, result) → 司法确认 (judicial confirmation asked / granted).
The People's Mediation Law's one-month limit from acceptance is the file's due day, extendable
once with a reason.

Parties' names, phones and ID numbers are personal data: :func:`case_file` gives them only to
roles of :data:`grid_model.scope.PERSONAL_DATA_ROLES`. Every change is checked here (role:
:data:`MEDIATION_ROLES`; the viewer's area) and written with an audit entry. Nothing commits.
"""

from __future__ import annotations

import calendar
import contextlib
import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from grid_model import audit, fields
from grid_model.cases.workflow import get_case
from grid_model.errors import InvalidInputError, PermissionDeniedError
from grid_model.messages import t
from grid_model.models import (
    MediationCase,
    MediationMediator,
    MediationParty,
    MediationSession,
    Need,
    Worker,
)
from grid_model.scope import Viewer, check_viewer

MEDIATION_ROLES = frozenset({"admin", "mediator"})
SIDES = ("applicant", "respondent")
AGREEMENT_KINDS = ("written", "oral")
PERFORMANCE_RESULTS = ("performed", "partly_performed", "not_performed")
TEXT_MAX = 5000
_PHONE = re.compile(r"^\+?[0-9][0-9 -]{5,19}$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


@dataclass
class Party:
    """A party as a form gives it."""

    side: str
    name: str
    phone: str | None = None
    id_number: str | None = None


def one_month_after(day: dt.date) -> dt.date:
    """The same day of the next month (its last day when it has no such day).

    >>> one_month_after(dt.date(2025, 1, 31))
    datetime.date(2025, 2, 28)
    """
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def id_number_ok(value: str) -> bool:
    """Whether ``value`` is an 18-character resident ID number with a right check digit
    (GB 11643).

    >>> id_number_ok("11010519491231002X"), id_number_ok("110105194912310021")
    (True, False)
    """
    if not re.fullmatch(r"\d{17}[\dX]", value):
        return False
    total = sum(int(c) * w for c, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == value[17]


def _bad(field: str, value: object, expected: str, lang: str) -> InvalidInputError:
    shown = "" if value is None else fields.shown(value, limit=40)
    if field in ("name", "phone", "id_number"):
        shown = "…"  # personal data never goes into a message
    return InvalidInputError(t("invalid_field", lang, field=field, value=shown, expected=expected))


def _text(field: str, value: object, lang: str, *, required: bool = False, limit: int = TEXT_MAX):
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise _bad(field, value, t("expected_required", lang), lang)
        return None
    if not isinstance(value, str) or fields.text_problem(value.strip(), max_length=limit,
                                                         multiline=True):  # fmt: skip
        raise _bad(field, value, t("expected_reason", lang, n=limit), lang)
    return value.strip()


def _day(field: str, value: object, lang: str) -> dt.date:
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = dt.date.fromisoformat(value.strip())
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise _bad(field, value, t("expected_date", lang), lang)
    return value


def _choice(field: str, value: object, choices: tuple[str, ...], lang: str) -> str:
    if value not in choices:
        raise _bad(field, value, t("expected_one_of", lang, choices=", ".join(choices)), lang)
    return value


def _party(p: Party, lang: str) -> MediationParty:
    side = _choice("side", p.side, SIDES, lang)
    name = _text("name", p.name, lang, required=True, limit=50)
    phone = _text("phone", p.phone, lang, limit=32)
    if phone and not _PHONE.match(phone):
        raise _bad("phone", phone, t("expected_phone", lang), lang)
    id_number = _text("id_number", p.id_number, lang, limit=18)
    if id_number and not id_number_ok(id_number.upper()):
        raise _bad("id_number", id_number, t("expected_id_number", lang), lang)
    return MediationParty(side=side, name=name, phone=phone,
                          id_number=id_number.upper() if id_number else None)  # fmt: skip


def _editable(session: Session, need_id: int, viewer: Viewer, lang: str) -> Need:
    viewer = check_viewer(session, viewer, lang=lang)
    if viewer.role not in MEDIATION_ROLES:
        raise PermissionDeniedError(t("case_role_refused", lang, role=viewer.role,
                                      step="mediation", roles=", ".join(sorted(MEDIATION_ROLES))))  # fmt: skip
    need = get_case(session, need_id, viewer, lang)
    if need.category != "mediation":
        raise InvalidInputError(t("mediation_only", lang, id=need.id, category=need.category))
    return need


def _file_of(session: Session, need: Need, lang: str) -> MediationCase:
    file = session.scalar(select(MediationCase).where(MediationCase.need_id == need.id))
    if file is None:
        raise InvalidInputError(t("mediation_no_file", lang, id=need.id))
    return file


def open_case_file(
    session: Session, need_id: int, viewer: Viewer, *, accepted_on: dt.date | str,
    parties: list[Party], mediators: list[str], dispute_type: str | None = None,
    lang: str = "zh",
) -> MediationCase:  # fmt: skip
    """受理登记: open the case file of mediation need ``need_id``: its parties (at least one
    applicant and one respondent), mediators (worker codes of mediators) and acceptance day;
    the due day is one month after it."""
    need = _editable(session, need_id, viewer, lang)
    if session.scalar(select(MediationCase.id).where(MediationCase.need_id == need.id)):
        raise InvalidInputError(t("mediation_file_exists", lang, id=need.id))
    accepted = _day("accepted_on", accepted_on, lang)
    rows = [_party(p, lang) for p in parties]
    if {r.side for r in rows} != set(SIDES):
        raise _bad("parties", len(rows), t("expected_both_sides", lang), lang)
    codes = sorted(set(mediators))
    known = set(session.scalars(select(Worker.code).where(Worker.code.in_(codes)
                                                          & (Worker.role == "mediator"))))  # fmt: skip
    if not codes or known != set(codes):
        bad = ", ".join(c for c in codes if c not in known) or "—"
        raise _bad("mediators", bad, t("expected_mediators", lang), lang)
    file = MediationCase(need_id=need.id, district_code=need.district_code,
                         dispute_type=dispute_type or need.dispute_type, accepted_on=accepted,
                         due_on=one_month_after(accepted))  # fmt: skip
    session.add(file)
    session.flush()
    for row in rows:
        row.case_id = file.id
        session.add(row)
    session.add_all(MediationMediator(case_id=file.id, worker_code=c) for c in codes)
    _audit(session, viewer, need, "open", {"accepted_on": accepted.isoformat(), "mediators": codes})
    return file


def extend(session: Session, need_id: int, viewer: Viewer, *, to: dt.date | str, reason: str,
           lang: str = "zh") -> MediationCase:  # fmt: skip
    """Extend the one-month limit once, to ``to``, with a reason."""
    need = _editable(session, need_id, viewer, lang)
    file = _file_of(session, need, lang)
    day = _day("to", to, lang)
    if file.extension_reason is not None or day <= file.due_on:
        raise _bad("to", day.isoformat(), t("expected_extension", lang, due=file.due_on), lang)
    file.extension_reason = _text("reason", reason, lang, required=True, limit=500)
    file.due_on = day
    _audit(session, viewer, need, "extend", {"to": day.isoformat()})
    return file


def add_session(session: Session, need_id: int, viewer: Viewer, *, held_on, place: str | None,
                summary: str | None, lang: str = "zh") -> MediationSession:  # fmt: skip
    """调解: a session, its day, place and summary."""
    need = _editable(session, need_id, viewer, lang)
    file = _file_of(session, need, lang)
    row = MediationSession(case_id=file.id, held_on=_day("held_on", held_on, lang),
                           place=_text("place", place, lang, limit=100),
                           summary=_text("summary", summary, lang))  # fmt: skip
    session.add(row)
    _audit(session, viewer, need, "session", {"held_on": row.held_on.isoformat()})
    return row


def record_agreement(session: Session, need_id: int, viewer: Viewer, *, kind: str, on,
                     text: str | None, performance_due=None, lang: str = "zh") -> MediationCase:  # fmt: skip
    """协议: a written (text required) or oral agreement, its day, when performance is due."""
    need = _editable(session, need_id, viewer, lang)
    file = _file_of(session, need, lang)
    file.agreement_kind = _choice("kind", kind, AGREEMENT_KINDS, lang)
    file.agreement_text = _text("text", text, lang, required=kind == "written")
    file.agreement_on = _day("on", on, lang)
    file.performance_due = (
        _day("performance_due", performance_due, lang) if performance_due else None
    )
    _audit(session, viewer, need, "agreement", {"kind": kind, "on": file.agreement_on.isoformat()})
    return file


def follow_up(session: Session, need_id: int, viewer: Viewer, *, result: str,
              lang: str = "zh") -> MediationCase:  # fmt: skip
    """履行回访: whether the agreement is performed."""
    need = _editable(session, need_id, viewer, lang)
    file = _file_of(session, need, lang)
    file.performance_result = _choice("result", result, PERFORMANCE_RESULTS, lang)
    _audit(session, viewer, need, "follow_up", {"result": result})
    return file


def judicial_confirmation(session: Session, need_id: int, viewer: Viewer, *, asked_on=None,
                          granted_on=None, lang: str = "zh") -> MediationCase:  # fmt: skip
    """司法确认: the day it was asked for and the day it was granted."""
    need = _editable(session, need_id, viewer, lang)
    file = _file_of(session, need, lang)
    if asked_on is not None:
        file.judicial_asked_on = _day("asked_on", asked_on, lang)
    if granted_on is not None:
        file.judicial_granted_on = _day("granted_on", granted_on, lang)
    _audit(
        session,
        viewer,
        need,
        "judicial",
        {"asked_on": str(asked_on), "granted_on": str(granted_on)},
    )
    return file


def _audit(session: Session, viewer: Viewer, need: Need, what: str, details: dict) -> None:
    audit.record(session, viewer, f"mediation_{what}", "need", entity_id=need.id, details=details)
    session.flush()


def case_file(session: Session, need: Need, viewer: Viewer) -> dict | None:
    """The case file of ``need`` as a dict (None without one); parties' names, phones and ID
    numbers, the agreement's text and the sessions' summaries (which name the parties) only for
    viewers who may see personal data (others get the sides, days and places)."""
    file = session.scalar(select(MediationCase).where(MediationCase.need_id == need.id))
    if file is None:
        return None
    parties = session.scalars(select(MediationParty).where(MediationParty.case_id == file.id)
                              .order_by(MediationParty.id)).all()  # fmt: skip
    personal = viewer.sees_personal_data
    out = {c.name: getattr(file, c.name) for c in MediationCase.__table__.columns}
    out = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in out.items()}
    out["parties"] = [
        {"side": p.side, **({"name": p.name, "phone": p.phone, "id_number": p.id_number}
                            if personal else {})}
        for p in parties
    ]  # fmt: skip
    out["mediators"] = list(session.scalars(select(MediationMediator.worker_code).where(
        MediationMediator.case_id == file.id).order_by(MediationMediator.worker_code)))  # fmt: skip
    if not personal:  # an agreement and a session's summary name the parties
        out["agreement_text"] = None
    out["sessions"] = [
        {"held_on": s.held_on.isoformat(), "place": s.place,
         "summary": s.summary if personal else None}
        for s in session.scalars(select(MediationSession).where(
            MediationSession.case_id == file.id).order_by(MediationSession.held_on))
    ]  # fmt: skip
    return out


__all__ = [
    "AGREEMENT_KINDS",
    "MEDIATION_ROLES",
    "PERFORMANCE_RESULTS",
    "Party",
    "add_session",
    "case_file",
    "extend",
    "follow_up",
    "id_number_ok",
    "judicial_confirmation",
    "one_month_after",
    "open_case_file",
    "record_agreement",
]
