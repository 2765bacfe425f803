"""Map builders as pure functions: checked through ``to_dict()`` and the rendered HTML, with no
browser and no tiles."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from folium.plugins import HeatMap

from dashboard import maps
from geodata.crs import wgs84_to_gcj02

CODES = [f"440703006106{n:03d}" for n in range(1, 10)]


@pytest.fixture()
def grids() -> gpd.GeoDataFrame:
    """Nine 400 m squares tiling a block near Yude, edges densified to 10 m steps."""
    polys = []
    for n in range(9):
        row, col = divmod(n, 3)
        x0, y0 = 113.08 + 0.004 * col, 22.612 - 0.004 * row
        box = shapely.segmentize(shapely.box(x0, y0, x0 + 0.004, y0 + 0.004), 0.0001)
        polys.append(shapely.MultiPolygon([box]))
    return gpd.GeoDataFrame(
        {"code": CODES, "name": [f"第{n}网格" for n in range(1, 10)], "population": 1000},
        geometry=polys,
        crs="EPSG:4326",
    )


@pytest.fixture()
def measures() -> pd.DataFrame:
    # the last grid has no row: drawn as "no data"
    return pd.DataFrame(
        {
            "grid_code": CODES[:8],
            "per_1000": [1.0, 2.0, 2.0, 3.0, 10.0, 11.0, 12.0, 40.0],
            "on_time_rate": [0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.0, 0.95],
        }
    )


def _children(m, kind):
    return [c for c in m._children.values() if type(c).__name__ == kind]


def _grid_layer(m):
    layers = _children(m, "GeoJson")
    assert layers, "no GeoJson layer"
    return layers[0]


def test_one_feature_per_grid_with_code_name_and_tooltip(grids, measures):
    m = maps.build_grid_map(grids, measures, measure="per_1000")
    features = _grid_layer(m).data["features"]
    assert [f["properties"]["code"] for f in features] == CODES
    assert features[0]["properties"]["name"] == "第1网格"
    html = maps.map_html(m)
    # tooltip aliases, Chinese by default (JSON-escaped in the page)
    assert json.dumps(["网格编码", "网格名称", "每千人需求数"]) in html


def test_legend_lists_classes_counts_and_no_data(grids, measures):
    m = maps.build_grid_map(grids, measures, measure="per_1000", scheme="Quantiles", k=4)
    legend = _children(m, "Legend")[0]
    assert legend.title == "每千人需求数"
    colors = [c for c, _ in legend.items]
    assert colors[-1] == maps.NO_DATA_COLOR
    assert legend.items[-1][1] == "无数据 (1)"
    # the counts of the classes add up to the grids with data
    counts = [int(re.search(r"\((\d+)\)$", t).group(1)) for _, t in legend.items[:-1]]
    assert sum(counts) == 8
    assert "gridlaw-legend" in maps.map_html(m)


def test_grid_colour_follows_its_class(grids, measures):
    m = maps.build_grid_map(grids, measures, measure="per_1000", scheme="EqualInterval", k=4)
    props = {f["properties"]["code"]: f["properties"] for f in _grid_layer(m).data["features"]}
    # EqualInterval over 1..40 in 4 classes: 40 is in the top class, 1..10 in the lowest
    assert props[CODES[7]]["cls"] == 3
    assert props[CODES[0]]["cls"] == 0 and props[CODES[4]]["cls"] == 0
    assert props[CODES[8]]["cls"] == -1
    assert props[CODES[8]]["value_text"] == "无数据"


def test_rates_shown_as_percent_with_reversed_palette(grids, measures):
    m = maps.build_grid_map(grids, measures, measure="on_time_rate", k=3, lang="en")
    legend = _children(m, "Legend")[0]
    assert legend.title == "On-time closure rate"
    assert legend.items[0][1].startswith("50.0%")
    # low on-time rates are the worse ones: darkest red first
    assert legend.items[0][0] == maps.base._palette(3)[-1]


def test_basemap_none_adds_no_tile_layer(grids, measures):
    m = maps.build_grid_map(grids, measures, basemap="none")
    assert not _children(m, "TileLayer")
    assert "TileLayer" not in json.dumps(m.to_dict())
    assert "tile.openstreetmap" not in maps.map_html(m)


def test_basemap_osm_and_tianditu(grids):
    m = maps.build_grid_map(grids, measure="population", basemap="osm")
    assert len(_children(m, "TileLayer")) == 1
    m = maps.build_grid_map(grids, measure="population", basemap="tianditu", tianditu_key="abc")
    html = maps.map_html(m)
    assert "tianditu.gov.cn/vec_w" in html and "tk=abc" in html
    assert "cva_w" in html  # Chinese place names
    with pytest.raises(ValueError, match="tianditu_key"):
        maps.build_grid_map(grids, measure="population", basemap="tianditu")


def test_amap_shifts_every_layer_to_gcj02(grids, measures):
    heat = pd.DataFrame({"lon": [113.081], "lat": [22.611], "weight": [3.0]})
    points = gpd.GeoDataFrame(
        {"code": ["P1"], "name": ["育德社区法律服务室"], "kind": ["legal_service_room"]},
        geometry=[shapely.Point(113.085, 22.61)],
        crs="EPSG:4326",
    )
    m = maps.build_grid_map(grids, measures, basemap="amap", heat=heat, points=points)
    assert "autonavi.com" in maps.map_html(m)
    minx, _, _, maxy = shapely.geometry.shape(_grid_layer(m).data["features"][0]["geometry"]).bounds
    gx, gy = wgs84_to_gcj02(113.08, 22.616)  # the first grid's north-west corner
    assert (minx, maxy) == pytest.approx((gx, gy), abs=1e-5)  # within ~1 m
    # the shift near Jiangmen is hundreds of metres, not a rounding effect
    assert abs(gx - 113.08) > 0.003
    lat, lon, _w = _children(m, "HeatMap")[0].data[0]
    assert (lon, lat) == pytest.approx(wgs84_to_gcj02(113.081, 22.611), abs=2e-6)
    point = _children(m, "GeoJson")[-1].data["features"][0]
    assert point["geometry"]["coordinates"] == pytest.approx(
        list(wgs84_to_gcj02(113.085, 22.61)), abs=2e-6
    )
    assert point["properties"]["name"] == "育德社区法律服务室（法律服务室）"


def test_heat_layer_is_drawn_from_bins_only(grids, measures):
    heat = pd.DataFrame(
        {"lon": [113.081, 113.083, 113.085], "lat": [22.611, 22.609, 22.607], "weight": [40, 10, 2]}
    )
    m = maps.build_grid_map(grids, measures, heat=heat)
    layer = _children(m, "HeatMap")
    assert len(layer) == 1 and isinstance(layer[0], HeatMap)
    data = layer[0].data
    assert len(data) == 3  # one point per bin, whatever the number of needs behind it
    assert [w for _, _, w in data] == [1.0, 0.25, 0.05]
    assert _children(m, "LayerControl")
    with pytest.raises(ValueError, match="weight"):
        maps.build_grid_map(grids, measures, heat=heat.drop(columns="weight"))


def test_outside_needs_are_capped(grids, measures):
    outside = pd.DataFrame(
        {
            "external_id": [f"N{i}" for i in range(30)],
            "lon": np.linspace(113.2, 113.21, 30),
            "lat": 22.7,
            "category": "mediation",
        }
    )
    m = maps.build_grid_map(grids, measures, outside=outside, max_markers=10)
    layer = _children(m, "GeoJson")[-1]
    features = layer.data["features"]
    assert len(features) == 10
    assert features[0]["properties"]["tip"] == "N0 · 人民调解"
    assert "显示最新 10 条" in layer.layer_name
    m = maps.build_grid_map(grids, measures, outside=outside.iloc[:10], max_markers=10)
    assert _children(m, "GeoJson")[-1].layer_name == "网格外需求"


def test_display_geometries_simplified_shared_edges_kept_and_rounded(grids):
    before = shapely.get_num_coordinates(grids.geometry.array).sum()
    shown = maps.display_geometries(grids.geometry.array, simplify_m=5)
    after = shapely.get_num_coordinates(shown).sum()
    assert after < before / 10  # straight densified edges collapse to their corners
    assert shapely.coverage_is_valid(shown)  # no gaps or overlaps appear between grids
    coords = shapely.get_coordinates(shown)
    assert np.array_equal(coords, np.round(coords, 6))


def test_map_html_stays_small_for_a_street(grids):
    # ~180 grids with detailed boundaries and a full heat raster of 0.002° bins
    rng = np.random.default_rng(7)
    many = []
    for n in range(180):
        row, col = divmod(n, 15)
        x0, y0 = 113.0 + 0.004 * col, 22.65 - 0.004 * row
        many.append(shapely.segmentize(shapely.box(x0, y0, x0 + 0.004, y0 + 0.004), 0.00002))
    big = gpd.GeoDataFrame(
        {"code": [f"G{n:03d}" for n in range(180)], "name": [f"网格{n}" for n in range(180)]},
        geometry=many,
        crs="EPSG:4326",
    )
    meas = pd.DataFrame({"grid_code": big["code"], "needs": rng.poisson(5000, 180)})
    lon, lat = np.meshgrid(np.arange(113.0, 113.06, 0.002), np.arange(22.6, 22.65, 0.002))
    heat = pd.DataFrame(
        {"lon": lon.ravel(), "lat": lat.ravel(), "weight": rng.poisson(50, lon.size)}
    )
    html = maps.map_html(maps.build_grid_map(big, meas, measure="needs", heat=heat))
    assert len(html.encode()) < 2_000_000


@pytest.mark.parametrize("scheme", maps.SCHEMES)
def test_classify_values_every_scheme(scheme):
    y = np.array([0, 0, 1, 1, 2, 5, 9, 30, np.nan])
    c = maps.classify_values(y, scheme=scheme, k=4)
    assert c.index[-1] == -1
    assert (c.index[:-1] >= 0).all()
    assert len(c.colors) == len(c.bins) == len(c.labels)
    assert sum(c.counts) == 8


def test_classify_values_few_distinct_and_deterministic():
    c = maps.classify_values([3.0, 3.0, 3.0], k=5)
    assert c.bins == (3.0,) and c.labels == ("3",) and list(c.index) == [0, 0, 0]
    y = np.random.default_rng(3).gamma(2, 10, 300)
    first = maps.classify_values(y, scheme="NaturalBreaks", k=5)
    assert maps.classify_values(y, scheme="NaturalBreaks", k=5).bins == first.bins
    empty = maps.classify_values([np.nan, np.nan])
    assert empty.bins == () and list(empty.index) == [-1, -1]


def test_bad_options_name_the_value(grids, measures):
    with pytest.raises(ValueError, match="scheme.*'Jenks'"):
        maps.build_grid_map(grids, measures, scheme="Jenks")
    with pytest.raises(ValueError, match="basemap.*'google'"):
        maps.build_grid_map(grids, measures, basemap="google")
    with pytest.raises(ValueError, match="'closure_rate'"):
        maps.build_grid_map(grids, measures, measure="closure_rate")
    with pytest.raises(ValueError, match="k must be"):
        maps.build_grid_map(grids, measures, k=12)


def test_gap_map_has_a_layer_per_gap_kind(grids):
    from grid_model.gaps.coverage import Gap

    def gap(kind, frame, geoms):
        layer = gpd.GeoDataFrame(frame, geometry=geoms, crs="EPSG:4326")
        return Gap(kind=kind, layer=layer, items=pd.DataFrame(frame), count=len(frame))

    no_lawyer = gap(
        "no_lawyer",
        pd.DataFrame({"grid_code": CODES[:2], "grid_name": ["第1网格", "第2网格"]}),
        grids.geometry.iloc[:2].to_numpy(),
    )
    outside = gap(
        "needs_outside",
        pd.DataFrame({"external_id": [f"N{i}" for i in range(20)]}),
        gpd.points_from_xy(np.linspace(113.2, 113.3, 20), np.full(20, 22.7)),
    )
    empty = gap("no_mediator", pd.DataFrame({"grid_code": []}), [])
    labels = {"no_lawyer": "无法律顾问", "needs_outside": "网格外的需求", "no_mediator": "无调解员"}
    m = maps.build_gap_map([no_lawyer, outside, empty], grids, labels=labels, max_markers=5)
    groups = {g.layer_name: g for g in _children(m, "FeatureGroup")}
    assert set(groups) == {"无法律顾问 (2)", "网格外的需求 (20)"}  # empty kinds are left out
    (polygons,) = groups["无法律顾问 (2)"]._children.values()
    assert [f["properties"]["grid_code"] for f in polygons.data["features"]] == CODES[:2]
    (points,) = groups["网格外的需求 (20)"]._children.values()  # one layer, capped at 5
    assert [f["properties"]["external_id"] for f in points.data["features"]] == [
        f"N{i}" for i in range(5)
    ]
    assert "new L.CircleMarker(latlng" in maps.map_html(m)
    legend = _children(m, "Legend")[0]
    assert [t for _, t in legend.items] == ["无法律顾问 (2)", "网格外的需求 (20)"]
    assert not _children(m, "TileLayer")
    only = maps.build_gap_map([no_lawyer, outside], grids, kinds=["needs_outside"])
    assert len(_children(only, "FeatureGroup")) == 1


def test_pick_map_marks_the_chosen_point(grids):
    m = maps.build_pick_map(grids, point=(113.085, 22.61))
    (marker,) = _children(m, "Marker")
    assert marker.location == [22.61, 113.085]
    assert len(_grid_layer(m).data["features"]) == 9
    with pytest.raises(ValueError, match="basemap"):
        maps.build_pick_map(grids, basemap="amap")  # a click on it would not be WGS84


def test_map_opens_on_the_grids_and_clicks_are_not_lost(grids, measures):
    m = maps.build_grid_map(grids, measures)
    lat, lon = m.location
    assert (lon, lat) == pytest.approx((113.086, 22.61))
    # nine 400 m grids (1.2 km across) fit a ~640 px map at zoom 15, not at 16
    assert m.options["zoom"] == 15
    # Leaflet's keyboard handler focuses the map on mousedown; when the map is partly out of
    # view the page scrolls between mousedown and mouseup and the click on a grid is lost
    assert m.options["keyboard"] is False


def test_local_assets_replace_the_cdn_links(grids, measures):
    heat = pd.DataFrame({"lon": [113.081], "lat": [22.611], "weight": [3.0]})
    m = maps.local_assets(maps.build_grid_map(grids, measures, heat=heat), "/app/static/")
    html = maps.map_html(m)
    assert "/app/static/leaflet/leaflet.js" in html
    assert "/app/static/leaflet/leaflet_heat.min.js" in html
    assert "cdn.jsdelivr.net" not in html and "code.jquery.com" not in html


def test_properties_are_escaped_and_a_click_reads_them_back(grids, measures):
    """Tooltips show properties as innerHTML: every string is escaped in the GeoJSON, and
    the Map page reads the clicked code back as it was."""
    hostile = "9`${x}`<b>&\"'\\"
    grids.loc[0, "code"] = hostile
    m = maps.build_grid_map(grids, measures.assign(grid_code=[hostile, *CODES[1:8]]))
    props = _grid_layer(m).data["features"][0]["properties"]
    assert props["code"] == "9&#96;&#36;{x}&#96;&lt;b&gt;&amp;&quot;&#x27;&#92;"
    assert maps.clicked_property(props, "code") == hostile
    assert maps.clicked_property({}, "code") is None
