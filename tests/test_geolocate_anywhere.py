"""locate anywhere on Earth: antimeridian, far-apart grids, high latitudes, real-looking
coastlines. Distances are checked against pyproj.Geod (or the slow geodesic reference of
tests.geodesic_reference) to 1 cm; grids against GEOS (geopandas.sjoin)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import MultiPolygon, box

from geodata.pointindex.coastline import coastline_grids, coastline_points
from grid_model.needs.geolocate import GridIndex, locate
from tests.geodesic_reference import nearest_grid

GEOD = Geod(ellps="WGS84")
CM = 0.01


def frame(codes: list, geoms: list) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"code": codes}, geometry=geoms, crs=4326)


def fwd(lon: float, lat: float, azimuth: float, metres: float) -> tuple[float, float]:
    x, y, _ = GEOD.fwd(lon, lat, azimuth, metres)
    return float(x), float(y)


def one(grids: gpd.GeoDataFrame, lon: float, lat: float, **kw) -> tuple:
    row = locate(grids, [lon], [lat], **kw).iloc[0]
    return row["grid_code"], row["quality"], row["distance_m"]


def covered_smallest(grids: gpd.GeoDataFrame, lon: np.ndarray, lat: np.ndarray) -> pd.Series:
    """GEOS: the smallest code of the grids covering each point (index: point position)."""
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326)
    return gpd.sjoin(points, grids, predicate="covered_by").groupby(level=0)["code"].min()


# -- the antimeridian -------------------------------------------------------------------------
def fiji() -> gpd.GeoDataFrame:
    """Grids on both sides of the antimeridian, one crossing it (split as a MultiPolygon), and
    one on the other side of the Earth, so the grids span all 360 degrees of longitude."""
    return frame(
        ["E", "W", "X", "Z"],
        [
            box(179.0, -17.0, 180.0, -16.0),
            box(-180.0, -17.0, -179.0, -16.0),
            MultiPolygon([box(179.5, -19.0, 180.0, -18.0), box(-180.0, -19.0, -179.5, -18.0)]),
            box(0.0, 0.0, 1.0, 1.0),
        ],
    )


def test_grids_on_both_sides_of_the_antimeridian():
    grids = fiji()
    lon = [179.5, -179.5, 179.9, -179.9, 180.0, -180.0, 0.5, 179.999, -179.999]
    lat = [-16.5, -16.5, -18.5, -18.5, -16.5, -16.5, 0.5, -18.2, -18.8]
    got = locate(grids, lon, lat)
    assert got["grid_code"].tolist() == ["E", "W", "X", "X", "E", "W", "Z", "X", "X"]
    assert (got["quality"] == "inside").all() and (got["distance_m"] == 0).all()


@pytest.mark.parametrize(
    ("start", "azimuth", "code"),
    [
        ((179.9999, -16.0), 0.0, "E"),  # north of E's top edge, by the antimeridian
        ((-179.9999, -16.0), 0.0, "W"),
        ((180.0, -19.0), 180.0, "X"),  # south of the crossing grid's corner on the line
        ((-179.75, -18.0), 0.0, "X"),
    ],
)
def test_snapping_next_to_the_antimeridian_is_geodesic(start, azimuth, code):
    lon, lat = fwd(*start, azimuth, 11.1)
    assert one(fiji(), lon, lat)[:2] == (code, "snapped")
    assert one(fiji(), lon, lat)[2] == pytest.approx(11.1, abs=CM)


def test_a_grid_across_the_antimeridian_is_near_though_its_longitude_is_not():
    # Only the east side has a grid; a point 5 m west of -180... is 5 m east of +180.
    grids = frame(["E", "Z"], [box(179.0, -17.0, 180.0, -16.0), box(0.0, 0.0, 1.0, 1.0)])
    lon, lat = fwd(180.0, -16.5, 90.0, 5.0)
    assert lon < -179.9999
    code, quality, dist = one(grids, lon, lat)
    assert (code, quality) == ("E", "snapped")
    assert dist == pytest.approx(5.0, abs=CM)
    # On the line itself but written -180: not covered in EPSG:4326, snapped at 0 m.
    assert one(grids, -180.0, -16.5) == ("E", "snapped", 0.0)


# -- far-apart grids --------------------------------------------------------------------------
@pytest.mark.parametrize("away", [0.0, 60.0, 120.0, 179.0, -150.0])
def test_distance_does_not_depend_on_far_away_grids(away):
    # A point 11.1 m from a box read 13-53 m when another box lay 60-180 degrees away (the
    # distances were measured in the UTM zone of the middle of all grids).
    grids = frame(["A", "B"], [box(10.0, 45.0, 10.01, 45.01), box(away, -30.0, away + 1, -29.0)])
    for start, azimuth in [((10.005, 45.01), 0.0), ((10.01, 45.005), 90.0), ((10.0, 45.0), 225.0)]:
        lon, lat = fwd(*start, azimuth, 11.1)
        code, quality, dist = one(grids, lon, lat)
        assert (code, quality) == ("A", "snapped")
        assert dist == pytest.approx(11.1, abs=CM)


# -- high latitudes ---------------------------------------------------------------------------
@pytest.mark.parametrize("lat0", [60.0, 80.0, 89.0, 89.98, -89.98])
def test_high_latitudes(lat0):
    grids = frame(["N"], [box(20.0, lat0, 21.0, lat0 + 0.01)])
    top, east = lat0 + 0.01, 21.0
    for start, azimuth in [((20.5, top), 0.0), ((east, lat0 + 0.005), 90.0), ((20.5, lat0), 180.0)]:
        lon, lat = fwd(*start, azimuth, 11.1)
        code, quality, dist = one(grids, lon, lat)
        assert (code, quality) == ("N", "snapped")
        assert dist == pytest.approx(11.1, abs=CM)
    assert one(grids, 20.5, lat0 + 0.005) == ("N", "inside", 0.0)


def test_polar_cap():
    cap = frame(["P"], [box(-180.0, 89.9, 180.0, 90.0)])
    assert one(cap, 45.0, 89.95) == ("P", "inside", 0.0)
    lon, lat = fwd(45.0, 89.9, 180.0, 111.0)
    code, quality, dist = one(cap, lon, lat, snap_m=200)
    assert (code, quality) == ("P", "snapped")
    assert dist == pytest.approx(111.0, abs=CM)


# -- grids all over the world, against the geodesic reference ---------------------------------
@pytest.fixture(scope="module")
def world():
    """Coastline districts around five places far apart (one across the antimeridian, two near
    the poles) and points 0-45 m from their vertices in random directions."""
    rng = np.random.default_rng(21)
    places = [(179.9, -17.0), (-179.95, 65.0), (10.0, 45.0), (100.0, 84.0), (-60.0, -82.0)]
    frames = []
    for i, centre in enumerate(places):
        g = coastline_grids(rng, vertices=1200, districts=3, centre=centre, radius=0.05)
        frames.append(g.assign(code=[f"{i}{c}" for c in g["code"]]))
    grids = pd.concat(frames, ignore_index=True)
    # Geometries past +-180 are wrapped, and a grid crossing the line is split there.
    grids["geometry"] = [_split_at_antimeridian(g) for g in grids.geometry]
    grids = gpd.GeoDataFrame(grids, geometry="geometry", crs=4326)
    xy = shapely.get_coordinates(grids.geometry.to_numpy())
    pick = xy[rng.choice(len(xy), 600, replace=False)]
    lon, lat, _ = GEOD.fwd(*pick.T, rng.uniform(0, 360, 600), rng.uniform(0, 45, 600))
    return grids, np.asarray(lon), np.asarray(lat)


def _split_at_antimeridian(geom):
    parts = []
    for shift in (-360.0, 0.0, 360.0):
        moved = shapely.intersection(
            shapely.transform(geom, lambda xy, s=shift: xy + [s, 0.0]), box(-180, -90, 180, 90)
        )
        parts += [p for p in shapely.get_parts(moved) if p.geom_type == "Polygon" and p.area > 0]
    return MultiPolygon(parts)


def test_grids_all_over_the_world_against_the_geodesic_reference(world):
    grids, lon, lat = world
    assert (grids.total_bounds[[0, 2]] == [-180.0, 180.0]).all()
    got = locate(grids, lon, lat, snap_m=30, far_distances=True)
    smallest = covered_smallest(grids, lon, lat)
    codes, quality = got["grid_code"].to_numpy(), got["quality"].to_numpy()
    assert (codes[smallest.index] == smallest.to_numpy()).all()
    assert (quality[smallest.index] == "inside").all()
    out = np.setdiff1d(np.arange(len(lon)), smallest.index)
    ref_d, ref_code = nearest_grid(grids, lon[out], lat[out], window_deg=0.01)
    assert len(out) > 100 and 50 < (ref_d <= 30).sum() < len(out)
    assert got["distance_m"].to_numpy()[out] == pytest.approx(ref_d, abs=CM)
    near = ref_d <= 30
    assert (quality[out] == np.where(near, "snapped", "outside")).all()
    assert (codes[out][near] == ref_code[near]).all()


# -- real-looking coastlines ------------------------------------------------------------------
@pytest.mark.parametrize("cells_per_grid", [1, 32, 400])
def test_coastline_districts_agree_with_geos(cells_per_grid):
    rng = np.random.default_rng(5)
    grids = coastline_grids(rng, vertices=24_000)
    assert shapely.get_num_coordinates(grids.geometry.to_numpy()).sum() > 15_000
    assert sum(len(p.interiors) for g in grids.geometry for p in g.geoms) >= 3
    lon, lat = coastline_points(grids, 20_000, rng)
    index = GridIndex(grids, cells_per_grid=cells_per_grid)
    got = index.locate(lon, lat, snap_m=30)
    smallest = covered_smallest(grids, lon, lat)
    assert len(smallest) == 12_000  # 40 % outside
    codes, quality = got["grid_code"].to_numpy(), got["quality"].to_numpy()
    assert (codes[smallest.index] == smallest.to_numpy()).all()
    assert (quality[smallest.index] == "inside").all()
    # Outside: snapped exactly when GEOS, measuring in a local projection, puts the point
    # within 30 m (less a centimetre of slack either way for the projection).
    out = np.setdiff1d(np.arange(len(lon)), smallest.index)
    local = grids.to_crs("+proj=aeqd +lat_0=40.7 +lon_0=-73.95 +ellps=WGS84")
    pts = gpd.GeoSeries(gpd.points_from_xy(lon[out], lat[out]), crs=4326).to_crs(local.crs)
    d = np.min([pts.distance(g).to_numpy() for g in local.geometry], axis=0)
    sure = np.abs(d - 30) > 0.5
    assert (quality[out][sure] == np.where(d <= 30, "snapped", "outside")[sure]).all()
    assert (quality[out] == "snapped").sum() > 20
    assert got["distance_m"].to_numpy()[out][quality[out] == "outside"].size > 7000
    assert np.isnan(got["distance_m"].to_numpy()[out][quality[out] == "outside"]).all()
