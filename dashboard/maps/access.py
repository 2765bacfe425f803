"""The Access page's map: the area beyond walking distance of every service point, the
service points and suggested new sites."""

from __future__ import annotations

import folium
import geopandas as gpd
import pandas as pd

from dashboard.i18n import text
from dashboard.maps.base import (
    BASEMAPS,
    POINT_COLORS,
    Legend,
    _check_choice,
    _fill_layer,
    _fit,
    _points_layer,
    _shapes,
    _shift_lonlat,
    base_map,
    data_crs,
    grid_outline_layer,
    layer_name,
    text_tooltip,
)

UNCOVERED_COLOR = "#e31a1c"
SUGGESTION_COLOR = "#6a3d9a"

# --- access coverage ----------------------------------------------------------------------


def build_access_map(
    grids: gpd.GeoDataFrame,
    uncovered: gpd.GeoDataFrame | None = None,
    *,
    points: gpd.GeoDataFrame | None = None,
    suggestions: gpd.GeoDataFrame | None = None,
    walk_m: float = 1000.0,
    basemap: str = "none",
    tianditu_key: str | None = None,
    lang: str = "zh",
    simplify_m: float = 5.0,
) -> folium.Map:
    """Grid outlines, the area beyond ``walk_m`` of every service point (red), the existing
    points, and suggested new points with their ``walk_m`` circle and the needs they cover."""
    _check_choice("basemap", basemap, BASEMAPS)
    crs = data_crs(basemap)
    m = base_map(basemap, tianditu_key=tianditu_key, lang=lang)
    layer, outlines = grid_outline_layer(grids, lang=lang, crs=crs, simplify_m=simplify_m)
    layer.add_to(m)
    items = []
    if uncovered is not None and len(uncovered):
        title = text("acc_uncovered_layer", lang)
        _uncovered_layer(uncovered, title, crs=crs, simplify_m=simplify_m, lang=lang).add_to(m)
        items.append((UNCOVERED_COLOR, title))
    if points is not None and len(points):
        # one GeoJSON layer: the names travel as escaped properties, not inside tooltip code
        _points_layer(points, crs=crs, lang=lang).add_to(m)
        items.append((POINT_COLORS["legal_service_room"], text("service_points", lang)))
    if suggestions is not None and len(suggestions):
        title = text("acc_suggested_layer", lang)
        _suggestions_layer(suggestions, title, walk_m=walk_m, crs=crs, lang=lang).add_to(m)
        items.append((SUGGESTION_COLOR, title))
    if items:
        m.add_child(Legend(text("layers", lang), items, position="bottomleft"))
    folium.LayerControl(collapsed=True).add_to(m)
    _fit(m, outlines)
    return m


def _uncovered_layer(
    uncovered: gpd.GeoDataFrame, title: str, *, crs: str, simplify_m: float, lang: str
) -> folium.GeoJson:
    """The uncovered part of each grid, in red, with its share of the grid."""
    layer = uncovered[~uncovered.geometry.is_empty & uncovered.geometry.notna()]
    frame = pd.DataFrame(
        {
            "code": layer["grid_code"].astype(str).to_numpy(),
            "name": layer["grid_name"].to_numpy(),
            "share": [f"{100 * v:.0f}%" for v in layer["uncovered_share"]],
            "fill": UNCOVERED_COLOR,
        }
    )
    shapes = _shapes(
        frame,
        layer.geometry.array,
        simplify_m=simplify_m,
        crs=crs,
        props=["code", "name", "share", "fill"],
    )
    return _fill_layer(
        shapes,
        name=title,
        fields=["code", "name", "share"],
        aliases=[text(k, lang) for k in ("grid_code", "grid_name", "col.uncovered_share")],
        opacity=0.35,
    )


def _suggestions_layer(
    suggestions: gpd.GeoDataFrame, title: str, *, walk_m: float, crs: str, lang: str
) -> folium.FeatureGroup:
    """Each suggested site: its ``walk_m`` circle and a numbered marker (rank)."""
    group = folium.FeatureGroup(name=layer_name(title))
    lon, lat = _shift_lonlat(suggestions.geometry.x, suggestions.geometry.y, crs)
    rows = zip(
        lon, lat, suggestions["needs_covered"], suggestions["needs_covered_alone"], strict=True
    )
    for rank, (x, y, n, alone) in enumerate(rows, start=1):
        tip = text("acc_suggested_tip", lang, rank=rank, n=int(n), alone=int(alone))
        folium.Circle(
            [float(y), float(x)],
            radius=float(walk_m),
            color=SUGGESTION_COLOR,
            weight=1.5,
            dash_array="6 4",
            fill=True,
            fill_opacity=0.08,
            tooltip=text_tooltip(tip),
        ).add_to(group)
        folium.Marker(
            [float(y), float(x)],
            tooltip=text_tooltip(tip),
            icon=folium.DivIcon(
                html=(
                    f'<div style="background:{SUGGESTION_COLOR};color:#fff;'
                    "border-radius:50%;width:24px;height:24px;text-align:center;"
                    f'font:bold 13px/24px sans-serif;border:2px solid #fff">{rank}</div>'
                ),
                icon_size=(24, 24),
                icon_anchor=(12, 12),
            ),
        ).add_to(group)
    return group
