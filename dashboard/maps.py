"""Pure folium map builders: data in, ``folium.Map`` out. No Streamlit, no database.

The maps stay small whatever the number of needs: grids are drawn once each with simplified
boundaries (shared edges kept shared), coordinates are rounded to 6 decimals (~0.1 m), the heat
layer is drawn from weights binned in the database, and point layers are capped.

Every string a map shows — GeoJSON properties read by tooltips, tooltip labels, legend rows,
layer names — is escaped by :func:`dashboard.escaping.html_text` on its way in
(:func:`feature_collection`, :func:`tooltip`, :func:`layer_name`, :class:`Legend`): folium's
tooltips and Leaflet's layer control set ``innerHTML``. Data reach the page as JSON only,
never inside JavaScript source (no string tooltips with data: folium puts those into a
template literal).

Data arrive in WGS84. For the Amap base map, which is in GCJ-02, every layer is shifted with
:func:`geodata.crs.geometry_from_wgs84` so it lines up with the tiles; OpenStreetMap and
Tianditu (CGCS2000 ≈ WGS84) need no shift.
"""

from __future__ import annotations

import json
import math
import urllib.parse
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import folium
import geopandas as gpd
import mapclassify
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from branca.utilities import color_brewer
from folium.plugins import HeatMap
from jinja2 import Template

from dashboard.escaping import html_properties, html_text, html_value
from dashboard.i18n import label, text
from geodata.crs import from_wgs84, geometry_from_wgs84
from grid_model.gaps.coverage import GAP_KINDS

SCHEMES = ("NaturalBreaks", "Quantiles", "EqualInterval", "FisherJenks", "HeadTailBreaks")
BASEMAPS = ("none", "osm", "tianditu", "amap")
#: Grid measures of ``indicators.grid_measures`` that can colour the map.
MEASURES = (
    "per_1000",
    "needs",
    "open",
    "overdue",
    "closed",
    "on_time_rate",
    "closure_rate",
    "services",
    "population",
)
#: Measures where a high value is good: coloured with the palette reversed, so red = worse.
HIGHER_IS_BETTER = frozenset({"on_time_rate", "closure_rate", "services"})
RATE_MEASURES = frozenset({"on_time_rate", "closure_rate"})

PALETTE = "YlOrRd"
NO_DATA_COLOR = "#d9d9d9"
OUTLINE_COLOR = "#555555"
HIGHLIGHT_COLOR = "#1f4e9c"
METRES_PER_DEGREE = 111_320.0
DEFAULT_CENTER = (22.6086, 113.0823)
#: Most markers a point layer draws (callers fetch one more to know there are more).
MAX_MARKERS = 500  # Yude community, Huanshi street, Jiangmen (WGS84)

TIANDITU_URL = (
    "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
    "&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}"
)
AMAP_URL = (
    "https://webrd0{{s}}.is.autonavi.com/appmaptile?lang={lang}&size=1&scale=1&style=8"
    "&x={{x}}&y={{y}}&z={{z}}"
)
POINT_COLORS = {
    "legal_service_room": "#1b7837",
    "legal_aid_station": "#2166ac",
    "legal_school": "#762a83",
    "library": "#8c510a",
}


# --- classification -----------------------------------------------------------------------


@dataclass(frozen=True)
class Classes:
    """Map classes of a measure: upper bounds, a colour and a legend text per class, and the
    class index of every value (-1 where there is no value)."""

    bins: tuple[float, ...]
    colors: tuple[str, ...]
    labels: tuple[str, ...]
    index: np.ndarray
    counts: tuple[int, ...]


