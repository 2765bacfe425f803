"""Access (可达性): distance from needs to the nearest legal service room / legal-aid station,
the area beyond walking distance, and where p new service points would cover the most unmet
needs (maximal covering location)."""

from __future__ import annotations

import streamlit as st

from dashboard import analysis_state, maps, state, views
from dashboard.i18n import current_lang, texts, tr
from grid_model.errors import GridLawError
from grid_model.scope import Scope

CANDIDATES = ("grid_centroids", "needs_hexes")

state.page_header("access_title")
filters = state.sidebar()
views.scope_caption(filters)

c1, c2, c3, c4 = st.columns(4)
walk_m = c1.number_input(
    tr("acc_walk_m"),
    min_value=50,
    max_value=10_000,
    value=1000,
    step=50,
    key="acc_walk_m",
    help=tr("acc_walk_help"),
)
p = c2.number_input(tr("acc_p"), min_value=1, max_value=10, value=1, step=1, key="acc_p")
candidates = c3.selectbox(
    tr("acc_candidates"), CANDIDATES, format_func=texts("acc_candidates."), key="acc_candidates"
)
basemap = c4.selectbox(
    tr("basemap"), ("none", "osm"), format_func=texts("basemap."), key="acc_basemap"
)

try:
    area = Scope(area_code=filters.scope.area_code)
    grids = state.grids(area)
    if grids.empty:
        st.info(tr("db_empty"))
        st.stop()
    needs = analysis_state.access(filters.scope, filters.viewer, walk_m=walk_m, details=False)
    uncovered = analysis_state.uncovered(area, walk_m=walk_m, day=filters.today)
    sites, info = analysis_state.suggestions(
        filters.scope, walk_m=walk_m, p=int(p), candidates=candidates, day=filters.today
    )
    points = state.service_points(area)
except GridLawError as exc:
    views.show_error(exc)
    st.stop()

beyond = needs.beyond_count
m1, m2, m3, m4 = st.columns(4)
with m1:
    views.metric("acc_needs_total", tr("acc_needs"), views.fmt_number(needs.needs))
with m2:
    views.metric("acc_beyond_total", tr("acc_beyond"), views.fmt_number(beyond))
with m3:
    views.metric(
        "acc_covered_total",
        tr("acc_covered_new"),
        views.fmt_number(info.get("needs_covered_total", 0)),
    )
with m4:
    views.metric("acc_median_m", tr("acc_median"), views.fmt_number(needs.median_m) + " m")

m = maps.build_access_map(
    grids,
    uncovered,
    points=points,
    suggestions=sites,
    walk_m=walk_m,
    basemap=basemap,
    lang=current_lang(),
)
state.show_map(m, key="acc_map", height=540)

st.subheader(tr("acc_suggested"))
if sites.empty:
    st.caption(tr("acc_none_needed") if beyond == 0 else tr("no_data"))
else:
    shown = sites.drop(columns="geometry").assign(
        lon=sites.geometry.x.round(6), lat=sites.geometry.y.round(6)
    )
    st.dataframe(
        analysis_state.table(
            shown,
            ["candidate", "grid_code", "needs_covered", "needs_covered_alone", "lon", "lat"],
        ),
        hide_index=True,
        key="acc_sites",
    )

with st.expander(tr("acc_uncovered_table")):
    if uncovered.empty:
        st.caption(tr("no_data"))
    else:
        st.dataframe(
            analysis_state.table(
                uncovered.drop(columns="geometry").sort_values("uncovered_share", ascending=False),
                ["grid_code", "grid_name", "households", "uncovered_m2", "uncovered_share"],
            ),
            hide_index=True,
            key="acc_uncovered",
        )
