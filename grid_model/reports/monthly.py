"""The monthly report (月报) of an area: every figure from the dashboard's own services.

:func:`monthly_report` assembles, for a month and an area cut to the viewer's:

- the headline indicators (:func:`grid_model.measures.summary.compute_kpis`) of the month,
  the month before (环比) and the same month a year before (同比);
- the same indicators per community (per grid for one community), each with a rank;
- needs by category (:func:`~grid_model.measures.summary.monthly_trend`) and by the 15
  dispute types (:func:`grid_model.reports.mediation.dispute_type_measures`);
- the needs overdue at the month's end (personal columns only for roles that may see them);
- hot spots (:func:`~grid_model.analysis.hotspots.hotspot_table`), emerging hot spots
  (:func:`~grid_model.analysis.emerging.emerging_table`), coverage gaps
  (:func:`~grid_model.gaps.coverage.find_coverage_gaps`), workload per assistant
  (:func:`~grid_model.measures.workload.assistant_workload`), publicity events held against
  the plan of :data:`PUBLICITY_PLAN_PER_MONTH` per unit;
- the per-grid needs of the month for the map (:func:`~grid_model.measures.per_grid.grid_measures`)
  and the twelve-month trend.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grid_model import instants
from grid_model.analysis.emerging import HOT_CATEGORIES, emerging_table
from grid_model.analysis.hotspots import hotspot_table
from grid_model.errors import GridLawError, InvalidInputError
from grid_model.gaps.coverage import GAP_LABELS, PUBLICITY_KINDS, find_coverage_gaps
from grid_model.measures.definitions import count_if, due_date_expr, open_at, overdue_at
from grid_model.measures.per_grid import grid_measures
from grid_model.measures.summary import Kpis, compute_kpis, event_filter, monthly_trend
from grid_model.measures.workload import assistant_workload
from grid_model.messages import t
from grid_model.models import Area, Grid, Need, ServiceEvent
from grid_model.queries import load_grids, need_list_columns, read_frame
from grid_model.reports.mediation import dispute_type_measures
from grid_model.reports.period import ReportMonth, area_name
from grid_model.scope import PERSONAL_FIELDS, Scope, Viewer, check_viewer, grid_in_area, redact

#: Publicity events (法治宣传) planned per unit (community, or grid) and month: twice a month.
PUBLICITY_PLAN_PER_MONTH = 2
#: Rows of the overdue list at most (the count says how many there are).
OVERDUE_LIST_LIMIT = 200
#: Months of the trend chart, the report month included.
TREND_MONTHS = 12

#: The headline indicators: the :class:`~grid_model.measures.summary.Kpis` field, its kind
#: (``count``, ``rate`` in 0..1, ``days``) and whether more is better (None: neither).
INDICATORS: dict[str, tuple[str, bool | None]] = {
    "needs": ("count", None),
    "closed": ("count", True),
    "closure_rate": ("rate", True),
    "on_time_rate": ("rate", True),
    "overdue_open": ("count", False),
    "disputes_mediated": ("count", True),
    "mediation_success_rate": ("rate", True),
    "mean_days_to_close": ("days", False),
    "median_days_to_close": ("days", False),
    "services": ("count", True),
    "diary_compliance": ("rate", True),
}


#: The closed-loop indicators of :func:`grid_model.cases.indicators.case_indicators` (what
#: ``gridlaw indicators --json`` prints) shown in the report, with their kind and direction.
LOOP_INDICATORS: dict[str, tuple[str, bool | None]] = {
    "dispatched": ("count", None),
    "accepted": ("count", True),
    "acceptance_rate": ("rate", True),
    "timely_acceptance_rate": ("rate", True),
    "median_hours_to_accept": ("days", False),
    "on_hold": ("count", None),
    "rework_rate": ("rate", False),
    "visit_rate": ("rate", True),
    "satisfaction_rate": ("rate", True),
    "agreement_performance_rate": ("rate", True),
    "supervised": ("count", None),
}


@dataclass(frozen=True)
class Headline:
    """One headline indicator this month, the month before and a year before.

    ``change_mom``/``change_yoy``: the difference, in percentage points for rates (``rate``
    kind), in the indicator's unit otherwise; None when either side is unknown.
    """

    name: str
    kind: str
    value: float | None
    previous: float | None
    last_year: float | None

    def _change(self, other: float | None) -> float | None:
        if self.value is None or other is None:
            return None
        diff = float(self.value) - float(other)
        return round(diff * 100, 1) if self.kind == "rate" else round(diff, 1)

    @property
    def change_mom(self) -> float | None:
        return self._change(self.previous)

    @property
    def change_yoy(self) -> float | None:
        return self._change(self.last_year)


@dataclass
class MonthlyReport:
    """The figures of one monthly report (see the module docstring for their sources)."""

    area_code: str | None
    area_name: str
    month: ReportMonth
    as_of: dt.date
    generated_at: dt.datetime
    viewer_role: str
    kpis: Kpis
    headline: list[Headline]
    unit_level: str
    units: pd.DataFrame
    by_category: pd.DataFrame
    by_dispute_type: pd.DataFrame
    overdue: pd.DataFrame
    overdue_count: int
    supervised_count: int
    hotspots: pd.DataFrame
    new_hotspots: list[str]
    emerging: pd.DataFrame
    gaps: pd.DataFrame
    workload: pd.DataFrame
    publicity: pd.DataFrame
    grid_map: gpd.GeoDataFrame
    trend: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    loop: list[Headline] = field(default_factory=list)

    @property
    def personal_data(self) -> bool:
        """Whether the report holds residents' names and phones (the role may see them)."""
        return any(c in self.overdue.columns for c in PERSONAL_FIELDS)