def classify_values(
    values: Sequence[float] | np.ndarray,
    *,
    scheme: str = "NaturalBreaks",
    k: int = 5,
    reverse: bool = False,
    fmt=None,
) -> Classes:
    """Classify ``values`` with a mapclassify ``scheme`` into at most ``k`` classes.

    ``k`` is lowered to the number of distinct values when there are fewer. ``NaturalBreaks``
    (k-means, as mapclassify does it) runs with a fixed seed so the same data always give the
    same breaks. ``fmt`` formats a bound for the legend (default: up to 2 decimals).
    """
    _check_choice("scheme", scheme, SCHEMES)
    if not 2 <= int(k) <= 9:
        raise ValueError(f"k must be between 2 and 9 classes, got {k!r}")
    fmt = fmt or _fmt_number
    y = np.asarray(values, dtype=float)
    present = ~np.isnan(y)
    index = np.full(len(y), -1, dtype=int)
    distinct = np.unique(y[present])
    if len(distinct) == 0:
        return Classes((), (), (), index, ())
    k = min(int(k), len(distinct))
    if k == 1:
        bins = np.array([distinct[0]])
        index[present] = 0
    else:
        result = _mapclassify(y[present], scheme, k)
        bins = np.asarray(result.bins, dtype=float)
        index[present] = result.yb
    colors = _palette(len(bins), reverse=reverse)
    lows = [float(distinct[0]), *bins[:-1]]
    labels = tuple(
        fmt(lo) if i == 0 and lo == hi else f"{fmt(lo)} – {fmt(hi)}"
        for i, (lo, hi) in enumerate(zip(lows, bins, strict=True))
    )
    counts = tuple(int((index == i).sum()) for i in range(len(bins)))
    return Classes(tuple(float(b) for b in bins), colors, labels, index, counts)


def _mapclassify(y: np.ndarray, scheme: str, k: int):
    with warnings.catch_warnings():
        # FisherJenks without numba says it is slow; few distinct values lower k (done above).
        warnings.filterwarnings("ignore", message="Numba not installed", category=UserWarning)
        warnings.filterwarnings("ignore", message="Not enough unique values", category=UserWarning)
        if scheme == "NaturalBreaks":
            # mapclassify's NaturalBreaks is k-means on numpy's global generator; seed it so
            # breaks (and colours) do not change between reruns, then restore the generator.
            # One seeded k-means++ start: ten (the default) cost ~0.4 s for 200 grids and gave
            # the same breaks on the demo data.
            saved = np.random.get_state()
            np.random.seed(0)
            try:
                return mapclassify.NaturalBreaks(y, k=k, initial=1)
            finally:
                np.random.set_state(saved)
        if scheme == "HeadTailBreaks":
            return mapclassify.HeadTailBreaks(y)
        return mapclassify.classify(y, scheme, k=k)


def _palette(n: int, *, reverse: bool = False) -> tuple[str, ...]:
    colors = color_brewer(PALETTE, n=max(n, 3))
    if n < 3:  # ColorBrewer starts at 3 classes: take the ends for contrast
        colors = [colors[0], colors[-1]][:n] if n == 2 else [colors[-1]]
    return tuple(reversed(colors)) if reverse else tuple(colors)


def _fmt_number(x: float) -> str:
    if math.isnan(x):
        return ""
    if float(x).is_integer():
        return f"{int(x):,}"
    return f"{x:,.2f}".rstrip("0").rstrip(".")


def _fmt_rate(x: float) -> str:
    return "" if math.isnan(x) else f"{100 * x:.1f}%"


# --- geometry for display -----------------------------------------------------------------


def display_geometries(geoms, *, simplify_m: float = 5.0, crs: str = "wgs84") -> np.ndarray:
    """Simplify WGS84 polygons for display, shift them to ``crs`` and round to 6 decimals.

    Grids that tile their community (a valid coverage) are simplified together so shared edges
    stay shared; otherwise each is simplified on its own with its topology preserved.
    ``simplify_m`` is a tolerance in metres (converted at one degree of latitude).
    """
    arr = np.asarray(geoms, dtype=object)
    if len(arr) and simplify_m > 0:
        tol = simplify_m / METRES_PER_DEGREE
        arr = _simplify(arr, tol)
    if crs != "wgs84" and len(arr):
        arr = np.asarray(geometry_from_wgs84(arr, crs), dtype=object)
    return _round(arr)


def _simplify(arr: np.ndarray, tol: float) -> np.ndarray:
    polygonal = shapely.get_type_id(arr)
    if np.isin(polygonal, (3, 6)).all():
        try:
            if shapely.coverage_is_valid(arr):
                return np.asarray(shapely.coverage_simplify(arr, tol), dtype=object)
        except shapely.errors.GEOSException:
            pass  # not a clean coverage: fall back to one-by-one simplification
    return np.asarray(shapely.simplify(arr, tol, preserve_topology=True), dtype=object)


def _round(arr: np.ndarray) -> np.ndarray:
    if not len(arr):
        return arr
    return np.asarray(shapely.transform(arr, lambda xy: np.round(xy, 6)), dtype=object)


