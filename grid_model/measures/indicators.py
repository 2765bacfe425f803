"""Indicators of DESIGN §4, each defined once here and used everywhere.

Every figure counts needs in a :class:`~grid_model.scope.Scope` (area, report period,
categories, statuses) *as of* a day ``today``: a need counts as closed when its status is closed
and it was closed on or before ``today`` (or has no closing date), and needs reported after
``today`` are left out, so a report for a past day can be reproduced.

A need's due date is its ``due_date``, or, when it has none, its report date plus
:data:`DUE_DAYS` of its category.

Aggregation runs in the database (one ``GROUP BY`` per table), identically on SpatiaLite and
PostGIS; date arithmetic goes through :mod:`grid_model.db.sqldates`.
"""

from __future__ import annotations

import datetime as dt
import math
import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Label,
    Select,
    and_,
    case,
    func,
    literal_column,
    select,
    true,
)
from sqlalchemy.orm import Session

from grid_model.db.sqldates import add_days, days_between, year_month
from grid_model.errors import InvalidInputError, NotFoundError
from grid_model.models import (
    Area,
    Assignment,
    Grid,
    Need,
    NeedMonthStat,
    Role,
    ServiceEvent,
    Worker,
    district_of,
)
from grid_model.queries import NEED_COLUMNS, read_frame
from grid_model.scope import Scope, Viewer, check_viewer, redact
from grid_model.workdays import count_workdays, working_days

#: Days to close a need of each category when it has no ``due_date`` of its own.
DUE_DAYS: dict[str, int] = {
    "consultation": 7,
    "publicity": 15,
    "legal_aid": 30,
    "mediation": 30,
    "correction": 30,
    "other": 15,
}

STAFF_ROLES = tuple(r.value for r in Role)


# --- the definitions, as SQL expressions ----------------------------------------------------


def _due_days() -> ColumnElement[int]:
    return case(
        *[(Need.category == c, literal_column(str(int(n)))) for c, n in DUE_DAYS.items()],
        else_=literal_column(str(int(DUE_DAYS["other"]))),
    )


def due_date_expr() -> ColumnElement[dt.date]:
    """A need's due date: ``due_date``, else ``reported_at`` + :data:`DUE_DAYS[category]`."""
    return func.coalesce(Need.due_date, add_days(Need.reported_at, _due_days()))


def _due(day: dt.date, compare) -> ColumnElement[bool]:
    """``compare(due date, day)`` without date arithmetic per row: a default due date is
    compared as ``compare(reported_at, day − DUE_DAYS[category])``, the dates computed here.
    (Equivalent to ``compare(due_date_expr(), day)``, several times cheaper on a million rows.)
    """
    by_category = case(
        *[
            (Need.category == c, compare(Need.reported_at, day - dt.timedelta(days=n)))
            for c, n in DUE_DAYS.items()
        ],
        else_=compare(Need.reported_at, day - dt.timedelta(days=DUE_DAYS["other"])),
    )
    return case((Need.due_date.is_not(None), compare(Need.due_date, day)), else_=by_category)


def closed_by(day: dt.date) -> ColumnElement[bool]:
    """Closed on or before ``day`` (a closed need without a closing date counts as closed)."""
    return (Need.status == "closed") & (Need.closed_at.is_(None) | (Need.closed_at <= day))


def open_at(day: dt.date) -> ColumnElement[bool]:
    """Reported on or before ``day`` and not closed by then."""
    return (Need.reported_at <= day) & ~closed_by(day)


def not_closed() -> ColumnElement[bool]:
    """Status other than closed, as two ranges so the status index serves it (open needs are
    a few per cent of all): a term to add beside :func:`open_at` and :func:`overdue_at`
    (which imply it) when the query should start from the open needs."""
    return (Need.status < "closed") | (Need.status > "closed")


def overdue_at(day: dt.date) -> ColumnElement[bool]:
    """Open at ``day`` and past its due date (a need due on ``day`` is not overdue yet)."""
    return open_at(day) & _due(day, operator.lt)


def due_to_close(day: dt.date) -> ColumnElement[bool]:
    """Due on or before ``day``, or closed by then: the denominator of the closure rates."""
    return closed_by(day) | _due(day, operator.le)