def monthly_report(
    session: Session,
    *,
    month: ReportMonth | str,
    area_code: str | None = None,
    viewer: Viewer,
    today: dt.date,
    lang: str = "zh",
    permutations: int = 99,
) -> MonthlyReport:
    """The monthly report of ``area_code`` (cut to ``viewer``'s area) for ``month``.

    Figures count as of the month's last day, or ``today`` when the month is not over.
    ``permutations``: of the hot spot test (0: analytical p-values).
    """
    viewer = check_viewer(session, viewer, lang=lang)
    month = month if isinstance(month, ReportMonth) else ReportMonth.parse(month, lang=lang)
    if month.start > today:
        raise InvalidInputError(t("report_future_month", lang, month=month, today=today))
    area = _effective(session, Scope(area_code=area_code).restricted_to(viewer))
    as_of = min(month.end, today)
    scope = dataclasses.replace(area, start=month.start, end=month.end)
    notes: list[str] = []
    kpis = compute_kpis(session, scope, today=as_of)
    level, units = _units(session, area, as_of)
    overdue, overdue_count, supervised_count = _overdue(session, area, viewer, as_of)
    hot, new_hot = _hotspots(session, scope, viewer, month, notes, lang, permutations)
    return MonthlyReport(
        area_code=area.area_code,
        area_name=area_name(session, area.area_code, lang),
        month=month,
        as_of=as_of,
        generated_at=instants.now_stored(),
        viewer_role=viewer.role,
        kpis=kpis,
        headline=_headline(session, area, month, kpis, today),
        unit_level=level,
        units=_unit_table(session, area, units, month, as_of),
        by_category=_by_category(session, scope),
        by_dispute_type=dispute_type_measures(session, scope, as_of),
        overdue=overdue,
        overdue_count=overdue_count,
        supervised_count=supervised_count,
        hotspots=hot,
        new_hotspots=new_hot,
        emerging=_emerging(session, area, viewer, month, notes, lang),
        gaps=_gaps(session, scope, viewer, as_of, lang),
        workload=_workload(session, area, month, as_of),
        publicity=_publicity(session, area, units, month, as_of),
        grid_map=_grid_map(session, scope, as_of),
        trend=monthly_trend(
            session,
            dataclasses.replace(area, start=month.shifted(1 - TREND_MONTHS).start, end=month.end),
        ),
        notes=notes,
        loop=_loop(session, area, month, viewer, today, lang),
    )


# --- the parts ----------------------------------------------------------------------------


def _loop(
    session: Session, area: Scope, month: ReportMonth, viewer: Viewer, today: dt.date, lang: str
) -> list[Headline]:
    """The closed-loop indicators of the month, the month before and a year before, from the
    service behind ``gridlaw indicators --json``."""
    from grid_model.cases.indicators import case_indicators

    def of(m: ReportMonth) -> dict:
        scope = dataclasses.replace(area, start=m.start, end=m.end)
        return case_indicators(session, scope, viewer, as_of=min(m.end, today), lang=lang).as_dict()

    now, before, year_ago = of(month), of(month.previous()), of(month.last_year())
    return [
        Headline(n, kind, now[n], before[n], year_ago[n])
        for n, (kind, _better) in LOOP_INDICATORS.items()
    ]


def kpi_values(kpis: Kpis) -> dict[str, float | None]:
    """The :data:`INDICATORS` of ``kpis``, by name."""
    return {name: getattr(kpis, name) for name in INDICATORS}