def _shift_lonlat(lon, lat, crs: str) -> tuple[np.ndarray, np.ndarray]:
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    if crs != "wgs84" and len(lon):
        lon, lat = from_wgs84(lon, lat, crs)
    return np.round(lon, 6), np.round(lat, 6)


# --- base maps ----------------------------------------------------------------------------


def _check_choice(name: str, value: object, choices: Sequence[str]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")


def data_crs(basemap: str) -> str:
    """The coordinate system the data must be drawn in to match ``basemap``."""
    return "gcj02" if basemap == "amap" else "wgs84"


def base_map(
    basemap: str = "none",
    *,
    tianditu_key: str | None = None,
    lang: str = "zh",
    location: Sequence[float] = DEFAULT_CENTER,
    zoom_start: int = 14,
) -> folium.Map:
    """An empty map with the chosen base map; ``'none'`` adds no tile layer at all."""
    _check_choice("basemap", basemap, BASEMAPS)
    # keyboard=False: Leaflet's keyboard handler focuses the map on mousedown, and when the
    # map's frame is not fully in view the browser scrolls the page between mousedown and
    # mouseup, so a click on a grid lands on another grid (or none) and is lost.
    m = folium.Map(
        location=list(location),
        zoom_start=zoom_start,
        tiles=None,
        control_scale=True,
        keyboard=False,
    )
    # A clicked grid keeps the browser's focus ring: a black box around the polygon.
    m.get_root().header.add_child(
        Element("<style>path.leaflet-interactive:focus{outline:none}</style>"),
        name="gridlaw_focus_style",
    )
    if basemap == "osm":
        folium.TileLayer("OpenStreetMap", name=layer_name(text("basemap.osm", lang))).add_to(m)
    elif basemap == "tianditu":
        if not tianditu_key:
            raise ValueError(
                "tianditu_key is required for the Tianditu base map (a key from "
                "console.tianditu.gov.cn)"
            )
        attr = "&copy; 天地图 Tianditu"
        notes = "cva" if lang == "zh" else "eva"  # Chinese / English place-name layer
        for layer, overlay in (("vec", False), (notes, True)):
            folium.TileLayer(
                TIANDITU_URL.format(s="{s}", layer=layer, key=urllib.parse.quote(tianditu_key)),
                attr=attr,
                name=layer_name(
                    text("basemap.tianditu", lang) + ("" if not overlay else " (注记)")
                ),
                subdomains="01234567",
                overlay=overlay,
                control=False,
                max_zoom=18,
            ).add_to(m)
    elif basemap == "amap":
        folium.TileLayer(
            AMAP_URL.format(lang="zh_cn" if lang == "zh" else "en"),
            attr="&copy; 高德地图 AutoNavi",
            name=layer_name(text("basemap.amap", lang)),
            subdomains="1234",
            max_zoom=18,
        ).add_to(m)
    return m


def view_of(bounds: Sequence[float], size: tuple[int, int] = (640, 540)) -> tuple[list, int]:
    """Centre ``[lat, lon]`` and the largest web-mercator zoom (1–18) at which ``bounds``
    (minx, miny, maxx, maxy in degrees) fit in ``size`` pixels."""
    minx, miny, maxx, maxy = bounds

    def merc(lat: float) -> float:
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    dx = max(maxx - minx, 1e-9) / 360.0
    dy = max(merc(maxy) - merc(miny), 1e-9) / (2 * math.pi)
    zoom = math.floor(min(math.log2(size[0] / 256 / dx), math.log2(size[1] / 256 / dy)))
    return [(miny + maxy) / 2, (minx + maxx) / 2], int(min(18, max(1, zoom)))


# --- legend -------------------------------------------------------------------------------


class Legend(MacroElement):
    """A class legend drawn as a Leaflet control (works in folium pages and in st_folium)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var legend = L.control({position: {{ this.position|tojson }}});
            legend.onAdd = function() {
                var div = L.DomUtil.create('div', 'gridlaw-legend');
                div.style.cssText = 'background:rgba(255,255,255,.9);padding:6px 8px;'
                    + 'font:12px/1.4 sans-serif;border-radius:4px;'
                    + 'box-shadow:0 0 4px rgba(0,0,0,.3);';
                div.innerHTML = {{ this.html|tojson }};
                return div;
            };
            legend.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, title: str, items: Sequence[tuple[str, str]], position="bottomright"):
        super().__init__()
        self._name = "Legend"
        self.title = title
        self.items = list(items)
        self.position = position
        swatch = (
            '<i style="display:inline-block;width:14px;height:14px;margin-right:6px;'
            'vertical-align:middle;background:{color};border:1px solid #999"></i>'
        )
        rows = "".join(
            f"<div>{swatch.format(color=html_text(c))}{html_text(t)}</div>" for c, t in self.items
        )
        self.html = f"<div><b>{html_text(title)}</b></div>{rows}"


# --- what a map shows: escaped here ------------------------------------------------------


def layer_name(name: str | None) -> str | None:
    """A layer's name as the layer control shows it (Leaflet sets it as ``innerHTML``)."""
    return None if name is None else html_text(name)


def tooltip(
    fields: Sequence[str], aliases: Sequence[str] | None = None, **kwargs
) -> folium.GeoJsonTooltip:
    """A tooltip showing the GeoJSON properties ``fields`` (escaped by
    :func:`feature_collection`) under the labels ``aliases``, escaped here: folium puts both
    into ``innerHTML``."""
    if aliases is not None:
        kwargs["aliases"] = [html_text(a) for a in aliases]
    return folium.GeoJsonTooltip(fields=list(fields), **kwargs)


def text_tooltip(tip: str) -> folium.Tooltip:
    """A fixed tooltip (the app's own text and figures, never data): folium puts it into a
    JavaScript template literal, so it is escaped for one."""
    return folium.Tooltip(html_text(tip))


def clicked_property(properties: Mapping | None, key: str) -> str | None:
    """The value of property ``key`` of a clicked feature (``st_folium``'s
    ``last_active_drawing``), as it was before :func:`feature_collection` escaped it."""
    value = (properties or {}).get(key)
    return html_value(value) if isinstance(value, str) else value


# --- grid map -----------------------------------------------------------------------------


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

    m = base_map(basemap, tianditu_key=tianditu_key, lang=lang)
    colors = classes.colors
    measure_label = text(f"measure.{measure}", lang)

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

    folium.GeoJson(
        _geojson(shapes),
        name=layer_name(text("legend_grids", lang, n=len(shapes))),
        style_function=style,
        highlight_function=emphasis,
        tooltip=tooltip(
            fields=["code", "name", "value_text"],
            aliases=[text("grid_code", lang), text("grid_name", lang), measure_label],
            sticky=False,
        ),
    ).add_to(m)
    overlays = 1

    if highlight is not None:
        highlight_layer(grids, highlight, basemap=basemap, simplify_m=simplify_m).add_to(m)

    if heat is not None and len(heat):
        _heat_layer(heat, crs=crs, lang=lang).add_to(m)
        overlays += 1
    if points is not None and len(points):
        _points_layer(points, crs=crs, lang=lang).add_to(m)
        overlays += 1
    if outside is not None and len(outside):
        _outside_layer(outside, crs=crs, lang=lang, max_markers=max_markers).add_to(m)
        overlays += 1

    items = [
        (c, f"{t} ({n})") for c, t, n in zip(colors, classes.labels, classes.counts, strict=True)
    ]
    if (classes.index < 0).any():
        items.append((NO_DATA_COLOR, f"{no_data} ({int((classes.index < 0).sum())})"))
    m.add_child(Legend(measure_label, items))
    if overlays > 1:
        folium.LayerControl(collapsed=True).add_to(m)
    _fit(m, shapes)
    return m


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


def _fit(m: folium.Map, shapes: gpd.GeoDataFrame) -> None:
    """Open on ``shapes``: centre and zoom set on the map itself (see :func:`base_map`), and a
    ``fitBounds`` for page sizes other than the usual one."""
    if len(shapes) and not shapes.geometry.is_empty.all():
        minx, miny, maxx, maxy = shapes.total_bounds
        m.location, m.options["zoom"] = view_of((minx, miny, maxx, maxy))
        m.fit_bounds([[miny, minx], [maxy, maxx]])


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


def _points_layer(points: gpd.GeoDataFrame, *, crs: str, lang: str) -> folium.GeoJson:
    """Service points as one GeoJSON layer of circle markers coloured by kind; the tooltip
    gives the name, the kind and the opening hours."""
    lon, lat = _shift_lonlat(points.geometry.x, points.geometry.y, crs)
    none = pd.Series([None] * len(points), index=points.index, dtype=object)
    kinds = points["kind"] if "kind" in points.columns else none
    hours = points["opening_hours"] if "opening_hours" in points.columns else none
    sep = "（{}）" if lang == "zh" else " ({})"
    props = pd.DataFrame(
        {
            "name": [
                f"{name}{sep.format(label('kind', kind, lang))}"
                for name, kind in zip(points["name"], kinds, strict=True)
            ],
            "hours": ["" if pd.isna(h) else str(h) for h in hours],
            "kind": kinds.astype(object).to_numpy(),
        }
    )

    def style(feature: Mapping) -> dict:
        return {"fillColor": POINT_COLORS.get(feature["properties"]["kind"], "#333333")}

    return folium.GeoJson(
        feature_collection(props, shapely.points(lon, lat)),
        name=layer_name(text("service_points", lang)),
        marker=folium.CircleMarker(
            radius=7, color="#ffffff", weight=2, fill=True, fill_opacity=1.0
        ),
        style_function=style,
        tooltip=tooltip(["name", "hours"], labels=False),
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


def _geojson(frame: gpd.GeoDataFrame) -> dict:
    return feature_collection(
        pd.DataFrame(frame.drop(columns=frame.geometry.name)), frame.geometry.array
    )


def feature_collection(props: pd.DataFrame, geoms) -> dict:
    """A GeoJSON FeatureCollection of ``geoms`` with ``props`` rows as properties, every
    string escaped by :func:`~dashboard.escaping.html_text` (tooltips show properties as
    ``innerHTML``); built vectorised (GeoDataFrame.__geo_interface__ walks the rows in
    Python)."""
    geoms = np.asarray(geoms, dtype=object)
    keep = ~shapely.is_missing(geoms)
    geometries = json.loads("[" + ",".join(shapely.to_geojson(geoms[keep])) + "]")
    if len(props.columns):
        if len(props) != len(geoms):
            raise ValueError(f"{len(props)} property rows for {len(geoms)} geometries")
        records = json.loads(props[keep].to_json(orient="records", force_ascii=False))
        records = [html_properties(r) for r in records]
    else:
        records = [{} for _ in range(int(keep.sum()))]
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": p, "geometry": g}
            for p, g in zip(records, geometries, strict=True)
        ],
    }


