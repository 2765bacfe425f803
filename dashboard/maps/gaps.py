"""The Gaps page's map: needs and grids flagged by the coverage-gap rules, one layer per kind."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.utilities import color_brewer

from dashboard.i18n import text
from dashboard.maps.base import (
    BASEMAPS,
    MAX_MARKERS,
    Legend,
    _check_choice,
    _fit,
    _geojson,
    _shift_lonlat,
    base_map,
    data_crs,
    display_geometries,
    grid_outline_layer,
    layer_name,
    tooltip,
)
from grid_model.gaps.coverage import GAP_KINDS

GAP_COLORS = dict(zip(GAP_KINDS, color_brewer("Paired", n=12), strict=True))


def build_gap_map(
    gaps,
    grids: gpd.GeoDataFrame | None = None,
    *,
    kinds: Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
    basemap: str = "none",
    tianditu_key: str | None = None,
    lang: str = "zh",
    simplify_m: float = 5.0,
    max_markers: int = MAX_MARKERS,
) -> folium.Map:
    """Coverage gaps, one toggleable layer per kind, over the grid outlines.

    Parameters
    ----------
    gaps : iterable of coverage gaps
        Objects with ``kind``, ``layer`` (GeoDataFrame, WGS84) and ``count``
        (:func:`grid_model.gaps.coverage.find_coverage_gaps`).
    grids : GeoDataFrame, optional
        Grid outlines drawn underneath for orientation.
    kinds : sequence of str, optional
        Only these kinds (default: every kind with at least one item).
    labels : mapping, optional
        Layer title of each kind (default: the kind itself).
    max_markers : int
        Point layers (needs) draw at most this many points each.

    Returns
    -------
    folium.Map
        A FeatureGroup per drawn kind (polygons, or capped circle markers for needs), a legend
        of kinds with counts and a layer control.
    """
    _check_choice("basemap", basemap, BASEMAPS)
    crs = data_crs(basemap)
    m = base_map(basemap, tianditu_key=tianditu_key, lang=lang)
    labels = labels or {}
    outlines = None
    if grids is not None and len(grids):
        layer, outlines = grid_outline_layer(grids, lang=lang, crs=crs, simplify_m=simplify_m)
        layer.add_to(m)
    items = []
    for gap in gaps:
        if (kinds is not None and gap.kind not in kinds) or (kinds is None and not gap.count):
            continue
        color = GAP_COLORS.get(gap.kind, "#e31a1c")
        title = f"{labels.get(gap.kind, gap.kind)} ({gap.count})"
        _gap_layer(gap.layer, title, color, crs=crs, simplify_m=simplify_m,
                   max_markers=max_markers).add_to(m)  # fmt: skip
        items.append((color, title))
    if items:
        m.add_child(Legend(text("gap_layers", lang), items, position="bottomleft"))
    folium.LayerControl(collapsed=True).add_to(m)
    if outlines is not None:
        _fit(m, outlines)
    return m


def _gap_layer(
    layer: gpd.GeoDataFrame,
    title: str,
    color: str,
    *,
    crs: str,
    simplify_m: float,
    max_markers: int,
) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=layer_name(title))
    if layer is None or not len(layer):
        return group
    layer = layer[~layer.geometry.isna() & ~layer.geometry.is_empty]
    points = layer.geometry.geom_type == "Point"
    shapes = layer[~points]
    if len(shapes):
        tips = [c for c in ("grid_code", "grid_name", "external_id") if c in shapes.columns]
        props = pd.DataFrame({c: shapes[c].astype(str).to_numpy() for c in tips})
        drawn = gpd.GeoDataFrame(
            props,
            geometry=display_geometries(shapes.geometry.array, simplify_m=simplify_m, crs=crs),
        )
        folium.GeoJson(
            _geojson(drawn),
            style_function=lambda _f: {
                "color": color,
                "weight": 2,
                "fillColor": color,
                "fillOpacity": 0.45,
            },
            tooltip=tooltip(tips, labels=False) if tips else None,
        ).add_to(group)
    pts = layer[points].iloc[:max_markers]
    if len(pts):
        # One GeoJSON layer of circle markers, not a folium element per point: rendering
        # 1,500 CircleMarkers (three need layers) took 1.3 s of templates and 1.2 MB of HTML.
        lon, lat = _shift_lonlat(pts.geometry.x, pts.geometry.y, crs)
        ids = pts["external_id"].astype(str) if "external_id" in pts.columns else None
        drawn = gpd.GeoDataFrame(
            {} if ids is None else {"external_id": ids.to_numpy()},
            geometry=gpd.points_from_xy(np.asarray(lon, float), np.asarray(lat, float)),
        )
        folium.GeoJson(
            _geojson(drawn),
            marker=folium.CircleMarker(radius=4, weight=1, fill=True, fill_opacity=0.9),
            style_function=lambda _f: {"color": color, "fillColor": color},
            tooltip=None if ids is None else tooltip(["external_id"], labels=False),
        ).add_to(group)
    return group
