"""The fields of a mediation agreement (调解协议书), read from a mediation case.

:class:`AgreementCase` is the documented mapping the DOCX template of
``reporting/templates/agreement.docx`` is filled from. The mediation case file
(:class:`~grid_model.models.MediationCase`, its parties and mediators) supplies it when the
case has one:

==================  ========================================================================
field               from the case file
==================  ========================================================================
parties             ``mediation_parties``: side (申请人 / 被申请人), name, phone, ID number
mediators           ``mediation_mediators`` → the workers' names
dispute_type        ``mediation_cases.dispute_type`` (else the need's)
accepted_on         ``mediation_cases.accepted_on``
terms               ``mediation_cases.agreement_text``, one term per line
performance         ``mediation_cases.performance_due`` (履行期限)
agreement_kind/on   ``mediation_cases.agreement_kind`` / ``agreement_on``
==================  ========================================================================

A mediation need without a case file (data from before it existed) supplies it from its own
fields:

==================  ========================================================================
field               from
==================  ========================================================================
case_id             ``needs.id``
case_number         ``needs.external_id``
committee           the community of the need's grid + 人民调解委员会
dispute_type        ``needs.dispute_type``
parties             one :class:`Party`: ``resident_name``, ``resident_phone`` (申请人)
mediators           the worker of ``needs.worker_code`` (name)
facts               ``needs.description``
accepted_on         ``needs.reported_at``
closed_on, outcome  ``needs.closed_at``, ``needs.outcome``
terms, performance  blank lines to fill in by hand (no such fields are stored yet)
==================  ========================================================================

Only roles that may see personal data (:data:`grid_model.scope.PERSONAL_DATA_ROLES`) can
read it: the agreement names the parties.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from grid_model.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from grid_model.messages import t
from grid_model.models import (
    Area,
    Grid,
    MediationCase,
    MediationMediator,
    MediationParty,
    Need,
    Worker,
)
from grid_model.scope import Viewer, check_viewer


@dataclass(frozen=True)
class Party:
    """A party to the dispute (当事人)."""

    name: str
    role: str = "申请人"
    phone: str | None = None
    id_number: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class AgreementCase:
    """What a mediation agreement says (see the module docstring for where each comes from)."""

    case_id: int
    case_number: str
    committee: str
    dispute_type: str | None
    parties: list[Party]
    mediators: list[str]
    facts: str | None
    accepted_on: dt.date
    closed_on: dt.date | None = None
    outcome: str | None = None
    terms: list[str] = field(default_factory=list)
    performance_due: dt.date | None = None
    agreement_kind: str | None = None
    agreement_on: dt.date | None = None


def agreement_case(
    session: Session, case_id: int, viewer: Viewer, *, lang: str = "zh"
) -> AgreementCase:
    """The agreement fields of mediation case ``case_id``.

    Raises
    ------
    PermissionDeniedError
        The viewer's role may not see personal data (the agreement names the parties).
    NotFoundError
        No such case, or not one the viewer may see.
    InvalidInputError
        The case is not a mediation case.
    """
    viewer = check_viewer(session, viewer, lang=lang)
    if not viewer.sees_personal_data:
        raise PermissionDeniedError(t("report_agreement_denied", lang, role=viewer.role))
    need = session.get(Need, case_id) if isinstance(case_id, int) else None
    if need is None or not viewer.sees_need(need):
        raise NotFoundError(t("need_not_found", lang, id=str(case_id)[:40]))
    if need.category != "mediation":
        raise InvalidInputError(t("report_not_mediation", lang, id=need.id, category=need.category))
    file = session.scalar(select(MediationCase).where(MediationCase.need_id == need.id))
    if file is not None:
        return _from_file(session, need, file)
    return AgreementCase(
        case_id=need.id,
        case_number=need.external_id,
        committee=_committee(session, need),
        dispute_type=need.dispute_type,
        parties=[Party(name=need.resident_name or "", phone=need.resident_phone)],
        mediators=_mediators(session, need),
        facts=need.description,
        accepted_on=need.reported_at,
        closed_on=need.closed_at,
        outcome=need.outcome,
    )


#: The parties' sides as the agreement names them.
SIDE_LABELS = {"applicant": "申请人", "respondent": "被申请人"}


def _from_file(session: Session, need: Need, file: MediationCase) -> AgreementCase:
    parties = session.scalars(
        select(MediationParty).where(MediationParty.case_id == file.id).order_by(MediationParty.id)
    ).all()
    mediators = session.scalars(
        select(Worker.name)
        .join(MediationMediator, MediationMediator.worker_code == Worker.code)
        .where(MediationMediator.case_id == file.id)
        .order_by(Worker.code)
    ).all()
    terms = [line.strip() for line in (file.agreement_text or "").splitlines() if line.strip()]
    return AgreementCase(
        case_id=need.id,
        case_number=need.external_id,
        committee=_committee(session, need),
        dispute_type=file.dispute_type or need.dispute_type,
        parties=[
            Party(
                name=p.name,
                role=SIDE_LABELS.get(p.side, p.side),
                phone=p.phone,
                id_number=p.id_number,
            )
            for p in parties
        ],
        mediators=list(mediators),
        facts=need.description,
        accepted_on=file.accepted_on,
        closed_on=need.closed_at,
        outcome=need.outcome,
        terms=terms,
        performance_due=file.performance_due,
        agreement_kind=file.agreement_kind,
        agreement_on=file.agreement_on,
    )


def _committee(session: Session, need: Need) -> str:
    community = session.scalar(
        select(Area.name)
        .join(Grid, Grid.community_code == Area.code)
        .where(Grid.code == need.grid_code)
    )
    return f"{community or ''}人民调解委员会"


def _mediators(session: Session, need: Need) -> list[str]:
    if not need.worker_code:
        return []
    name = session.scalar(select(Worker.name).where(Worker.code == need.worker_code))
    return [name] if name else []
