"""The indicators of the closed loop, defined once, for every page, export and report.

As of a day ``D`` (the end of that local day, :mod:`grid_model.instants`), over the needs of a
scope reported on or before ``D``:

=============================  =====================================================================
``closure_rate`` 结案率          closed ÷ due to close (:func:`grid_model.measures.definitions.due_to_close`:
                               due by ``D`` or closed by then, *excluding cases on hold (缓办) at
                               the end of* ``D`` — the rule of the published Jinhua appraisal rules:
                               a suspended case is not yet due; closed ones always count)
``on_time_rate`` 按期结案率      closed by their due date ÷ due to close
``acceptance_rate`` 签收率       accepted ÷ dispatched (both before the end of ``D``)
``timely_acceptance_rate``     accepted within :data:`grid_model.cases.limits.ACCEPT_HOURS` of the
及时签收率                       dispatch ÷ dispatched
``rework_rate`` 返工率           cases failing verification at least once ÷ cases verified (from the
                               ``verify`` events before the end of ``D``)
``visit_rate`` 回访率            closed cases visited ÷ closed
``satisfaction_rate`` 满意率     (满意 + 基本满意) ÷ visited
``mediation_success_rate``     closed mediation cases mediated ÷ closed mediation cases
调解成功率
``agreement_performance_rate``  mediation case files whose agreement is performed ÷ those with a
协议履行率                       performance result
``median_hours_to_accept``     median hours from dispatch to acceptance
``median_days_to_close``       median days from report to closing
=============================  =====================================================================

Closed, due and on-time counts are :class:`grid_model.measures.summary.Kpis` (read through the
closed-needs summary); the rest are read from the loop's columns and events in the database.
A rate over nothing is None.

>>> round(rate(911, 972) * 100, 2), round(rate(737, 972) * 100, 2)  # a published bulletin
(93.72, 75.82)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from grid_model import instants
from grid_model.cases import limits
from grid_model.db.sqldates import hours_between
from grid_model.measures.definitions import (
    closed_by,
    count_if,
    median_from_counts,
    mediation_closed,
    on_hold_at,
    rate,
)
from grid_model.measures.summary import compute_kpis
from grid_model.models import CaseEvent, MediationCase, Need
from grid_model.queries import read_frame
from grid_model.scope import Scope, Viewer, check_viewer

SATISFIED = ("satisfied", "basically_satisfied")


@dataclass
class CaseIndicators:
    """Every indicator of the loop for a scope as of a day (see the module docstring)."""

    as_of: str = ""
    needs: int = 0
    closed: int = 0
    due_to_close: int = 0
    on_hold: int = 0
    on_time: int = 0
    closure_rate: float | None = None
    on_time_rate: float | None = None
    dispatched: int = 0
    accepted: int = 0
    accepted_in_time: int = 0
    acceptance_rate: float | None = None
    timely_acceptance_rate: float | None = None
    verified: int = 0
    reworked: int = 0
    rework_rate: float | None = None
    visited: int = 0
    visit_rate: float | None = None
    satisfied: int = 0
    satisfaction_rate: float | None = None
    mediation_closed: int = 0
    mediated: int = 0
    mediation_success_rate: float | None = None
    agreements_followed: int = 0
    agreements_performed: int = 0
    agreement_performance_rate: float | None = None
    overdue_open: int = 0
    supervised: int = 0
    median_hours_to_accept: float | None = None
    median_days_to_close: float | None = None
    extra: dict = field(default_factory=dict, repr=False)

    def as_dict(self) -> dict:
        """The indicators as a dict of English snake_case keys (what ``--json`` prints)."""
        out = asdict(self)
        out.pop("extra")
        return out


def end_of(day: dt.date) -> dt.datetime:
    """The stored instant at which local day ``day`` ends (the next local midnight)."""
    return instants.to_stored(day + dt.timedelta(days=1))


def _accept_limit_hours() -> ColumnElement:
    return case(
        *[(Need.priority == p, h) for p, h in limits.ACCEPT_HOURS.items()],
        else_=limits.ACCEPT_HOURS["normal"],
    )


def dispatched_by(day: dt.date) -> ColumnElement[bool]:
    """Dispatched before the end of ``day``."""
    return Need.dispatched_at < end_of(day)


def accepted_by(day: dt.date) -> ColumnElement[bool]:
    """Dispatched and accepted before the end of ``day``."""
    return dispatched_by(day) & (Need.accepted_at < end_of(day))


def accepted_in_time(day: dt.date) -> ColumnElement[bool]:
    """Accepted by ``day`` within :data:`~grid_model.cases.limits.ACCEPT_HOURS` of the
    dispatch (of its priority)."""
    hours = hours_between(Need.dispatched_at, Need.accepted_at)
    return accepted_by(day) & (hours <= _accept_limit_hours())


def _loop_counts(session: Session, where: ColumnElement[bool], day: dt.date) -> dict:
    """Counts read from the needs' loop columns (one aggregate)."""
    end = end_of(day)
    dispatched, accepted, in_time = dispatched_by(day), accepted_by(day), accepted_in_time(day)
    visited = closed_by(day) & (Need.visited_at < end)
    stmt = select(
        count_if(dispatched).label("dispatched"),
        count_if(accepted).label("accepted"),
        count_if(in_time).label("accepted_in_time"),
        count_if(visited).label("visited"),
        count_if(visited & Need.satisfaction.in_(SATISFIED)).label("satisfied"),
        count_if((Need.status != "closed") & (Need.supervised_due.is_not(None))).label(
            "supervised"
        ),
    ).where(where)
    return dict(session.execute(stmt).mappings().one())


