"""Pure folium map builders: data in, ``folium.Map`` out. No Streamlit, no database.

- :mod:`~dashboard.maps.base`: base layers, classes and the legend, tooltips, the
  escaping-aware GeoJSON helpers, display geometries, :func:`map_html`;
- :mod:`~dashboard.maps.grids`: the Map page's grid map (:func:`build_grid_map`), the grid
  highlight and the map to pick a grid on;
- :mod:`~dashboard.maps.gaps`: the coverage-gap map;
- :mod:`~dashboard.maps.hotspots`: Gi* and emerging hot spot maps;
- :mod:`~dashboard.maps.territories`: assistants' territories before/after rebalancing;
- :mod:`~dashboard.maps.access`: access coverage and suggested sites.

Every string a map shows is escaped on its way in by the helpers of :mod:`.base`; the
measures the grid map colours by are those of :mod:`dashboard.map_measures`.
"""

from dashboard.map_measures import HIGHER_IS_BETTER, MEASURES, RATE_MEASURES
from dashboard.maps.access import SUGGESTION_COLOR, UNCOVERED_COLOR, build_access_map
from dashboard.maps.base import (
    BASEMAPS,
    DEFAULT_CENTER,
    MAX_MARKERS,
    NO_DATA_COLOR,
    POINT_COLORS,
    SCHEMES,
    Classes,
    Legend,
    base_map,
    classify_values,
    clicked_property,
    data_crs,
    display_geometries,
    feature_collection,
    grid_outline_layer,
    layer_name,
    local_assets,
    map_html,
    text_tooltip,
    tooltip,
    view_of,
)
from dashboard.maps.gaps import GAP_COLORS, build_gap_map
from dashboard.maps.grids import build_grid_map, build_pick_map, highlight_layer
from dashboard.maps.hotspots import (
    EMERGING_COLORS,
    HOTSPOT_CLASSES,
    HOTSPOT_COLORS,
    build_emerging_map,
    build_hotspot_map,
)
from dashboard.maps.territories import NOBODY_COLOR, build_territory_map, territory_colors

__all__ = [
    "BASEMAPS",
    "DEFAULT_CENTER",
    "EMERGING_COLORS",
    "GAP_COLORS",
    "HIGHER_IS_BETTER",
    "HOTSPOT_CLASSES",
    "HOTSPOT_COLORS",
    "MAX_MARKERS",
    "MEASURES",
    "NOBODY_COLOR",
    "NO_DATA_COLOR",
    "POINT_COLORS",
    "RATE_MEASURES",
    "SCHEMES",
    "SUGGESTION_COLOR",
    "UNCOVERED_COLOR",
    "Classes",
    "Legend",
    "base_map",
    "build_access_map",
    "build_emerging_map",
    "build_gap_map",
    "build_grid_map",
    "build_hotspot_map",
    "build_pick_map",
    "build_territory_map",
    "classify_values",
    "clicked_property",
    "data_crs",
    "display_geometries",
    "feature_collection",
    "grid_outline_layer",
    "highlight_layer",
    "layer_name",
    "local_assets",
    "map_html",
    "territory_colors",
    "text_tooltip",
    "tooltip",
    "view_of",
]
