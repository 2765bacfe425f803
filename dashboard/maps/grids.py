"""The Map page's map: grids coloured by a measure (classes and a legend), with heat, service
point and outside-need layers; the grid outline highlight; the map to pick a grid on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from folium.plugins import HeatMap

from dashboard.i18n import label, text
from dashboard.map_measures import HIGHER_IS_BETTER, MEASURES, RATE_MEASURES
from dashboard.maps.base import (
    BASEMAPS,
    HIGHLIGHT_COLOR,
    MAX_MARKERS,
    NO_DATA_COLOR,
    OUTLINE_COLOR,
    Classes,
    Legend,
    _check_choice,
    _fit,
    _fmt_number,
    _fmt_rate,
    _geojson,
    _points_layer,
    _shift_lonlat,
    base_map,
    classify_values,
    data_crs,
    display_geometries,
    feature_collection,
    grid_outline_layer,
    layer_name,
    tooltip,
)


def _measure_frame(
    grids: gpd.GeoDataFrame, measures: pd.DataFrame | None, measure: str
) -> pd.DataFrame:
    frame = pd.DataFrame({"code": grids["code"].astype(str), "name": grids["name"]})
    if measure in grids.columns and (measures is None or measure not in measures.columns):
        frame["value"] = pd.to_numeric(grids[measure], errors="coerce").to_numpy()
        return frame
    if measures is None or measure not in measures.columns:
        raise ValueError(
            f"measure {measure!r} is not a column of the grid measures; expected one of "
            f"{', '.join(c for c in MEASURES if measures is not None and c in measures)}"
        )
    values = measures.set_index(measures["grid_code"].astype(str))[measure]
    frame["value"] = pd.to_numeric(frame["code"].map(values), errors="coerce").to_numpy()
    return frame


def build_grid_map(
    grids: gpd.GeoDataFrame,
    measures: pd.DataFrame | None = None,
    *,
    measure: str = "per_1000",
    scheme: str = "NaturalBreaks",
    k: int = 5,
    heat: pd.DataFrame | None = None,
    points: gpd.GeoDataFrame | None = None,
    outside: pd.DataFrame | None = None,
    basemap: str = "none",
    tianditu_key: str | None = None,
    lang: str = "zh",
    highlight: str | None = None,
    simplify_m: float = 5.0,
    max_markers: int = MAX_MARKERS,
) -> folium.Map:
    """Grids coloured by ``measure`` with a class legend, plus optional layers.

    Parameters
    ----------
    grids : GeoDataFrame
        ``code``, ``name``, geometry in WGS84 (``queries.load_grids``).
    measures : DataFrame, optional
        ``grid_code`` and measure columns (``indicators.grid_measures``); a grid without a row
        is drawn grey ("no data").
    measure, scheme, k
        What colours the grids and how it is classified (mapclassify scheme, ``k`` classes).
    heat : DataFrame, optional
        ``lon, lat, weight`` bins (``indicators.heat_bins``) for a heat layer; never raw needs.
    points : GeoDataFrame, optional
        Service points (``code, name, kind``, point geometry).
    outside : DataFrame, optional
        Needs outside every grid (``lon, lat`` and optionally ``external_id``, ``category``);
        at most ``max_markers`` are drawn.
    basemap : {'none', 'osm', 'tianditu', 'amap'}
        ``'none'`` adds no tile layer; ``'amap'`` shifts every layer to GCJ-02.
    highlight : str, optional
        Code of a grid to outline (the one whose card is open).
    simplify_m : float
        Display simplification tolerance in metres.

    Returns
    -------
    folium.Map
        One GeoJSON layer holding a feature per grid (tooltip: code, name, value), the legend,
        and a layer control when there is more than one overlay.
    """
    _check_choice("basemap", basemap, BASEMAPS)
    if "code" not in grids.columns or "name" not in grids.columns:
        raise ValueError("grids must have 'code' and 'name' columns (queries.load_grids)")
    crs = data_crs(basemap)
    shapes, classes = _classified_shapes(
        grids,
        measures,
        measure=measure,
        scheme=scheme,
        k=k,
        crs=crs,
        simplify_m=simplify_m,
        lang=lang,
    )
    m = base_map(basemap, tianditu_key=tianditu_key, lang=lang)
    measure_label = text(f"measure.{measure}", lang)
    _grid_layer(shapes, classes.colors, measure_label, lang=lang).add_to(m)
    if highlight is not None:
        highlight_layer(grids, highlight, basemap=basemap, simplify_m=simplify_m).add_to(m)
    overlays = 1 + _add_overlays(
        m, heat=heat, points=points, outside=outside, crs=crs, lang=lang, max_markers=max_markers
    )
    m.add_child(Legend(measure_label, _class_items(classes, lang)))
    if overlays > 1:
        folium.LayerControl(collapsed=True).add_to(m)
    _fit(m, shapes)
    return m


def _classified_shapes(
    grids: gpd.GeoDataFrame,
    measures: pd.DataFrame | None,
    *,
    measure: str,
    scheme: str,
    k: int,
    crs: str,
    simplify_m: float,
    lang: str,
) -> tuple[gpd.GeoDataFrame, Classes]:
    """The grids for display with their value as text and their class (-1: no data)."""
    frame = _measure_frame(grids, measures, measure)
    rate = measure in RATE_MEASURES
    classes = classify_values(
        frame["value"].to_numpy(),
        scheme=scheme,
        k=k,
        reverse=measure in HIGHER_IS_BETTER,
        fmt=_fmt_rate if rate else None,
    )
    fmt = _fmt_rate if rate else _fmt_number
    no_data = text("legend_no_data", lang)
    frame["value_text"] = [no_data if pd.isna(v) else fmt(float(v)) for v in frame["value"]]
    frame["cls"] = classes.index
    shapes = gpd.GeoDataFrame(
        frame[["code", "name", "value_text", "cls"]],
        geometry=display_geometries(grids.geometry.array, simplify_m=simplify_m, crs=crs),
    )
    return shapes, classes


def _grid_layer(
    shapes: gpd.GeoDataFrame, colors: Sequence[str], measure_label: str, *, lang: str
) -> folium.GeoJson:
    """One GeoJSON layer of the grids, filled with the colour of their class."""

    def style(feature: Mapping) -> dict:
        cls = feature["properties"]["cls"]
        return {
            "fillColor": colors[cls] if cls >= 0 else NO_DATA_COLOR,
            "color": OUTLINE_COLOR,
            "weight": 1,
            "fillOpacity": 0.7,
        }

    def emphasis(_feature: Mapping) -> dict:
        return {"weight": 3, "color": HIGHLIGHT_COLOR}

    return folium.GeoJson(
        _geojson(shapes),
        name=layer_name(text("legend_grids", lang, n=len(shapes))),
        style_function=style,
        highlight_function=emphasis,
        tooltip=tooltip(
            fields=["code", "name", "value_text"],
            aliases=[text("grid_code", lang), text("grid_name", lang), measure_label],
            sticky=False,
        ),
    )


def _add_overlays(
    m: folium.Map,
    *,
    heat: pd.DataFrame | None,
    points: gpd.GeoDataFrame | None,
    outside: pd.DataFrame | None,
    crs: str,
    lang: str,
    max_markers: int,
) -> int:
    """Add the heat, service point and outside-need layers that have rows; how many."""
    added = 0
    if heat is not None and len(heat):
        _heat_layer(heat, crs=crs, lang=lang).add_to(m)
        added += 1
    if points is not None and len(points):
        _points_layer(points, crs=crs, lang=lang).add_to(m)
        added += 1
    if outside is not None and len(outside):
        _outside_layer(outside, crs=crs, lang=lang, max_markers=max_markers).add_to(m)
        added += 1
    return added


def _class_items(classes: Classes, lang: str) -> list[tuple[str, str]]:
    """Legend rows: each class with its count, then the grids without data."""
    items = [
        (c, f"{t} ({n})")
        for c, t, n in zip(classes.colors, classes.labels, classes.counts, strict=True)
    ]
    if (classes.index < 0).any():
        no_data = text("legend_no_data", lang)
        items.append((NO_DATA_COLOR, f"{no_data} ({int((classes.index < 0).sum())})"))
    return items


def highlight_layer(
    grids: gpd.GeoDataFrame, code: str | None, *, basemap: str = "none", simplify_m: float = 5.0
) -> folium.FeatureGroup:
    """A layer outlining grid ``code`` (empty when it is not among ``grids``); the dashboard
    passes it to ``st_folium(feature_group_to_add=...)`` so a new selection does not reload
    the whole map."""
    group = folium.FeatureGroup(name="selected", control=False)
    chosen = grids[grids["code"].astype(str) == str(code)] if code is not None else grids.iloc[:0]
    if len(chosen):
        geoms = display_geometries(
            chosen.geometry.array, simplify_m=simplify_m, crs=data_crs(basemap)
        )
        shapes = gpd.GeoDataFrame({"code": chosen["code"].astype(str).to_numpy()}, geometry=geoms)
        folium.GeoJson(
            _geojson(shapes),
            style_function=lambda _f: {"fill": False, "color": HIGHLIGHT_COLOR, "weight": 4},
            control=False,
        ).add_to(group)
    return group


def _heat_layer(heat: pd.DataFrame, *, crs: str, lang: str) -> HeatMap:
    """A heat layer from binned weights, scaled to 0–1 so the densest bin is the top colour."""
    for col in ("lon", "lat", "weight"):
        if col not in heat.columns:
            raise ValueError(f"heat must have lon, lat, weight columns (missing {col!r})")
    lon, lat = _shift_lonlat(heat["lon"], heat["lat"], crs)
    weight = heat["weight"].to_numpy(dtype=float)
    top = float(np.nanmax(weight)) if len(weight) else 0.0
    scaled = np.round(weight / top, 3) if top > 0 else weight
    data = np.column_stack([lat, lon, scaled]).tolist()
    return HeatMap(
        data,
        name=layer_name(text("heat_layer", lang)),
        min_opacity=0.3,
        radius=18,
        blur=15,
        max_zoom=16,
    )


def _outside_layer(
    outside: pd.DataFrame, *, crs: str, lang: str, max_markers: int
) -> folium.GeoJson:
    """Needs outside every grid as one GeoJSON layer of small markers, at most
    ``max_markers`` (the first rows: callers pass the newest first)."""
    shown = outside.iloc[:max_markers]
    if "lon" in shown.columns:
        lon, lat = shown["lon"], shown["lat"]
    else:
        lon, lat = shown.geometry.x, shown.geometry.y
    lon, lat = _shift_lonlat(lon, lat, crs)
    name = text("outside_needs", lang)
    if len(outside) > len(shown):
        name = text("outside_shown", lang, shown=len(shown))
    ids = shown["external_id"] if "external_id" in shown.columns else [None] * len(shown)
    cats = shown["category"] if "category" in shown.columns else [None] * len(shown)
    tips = [
        " · ".join(s for s in (ident and str(ident), label("category", cat, lang)) if s) or name
        for ident, cat in zip(ids, cats, strict=True)
    ]
    return folium.GeoJson(
        feature_collection(pd.DataFrame({"tip": tips}), shapely.points(lon, lat)),
        name=layer_name(name),
        marker=folium.CircleMarker(
            radius=4, color="#000000", weight=1, fill=True, fill_color="#ffffff", fill_opacity=0.9
        ),
        tooltip=tooltip(["tip"], labels=False),
    )


def build_pick_map(
    grids: gpd.GeoDataFrame,
    *,
    point: tuple[float, float] | None = None,
    basemap: str = "none",
    lang: str = "zh",
    simplify_m: float = 5.0,
) -> folium.Map:
    """Grid outlines to click on (the diary form's locator), with the chosen ``point``
    (WGS84 lon, lat) marked. Only WGS84 base maps: a click then reads as WGS84."""
    _check_choice("basemap", basemap, ("none", "osm"))
    m = base_map(basemap, lang=lang)
    if len(grids):
        layer, shapes = grid_outline_layer(
            grids, lang=lang, simplify_m=simplify_m, fill="#9ecae1", fill_opacity=0.15, name=False
        )
        layer.add_to(m)
        _fit(m, shapes)
    if point is not None:
        folium.Marker([point[1], point[0]]).add_to(m)
    return m