def _on_hold(session: Session, where: ColumnElement[bool], day: dt.date) -> int:
    """Open cases on hold at the end of ``day``, among those that have ever been on hold."""
    held = select(CaseEvent.need_id).where(CaseEvent.step == "hold")
    stmt = select(func.count()).where(where & Need.id.in_(held) & ~closed_by(day) & on_hold_at(day))
    return int(session.scalar(stmt) or 0)


def _verifications(session: Session, where: ColumnElement[bool], day: dt.date) -> tuple[int, int]:
    """Cases verified before the end of ``day``, and those among them failed at least once."""
    failed = CaseEvent.to_status != "closed"
    stmt = (
        select(
            func.count(func.distinct(CaseEvent.need_id)),
            func.count(func.distinct(case((failed, CaseEvent.need_id)))),
        )
        .join(Need, Need.id == CaseEvent.need_id)
        .where(where & (CaseEvent.step == "verify") & (CaseEvent.at < end_of(day)))
    )
    verified, reworked = session.execute(stmt).one()
    return int(verified or 0), int(reworked or 0)


def _agreements(session: Session, where: ColumnElement[bool]) -> tuple[int, int]:
    """Mediation case files with a performance result, and those performed."""
    result = MediationCase.performance_result
    stmt = (
        select(count_if(result.is_not(None)), count_if(result == "performed"))
        .join(Need, Need.id == MediationCase.need_id)
        .where(where)
    )
    followed, performed = session.execute(stmt).one()
    return int(followed or 0), int(performed or 0)


def _median_hours_to_accept(session: Session, where: ColumnElement[bool], day: dt.date):
    end = end_of(day)
    hours = func.round(hours_between(Need.dispatched_at, Need.accepted_at) * 10).label("h10")
    stmt = (
        select(hours, func.count().label("n"))
        .where(where & (Need.dispatched_at < end) & (Need.accepted_at < end))
        .group_by(hours)
    )
    hist = read_frame(session, stmt)
    median = median_from_counts(hist["h10"], hist["n"])
    return None if median is None else round(median / 10, 2)


def case_indicators(
    session: Session, scope: Scope, viewer: Viewer, *, as_of: dt.date, lang: str = "zh"
) -> CaseIndicators:
    """Every indicator of the loop (:class:`CaseIndicators`) of ``scope`` (cut to the viewer's
    area) as of the end of day ``as_of``."""
    viewer = check_viewer(session, viewer, lang=lang)
    scope = scope.restricted_to(viewer)
    kpis = compute_kpis(session, scope, today=as_of)
    where = scope.need_filter() & (Need.reported_at <= as_of)
    loop = _loop_counts(session, where, as_of)
    verified, reworked = _verifications(session, where, as_of)
    followed, performed = _agreements(session, where)
    mediations = session.scalar(select(count_if(mediation_closed(as_of))).where(where))
    out = CaseIndicators(
        as_of=as_of.isoformat(), needs=kpis.needs, closed=kpis.closed,
        due_to_close=kpis.due_to_close, on_hold=_on_hold(session, where, as_of),
        on_time=kpis.on_time,
        closure_rate=kpis.closure_rate, on_time_rate=kpis.on_time_rate,
        verified=verified, reworked=reworked, rework_rate=rate(reworked, verified),
        mediation_closed=int(mediations or 0), mediated=kpis.disputes_mediated,
        mediation_success_rate=kpis.mediation_success_rate,
        agreements_followed=followed, agreements_performed=performed,
        agreement_performance_rate=rate(performed, followed),
        overdue_open=kpis.overdue_open, median_days_to_close=kpis.median_days_to_close,
        median_hours_to_accept=_median_hours_to_accept(session, where, as_of),
        **loop,
    )  # fmt: skip
    out.acceptance_rate = rate(out.accepted, out.dispatched)
    out.timely_acceptance_rate = rate(out.accepted_in_time, out.dispatched)
    out.visit_rate = rate(out.visited, out.closed)
    out.satisfaction_rate = rate(out.satisfied, out.visited)
    return out


__all__ = [
    "SATISFIED",
    "CaseIndicators",
    "accepted_by",
    "accepted_in_time",
    "case_indicators",
    "dispatched_by",
    "end_of",
]
