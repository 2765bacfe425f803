"""Hot spots (热点): Getis-Ord Gi* hot and cold spots per grid or H3 hexagon, emerging hot spots
over monthly slices, and what changed this month."""

from __future__ import annotations

import streamlit as st

from dashboard import analysis_state, maps, state, views
from dashboard.i18n import current_lang, labels, texts, tr
from grid_model.errors import GridLawError
from grid_model.scope import Scope

UNITS = ("grid", "hex")
RESOLUTIONS = (8, 9, 10)

state.page_header("hotspots_title")
filters = state.sidebar()
views.scope_caption(filters)
st.info(tr("heat_vs_hotspot"))

c1, c2, c3, c4, c5 = st.columns(5)
unit = c1.radio(tr("hs_unit"), UNITS, format_func=texts("hs_unit."), key="hs_unit")
resolution = c2.selectbox(
    tr("hs_resolution"),
    RESOLUTIONS,
    index=1,
    key="hs_resolution",
    help=tr("hs_resolution_help"),
    disabled=unit != "hex",
)
permutations = c3.number_input(
    tr("hs_permutations"),
    min_value=0,
    max_value=9999,
    value=999,
    step=100,
    key="hs_permutations",
    help=tr("hs_permutations_help"),
)
seed = c4.number_input(
    tr("hs_seed"), min_value=0, value=12345, step=1, key="hs_seed", help=tr("hs_seed_help")
)
basemap = c5.selectbox(
    tr("basemap"), ("none", "osm"), format_func=texts("basemap."), key="hs_basemap"
)

lang = current_lang()
try:
    grids = state.grids(Scope(area_code=filters.scope.area_code))
    if grids.empty:
        st.info(tr("db_empty"))
        st.stop()
    if unit == "hex":
        result = analysis_state.hex_hotspots(
            filters.scope,
            filters.viewer,
            resolution=resolution,
            permutations=permutations,
            seed=seed,
        )
        m = maps.build_hotspot_map(result, basemap=basemap, lang=lang)
    else:
        result = analysis_state.hotspots(
            filters.scope, filters.viewer, permutations=permutations, seed=seed
        )
        m = maps.build_hotspot_map(result, grids, basemap=basemap, lang=lang)
except GridLawError as exc:
    views.show_error(exc)
    st.stop()

st.subheader(tr("hs_map_title"))
classes = result["class"]
st.caption(
    tr(
        "hs_summary",
        hot=int(classes.str.startswith("hot").sum()),
        cold=int(classes.str.startswith("cold").sum()),
        ns=int((classes == "not_significant").sum()),
    )
)
if unit == "hex" and result.attrs.get("points_outside"):
    st.caption(tr("hs_outside", n=result.attrs["points_outside"]))
state.show_map(m, key="hs_map", height=520)
with st.expander(tr("hs_explain_title"), expanded=False):
    st.markdown(tr("hs_explain"))

st.subheader(tr("hs_table"))
table = result.drop(columns=["geometry"], errors="ignore").sort_values("z", ascending=False)
table["class"] = table["class"].map(labels("class"))
columns = ["grid_code", "cell", "name", "count", "neighbours", "z", "p", "p_fdr", "class"]
st.dataframe(analysis_state.table(table, columns), hide_index=True, key="hs_table")

# --- emerging hot spots -------------------------------------------------------------------
st.divider()
st.subheader(tr("emerging_title"))
try:
    current, previous, changed, current_end, previous_end = analysis_state.emerging_change(
        filters.scope, filters.viewer, filters.today
    )
except GridLawError as exc:
    st.info(tr("emerging_too_short"))
    views.say("caption", str(exc))
    st.stop()

months = current.attrs.get("months") or []
if months:
    st.caption(tr("emerging_months", first=months[0], last=months[-1], n=len(months)))
em_map = maps.build_emerging_map(grids, current, basemap=basemap, lang=lang)
map_col, list_col = st.columns([3, 2])
with map_col:
    state.show_map(em_map, key="em_map", height=480)
with list_col:
    st.markdown(f"**{tr('emerging_list')}**")
    patterned = current[current["category"] != "no_pattern"]
    if patterned.empty:
        st.caption(tr("emerging_none"))
    else:
        patterned = patterned.assign(category=patterned["category"].map(labels("emerging")))
        columns = ["grid_code", "name", "category", "trend_z", "trend_p", "share_hot"]
        st.dataframe(analysis_state.table(patterned, columns), hide_index=True, key="em_table")
    with st.expander(tr("hs_explain_title")):
        st.markdown(tr("emerging_explain"))

st.subheader(tr("changed_title"))
if changed is None:
    st.caption(tr("emerging_too_short"))
else:
    st.caption(tr("changed_caption", current=current_end, previous=previous_end))
    if changed.empty:
        st.caption(tr("changed_none"))
    else:
        ch = changed.copy()
        for col in ("previous", "current"):
            ch[col] = ch[col].map(labels("emerging"))
        st.dataframe(
            analysis_state.table(ch, ["grid_code", "name", "previous", "current"]),
            hide_index=True,
            key="em_changed",
        )