def closed_on_time(day: dt.date) -> ColumnElement[bool]:
    """Closed by ``day`` with a closing date on or before its due date."""
    on_time = case(
        (Need.due_date.is_not(None), Need.closed_at <= Need.due_date),
        else_=Need.closed_at <= add_days(Need.reported_at, _due_days()),
    )
    return closed_by(day) & Need.closed_at.is_not(None) & on_time


def count_if(cond: ColumnElement[bool]) -> ColumnElement[int]:
    """Number of rows where ``cond`` holds (0, not NULL, over no rows)."""
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


def need_measures(day: dt.date) -> dict[str, ColumnElement]:
    """Aggregate expressions over needs as of ``day``, by name; callers add ``WHERE`` and
    ``GROUP BY`` and pick what they need (each costs time on a million needs).

    ``needs, open, overdue, closed, due_to_close, on_time, mediation_closed, mediated,
    days_sum, days_n`` (days from report to closing, summed, and how many), ``last_diary``
    (latest report date of a ``diary`` entry), ``first_reported``.
    """
    closed = closed_by(day)
    timed = closed & Need.closed_at.is_not(None)
    mediation = closed & (Need.category == "mediation")
    diary = (Need.source == "diary") & (Need.reported_at <= day)
    return {
        "needs": func.count(Need.id),
        "open": count_if(open_at(day)),
        "overdue": count_if(overdue_at(day)),
        "closed": count_if(closed),
        "due_to_close": count_if(due_to_close(day)),
        "on_time": count_if(closed_on_time(day)),
        "mediation_closed": count_if(mediation),
        "mediated": count_if(mediation & (Need.outcome == "mediated")),
        "days_sum": func.sum(case((timed, days_between(Need.reported_at, Need.closed_at)))),
        "days_n": count_if(timed),
        "last_diary": func.max(case((diary, Need.reported_at))),
        "first_reported": func.min(Need.reported_at),
    }


def need_aggregates(day: dt.date, names: Iterable[str] | None = None) -> list[Label]:
    """The :func:`need_measures` named ``names`` (default all) as labelled columns."""
    measures = need_measures(day)
    return [measures[n].label(n) for n in (names or measures)]


def diary_dates(day: dt.date) -> tuple[Label, ColumnElement[bool]]:
    """``(date label, condition)``: select the distinct report dates of entries from source
    ``diary`` up to ``day``; :func:`grid_model.workdays.count_workdays` counts the working days
    among them (diary compliance). The condition goes in ``WHERE``, so only diary entries are
    read (a DISTINCT over every need would sort them all)."""
    cond = (Need.source == "diary") & (Need.reported_at <= day)
    return Need.reported_at.label("diary_date"), cond


def days_to_close_counts(day: dt.date) -> tuple[Label, ColumnElement[bool]]:
    """``(days label, condition)`` for a histogram of days to close (medians in pandas)."""
    cond = closed_by(day) & Need.closed_at.is_not(None)
    return days_between(Need.reported_at, Need.closed_at).label("days"), cond


# --- small numeric helpers ------------------------------------------------------------------


def rate(numerator: float, denominator: float) -> float | None:
    """``numerator / denominator``, or None when the denominator is 0."""
    return float(numerator) / float(denominator) if denominator else None


