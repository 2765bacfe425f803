"""Coverage gaps (覆盖缺口): every gap of DESIGN §5 as a map layer and a list with counts,
each downloadable."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import maps, state, views
from dashboard.i18n import current_lang, texts, tr
from geodata.errors import GeodataError
from geodata.io import frame_to_bytes
from grid_model.errors import GridLawError
from grid_model.gaps.coverage import GAP_GROUPS, GAP_KINDS, GAP_LABELS
from grid_model.scope import Scope

state.page_header("gaps_title")
filters = state.sidebar(statuses=False)
lang = current_lang()
views.scope_caption(filters)


def gap_label(kind: str) -> str:
    zh, en = GAP_LABELS[kind]
    return zh if lang == "zh" else en


c1, c2, c3 = st.columns(3)
outreach_days = c1.number_input(
    tr("outreach_days"), min_value=1, max_value=365, value=30, key="gap_outreach_days"
)
walk_m = c2.number_input(
    tr("walk_m"), min_value=100, max_value=10_000, value=1000, step=100, key="gap_walk_m"
)
basemap = c3.selectbox(
    tr("basemap"), ("none", "osm", "amap"), format_func=texts("basemap."), key="gap_basemap"
)

options = dict(day=filters.today, outreach_days=int(outreach_days), walk_m=float(walk_m))
try:
    # the map draws at most MAX_MARKERS needs per layer: the lists are read in full only for
    # the one picked below
    gaps = state.coverage_gaps(
        filters.scope, filters.viewer, list_limit=maps.MAX_MARKERS, **options
    )
    grids = state.grids(Scope(area_code=filters.scope.area_code))
except GridLawError as exc:
    views.show_error(exc)
    st.stop()

summary = pd.DataFrame(
    {
        "group": [tr(f"group.{GAP_GROUPS[k]}") for k in GAP_KINDS],
        "kind": [gap_label(k) for k in GAP_KINDS],
        "count": [gaps[k].count for k in GAP_KINDS],
    }
)
present = [k for k in GAP_KINDS if gaps[k].count]
chosen = st.multiselect(
    tr("gap_layers"),
    GAP_KINDS,
    default=present,
    format_func=gap_label,
    key="gap_layers",
)

map_col, list_col = st.columns([3, 2])
with map_col:
    m = maps.build_gap_map(
        gaps,
        grids,
        kinds=chosen,
        labels={k: gap_label(k) for k in GAP_KINDS},
        basemap=basemap,
        lang=lang,
    )
    state.show_map(m, key="gap_map", height=520)
with list_col:
    st.subheader(tr("gap_summary"))
    st.dataframe(
        summary.rename(columns={c: tr(f"col.{c}") for c in summary.columns}),
        hide_index=True,
        key="gap_summary",
    )
    if gaps.notes:
        with st.expander(tr("gap_notes")):
            for note in gaps.notes:
                views.say("caption", note)

st.subheader(tr("gap_list"))
kind = st.selectbox(tr("gap_pick"), GAP_KINDS, format_func=gap_label, key="gap_kind")
gap = gaps[kind]
if not gap.complete:
    try:
        gap = state.coverage_gaps(filters.scope, filters.viewer, **options)[kind]
    except GridLawError as exc:
        views.show_error(exc)
        st.stop()
items = gap.items
if items.empty:
    st.info(tr("gap_none"))
else:
    st.dataframe(views.translated(items), hide_index=True, key="gap_items")
    d1, d2, d3 = st.columns(3)
    try:
        d1.download_button(
            tr("download_csv"),
            frame_to_bytes(items, "csv"),
            file_name=f"gaps_{kind}.csv",
            mime="text/csv",
            key="gap_csv",
        )
        d2.download_button(
            tr("download_xlsx"),
            frame_to_bytes(items, "xlsx"),
            file_name=f"gaps_{kind}.xlsx",
            key="gap_xlsx",
        )
        d3.download_button(
            tr("download_geojson"),
            frame_to_bytes(gap.layer, "geojson"),
            file_name=f"gaps_{kind}.geojson",
            mime="application/geo+json",
            key="gap_geojson",
        )
    except GeodataError as exc:
        views.show_error(exc)
