"""The headline indicators of a scope (:class:`Kpis`, :func:`compute_kpis`) and the monthly
trend of needs (:func:`monthly_trend`), built on :mod:`grid_model.measures.definitions`.

Every figure counts needs in a :class:`~grid_model.scope.Scope` (area, report period,
categories, statuses) *as of* a day ``today``: needs reported after ``today`` are left out, so
a report for a past day can be reproduced. Aggregation runs in the database (one ``GROUP BY``
per table), identically on SpatiaLite and PostGIS; closed needs of whole months are read from
the closed-needs summary (:mod:`grid_model.measures.need_stats`).

>>> Kpis().closure_rate is None
True
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import ColumnElement, and_, func, select, true
from sqlalchemy.orm import Session

from grid_model.db.sqldates import year_month
from grid_model.measures.definitions import (
    days_to_close_counts,
    diary_dates,
    diary_period,
    median_from_counts,
    need_aggregates,
    rate,
    summary_aggregates,
)
from grid_model.measures.need_stats import read_diary_dates, read_measures
from grid_model.models import Need, NeedCloseDays, NeedMonthStat, ServiceEvent
from grid_model.queries import read_frame
from grid_model.scope import Scope
from grid_model.workdays import count_workdays, working_days


@dataclass
class Kpis:
    """Headline indicators of a scope as of a day.

    Attributes
    ----------
    needs : int
        Needs in scope reported on or before ``today``.
    services : int
        Service events in the scope's area held in the period (and not after ``today``).
    disputes_mediated : int
        Closed mediation cases with outcome ``mediated``.
    closed : int
        Needs closed by ``today``.
    due_to_close : int
        Needs whose due date is on or before ``today``, or that are closed.
    closure_rate : float or None
        ``closed / due_to_close`` (结案率).
    on_time_rate : float or None
        Needs closed with ``closed_at`` on or before their due date, over ``due_to_close``
        (按期结案率).
    on_time : int
        Needs closed by ``today`` on or before their due date (the numerator of
        ``on_time_rate``).
    mediation_success_rate : float or None
        ``disputes_mediated`` over closed mediation cases (调解成功率).
    overdue_open : int
        Needs open at ``today`` past their due date.
    mean_days_to_close, median_days_to_close : float or None
        Days from report to closing of closed needs that have a closing date.
    diary_compliance : float or None
        Distinct working days with at least one ``diary`` entry, over working days (Mon–Fri)
        in the period: the scope's ``start``/``end``, else from the first need in scope, cut
        at ``today``.

    Rates are floats in 0..1, None when their denominator is 0.
    """

    needs: int = 0
    services: int = 0
    disputes_mediated: int = 0
    closed: int = 0
    due_to_close: int = 0
    closure_rate: float | None = None
    on_time_rate: float | None = None
    on_time: int = 0
    mediation_success_rate: float | None = None
    overdue_open: int = 0
    mean_days_to_close: float | None = None
    median_days_to_close: float | None = None
    diary_compliance: float | None = None


def event_filter(scope: Scope, today: dt.date) -> ColumnElement[bool]:
    """Service events in the scope's area (by grid, else by district) and period, held on or
    before ``today``."""
    conds: list[ColumnElement[bool]] = [ServiceEvent.held_on <= today]
    if scope.area_code:
        conds.append(scope.area_filter(ServiceEvent.grid_code, ServiceEvent.district_code))
    if scope.start:
        conds.append(ServiceEvent.held_on >= scope.start)
    if scope.end:
        conds.append(ServiceEvent.held_on <= scope.end)
    return and_(true(), *conds)


_KPI_MEASURES = (
    "needs",
    "open",
    "overdue",
    "closed",
    "due_to_close",
    "on_time",
    "mediation_closed",
    "mediated",
    "days_sum",
    "days_n",
    "first_reported",
)


def _need_totals(session: Session, scope: Scope, today: dt.date, summary: bool) -> dict:
    """The :data:`~grid_model.measures.definitions.MEASURES` of ``scope`` as of ``today``,
    through the summary."""
    raw = select(*need_aggregates(today, _KPI_MEASURES))
    stats = select(*summary_aggregates(_KPI_MEASURES))
    frame = read_measures(session, scope, today, raw, stats, _KPI_MEASURES, summary=summary)
    return {k: (None if pd.isna(v) else v) for k, v in frame.iloc[0].to_dict().items()}


def _diary_days(session: Session, where: ColumnElement[bool], today: dt.date) -> int:
    """Distinct working days with a diary entry among the needs matching ``where``."""
    diary, diary_cond = diary_dates(today)
    return count_workdays(session.scalars(select(diary).distinct().where(where & diary_cond)))


def _median_days(session: Session, where: ColumnElement[bool], today: dt.date) -> float | None:
    """Median days to close of the needs matching ``where``, from a histogram."""
    days, cond = days_to_close_counts(today)
    hist = read_frame(
        session, select(days, func.count().label("n")).where(where & cond).group_by(days)
    )
    return median_from_counts(hist["days"], hist["n"])


def days_to_close_histogram(
    session: Session,
    scope: Scope,
    today: dt.date,
    keys: Sequence[str] = (),
    *,
    summary: bool = True,
) -> pd.DataFrame:
    """``*keys, days, n``: how many needs of ``scope`` closed by ``today`` (with a closing
    date) took ``days`` days from report to closing, per ``keys`` (columns both of ``needs``
    and of :class:`~grid_model.models.NeedCloseDays`, e.g. ``grid_code``). Closed needs of
    whole months are counted from that summary (``summary=False``: from every need)."""
    days, cond = days_to_close_counts(today)
    raw = select(*(getattr(Need, k).label(k) for k in keys), days, func.count().label("n"))
    raw = raw.where(cond).group_by(*(getattr(Need, k) for k in keys), days)
    c = NeedCloseDays
    stats = select(*(getattr(c, k).label(k) for k in keys), c.days.label("days"))
    stats = stats.add_columns(func.sum(c.needs).label("n"))
    stats = stats.group_by(*(getattr(c, k) for k in keys), c.days)
    return read_measures(
        session, scope, today, raw, stats, ["n"], [*keys, "days"], summary=summary, table=c
    )


def kpis_where(
    session: Session,
    need_where: ColumnElement[bool],
    event_where: ColumnElement[bool],
    scope: Scope,
    today: dt.date,
    row: dict | None = None,
    median: float | None = None,
    diary_days: int = 0,
) -> Kpis:
    """The KPIs of the needs matching ``need_where`` and the events matching ``event_where``;
    ``row``, ``median`` (days to close, None for none) and ``diary_days`` (working days with
    a diary entry): the needs' measures when the caller has them already (read here without
    ``row``)."""
    where = need_where & (Need.reported_at <= today)
    if row is None:
        row = session.execute(select(*need_aggregates(today)).where(where)).mappings().one()
        median = _median_days(session, where, today)
        diary_days = _diary_days(session, where, today)
    services = session.scalar(select(func.count(ServiceEvent.id)).where(event_where)) or 0
    period = diary_period(scope, today, row["first_reported"])
    closed, due = int(row["closed"]), int(row["due_to_close"])
    return Kpis(
        needs=int(row["needs"]),
        services=int(services),
        disputes_mediated=int(row["mediated"]),
        closed=closed,
        due_to_close=due,
        closure_rate=rate(closed, due),
        on_time_rate=rate(row["on_time"], due),
        on_time=int(row["on_time"]),
        mediation_success_rate=rate(row["mediated"], row["mediation_closed"]),
        overdue_open=int(row["overdue"]),
        mean_days_to_close=rate(row["days_sum"] or 0, row["days_n"]),
        median_days_to_close=median,
        diary_compliance=(rate(diary_days, working_days(*period)) if period else None),
    )


def compute_kpis(session: Session, scope: Scope, *, today: dt.date, summary: bool = True) -> Kpis:
    """Headline indicators (see :class:`Kpis`) of ``scope`` as of ``today``.

    Counts of closed needs of whole months come from the closed-needs summary
    (:mod:`grid_model.measures.need_stats`); ``summary=False`` counts every need (same figures)."""
    row = _need_totals(session, scope, today, summary)
    hist = days_to_close_histogram(session, scope, today, summary=summary)
    median = median_from_counts(hist["days"], hist["n"])
    diary = read_diary_dates(session, scope, today, summary=summary)["diary_date"]
    return kpis_where(
        session, scope.need_filter(), event_filter(scope, today), scope, today, row, median,
        count_workdays(diary),
    )  # fmt: skip


def _month_counts(session: Session, scope: Scope, summary: bool) -> pd.DataFrame:
    """``month, category, count`` of the months and categories that have needs."""
    month = year_month(Need.reported_at).label("month")
    stmt = select(
        month, Need.category.label("category"), func.count(Need.id).label("count")
    ).group_by(month, Need.category)
    s = NeedMonthStat
    stat_month = year_month(s.month_start).label("month")
    stats = select(
        stat_month, s.category.label("category"), func.sum(s.needs).label("count")
    ).group_by(stat_month, s.category)
    keys = ["month", "category"]
    return read_measures(session, scope, None, stmt, stats, ["count"], keys, summary=summary)


def _fill_months(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with a 0 row for every month between the first and the last and category.

    >>> df = pd.DataFrame({"month": ["2025-01", "2025-03"], "category": ["other"] * 2,
    ...                    "count": [2, 1]})
    >>> _fill_months(df)["count"].tolist()
    [2, 0, 1]
    """
    if df.empty:
        return pd.DataFrame(
            {
                "month": pd.Series(dtype=object),
                "category": pd.Series(dtype=object),
                "count": pd.Series(dtype="int64"),
            }
        )
    months = pd.period_range(df["month"].min(), df["month"].max(), freq="M").strftime("%Y-%m")
    full = pd.MultiIndex.from_product(
        [list(months), sorted(df["category"].unique())], names=["month", "category"]
    )
    out = (
        df.set_index(["month", "category"])["count"]
        .reindex(full, fill_value=0)
        .astype("int64")
        .reset_index()
    )
    return out.astype({"month": object, "category": object})


def monthly_trend(session: Session, scope: Scope, *, summary: bool = True) -> pd.DataFrame:
    """Needs per report month and category: ``month`` (``YYYY-MM``), ``category``, ``count``.
    Closed needs of whole months are counted from the closed-needs summary (``summary=False``:
    from every need; same figures).

    Months between the first and the last with no need of a category get a 0 row, so lines
    in a chart do not skip months.
    """
    return _fill_months(_month_counts(session, scope, summary))