def _headline(
    session: Session, area: Scope, month: ReportMonth, kpis: Kpis, today: dt.date
) -> list[Headline]:
    def of(m: ReportMonth) -> dict[str, float | None]:
        scope = dataclasses.replace(area, start=m.start, end=m.end)
        return kpi_values(compute_kpis(session, scope, today=min(m.end, today)))

    now, before, year_ago = kpi_values(kpis), of(month.previous()), of(month.last_year())
    return [Headline(n, INDICATORS[n][0], now[n], before[n], year_ago[n]) for n in INDICATORS]


def _effective(session: Session, area: Scope) -> Scope:
    """The area a report is about: a scope cut to a viewer's area (``within``) that asked for
    an area outside it is about the viewer's whole area (as :meth:`Scope.restricted_to` reads)."""
    if not area.within or area.within == area.area_code:
        return area
    overlap = session.scalar(
        select(func.count(Grid.id)).where(grid_in_area(area.area_code), grid_in_area(area.within))
    )
    return area if overlap else dataclasses.replace(area, area_code=area.within, within=None)


def _units(session: Session, area: Scope, as_of: dt.date) -> tuple[str, pd.DataFrame]:
    """``(level, units)``: the communities of the area's grids in force (``code, name``), or
    the grids themselves when the area is one community or grid."""
    grids = load_grids(session, area, on=as_of)
    code = area.area_code
    level = session.scalar(select(Area.level).where(Area.code == code)) if code else None
    if code and level in (None, "community"):  # a community, or a grid code
        return "grid", pd.DataFrame({"code": grids["code"], "name": grids["name"]})
    communities = grids[["community_code", "community"]].drop_duplicates("community_code")
    communities = communities.sort_values("community_code")
    return "community", pd.DataFrame(
        {
            "code": communities["community_code"].to_numpy(),
            "name": communities["community"].to_numpy(),
        }
    )


def _rank(values: pd.Series, better: bool | None) -> pd.Series:
    """1 for the best (the most when neither is better), ties sharing the lower rank."""
    ascending = better is False
    return values.astype("float64").rank(method="min", ascending=ascending).astype("Int64")


def _unit_table(
    session: Session, area: Scope, units: pd.DataFrame, month: ReportMonth, as_of: dt.date
) -> pd.DataFrame:
    """Per unit: every indicator of :data:`INDICATORS` and its rank (``<name>_rank``)."""
    rows = []
    for code, name in zip(units["code"], units["name"], strict=True):
        scope = dataclasses.replace(area, area_code=code, start=month.start, end=month.end)
        rows.append(
            {"code": code, "name": name, **kpi_values(compute_kpis(session, scope, today=as_of))}
        )
    table = pd.DataFrame(rows, columns=["code", "name", *INDICATORS])
    for name, (_kind, better) in INDICATORS.items():
        table[name] = pd.to_numeric(table[name], errors="coerce")
        table[f"{name}_rank"] = _rank(table[name], better)
    return table


def _by_category(session: Session, scope: Scope) -> pd.DataFrame:
    """``category, needs`` of the month, from the monthly trend."""
    trend = monthly_trend(session, scope)
    if trend.empty:
        return pd.DataFrame(
            {"category": pd.Series(dtype=object), "needs": pd.Series(dtype="int64")}
        )
    out = trend.groupby("category", as_index=False)["count"].sum()
    return (
        out.rename(columns={"count": "needs"})
        .sort_values("needs", ascending=False, kind="stable")
        .reset_index(drop=True)
    )


def _overdue(
    session: Session, area: Scope, viewer: Viewer, as_of: dt.date
) -> tuple[pd.DataFrame, int, int]:
    """Needs of the area overdue or under supervision (督办) at ``as_of`` that ``viewer`` may
    see (oldest due first, at most :data:`OVERDUE_LIST_LIMIT`), redacted for ``viewer``; how
    many are overdue, and how many open ones are supervised."""
    visible = area.visible_needs(viewer, period=False)
    overdue = overdue_at(as_of)
    supervised = open_at(as_of) & Need.supervised_due.is_not(None)
    counts = session.execute(
        select(count_if(overdue), count_if(supervised)).where(visible & (overdue | supervised))
    ).one()
    due = due_date_expr().label("due_date")
    columns = need_list_columns(
        Need.dispute_type,
        due,
        Need.supervised_due,
        Need.worker_code,
        Need.resident_name,
        Need.resident_phone,
        Need.under_correction,
    )
    stmt = (
        select(*columns)
        .where(visible & (overdue | supervised))
        .order_by(due, Need.id)
        .limit(OVERDUE_LIST_LIMIT)
    )
    frame = redact(read_frame(session, stmt).drop(columns=["lon", "lat"]), viewer)
    return frame.drop(columns=["under_correction"], errors="ignore"), *map(int, counts)


