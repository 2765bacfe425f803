"""Map (地图): grids coloured by a measure, heat map of needs, service points, needs outside
every grid; click a grid (or pick it) to open its card."""

from __future__ import annotations

import streamlit as st

from dashboard import map_measures, maps, state, views
from dashboard.i18n import current_lang, texts, tr
from dashboard.layers import HEAT_CELL_DEG
from grid_model.errors import GridLawError

KEY_SELECTED = "map_grid"
KEY_LAST_CLICK = "map_last_click"

state.page_header("map_title")
filters = state.sidebar()
views.scope_caption(filters)

c1, c2, c3, c4 = st.columns(4)
measure = c1.selectbox(
    tr("measure"),
    map_measures.MEASURES,
    format_func=texts("measure."),
    key="map_measure",
)
scheme = c2.selectbox(
    tr("classification"),
    maps.SCHEMES,
    format_func=texts("scheme."),
    key="map_scheme",
)
k = c3.slider(tr("classes"), min_value=3, max_value=7, value=5, key="map_k")
basemap = c4.selectbox(
    tr("basemap"),
    maps.BASEMAPS,
    format_func=texts("basemap."),
    key="map_basemap",
)
t1, t2, t3, t4 = st.columns(4)
show_heat = t1.toggle(tr("heat_layer"), value=True, key="map_heat")
show_points = t2.toggle(tr("service_points"), value=True, key="map_points")
show_outside = t3.toggle(tr("outside_needs"), value=True, key="map_outside")
tianditu_key = None
if basemap == "tianditu":
    tianditu_key = t4.text_input(
        tr("tianditu_key"), value=state.tianditu_key() or "", type="password", key="map_tk"
    )
    if not tianditu_key:
        st.warning(tr("tianditu_key_missing"))
        basemap = "none"

try:
    layers = state.map_layers(filters.scope, filters.viewer, day=filters.today)
except GridLawError as exc:
    views.show_error(exc)
    st.stop()
grids, measures = layers.grids, layers.measures
heat = layers.heat if show_heat else None
points = layers.points if show_points else None
outside = layers.outside if show_outside else None

if grids.empty:
    st.info(tr("db_empty"))
    st.stop()

codes = grids["code"].tolist()
names = dict(zip(grids["code"], grids["name"], strict=True))
if st.session_state.get(KEY_SELECTED) not in (None, *codes):
    del st.session_state[KEY_SELECTED]  # the area changed: the old grid is not on the map

lang = current_lang()
m = maps.build_grid_map(
    grids,
    measures,
    measure=measure,
    scheme=scheme,
    k=k,
    heat=heat,
    points=points,
    outside=outside,
    basemap=basemap,
    tianditu_key=tianditu_key,
    lang=lang,
)
highlight = maps.highlight_layer(grids, st.session_state.get(KEY_SELECTED), basemap=basemap)

map_col, card_col = st.columns([3, 2])
with map_col:
    st.caption(tr("map_hint"))
    event = state.show_map(
        m,
        key="map",
        returned_objects=["last_active_drawing", "last_object_clicked"],
        feature_group_to_add=highlight,
    )
    if show_heat:
        st.caption(tr("heat_note", cell=HEAT_CELL_DEG))

# A click on a grid selects it (a click elsewhere, e.g. on a service point, does not).
drawing = (event or {}).get("last_active_drawing") or {}
clicked = maps.clicked_property(drawing.get("properties"), "code")
click_id = (clicked, str((event or {}).get("last_object_clicked")))
if clicked in names and click_id != st.session_state.get(KEY_LAST_CLICK):
    st.session_state[KEY_LAST_CLICK] = click_id
    if st.session_state.get(KEY_SELECTED) != clicked:
        st.session_state[KEY_SELECTED] = clicked
        st.rerun()  # once more, so the map outlines the new selection

no_grid = tr("pick_grid_none")


def grid_label(code: str | None) -> str:
    return no_grid if code is None else f"{names[code]} · {code}"


with card_col:
    selected = st.selectbox(
        tr("pick_grid"),
        [None, *codes],
        format_func=grid_label,
        key=KEY_SELECTED,
    )
    if selected:
        try:
            card = state.grid_card(selected, filters.viewer, day=filters.today)
        except GridLawError as exc:
            views.show_error(exc)
        else:
            views.grid_card(card)

with st.expander(tr("grid_figures")):
    st.dataframe(
        views.translated(
            measures,
            [
                "grid_code",
                "grid_name",
                "population",
                "needs",
                "per_1000",
                "open",
                "overdue",
                "closed",
                "closure_rate",
                "on_time_rate",
                "services",
                "last_diary",
            ],
        ),
        hide_index=True,
        key="map_table",
    )
