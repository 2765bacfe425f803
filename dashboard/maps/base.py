"""What every map builder shares: base layers, classes and the legend, tooltips, escaping-aware
GeoJSON helpers, display geometries, and the HTML of a map (with local Leaflet assets).

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

SCHEMES = ("NaturalBreaks", "Quantiles", "EqualInterval", "FisherJenks", "HeadTailBreaks")
BASEMAPS = ("none", "osm", "tianditu", "amap")

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


def _fit(m: folium.Map, shapes: gpd.GeoDataFrame) -> None:
    """Open on ``shapes``: centre and zoom set on the map itself (see :func:`base_map`), and a
    ``fitBounds`` for page sizes other than the usual one."""
    if len(shapes) and not shapes.geometry.is_empty.all():
        minx, miny, maxx, maxy = shapes.total_bounds
        m.location, m.options["zoom"] = view_of((minx, miny, maxx, maxy))
        m.fit_bounds([[miny, minx], [maxy, maxx]])


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