def median_from_counts(values, counts) -> float | None:
    """Median of a distribution given as distinct values and their counts."""
    frame = pd.DataFrame({"v": values, "n": counts}).dropna()
    frame = frame[frame["n"] > 0].sort_values("v")
    total = int(frame["n"].sum())
    if total == 0:
        return None
    cum = frame["n"].cumsum().to_numpy()
    vals = frame["v"].to_numpy(dtype="float64")
    lo = vals[np.searchsorted(cum, (total + 1) // 2)]
    hi = vals[np.searchsorted(cum, total // 2 + 1)]
    return float((lo + hi) / 2)


def diary_period(scope: Scope, today: dt.date, first_reported: dt.date | None):
    """The period diary compliance is measured over: the scope's, else from the first need in
    scope, and never past ``today``. None when there is nothing to measure."""
    start = scope.start or first_reported
    end = min(scope.end or today, today)
    if start is None or end < start:
        return None
    return start, end


# --- reading through the closed-needs summary -------------------------------------------------


#: How a measure of :func:`need_measures` read in parts (summary and needs) combines; the
#: others add up.
_COMBINE = {"first_reported": "min", "last_diary": "max"}


def _summed(
    session: Session,
    scope: Scope,
    today: dt.date | None,
    raw: Select,
    stats: Select,
    names: Iterable[str],
    keys: Sequence[str] = (),
    *,
    summary: bool = True,
) -> pd.DataFrame:
    """The measures ``names`` of ``scope`` as of ``today`` (None: no as-of cut), per ``keys``
    (one row without): ``raw`` aggregates them over ``needs``, ``stats`` over
    :class:`~grid_model.models.NeedMonthStat`. Closed needs of whole months are read from the
    summary, the rest from ``needs`` (:mod:`grid_model.measures.need_stats`); without ``summary``, or
    when the summary cannot serve ``scope``, every need is read.
    """
    from grid_model.measures import need_stats  # it builds on the definitions of this module

    window = need_stats.summary_window(session, scope, today) if summary else None
    if window is None:
        where = scope.need_filter()
        if today is not None:
            where = where & (Need.reported_at <= today)
        return read_frame(session, raw.where(where))
    parts = [read_frame(session, raw.where(cond)) for cond in window.rest(scope, today)]
    parts.append(read_frame(session, stats.where(window.summary_rows(scope))))
    found = [p for p in parts if not p.empty]
    frame = pd.concat(found, ignore_index=True) if found else parts[0]
    how = {n: _COMBINE.get(n, "sum") for n in names}
    if not keys:
        return pd.DataFrame([{c: getattr(frame[c], f)() for c, f in how.items()}])
    return frame.groupby(list(keys), as_index=False).agg(how)


def _summary_measures(names: Iterable[str]) -> list[Label]:
    """The :func:`need_measures` named ``names`` as sums over the closed-needs summary (its
    needs are all closed, so nothing there is open or overdue)."""
    s = NeedMonthStat
    measures = {
        "needs": func.sum(s.needs),
        "open": literal_column("0"),
        "overdue": literal_column("0"),
        "closed": func.sum(s.needs),
        "due_to_close": func.sum(s.needs),
        "on_time": func.sum(s.on_time),
        "mediation_closed": func.sum(case((s.category == "mediation", s.needs), else_=0)),
        "mediated": func.sum(s.mediated),
        "days_sum": func.sum(s.days_sum),
        "days_n": func.sum(s.days_n),
        "first_reported": func.min(s.first_reported),
        "last_diary": func.max(s.last_diary),
    }
    return [measures[n].label(n) for n in names]


# --- KPIs -----------------------------------------------------------------------------------


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
    mediation_success_rate: float | None = None
    overdue_open: int = 0
    mean_days_to_close: float | None = None
    median_days_to_close: float | None = None
    diary_compliance: float | None = None


def _event_filter(scope: Scope, today: dt.date) -> ColumnElement[bool]:
    conds: list[ColumnElement[bool]] = [ServiceEvent.held_on <= today]
    if scope.area_code:
        conds.append(
            ServiceEvent.grid_code.startswith(scope.area_code)
            | (
                ServiceEvent.grid_code.is_(None)
                & ServiceEvent.district_code.startswith(district_of(scope.area_code))
            )
        )
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
    """:func:`need_measures` of ``scope`` as of ``today``, through the summary."""
    raw = select(*need_aggregates(today, _KPI_MEASURES))
    stats = select(*_summary_measures(_KPI_MEASURES))
    frame = _summed(session, scope, today, raw, stats, _KPI_MEASURES, summary=summary)
    return {k: (None if pd.isna(v) else v) for k, v in frame.iloc[0].to_dict().items()}


def _kpis(
    session: Session,
    need_where: ColumnElement[bool],
    event_where: ColumnElement[bool],
    scope: Scope,
    today: dt.date,
    row: dict | None = None,
) -> Kpis:
    """The KPIs of the needs matching ``need_where``; ``row``: their :func:`need_measures`
    when the caller has them already."""
    where = need_where & (Need.reported_at <= today)
    if row is None:
        row = session.execute(select(*need_aggregates(today)).where(where)).mappings().one()
    diary, diary_cond = diary_dates(today)
    n_diary = count_workdays(session.scalars(select(diary).distinct().where(where & diary_cond)))
    days, cond = days_to_close_counts(today)
    hist = read_frame(
        session, select(days, func.count().label("n")).where(where & cond).group_by(days)
    )
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
        mediation_success_rate=rate(row["mediated"], row["mediation_closed"]),
        overdue_open=int(row["overdue"]),
        mean_days_to_close=rate(row["days_sum"] or 0, row["days_n"]),
        median_days_to_close=median_from_counts(hist["days"], hist["n"]),
        diary_compliance=rate(n_diary, working_days(*period)) if period else None,
    )


def compute_kpis(session: Session, scope: Scope, *, today: dt.date, summary: bool = True) -> Kpis:
    """Headline indicators (see :class:`Kpis`) of ``scope`` as of ``today``.

    Counts of closed needs of whole months come from the closed-needs summary
    (:mod:`grid_model.measures.need_stats`); ``summary=False`` counts every need (same figures)."""
    row = _need_totals(session, scope, today, summary)
    return _kpis(session, scope.need_filter(), _event_filter(scope, today), scope, today, row)


# --- trends, per-grid measures, heat bins ---------------------------------------------------


def monthly_trend(session: Session, scope: Scope, *, summary: bool = True) -> pd.DataFrame:
    """Needs per report month and category: ``month`` (``YYYY-MM``), ``category``, ``count``.
    Closed needs of whole months are counted from the closed-needs summary (``summary=False``:
    from every need; same figures).

    Months between the first and the last with no need of a category get a 0 row, so lines
    in a chart do not skip months.
    """
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
    df = _summed(session, scope, None, stmt, stats, ["count"], keys, summary=summary)
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


GRID_MEASURE_COLUMNS = [
    "grid_code",
    "grid_name",
    "community_code",
    "population",
    "needs",
    "per_1000",
    "open",
    "overdue",
    "closed",
    "on_time_rate",
    "closure_rate",
    "services",
    "last_diary",
]


def _rates(num: pd.Series, den: pd.Series) -> pd.Series:
    out = num.astype("float64") / den.astype("float64")
    return out.where(den > 0)


def per_1000(values: pd.Series, population: pd.Series) -> pd.Series:
    """``values`` per 1,000 residents; NaN where the population is unknown or 0."""
    pop = pd.to_numeric(population, errors="coerce").astype("float64")
    return (values.astype("float64") / pop * 1000.0).where(pop > 0)


_GRID_NEED_COUNTS = ("needs", "open", "overdue", "closed", "due_to_close", "on_time", "last_diary")


def _grid_need_counts(
    session: Session, scope: Scope, today: dt.date, *, summary: bool = True
) -> pd.DataFrame:
    """Per grid code: the need counts of :func:`grid_measures` and ``last_diary``.

    Closed needs of whole months come from the summary of :mod:`grid_model.measures.need_stats`; the
    rest (open needs, months at the period's edges, buckets marked out of date) from
    ``needs``. Same figures as one GROUP BY over ``needs``, an order of magnitude faster on a
    million needs.
    """
    # Grouped on an expression, not the bare column: SQLite would otherwise walk the
    # (grid_code, reported_at) index to skip the sort and fetch every row at random, 2-3x
    # slower on a million needs than a scan and a sort. Needs without a grid drop out later.
    grid_key = func.coalesce(Need.grid_code, "").label("grid_code")
    counts = select(grid_key, *need_aggregates(today, _GRID_NEED_COUNTS)).group_by(grid_key)
    s = NeedMonthStat
    stats = select(s.grid_code, *_summary_measures(_GRID_NEED_COUNTS)).group_by(s.grid_code)
    return _summed(
        session, scope, today, counts, stats, _GRID_NEED_COUNTS, ["grid_code"], summary=summary
    )


def grid_measures(
    session: Session, scope: Scope, *, today: dt.date, summary: bool = True
) -> pd.DataFrame:
    """One row per grid in ``scope``, grids without needs included with zeros.

    Columns: ``grid_code, grid_name, community_code, population, needs, per_1000`` (needs per
    1,000 residents, NaN without population), ``open, overdue, closed, on_time_rate,
    closure_rate`` (as in :class:`Kpis`, NaN when nothing is due), ``services`` (events held in
    the grid in the period), ``last_diary`` (latest diary entry among the needs in scope, or
    None). Ordered by grid code.

    Closed needs of whole months are read from the summary of :mod:`grid_model.measures.need_stats`
    (same figures, an order of magnitude faster on a million needs); ``summary=False`` reads
    every need instead (the reference the tests and ``bench/map_page.py`` compare with).
    """
    grids = read_frame(
        session,
        select(
            Grid.code.label("grid_code"),
            Grid.name.label("grid_name"),
            Grid.community_code,
            Grid.population,
        )
        .where(scope.grid_filter())
        .order_by(Grid.code),
    )
    needs = _grid_need_counts(session, scope, today, summary=summary)
    events = read_frame(
        session,
        select(ServiceEvent.grid_code.label("grid_code"), func.count().label("services"))
        .where(_event_filter(scope, today) & ServiceEvent.grid_code.is_not(None))
        .group_by(ServiceEvent.grid_code),
    )
    df = grids.merge(needs, on="grid_code", how="left").merge(events, on="grid_code", how="left")
    counts = ["needs", "open", "overdue", "closed", "due_to_close", "on_time", "services"]
    df[counts] = df[counts].fillna(0).astype("int64")
    df["population"] = df["population"].astype("Int64")
    df["per_1000"] = per_1000(df["needs"], df["population"])
    df["on_time_rate"] = _rates(df["on_time"], df["due_to_close"])
    df["closure_rate"] = _rates(df["closed"], df["due_to_close"])
    df["last_diary"] = df["last_diary"].astype(object).where(df["last_diary"].notna(), None)
    return df[GRID_MEASURE_COLUMNS]


#: The lattice needs are first counted on; coarser cells that are whole multiples of it are
#: counted from these counts. On SpatiaLite the index ``ix_needs_heat`` (migration 0002) holds
#: needs in this lattice's order, so the count streams instead of sorting every need.
HEAT_BASE_CELL_DEG = 0.002


def _cells(x: ColumnElement, size: str) -> ColumnElement:
    # ``op("/")`` keeps the SQL exactly ``floor(x / size)``: SQLAlchemy's own true division
    # adds ``+ 0.0`` on SQLite, and the index is only used when the expressions match.
    return func.floor(x.op("/")(literal_column(size)))


def _heat_bins_stmt(scope: Scope, cell_deg: float):
    """``ix, iy, weight``: needs per cell, ``ix = floor(lon / cell_deg)`` (same for ``iy``).

    Cells written into the SQL as literals: ``GROUP BY`` must repeat the ``SELECT``
    expressions exactly, which two bind parameters would not on PostgreSQL."""
    ratio = cell_deg / HEAT_BASE_CELL_DEG
    k = round(ratio)
    nested = k >= 1 and abs(k * HEAT_BASE_CELL_DEG - cell_deg) <= 1e-12 * cell_deg
    size = repr(HEAT_BASE_CELL_DEG) if nested else repr(float(cell_deg))
    ix, iy = _cells(Need.lon, size).label("ix"), _cells(Need.lat, size).label("iy")
    base = select(ix, iy, func.count().label("weight")).where(scope.need_filter()).group_by(ix, iy)
    if not nested or k == 1:
        return base
    inner = base.subquery("base_cells")
    # float division (``.0``): SQLite would truncate integer division towards zero
    ox = _cells(inner.c.ix, f"{k}.0").label("ix")
    oy = _cells(inner.c.iy, f"{k}.0").label("iy")
    return select(ox, oy, func.sum(inner.c.weight).label("weight")).group_by(ox, oy)


def heat_bins(session: Session, scope: Scope, *, cell_deg: float = 0.002) -> pd.DataFrame:
    """Needs counted on a ``cell_deg`` lon/lat lattice, in the database.

    Returns ``lon, lat`` (bin centres, WGS84) and ``weight`` (needs in the bin), one row per
    non-empty bin, so a heatmap gets a few thousand weighted points instead of one per need.
    0.002° is about 200 m at Jiangmen. This is a density picture, not a hotspot statistic.

    A ``cell_deg`` that is a whole multiple of :data:`HEAT_BASE_CELL_DEG` is counted from the
    base lattice, so its cells nest in the base cells; any other size is counted directly.
    """
    if (
        isinstance(cell_deg, bool)
        or not isinstance(cell_deg, int | float)
        or not math.isfinite(cell_deg)
        or cell_deg <= 0
    ):
        raise InvalidInputError(f"cell_deg={cell_deg!r}: expected a positive number of degrees")
    df = read_frame(session, _heat_bins_stmt(scope, cell_deg))
    return pd.DataFrame(
        {
            "lon": (df["ix"].astype("float64") + 0.5) * cell_deg,
            "lat": (df["iy"].astype("float64") + 0.5) * cell_deg,
            "weight": df["weight"].astype("int64"),
        }
    )


# --- one grid's card ------------------------------------------------------------------------


@dataclass
class GridCard:
    """What a grid's popup or side panel shows.

    ``staff`` maps every role to the names of workers currently assigned to the grid (empty
    list when none). ``phones`` maps a worker's name to their phone, only for viewers who may
    see personal data (else empty). ``latest`` holds the newest needs, redacted for the viewer.
    """

    code: str
    name: str
    community: str
    population: int | None
    staff: dict[str, list[str]]
    phones: dict[str, str]
    kpis: Kpis
    latest: pd.DataFrame = field(repr=False)


def _in_viewer_area(grid_code: str, community_code: str, viewer: Viewer) -> bool:
    mine = viewer.area_code
    return not mine or grid_code.startswith(mine) or community_code.startswith(mine)


def grid_card(
    session: Session,
    grid_code: str,
    viewer: Viewer,
    *,
    today: dt.date,
    latest: int = 5,
    lang: str = "zh",
) -> GridCard:
    """The card of grid ``grid_code`` for ``viewer`` as of ``today``.

    Raises
    ------
    NotFoundError
        The grid does not exist, or lies outside the viewer's area.
    PermissionDeniedError
        The viewer's account is disabled.
    """
    viewer = check_viewer(session, viewer, lang=lang)
    row = session.execute(
        select(Grid.id, Grid.code, Grid.name, Grid.community_code, Grid.population, Area.name)
        .join(Area, Area.code == Grid.community_code)
        .where(Grid.code == grid_code)
    ).first()
    if row is None or not _in_viewer_area(row.code, row.community_code, viewer):
        raise NotFoundError(f"grid {grid_code!r} not found")
    staff_rows = session.execute(
        select(Assignment.role, Worker.name, Worker.phone)
        .join(Worker, Worker.id == Assignment.worker_id)
        .where((Assignment.grid_id == row.id) & Assignment.in_force(today))
        .order_by(Assignment.role, Worker.name)
    ).all()
    staff: dict[str, list[str]] = {r: [] for r in STAFF_ROLES}
    phones: dict[str, str] = {}
    for role, name, phone in staff_rows:
        staff.setdefault(role, []).append(name)
        if viewer.sees_personal_data and phone:
            phones[name] = phone

    scope = Scope(area_code=grid_code)
    kpis = _kpis(
        session,
        Need.grid_code == grid_code,
        (ServiceEvent.grid_code == grid_code) & (ServiceEvent.held_on <= today),
        scope,
        today,
    )
    cond = (Need.grid_code == grid_code) & (Need.reported_at <= today)
    if not viewer.sees_personal_data:
        # filter before LIMIT so the viewer still gets ``latest`` rows
        cond = cond & ~Need.under_correction
    cases = read_frame(
        session,
        select(*NEED_COLUMNS)
        .where(cond)
        .order_by(Need.reported_at.desc(), Need.id.desc())
        .limit(latest),
    )
    return GridCard(
        code=row.code,
        name=row.name,
        community=row[5],
        population=row.population,
        staff=staff,
        phones=phones,
        kpis=kpis,
        latest=redact(cases, viewer),
    )
