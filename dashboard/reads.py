"""The cached reads of the pages 1–6 (each a ``grid_model`` service through
:func:`dashboard.cache.cached`) and the few reads that are not cached."""

from __future__ import annotations

import datetime as dt

from dashboard.cache import cached
from dashboard.layers import load_map_layers
from dashboard.session import session
from grid_model import queries
from grid_model.gaps import coverage
from grid_model.imports import exporting
from grid_model.measures import indicators
from grid_model.measures import workload as workloads
from grid_model.needs import cases, validate
from grid_model.scope import Scope, Viewer

areas = cached(queries.load_areas, max_entries=16)
"""``areas()``: districts, streets and communities (GeoDataFrame, boundary where known)."""
grids = cached(queries.load_grids)
service_points = cached(queries.load_service_points)
kpis = cached(indicators.compute_kpis, names={"day": "today"})
trend = cached(indicators.monthly_trend)
grid_measures = cached(indicators.grid_measures, names={"day": "today"})
heat_bins = cached(indicators.heat_bins)
map_layers = cached(load_map_layers, max_entries=16, engine=True, names={"day": "today"}, lang=True)
"""``map_layers(scope, viewer, day=)``: everything the Map page draws
(:class:`dashboard.layers.MapLayers`), read in parallel."""
grid_card = cached(indicators.grid_card, max_entries=64, names={"day": "today"})
_workload = cached(workloads.assistant_workload, names={"day": "today"})
_coverage_gaps = cached(
    coverage.find_coverage_gaps, max_entries=16, names={"day": "today"}, cast={"walk_m": float}
)
_search_needs = cached(cases.search_needs)


def workload(
    scope: Scope,
    *,
    start: dt.date,
    end: dt.date,
    weights: dict[str, float] | None,
    min_cases: int,
    day: dt.date,
):
    """Workload per assistant; the weights are keyed in a fixed order (none: the defaults)."""
    ordered = dict(sorted((weights or {}).items())) or None
    return _workload(scope, start=start, end=end, weights=ordered, min_cases=min_cases, day=day)


def coverage_gaps(
    scope: Scope,
    viewer: Viewer,
    *,
    day: dt.date,
    outreach_days: int = 30,
    walk_m: float = 1000,
    list_limit: int | None = None,
):
    return _coverage_gaps(
        scope,
        viewer=viewer,
        day=day,
        outreach_days=outreach_days,
        walk_m=walk_m,
        list_limit=list_limit,
    )


def search_needs(
    scope: Scope,
    viewer: Viewer,
    *,
    text: str = "",
    sort: str = "reported_at",
    descending: bool = True,
    limit: int = 200,
    lang: str = "zh",
):
    return _search_needs(
        scope,
        viewer,
        text=text or None,
        sort=sort,
        descending=descending,
        limit=limit,
        lang=lang,
    )


def need_detail(need_id: int, viewer: Viewer, *, lang: str) -> dict:
    """Not cached: the detail shows the case as it is now."""
    with session() as s:
        return cases.need_detail(s, need_id, viewer, lang=lang)


def export_frame(kind: str, scope: Scope, viewer: Viewer, *, day: dt.date):
    with session() as s:
        return exporting.export_frame(s, kind, scope, viewer, today=day)


def dispute_types() -> list[str]:
    """The 15 official people's-mediation dispute categories (人民调解纠纷分类): the list the
    need validator checks against."""
    return list(validate.dispute_types())


def grid_point(grids, code: str) -> tuple[float, float]:
    """A point surely inside grid ``code`` (WGS84 lon, lat): where a need recorded "in this
    grid" without coordinates is placed."""
    geom = grids.loc[grids["code"] == code].geometry.iloc[0]
    p = geom.representative_point()
    return round(p.x, 6), round(p.y, 6)
