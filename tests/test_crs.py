"""Coordinate conversions: GCJ-02/BD-09 offsets, EPSG codes, validation, metric CRS."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod

from geodata import crs
from geodata.errors import CRSError, GeodataError

GEOD = Geod(ellps="WGS84")
# Yude community (育德社区), GCJ-02 as published by Amap (geodata/data/README.md).
YUDE_GCJ = (113.088217, 22.608589)


def _metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    return np.asarray(GEOD.inv(lon1, lat1, lon2, lat2)[2])


@pytest.fixture(scope="module")
def china_points() -> tuple[np.ndarray, np.ndarray]:
    """2,000 points over mainland China, Hainan to Heilongjiang, Xinjiang to the coast."""
    rng = np.random.default_rng(seed=20240601)
    return rng.uniform(74.0, 134.0, 2000), rng.uniform(18.0, 53.0, 2000)


def test_forward_gcj02_matches_published_reference_pair():
    # The pair printed in the README of wandergis/coordtransform and its many ports.
    assert crs.wgs84_to_gcj02(116.404, 39.915) == pytest.approx(
        (116.41024449916938, 39.91640428150164), abs=1e-12
    )
    assert crs.gcj02_to_bd09(116.404, 39.915) == pytest.approx(
        (116.41036949371029, 39.92133699351021), abs=1e-12
    )


def test_yude_shift_has_the_expected_direction_and_size():
    lon, lat = crs.gcj02_to_wgs84(*YUDE_GCJ)
    # GCJ-02 moves Pengjiang east and south, so the WGS84 point lies west and north of it.
    assert lon - YUDE_GCJ[0] == pytest.approx(-0.00545, abs=0.0002)
    assert lat - YUDE_GCJ[1] == pytest.approx(0.00269, abs=0.0002)
    assert 600.0 < float(_metres(*YUDE_GCJ, lon, lat)) < 670.0


@pytest.mark.parametrize(
    ("forward", "inverse"),
    [
        (crs.wgs84_to_gcj02, crs.gcj02_to_wgs84),
        (crs.wgs84_to_bd09, crs.bd09_to_wgs84),
        (crs.gcj02_to_bd09, crs.bd09_to_gcj02),
    ],
    ids=["gcj-wgs", "bd-wgs", "bd-gcj"],
)
def test_round_trips_are_sub_millimetre(china_points, forward, inverse):
    lon, lat = china_points
    shifted = forward(lon, lat)
    back = inverse(*shifted)
    # the offsets are real (tens to hundreds of metres) ...
    offsets = _metres(lon, lat, *shifted)
    assert offsets.min() > 1.0 and np.median(offsets) > 200.0
    # ... and the inverse undoes them well below the 0.5 m requirement.
    assert _metres(lon, lat, *back).max() < 0.001


def test_inverse_inverts_the_given_point_not_just_the_forward_image(china_points):
    # Start from GCJ-02 values (what users have), go to WGS84 and forward again.
    lon, lat = china_points
    wgs = crs.gcj02_to_wgs84(lon, lat)
    assert _metres(lon, lat, *crs.wgs84_to_gcj02(*wgs)).max() < 0.001
    bd_wgs = crs.bd09_to_wgs84(lon, lat)
    assert _metres(lon, lat, *crs.wgs84_to_bd09(*bd_wgs)).max() < 0.001


@pytest.mark.parametrize(
    ("lon", "lat"),
    [(139.6917, 35.6895), (-0.1276, 51.5072), (151.2093, -33.8688), (100.5018, -0.5)],
    ids=["tokyo", "london", "sydney", "south-of-bbox"],
)
def test_gcj02_is_wgs84_outside_china(lon, lat):
    assert crs.wgs84_to_gcj02(lon, lat) == (lon, lat)
    assert crs.gcj02_to_wgs84(lon, lat) == (lon, lat)


def test_scalars_give_floats_and_arrays_give_arrays():
    scalar = crs.gcj02_to_wgs84(*YUDE_GCJ)
    assert all(type(v) is float for v in scalar)
    lon, lat = crs.gcj02_to_wgs84([YUDE_GCJ[0]] * 3, [YUDE_GCJ[1]] * 3)
    assert isinstance(lon, np.ndarray) and lon.shape == (3,)
    assert lon[0] == pytest.approx(scalar[0], abs=1e-12)


def test_nan_passes_through_and_empty_input_works():
    lon, lat = crs.bd09_to_wgs84([np.nan, 113.0], [np.nan, 22.6])
    assert np.isnan(lon[0]) and np.isnan(lat[0])
    assert np.isfinite(lon[1]) and np.isfinite(lat[1])
    empty = crs.gcj02_to_wgs84(np.array([]), np.array([]))
    assert empty[0].shape == (0,)


@pytest.mark.parametrize(
    ("name", "convert"),
    [
        ("gcj02", crs.gcj02_to_wgs84),
        ("GCJ-02", crs.gcj02_to_wgs84),
        ("bd09", crs.bd09_to_wgs84),
        ("BD-09", crs.bd09_to_wgs84),
        ("wgs84", None),
        ("WGS84", None),
        ("EPSG:4326", None),
        ("4326", None),
        (4326, None),
    ],
)
def test_to_wgs84_accepts_named_systems(name, convert):
    expected = YUDE_GCJ if convert is None else convert(*YUDE_GCJ)
    assert crs.to_wgs84(*YUDE_GCJ, name) == pytest.approx(expected, abs=1e-12)
    assert crs.from_wgs84(*crs.to_wgs84(*YUDE_GCJ, name), name) == pytest.approx(
        YUDE_GCJ, abs=1e-10
    )


def test_epsg_4547_gauss_kruger_round_trip(china_points):
    # CGCS2000 3-degree Gauss-Kruger, central meridian 114 E, no zone prefix.
    easting, northing = crs.from_wgs84(114.0, 22.6, "EPSG:4547")
    assert easting == pytest.approx(500000.0, abs=1e-6)
    assert 2_490_000 < northing < 2_510_000
    lon = np.linspace(112.6, 115.4, 50)
    lat = np.linspace(21.0, 25.0, 50)
    back = crs.to_wgs84(*crs.from_wgs84(lon, lat, "epsg:4547"), "EPSG:4547")
    assert _metres(lon, lat, *back).max() < 0.001


def test_web_mercator_known_value():
    x, y = crs.from_wgs84(180.0, 0.0, "EPSG:3857")
    assert x == pytest.approx(20037508.342789244)
    assert y == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("bad", ["foo", "gcj", "EPSG:", "EPSG:999999", 3.5, None])
def test_unknown_crs_names_the_value_and_what_is_accepted(bad):
    with pytest.raises(CRSError) as info:
        crs.to_wgs84(113.0, 22.6, bad)
    message = str(info.value)
    assert repr(bad) in message
    for accepted in ("wgs84", "gcj02", "bd09", "EPSG:"):
        assert accepted in message
    assert isinstance(info.value, ValueError) and isinstance(info.value, GeodataError)


def test_geometry_to_wgs84_moves_every_vertex_and_sets_crs():
    ring = [(113.08, 22.60), (113.10, 22.60), (113.10, 22.62), (113.08, 22.60)]
    series = gpd.GeoSeries(
        [shapely.Polygon(ring), shapely.Point(YUDE_GCJ)], index=["grid", "yude"], name="geometry"
    )
    out = crs.geometry_to_wgs84(series, "gcj02")
    assert out.crs.to_epsg() == 4326
    assert list(out.index) == ["grid", "yude"]
    xs, ys = np.array(ring).T
    expected = np.column_stack(crs.gcj02_to_wgs84(xs, ys))
    np.testing.assert_allclose(shapely.get_coordinates(out.iloc[0]), expected, atol=1e-12)
    assert out.iloc[1].coords[0] == pytest.approx(crs.gcj02_to_wgs84(*YUDE_GCJ), abs=1e-12)

    back = crs.geometry_from_wgs84(out, "gcj02")
    assert back.crs is None  # GCJ-02 has no EPSG code
    np.testing.assert_allclose(shapely.get_coordinates(back.iloc[0]), np.array(ring), atol=1e-9)


def test_geometry_crs_defaults_to_the_series_crs():
    points = gpd.GeoSeries([shapely.Point(500000.0, 2500000.0)], crs="EPSG:4547")
    out = crs.geometry_to_wgs84(points)
    assert out.iloc[0].x == pytest.approx(114.0, abs=1e-9)
    assert out.crs.to_epsg() == 4326
    with pytest.raises(CRSError, match="no EPSG"):
        crs.geometry_to_wgs84(gpd.GeoSeries([shapely.Point(0, 0)]))


def test_geometry_arrays_round_trip_through_epsg():
    arr = np.array([shapely.Point(113.08, 22.6), shapely.LineString([(113, 22), (114, 23)])])
    projected = crs.geometry_from_wgs84(arr, "EPSG:32649")
    assert isinstance(projected, np.ndarray)
    assert projected[0].x == pytest.approx(crs.from_wgs84(113.08, 22.6, "EPSG:32649")[0])
    back = crs.geometry_to_wgs84(projected, "EPSG:32649")
    assert shapely.equals_exact(back, arr, tolerance=1e-9).all()


def test_swapped_mask():
    lon = np.array([22.6, 113.08, 22.6, 5.0, np.nan])
    lat = np.array([113.08, 22.6, 10.0, 50.0, 22.6])
    assert crs.swapped_mask(lon, lat).tolist() == [True, False, False, False, False]


def test_validate_lonlat_reports_one_code_per_row():
    lon = ["113.08", " ", None, "abc", "22.6", "200", 113.1, "inf", " 113.09 ", "-0.1276"]
    lat = ["22.6", "22.6", "22.6", "22.6", "113.08", "10", float("nan"), "22.6", "22.61", "51.5"]
    codes = crs.validate_lonlat(lon, lat)
    assert codes.tolist() == [
        None,
        "missing",
        "missing",
        "not_a_number",
        "swapped",
        "out_of_range",
        "missing",
        "not_a_number",
        None,
        None,  # valid, just not in China: not this function's business
    ]
    assert set(codes[codes != None]) <= set(crs.PROBLEMS)  # noqa: E711


def test_coerce_coordinate_parses_typed_text():
    out = crs.coerce_coordinate([" 113.5 ", "", None, "x", 7, "1e1", "-inf"])
    np.testing.assert_array_equal(out, [113.5, np.nan, np.nan, np.nan, 7.0, 10.0, np.nan])


@pytest.mark.parametrize(
    ("lon", "lat", "expected"),
    [
        ([113.05, 113.12], [22.58, 22.64], "EPSG:32649"),  # Jiangmen
        (116.4, 39.9, "EPSG:32650"),  # Beijing
        (-70.65, -33.45, "EPSG:32719"),  # Santiago
        (-180.0, 10.0, "EPSG:32601"),
        (180.0, 10.0, "EPSG:32660"),
    ],
)
def test_metric_crs_is_the_utm_zone_of_the_centre(lon, lat, expected):
    assert crs.metric_crs(lon, lat) == expected


def test_metric_crs_rejects_no_points_or_projected_values():
    with pytest.raises(ValueError, match="at least one"):
        crs.metric_crs([np.nan], [np.nan])
    with pytest.raises(ValueError, match="to_wgs84"):
        crs.metric_crs([500000.0], [2500000.0])
