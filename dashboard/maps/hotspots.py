"""The Hot spots page's maps: Gi* classes per grid or hexagon, emerging hot spot categories.

Every drawn polygon carries its fill colour in its ``fill`` property, so the colour of a
feature can be read from ``m.to_dict()`` or the HTML.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from dashboard.i18n import label, text
from dashboard.maps.base import (
    BASEMAPS,
    Legend,
    _check_choice,
    _fill_layer,
    _fit,
    _fmt,
    base_map,
    data_crs,
    display_geometries,
)
from geodata.kept import Kept, geometries_digest

#: Gi* classes from hot to cold, coloured as ArcGIS's Hot Spot Analysis renders Gi_Bin.
HOTSPOT_CLASSES = (
    "hot_99",
    "hot_95",
    "hot_90",
    "not_significant",
    "cold_90",
    "cold_95",
    "cold_99",
)
HOTSPOT_COLORS = {
    "hot_99": "#d62f27",
    "hot_95": "#ed7551",
    "hot_90": "#fab984",
    "not_significant": "#e0e0e0",
    "cold_90": "#c0d1e8",
    "cold_95": "#849eba",
    "cold_99": "#4575b5",
}
EMERGING_COLORS = {
    "new_hot": "#fdd0a2",
    "consecutive_hot": "#fdae6b",
    "intensifying_hot": "#a50f15",
    "persistent_hot": "#de2d26",
    "diminishing_hot": "#fb6a4a",
    "sporadic_hot": "#fcbba1",
    "oscillating_hot": "#e7298a",
    "historical_hot": "#bcbddc",
    "new_cold": "#c6dbef",
    "consecutive_cold": "#9ecae1",
    "intensifying_cold": "#08519c",
    "persistent_cold": "#3182bd",
    "diminishing_cold": "#6baed6",
    "sporadic_cold": "#deebf7",
    "oscillating_cold": "#41b6c4",
    "historical_cold": "#d9f0a3",
    "no_pattern": "#f0f0f0",
}

# --- shapes -------------------------------------------------------------------------------

#: Display geometries of the last few geometry sets: both maps of the page draw the same grids
#: (simplified, shifted, rounded: :func:`~dashboard.maps.base.display_geometries`).
_DISPLAY: Kept[np.ndarray] = Kept(8)


def _display_shapes(
    frame: pd.DataFrame, geoms, *, simplify_m: float, crs: str, props: list[str]
) -> gpd.GeoDataFrame:
    """``frame``'s ``props`` on the display geometries of ``geoms`` (kept for the next map
    of the same geometries)."""
    arr = np.asarray(geoms, dtype=object)
    key = (geometries_digest(arr), len(arr), float(simplify_m), crs)
    shapes = _DISPLAY.get(key, lambda: display_geometries(arr, simplify_m=simplify_m, crs=crs))
    data = {c: frame[c].to_numpy() for c in props}
    return gpd.GeoDataFrame(data, geometry=shapes)


# --- hot spots ----------------------------------------------------------------------------


def build_hotspot_map(
    result: gpd.GeoDataFrame | pd.DataFrame,
    grids: gpd.GeoDataFrame | None = None,
    *,
    basemap: str = "none",
    tianditu_key: str | None = None,
    lang: str = "zh",
    simplify_m: float = 5.0,
) -> folium.Map:
    """Gi* classes: reds for hot spots (99/95/90 %), blues for cold, grey not significant.

    Parameters
    ----------
    result : DataFrame
        ``hotspots.hotspot_table`` (``grid_code`` …) joined to ``grids`` by code, or
        ``hex_hotspot_table`` (``cell`` and its own geometry; ``grids`` not needed).
        Columns used: ``class``, ``count``, ``z``, ``p_fdr``.
    grids : GeoDataFrame, optional
        ``code`` and geometry (WGS84) of the grids, for a grid result.

    Returns
    -------
    folium.Map
        One GeoJSON layer (a feature per unit, ``fill`` = the class colour; tooltip: unit,
        class, needs, z, FDR p) and a legend listing the seven classes with their counts.
    """
    _check_choice("basemap", basemap, BASEMAPS)
    _check_hotspot_result(result)
    crs = data_crs(basemap)
    m = base_map(basemap, tianditu_key=tianditu_key, lang=lang)
    unit, geoms, joined = _hotspot_units(result, grids)
    frame = _hotspot_frame(joined, unit, lang)
    props = ["unit", "label", "count", "z", "p_fdr", "fill", "cls"]
    shapes = _display_shapes(frame, geoms, simplify_m=simplify_m, crs=crs, props=props)
    header = "grid_code" if unit == "grid_code" else "col.cell"
    aliases = [text(k, lang) for k in (header, "col.class", "col.count", "col.z", "col.p_fdr")]
    _fill_layer(
        shapes,
        name=text("hs_map_title", lang),
        fields=["unit", "label", "count", "z", "p_fdr"],
        aliases=aliases,
    ).add_to(m)
    counts = frame["cls"].value_counts()
    items = [
        (HOTSPOT_COLORS[c], f"{label('class', c, lang)} ({int(counts.get(c, 0))})")
        for c in HOTSPOT_CLASSES
    ]
    m.add_child(Legend(text("hs_legend", lang), items))
    _fit(m, shapes)
    return m


def _check_hotspot_result(result: pd.DataFrame) -> None:
    for col in ("class", "count", "z", "p_fdr"):
        if col not in result.columns:
            raise ValueError(f"result must have a {col!r} column (hotspots.hotspot_table)")
    unknown = sorted(set(result["class"]) - set(HOTSPOT_CLASSES))
    if unknown:
        raise ValueError(f"unknown Gi* class(es) {unknown}; expected {HOTSPOT_CLASSES}")


def _hotspot_units(
    result: gpd.GeoDataFrame | pd.DataFrame, grids: gpd.GeoDataFrame | None
) -> tuple[str, object, pd.DataFrame]:
    """The unit column, the geometries and the rows of a hexagon or a per-grid result (the
    latter joined to its grids)."""
    if "cell" in result.columns:
        return "cell", result.geometry.array, result
    if grids is None:
        raise ValueError("grids are needed to draw a per-grid result")
    frame = grids[["code", "name", "geometry"]].merge(
        result.drop(columns=[c for c in ("name", "geometry") if c in result.columns]),
        left_on="code",
        right_on="grid_code",
        how="inner",
    )
    return "grid_code", gpd.GeoSeries(frame["geometry"]).array, frame


def _hotspot_frame(frame: pd.DataFrame, unit: str, lang: str) -> pd.DataFrame:
    """What a hot spot feature shows (formatted) and its ``fill`` colour."""
    return pd.DataFrame(
        {
            "unit": frame[unit].astype(str).to_numpy(),
            "label": [label("class", c, lang) for c in frame["class"]],
            "count": frame["count"].astype(float).round(0).astype(int).to_numpy(),
            "z": [_fmt(v, 2) for v in frame["z"]],
            "p_fdr": [_fmt(v, 3) for v in frame["p_fdr"]],
            "fill": [HOTSPOT_COLORS[c] for c in frame["class"]],
            "cls": frame["class"].to_numpy(),
        }
    )


# --- emerging hot spots -------------------------------------------------------------------


def build_emerging_map(
    grids: gpd.GeoDataFrame,
    result: pd.DataFrame,
    *,
    basemap: str = "none",
    tianditu_key: str | None = None,
    lang: str = "zh",
    simplify_m: float = 5.0,
) -> folium.Map:
    """Grids coloured by their emerging hot spot category (``emerging.emerging_table``); the
    legend lists the categories present with their counts."""
    _check_choice("basemap", basemap, BASEMAPS)
    if "category" not in result.columns:
        raise ValueError("result must have a 'category' column (emerging.emerging_table)")
    crs = data_crs(basemap)
    m = base_map(basemap, tianditu_key=tianditu_key, lang=lang)
    frame = grids[["code", "name", "geometry"]].merge(
        result[["grid_code", "category"]], left_on="code", right_on="grid_code", how="inner"
    )
    cats = frame["category"].to_numpy()
    table = pd.DataFrame(
        {
            "code": frame["code"].astype(str).to_numpy(),
            "name": frame["name"].to_numpy(),
            "label": [label("emerging", c, lang) for c in cats],
            "fill": [EMERGING_COLORS.get(c, EMERGING_COLORS["no_pattern"]) for c in cats],
        }
    )
    shapes = _display_shapes(
        table,
        gpd.GeoSeries(frame["geometry"]).array,
        simplify_m=simplify_m,
        crs=crs,
        props=["code", "name", "label", "fill"],
    )
    _fill_layer(
        shapes,
        name=text("emerging_title", lang),
        fields=["code", "name", "label"],
        aliases=[text(k, lang) for k in ("grid_code", "grid_name", "col.category_emerging")],
    ).add_to(m)
    counts = pd.Series(cats).value_counts()
    order = [c for c in EMERGING_COLORS if c in counts.index]
    items = [(EMERGING_COLORS[c], f"{label('emerging', c, lang)} ({counts[c]})") for c in order]
    m.add_child(Legend(text("emerging_legend", lang), items))
    _fit(m, shapes)
    return m


# --- territories --------------------------------------------------------------------------
