"""Pure folium map builders of the analysis pages: hot spots, emerging hot spots, territories
before/after rebalancing, access coverage. Data in, ``folium.Map`` out; no Streamlit, no
database. Base maps, the legend and display geometries are those of :mod:`dashboard.maps`.

Every drawn polygon carries its fill colour in its ``fill`` property, so the colour of a
feature can be read from ``m.to_dict()`` or the HTML. What a map shows is escaped by the
helpers of :mod:`dashboard.maps` (:func:`~dashboard.maps.feature_collection`,
:func:`~dashboard.maps.tooltip`, :func:`~dashboard.maps.layer_name`, the legend).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import folium
import geopandas as gpd
import pandas as pd
from branca.utilities import color_brewer

from dashboard.i18n import label, text
from dashboard.maps import (
    BASEMAPS,
    OUTLINE_COLOR,
    POINT_COLORS,
    Legend,
    _check_choice,
    _fit,
    _geojson,
    _points_layer,
    _shift_lonlat,
    base_map,
    data_crs,
    display_geometries,
    grid_outline_layer,
    layer_name,
    text_tooltip,
    tooltip,
)

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
NOBODY_COLOR = "#ffffff"
UNCOVERED_COLOR = "#e31a1c"
SUGGESTION_COLOR = "#6a3d9a"


def _shapes(
    frame: pd.DataFrame, geoms, *, simplify_m: float, crs: str, props: Sequence[str]
) -> gpd.GeoDataFrame:
    data = {c: frame[c].to_numpy() for c in props}
    return gpd.GeoDataFrame(
        data, geometry=display_geometries(geoms, simplify_m=simplify_m, crs=crs)
    )


def _fill_layer(
    shapes: gpd.GeoDataFrame,
    *,
    name: str,
    fields: Sequence[str],
    aliases: Sequence[str],
    opacity: float = 0.75,
    weight_of=None,
) -> folium.GeoJson:
    """A GeoJSON layer whose features are filled with their ``fill`` property."""

    def style(feature):
        p = feature["properties"]
        heavy = weight_of(p) if weight_of else False
        return {
            "color": "#000000" if heavy else OUTLINE_COLOR,
            "weight": 3.5 if heavy else 0.8,
            "fillColor": p["fill"],
            "fillOpacity": opacity,
        }

    return folium.GeoJson(
        _geojson(shapes),
        name=layer_name(name),
        style_function=style,
        highlight_function=lambda _f: {"weight": 3, "color": "#1f4e9c"},
        tooltip=tooltip(fields, aliases),
    )


def _fmt(x, digits: int = 3) -> str:
    return "" if x is None or pd.isna(x) else f"{float(x):.{digits}f}"


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
    for col in ("class", "count", "z", "p_fdr"):
        if col not in result.columns:
            raise ValueError(f"result must have a {col!r} column (hotspots.hotspot_table)")
    unknown = sorted(set(result["class"]) - set(HOTSPOT_CLASSES))
    if unknown:
        raise ValueError(f"unknown Gi* class(es) {unknown}; expected {HOTSPOT_CLASSES}")
    crs = data_crs(basemap)
    m = base_map(basemap, tianditu_key=tianditu_key, lang=lang)
    if "cell" in result.columns:
        unit, geoms, frame = "cell", result.geometry.array, result
    else:
        if grids is None:
            raise ValueError("grids are needed to draw a per-grid result")
        frame = grids[["code", "name", "geometry"]].merge(
            result.drop(columns=[c for c in ("name", "geometry") if c in result.columns]),
            left_on="code",
            right_on="grid_code",
            how="inner",
        )
        unit, geoms = "grid_code", gpd.GeoSeries(frame["geometry"]).array
    frame = pd.DataFrame(
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
    props = ["unit", "label", "count", "z", "p_fdr", "fill", "cls"]
    shapes = _shapes(frame, geoms, simplify_m=simplify_m, crs=crs, props=props)
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
    shapes = _shapes(
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


def territory_colors(assistants: Iterable[str | None]) -> dict[str, str]:
    """A distinct colour per assistant code (sorted, so before and after maps agree)."""
    codes = sorted({a for a in assistants if a is not None and not pd.isna(a)})
    palette = list(color_brewer("Set3", n=12)) + list(color_brewer("Paired", n=12))
    palette += list(color_brewer("Pastel1", n=9)) + list(color_brewer("Set2", n=8))
    return {a: palette[i % len(palette)] for i, a in enumerate(codes)}


def build_territory_map(
    grids: gpd.GeoDataFrame,
    assignment: Mapping[str, str | None],
    *,
    colors: Mapping[str, str] | None = None,
    moved: Iterable[str] = (),
    basemap: str = "none",
    tianditu_key: str | None = None,
    lang: str = "zh",
    simplify_m: float = 5.0,
) -> folium.Map:
    """Grids coloured by their assistant (``assignment``: grid code → assistant code or None);
    ``moved`` grids get a thick outline. The legend lists the assistants with grid counts."""
    _check_choice("basemap", basemap, BASEMAPS)
    crs = data_crs(basemap)
    colors = dict(colors or territory_colors(assignment.values()))
    moved = {str(c) for c in moved}
    m = base_map(basemap, tianditu_key=tianditu_key, lang=lang)
    nobody = text("rb_nobody", lang)
    codes = grids["code"].astype(str)
    who = [assignment.get(c) for c in codes]
    frame = pd.DataFrame(
        {
            "code": codes.to_numpy(),
            "name": grids["name"].to_numpy(),
            "assistant": [a if a is not None else nobody for a in who],
            "fill": [colors.get(a, NOBODY_COLOR) if a is not None else NOBODY_COLOR for a in who],
            "moved": [c in moved for c in codes],
        }
    )
    shapes = _shapes(
        frame,
        grids.geometry.array,
        simplify_m=simplify_m,
        crs=crs,
        props=["code", "name", "assistant", "fill", "moved"],
    )
    _fill_layer(
        shapes,
        name=text("rb_legend", lang),
        fields=["code", "name", "assistant"],
        aliases=[text(k, lang) for k in ("grid_code", "grid_name", "rb_legend")],
        opacity=0.8,
        weight_of=lambda p: bool(p.get("moved")),
    ).add_to(m)
    counts = pd.Series([a for a in who if a is not None], dtype=object).value_counts()
    items = [(colors[a], f"{a} ({int(counts.get(a, 0))})") for a in sorted(colors) if a in counts]
    if any(a is None for a in who):
        items.append((NOBODY_COLOR, nobody))
    if moved:
        items.append(("#000000", text("rb_moved_legend", lang)))
    m.add_child(Legend(text("rb_legend", lang), items))
    _fit(m, shapes)
    return m


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
        title = text("acc_uncovered_layer", lang)
        _fill_layer(
            shapes,
            name=title,
            fields=["code", "name", "share"],
            aliases=[text(k, lang) for k in ("grid_code", "grid_name", "col.uncovered_share")],
            opacity=0.35,
        ).add_to(m)
        items.append((UNCOVERED_COLOR, title))
    if points is not None and len(points):
        # one GeoJSON layer: the names travel as escaped properties, not inside tooltip code
        _points_layer(points, crs=crs, lang=lang).add_to(m)
        items.append((POINT_COLORS["legal_service_room"], text("service_points", lang)))
    if suggestions is not None and len(suggestions):
        title = text("acc_suggested_layer", lang)
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
        group.add_to(m)
        items.append((SUGGESTION_COLOR, title))
    if items:
        m.add_child(Legend(text("layers", lang), items, position="bottomleft"))
    folium.LayerControl(collapsed=True).add_to(m)
    _fit(m, outlines)
    return m