def grid_outline_layer(
    grids: gpd.GeoDataFrame,
    *,
    lang: str,
    crs: str = "wgs84",
    simplify_m: float = 5.0,
    fill: str = "#ffffff",
    fill_opacity: float = 0.05,
    name: bool = True,
) -> tuple[folium.GeoJson, gpd.GeoDataFrame]:
    """Grid outlines with a code/name tooltip, drawn under other layers for orientation; also
    returns the display shapes (to fit the map on)."""
    shapes = gpd.GeoDataFrame(
        {"code": grids["code"].astype(str).to_numpy(), "name": grids["name"].to_numpy()},
        geometry=display_geometries(grids.geometry.array, simplify_m=simplify_m, crs=crs),
    )
    layer = folium.GeoJson(
        _geojson(shapes),
        name=layer_name(text("legend_grids", lang, n=len(shapes))) if name else None,
        style_function=lambda _f: {
            "color": OUTLINE_COLOR,
            "weight": 1,
            "fillColor": fill,
            "fillOpacity": fill_opacity,
        },
        tooltip=tooltip(["code", "name"], [text("grid_code", lang), text("grid_name", lang)]),
    )
    return layer, shapes


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


# --- coverage gaps ------------------------------------------------------------------------

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


def local_assets(m: folium.Map, base_url: str) -> folium.Map:
    """Point ``m`` at the Leaflet copies under ``base_url`` (``static/leaflet/`` served by the
    dashboard) instead of folium's CDN links; returns ``m``.

    Only what these maps use is kept: Leaflet itself and the heat plugin. folium's jQuery,
    Bootstrap and Font Awesome links serve its icon markers and popups styling, which the
    GridLaw maps do not use.
    """
    base = base_url.rstrip("/") + "/leaflet/"
    for element in _walk(m):
        if isinstance(element, folium.Map):
            element.default_js = [("leaflet", base + "leaflet.js")]
            element.default_css = [("leaflet_css", base + "leaflet.css")]
        elif isinstance(element, HeatMap):
            element.default_js = [("leaflet-heat.js", base + "leaflet_heat.min.js")]
    return m


def _walk(element):
    yield element
    for child in getattr(element, "_children", {}).values():
        yield from _walk(child)


def map_html(m: folium.Map) -> str:
    """The standalone HTML page of ``m`` (what a browser receives)."""
    return m.get_root().render()