def _hotspots(
    session: Session,
    scope: Scope,
    viewer: Viewer,
    month: ReportMonth,
    notes: list,
    lang: str,
    permutations: int,
) -> tuple[pd.DataFrame, list[str]]:
    """Hot spots of the month (``grid_code, name, count, z, class``) and the names of those
    that were not hot the month before (新增热点)."""

    def hot(m: ReportMonth) -> pd.DataFrame:
        table = hotspot_table(
            session,
            dataclasses.replace(scope, start=m.start, end=m.end),
            viewer,
            permutations=permutations,
            seed=12345,
        )
        return table[table["class"].astype(str).str.startswith("hot")]

    try:
        now, before = hot(month), hot(month.previous())
    except (GridLawError, ValueError) as exc:  # too few grids or needs for Gi*
        notes.append(t("report_no_hotspots", lang, reason=str(exc)[:200]))
        return pd.DataFrame(columns=["grid_code", "name", "count", "z", "class"]), []
    new = now[~now["grid_code"].isin(before["grid_code"])]
    return now[["grid_code", "name", "count", "z", "class"]].reset_index(drop=True), list(
        new["name"]
    )


def _emerging(
    session: Session, area: Scope, viewer: Viewer, month: ReportMonth, notes: list, lang: str
) -> pd.DataFrame:
    """Grids with an emerging hot spot pattern over the trend months (``grid_code, name,
    category``)."""
    scope = dataclasses.replace(area, start=month.shifted(1 - TREND_MONTHS).start, end=month.end)
    try:
        table = emerging_table(session, scope, viewer, permutations=0)
    except (GridLawError, ValueError) as exc:
        notes.append(t("report_no_emerging", lang, reason=str(exc)[:200]))
        return pd.DataFrame(columns=["grid_code", "name", "category"])
    table = table[table["category"].isin(HOT_CATEGORIES)]
    return table[["grid_code", "name", "category"]].reset_index(drop=True)


def _gaps(
    session: Session, scope: Scope, viewer: Viewer, as_of: dt.date, lang: str
) -> pd.DataFrame:
    """``kind, label, count`` of every coverage gap kind."""
    # the counts only: no list of needs is read
    gaps = find_coverage_gaps(session, scope, today=as_of, viewer=viewer, lang=lang, list_limit=0)
    summary = gaps.summary()
    summary["label"] = summary["kind"].map(lambda k: GAP_LABELS[k][0 if lang == "zh" else 1])
    return summary[["kind", "label", "count"]]


_WORKLOAD_COLUMNS = [
    "assistant_code",
    "assistant",
    "grids",
    "open",
    "overdue",
    "new",
    "closed",
    "on_time_rate",
    "workload",
    "rank",
]


def _workload(session: Session, area: Scope, month: ReportMonth, as_of: dt.date) -> pd.DataFrame:
    end = max(as_of, month.start)
    table = assistant_workload(session, area, start=month.start, end=end, today=as_of)
    return table[_WORKLOAD_COLUMNS].reset_index(drop=True)


def _publicity(
    session: Session, area: Scope, units: pd.DataFrame, month: ReportMonth, as_of: dt.date
) -> pd.DataFrame:
    """Per unit: publicity events held in the month (the events of
    :func:`~grid_model.measures.summary.event_filter`, of the publicity kinds), the plan, and
    whether the plan was met."""
    held = []
    for code in units["code"]:
        unit = dataclasses.replace(area, area_code=code, start=month.start, end=month.end)
        where = event_filter(unit, as_of)
        stmt = select(func.count(ServiceEvent.id)).where(
            where & ServiceEvent.kind.in_(PUBLICITY_KINDS)
        )
        held.append(int(session.scalar(stmt) or 0))
    out = units[["code", "name"]].copy()
    out["held"] = pd.Series(held, index=out.index, dtype="int64")
    out["planned"] = PUBLICITY_PLAN_PER_MONTH
    out["met"] = out["held"] >= out["planned"]
    return out


def _grid_map(session: Session, scope: Scope, as_of: dt.date) -> gpd.GeoDataFrame:
    """The grids in force with their needs of the month and needs per 1,000 residents."""
    grids = load_grids(session, scope, on=as_of)
    measures = grid_measures(session, scope, today=as_of)[["grid_code", "needs", "per_1000"]]
    out = grids[["code", "name", "community_code", "community", "geometry"]].merge(
        measures, left_on="code", right_on="grid_code", how="left"
    )
    out["needs"] = out["needs"].fillna(0).astype("int64")
    return gpd.GeoDataFrame(out.drop(columns="grid_code"), geometry="geometry", crs=grids.crs)
