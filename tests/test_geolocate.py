"""grid_model.needs.geolocate: point in grid, the shared-edge rule, holes, snapping, bad input."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import MultiPolygon, Polygon, box

from geodata.pointindex.geodesic import Edges
from grid_model.errors import InvalidInputError
from grid_model.needs import geolocate
from grid_model.needs.geolocate import GridIndex, locate
from tests.geodesic_reference import nearest_grid

# 0.01 degree squares near Jiangmen (about 1.03 km east-west, 1.11 km north-south).
X0, Y0, D = 113.0, 22.5, 0.01
GEOD = Geod(ellps="WGS84")


def square(i: int, j: int) -> Polygon:
    return box(X0 + i * D, Y0 + j * D, X0 + (i + 1) * D, Y0 + (j + 1) * D)


def frame(codes: list, geoms: list) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"code": codes}, geometry=geoms, crs=4326)


def moved(lon: float, lat: float, east_m: float = 0.0, north_m: float = 0.0) -> tuple:
    """The point ``east_m`` metres east (or ``north_m`` north) along the geodesic."""
    assert east_m == 0 or north_m == 0
    azimuth, metres = (90.0, east_m) if east_m else (0.0, north_m)
    return tuple(GEOD.fwd(lon, lat, azimuth, metres)[:2])


def one(grids: gpd.GeoDataFrame, lon: float, lat: float, **kw) -> tuple:
    row = locate(grids, [lon], [lat], **kw).iloc[0]
    return row["grid_code"], row["quality"], row["distance_m"]


# -- the shared-edge rule ---------------------------------------------------------------------
@pytest.mark.parametrize("reverse", [False, True])
def test_point_on_shared_edge_goes_to_smallest_code(reverse):
    codes, geoms = ["440703006001002", "440703006001001"], [square(0, 0), square(1, 0)]
    if reverse:
        codes, geoms = codes[::-1], geoms[::-1]
    grids = frame(codes, geoms)
    assert one(grids, X0 + D, Y0 + D / 2) == ("440703006001001", "inside", 0.0)
    # Either side of the edge is plain containment.
    assert one(grids, X0 + D / 2, Y0 + D / 2)[0] == "440703006001002"
    assert one(grids, X0 + 1.5 * D, Y0 + D / 2)[0] == "440703006001001"


@pytest.mark.parametrize("cells_per_grid", [0.5, 32, 200])
def test_every_vertex_and_edge_point_is_inside(cells_per_grid):
    # Awkward coordinates: the cell arithmetic rounds points on the bounding box's edges
    # outside it.
    rng = np.random.default_rng(8)
    corner = rng.uniform((113.6, 23.0), (113.8, 23.1), (12, 2))
    size = rng.uniform(0.001, 0.1, (12, 2))
    grids = frame([f"R{i}" for i in range(12)], list(shapely.box(*corner.T, *(corner + size).T)))
    xy = shapely.get_coordinates(grids.geometry.values)
    mid = (xy[:-1] + xy[1:]) / 2  # on the edges (up to rounding) or across a ring's closing
    got = GridIndex(grids, cells_per_grid=cells_per_grid).locate(*np.r_[xy, mid].T)
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(*np.r_[xy, mid].T), crs=4326)
    covered = gpd.sjoin(points, grids, predicate="covered_by").groupby(level=0)["code"].min()
    assert covered.index.size >= len(xy)
    assert (got["grid_code"].to_numpy()[covered.index] == covered.to_numpy()).all()
    assert (got["quality"].to_numpy()[covered.index] == "inside").all()


def test_codes_compare_as_strings():
    # 10 < 9 as strings: the documented rule, not numeric order.
    grids = frame([9, 10], [square(0, 0), square(1, 0)])
    code, quality, _ = one(grids, X0 + D, Y0 + D / 2)
    assert (code, quality) == (10, "inside")
    assert type(code) is int  # codes come back as given


@pytest.mark.parametrize("order", [[0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1]])
def test_point_on_vertex_of_four_grids(order):
    cells = {"C": square(0, 0), "A": square(1, 1), "D": square(1, 0), "B": square(0, 1)}
    names = list(cells)
    grids = frame([names[i] for i in order], [cells[names[i]] for i in order])
    assert one(grids, X0 + D, Y0 + D) == ("A", "inside", 0.0)
    # Points on the four half-edges meeting there go to the smaller of their two grids.
    got = locate(
        grids,
        [X0 + D, X0 + D, X0 + 0.5 * D, X0 + 1.5 * D],
        [Y0 + 0.5 * D, Y0 + 1.5 * D, Y0 + D, Y0 + D],
    )
    assert got["grid_code"].tolist() == ["C", "A", "B", "A"]


def test_overlapping_grids_go_to_smallest_code():
    grids = frame(
        ["Z", "Y"],
        [box(X0, Y0, X0 + 2 * D, Y0 + 2 * D), box(X0 + D, Y0 + D, X0 + 3 * D, Y0 + 3 * D)],
    )
    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(X0, X0 + 3 * D, 2000), rng.uniform(Y0, Y0 + 3 * D, 2000)
    got = locate(grids, lon, lat)
    in_y = (lon >= X0 + D) & (lat >= Y0 + D)
    in_z = (lon <= X0 + 2 * D) & (lat <= Y0 + 2 * D)
    expected = np.where(in_y, "Y", np.where(in_z, "Z", None))
    assert (got["grid_code"].to_numpy() == expected)[in_y | in_z].all()
    assert (got["quality"][in_y | in_z] == "inside").all()


# -- holes and multipolygons ------------------------------------------------------------------
def ring_with_hole() -> Polygon:
    outer = box(X0, Y0, X0 + 3 * D, Y0 + 3 * D).exterior.coords
    return Polygon(outer, [square(1, 1).exterior.coords])


def test_point_in_unfilled_hole_is_outside_or_snapped():
    grids = frame(["A"], [ring_with_hole()])
    centre = (X0 + 1.5 * D, Y0 + 1.5 * D)
    code, quality, dist = one(grids, *centre, far_distances=True)
    assert (code, quality) == (None, "outside")
    assert dist == pytest.approx(513, abs=5)  # half the hole's east-west width
    assert np.isnan(one(grids, *centre)[2])  # not measured unless asked for
    near_edge = moved(X0 + 2 * D, Y0 + 1.5 * D, east_m=-10)
    code, quality, dist = one(grids, *near_edge)
    assert (code, quality) == ("A", "snapped")
    assert dist == pytest.approx(10, abs=1)


def test_hole_filled_by_another_grid():
    grids = frame(["A", "B"], [ring_with_hole(), square(1, 1)])
    assert one(grids, X0 + 1.5 * D, Y0 + 1.5 * D) == ("B", "inside", 0.0)
    assert one(grids, X0 + 0.5 * D, Y0 + 1.5 * D) == ("A", "inside", 0.0)
    # The hole's edge is shared: smallest code.
    assert one(grids, X0 + D, Y0 + 1.5 * D) == ("A", "inside", 0.0)


def test_multipolygon_grid():
    grids = frame(["M", "S"], [MultiPolygon([square(0, 0), square(3, 0)]), square(1, 0)])
    got = locate(grids, [X0 + 3.5 * D, X0 + 0.5 * D, X0 + 1.5 * D, X0 + 2.5 * D], [Y0 + D / 2] * 4)
    assert got["grid_code"].tolist() == ["M", "M", "S", None]
    lon, lat = moved(X0 + 3 * D, Y0 + D / 2, east_m=-10)  # 10 m west of M's second part
    code, quality, dist = one(grids, lon, lat)
    assert (code, quality) == ("M", "snapped")
    assert dist == pytest.approx(10, abs=1)


# -- snapping ---------------------------------------------------------------------------------
def test_snaps_within_tolerance_to_the_right_grid():
    grids = frame(["W", "E"], [square(0, 0), square(1, 0)])
    lon, lat = moved(X0 + 2 * D, Y0 + D / 2, east_m=10)
    code, quality, dist = one(grids, lon, lat)
    assert (code, quality) == ("E", "snapped")
    assert dist == pytest.approx(10, abs=1)
    lon, lat = moved(X0, Y0 + D / 2, east_m=-10)
    assert one(grids, lon, lat)[:2] == ("W", "snapped")


def test_beyond_tolerance_is_outside_and_tolerance_is_configurable():
    grids = frame(["W", "E"], [square(0, 0), square(1, 0)])
    lon, lat = moved(X0 + 2 * D, Y0 + D / 2, east_m=50)
    code, quality, dist = one(grids, lon, lat, far_distances=True)
    assert (code, quality) == (None, "outside")
    assert dist == pytest.approx(50, abs=1)
    assert one(grids, lon, lat)[:2] == (None, "outside") and np.isnan(one(grids, lon, lat)[2])
    code, quality, dist = one(grids, lon, lat, snap_m=100)
    assert (code, quality) == ("E", "snapped")
    assert dist == pytest.approx(50, abs=1)
    assert one(grids, lon, lat, snap_m=0)[:2] == (None, "outside")


@pytest.mark.parametrize("cells_per_grid", [1, 128, 2000, 40_000])
def test_points_just_within_or_beyond_the_tolerance_round_a_grid(cells_per_grid):
    # Cells of ~5 km, 500 m, 140 m and 30 m: points 30 m +- 1 cm outside every edge and corner
    # of a 2 km square, wherever they fall in their raster cell (the bound that spares the search
    # must never put a point within the tolerance beyond it).
    # (two small grids far to the south-west and north-east put those points on the raster)
    grids = frame(
        ["A", "B", "C"],
        [box(X0, Y0, X0 + 2 * D, Y0 + 2 * D), square(-4, -4), square(5, 5)],
    )
    t = np.linspace(0.0, 1.0, 41)[1:-1]
    x1, y1 = X0 + 2 * D, Y0 + 2 * D
    starts = np.concatenate([
        np.column_stack([X0 + t * 2 * D, np.full(t.size, y1)]),  # north edge, going north
        np.column_stack([X0 + t * 2 * D, np.full(t.size, Y0)]),  # south edge
        np.column_stack([np.full(t.size, x1), Y0 + t * 2 * D]),  # east edge
        np.column_stack([np.full(t.size, X0), Y0 + t * 2 * D]),  # west edge
        [[x1, y1], [X0, y1], [x1, Y0], [X0, Y0]],  # corners, going diagonally out
    ])  # fmt: skip
    azimuth = np.repeat([0.0, 180.0, 90.0, 270.0], t.size)
    azimuth = np.concatenate([azimuth, [45.0, 315.0, 135.0, 225.0]])
    for metres, quality in ((29.99, "snapped"), (30.01, "outside")):
        lon, lat, _ = GEOD.fwd(starts[:, 0], starts[:, 1], azimuth, np.full(len(starts), metres))
        got = GridIndex(grids, cells_per_grid=cells_per_grid).locate(lon, lat, snap_m=30)
        assert (got["quality"] == quality).all(), metres


def test_distance_to_a_long_edge_follows_the_edge_not_its_chord():
    # A 30 km edge along a parallel bows by ~7 m from the straight line between its projected
    # ends; a point 10 m north of its middle is 10 m away, not 3.
    grids = frame(["BIG"], [box(113.0, 22.5, 113.3, 22.8)])
    lon, lat, _ = Geod(ellps="WGS84").fwd(113.15, 22.8, 0, 10)
    code, quality, dist = one(grids, lon, lat)
    assert (code, quality) == ("BIG", "snapped")
    assert dist == pytest.approx(10, abs=0.05)


@pytest.mark.parametrize("reverse", [False, True])
def test_snap_tie_goes_to_smallest_code(reverse):
    # Two triangles whose lowest point is the same vertex: a point below it is exactly as
    # far from both.
    v, top = (X0 + D, Y0), Y0 + D
    codes = ["B", "A"]
    geoms = [Polygon([v, (X0 + D, top), (X0, top)]), Polygon([v, (X0 + 2 * D, top), (X0 + D, top)])]
    if reverse:
        codes, geoms = codes[::-1], geoms[::-1]
    code, quality, dist = one(frame(codes, geoms), *moved(*v, north_m=-10))
    assert (code, quality) == ("A", "snapped")
    assert dist == pytest.approx(10, abs=1e-6)


def test_outline_of_overlapping_grids_with_opposite_ring_orientation():
    # Both grids lie north of the shared edge; their rings run opposite ways (one clockwise),
    # so a point south of it is still 10 m from a grid.
    a = Polygon([(X0, Y0), (X0 + D, Y0), (X0 + 2 * D, Y0), (X0 + 2 * D, Y0 + D), (X0, Y0 + D)])
    b = Polygon([(X0, Y0), (X0, Y0 + D), (X0 + D, Y0 + D), (X0 + D, Y0)])
    assert a.exterior.is_ccw and not b.exterior.is_ccw
    code, quality, dist = one(frame(["A", "B"], [a, b]), *moved(X0 + D / 2, Y0, north_m=-10))
    assert (code, quality) == ("A", "snapped")
    assert dist == pytest.approx(10, abs=1)


# -- odd input --------------------------------------------------------------------------------
def test_nan_and_unprojectable_points_are_outside_with_nan_distance():
    grids = frame(["A"], [square(0, 0)])
    got = locate(
        grids, [np.nan, X0 + D / 2, X0 + D / 2, 200.0], [Y0 + D / 2, np.nan, Y0 + D / 2, 95.0]
    )
    assert got["grid_code"].tolist() == [None, None, "A", None]
    assert got["quality"].tolist() == ["outside", "outside", "inside", "outside"]
    assert np.isnan(got["distance_m"].to_numpy()[[0, 1, 3]]).all()


def test_empty_grids_put_every_point_outside():
    grids = frame([], [])
    got = locate(grids, [X0, X0 + 1], [Y0, Y0 + 1])
    assert got["grid_code"].tolist() == [None, None]
    assert got["quality"].tolist() == ["outside", "outside"]
    assert got["distance_m"].isna().all()


def test_empty_polygon_row_is_accepted_and_never_matches():
    grids = frame(["A", "0"], [square(0, 0), Polygon()])
    got = locate(grids, [X0 + D / 2, X0 + 5 * D], [Y0 + D / 2, Y0 + D / 2], far_distances=True)
    assert got["grid_code"].tolist() == ["A", None]
    assert got["distance_m"][1] == pytest.approx(4 * 1027.5, rel=0.01)
    only_empty = locate(frame(["0"], [Polygon()]), [X0], [Y0])
    assert only_empty["quality"].tolist() == ["outside"] and only_empty["distance_m"].isna().all()


def test_result_shape_and_types():
    grids = frame(["A"], [square(0, 0)])
    lon = pd.Series([X0 + D / 2, X0 + 5 * D], index=[10, 20])
    got = locate(grids, lon, [Y0 + D / 2, Y0 + D / 2])
    assert list(got.columns) == ["grid_code", "quality", "distance_m"]
    assert got.index.tolist() == [0, 1]  # positional, not the Series' index
    assert got["grid_code"].dtype == object and got["grid_code"][1] is None
    assert got["distance_m"].dtype == np.float64
    empty = locate(grids, [], [])
    assert len(empty) == 0 and list(empty.columns) == list(got.columns)


@pytest.mark.parametrize(
    ("grids", "lon", "lat", "message"),
    [
        (
            gpd.GeoDataFrame({"name": ["A"]}, geometry=[square(0, 0)], crs=4326),
            [X0],
            [Y0],
            "'code' column",
        ),
        (
            frame(["A", "B"], [square(0, 0), shapely.Point(X0, Y0)]),
            [X0],
            [Y0],
            "Polygon or MultiPolygon.*Point",
        ),
        (
            frame(["A", "B"], [square(0, 0), shapely.LineString([(X0, Y0), (X0 + D, Y0)])]),
            [X0],
            [Y0],
            "LineString",
        ),
        (frame(["A", "B"], [square(0, 0), None]), [X0], [Y0], "missing geometry"),
        (gpd.GeoDataFrame({"code": ["A"]}, geometry=[square(0, 0)]), [X0], [Y0], "EPSG:4326"),
        (frame(["A"], [square(0, 0)]).to_crs(3857), [X0], [Y0], "EPSG:4326"),
        (frame([None], [square(0, 0)]), [X0], [Y0], "'code' is empty"),
        (
            frame(["A"], [square(0, 0)]),
            [X0, X0],
            [Y0],
            "lon and lat differ in length: 2 lon vs 1 lat",
        ),
        (frame(["A"], [square(0, 0)]), ["east"], [Y0], "lon must be numbers"),
        (pd.DataFrame({"code": ["A"]}), [X0], [Y0], "GeoDataFrame"),
    ],
)
def test_bad_input_raises_value_error_naming_the_problem(grids, lon, lat, message):
    with pytest.raises(ValueError, match=message) as info:
        locate(grids, lon, lat)
    assert isinstance(info.value, InvalidInputError)


def test_negative_snap_tolerance_is_refused():
    with pytest.raises(ValueError, match="snap_m"):
        locate(frame(["A"], [square(0, 0)]), [X0], [Y0], snap_m=-1)


# -- the cache --------------------------------------------------------------------------------
def test_cache_follows_the_content_of_the_grids():
    geolocate._cache.clear()
    grids = frame(["A", "B"], [square(0, 0), square(1, 0)])
    lon, lat = [X0 + 0.5 * D, X0 + 1.5 * D], [Y0 + D / 2] * 2
    assert locate(grids, lon, lat)["grid_code"].tolist() == ["A", "B"]
    assert locate(grids, lon, lat)["grid_code"].tolist() == ["A", "B"]
    assert len(geolocate._cache) == 1
    grids.loc[0, "code"] = "C"  # changed in place: must not be answered from the cache
    assert locate(grids, lon, lat)["grid_code"].tolist() == ["C", "B"]
    grids.loc[1, "geometry"] = square(5, 5)
    assert locate(grids, lon, lat)["grid_code"].tolist() == ["C", None]


# -- against geopandas and GEOS on random Voronoi grids ---------------------------------------
def voronoi(n: int, seed: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    extent = box(X0, Y0, X0 + 0.05, Y0 + 0.05)
    seeds = shapely.multipoints(rng.uniform((X0, Y0), (X0 + 0.05, Y0 + 0.05), (n, 2)))
    cells = shapely.intersection(
        shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=extent)), extent
    )
    cells = cells[rng.permutation(len(cells))]
    return frame([f"G{i:04d}" for i in rng.permutation(len(cells))], list(cells))


@pytest.fixture(scope="module")
def random_case():
    grids = voronoi(300, seed=7)
    rng = np.random.default_rng(11)
    # Random points over and around the grids (~20 % outside, many near the outline), plus
    # every vertex of the grids (on one, two or three grids).
    lon = rng.uniform(X0 - 0.003, X0 + 0.053, 4000)
    lat = rng.uniform(Y0 - 0.003, Y0 + 0.053, 4000)
    vertices = np.unique(shapely.get_coordinates(grids.geometry.values), axis=0)
    lon, lat = np.r_[lon, vertices[:, 0]], np.r_[lat, vertices[:, 1]]
    covered = gpd.sjoin(
        gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326), grids,
        predicate="covered_by",
    )  # fmt: skip
    out = np.setdiff1d(np.arange(len(lon)), covered.index)
    ref_d, ref_code = np.zeros(len(lon)), np.full(len(lon), None, dtype=object)
    ref_d[out], ref_code[out] = nearest_grid(grids, lon[out], lat[out], window_deg=0.005)
    return grids, lon, lat, (ref_d, ref_code)


@pytest.mark.parametrize("cells_per_grid", [0.3, 4, 16, 100])
def test_agrees_with_sjoin_and_geos_on_random_voronoi_grids(random_case, cells_per_grid):
    grids, lon, lat, reference = random_case
    index = GridIndex(grids, cells_per_grid=cells_per_grid)
    got = index.locate(lon, lat, snap_m=30, far_distances=True)
    # Without far distances: the same answers, NaN distance outside.
    plain = index.locate(lon, lat, snap_m=30)
    assert plain[["grid_code", "quality"]].equals(got[["grid_code", "quality"]])
    near = (got["quality"] != "outside").to_numpy()
    assert plain["distance_m"][near].equals(got["distance_m"][near])
    assert plain["distance_m"][~near].isna().all()
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326)

    within = gpd.sjoin(points, grids, predicate="within")
    counts = within.index.value_counts()
    single = counts.index[counts.to_numpy() == 1]
    assert len(single) > 2000
    expected = within.loc[single, "code"].to_numpy()
    assert (got["grid_code"].to_numpy()[single] == expected).all()

    covered = gpd.sjoin(points, grids, predicate="covered_by")
    smallest = covered.groupby(level=0)["code"].min()
    assert (counts > 1).sum() == 0 and (covered.index.value_counts() > 1).sum() > 100
    assert (got["grid_code"].to_numpy()[smallest.index] == smallest.to_numpy()).all()
    assert (got["quality"].to_numpy()[smallest.index] == "inside").all()

    # Outside all grids: distance and snapped grid as the geodesic reference gives them.
    out = np.setdiff1d(np.arange(len(lon)), smallest.index)
    assert len(out) > 500
    ref_d, ref_code = reference
    nearest = pd.DataFrame({"code": ref_code[out], "d": ref_d[out]})
    assert got["distance_m"].to_numpy()[out] == pytest.approx(nearest["d"].to_numpy(), abs=0.005)
    snapped = nearest["d"].to_numpy() <= 30
    assert 50 < snapped.sum() < len(out)
    quality = got["quality"].to_numpy()[out]
    assert (quality == np.where(snapped, "snapped", "outside")).all()
    codes = got["grid_code"].to_numpy()[out]
    assert (codes[snapped] == nearest["code"].to_numpy()[snapped]).all()
    assert pd.isna(codes[~snapped]).all()


# -- the exact nearest-edge search used for distances and snapping ----------------------------
def metres_to_lonlat(xy: np.ndarray) -> np.ndarray:
    """Local east/north metres around (X0, Y0) to lon/lat, along geodesics."""
    dist, azimuth = np.hypot(*xy.T), np.degrees(np.arctan2(xy[:, 0], xy[:, 1]))
    lon, lat, _ = GEOD.fwd(np.full(len(xy), X0), np.full(len(xy), Y0), azimuth, dist)
    return np.column_stack([lon, lat])


def test_nearest_edge_search_is_exact_with_ties_at_shared_vertices():
    rng = np.random.default_rng(5)
    # Fans of 2-4 edges meeting at a vertex and all heading north-ish: a point south of the
    # vertex is exactly as far from each (its nearest point is the vertex), whichever end of
    # the edge the vertex is.
    fans, a, b, owner = 60, [], [], []
    vertex = metres_to_lonlat(
        np.column_stack(
            [np.arange(fans) * 1000.0 + rng.uniform(0, 1, fans), rng.uniform(0, 1e4, fans)]
        )
    )
    for v in vertex:
        for _ in range(rng.integers(2, 5)):
            angle = rng.uniform(0.2, np.pi - 0.2)
            far_end = v + rng.uniform(1e-4, 3e-3) * np.array([np.cos(angle), np.sin(angle)])
            a.append(v if rng.random() < 0.5 else far_end)
            b.append(far_end if a[-1] is v else v)
            owner.append(rng.integers(0, 50))
    # Plus long and short edges elsewhere, so that nearest midpoints mislead.
    for _ in range(100):
        p = metres_to_lonlat(rng.uniform((0, -5e3), (6e4, -1e3), (1, 2)))[0]
        a.append(p)
        b.append(p + rng.normal(0, 1, 2) * rng.choice([1e-5, 3e-4, 3e-2]))
        owner.append(rng.integers(0, 50))
    a, b, owner = np.array(a), np.array(b), np.array(owner)
    edges = Edges(a, b, owner)
    below = np.array([GEOD.fwd(x, y, 180.0, d)[:2] for (x, y), d in
                      zip(vertex, rng.uniform(1, 50, fans), strict=True)])  # fmt: skip
    elsewhere = metres_to_lonlat(rng.uniform((-2e3, -8e3), (6.2e4, 1.2e4), (140, 2)))
    points = np.vstack([below, elsewhere])
    dist, got_owner = edges.nearest(points[:, 0], points[:, 1])

    lines = frame([f"{o:02d}" for o in owner], list(shapely.linestrings(np.stack([a, b], axis=1))))
    ref_d, ref_code = nearest_grid(lines, points[:, 0], points[:, 1], window_deg=0.08, tie_m=1e-4)
    assert dist == pytest.approx(ref_d, abs=0.01)
    assert (got_owner == np.array([int(c) for c in ref_code])).all()
    # Below a vertex the tie is exact: every edge of the fan is as far.
    assert dist[:fans] == pytest.approx(GEOD.inv(*vertex.T, *below.T)[2], abs=1e-6)


def test_nearest_edge_search_looks_past_misleading_midpoints():
    # 40 one-metre edges on a circle of 100 m around the point, and one 2 m edge pointing at
    # it whose near end is at 99.5 m but whose midpoint is at 100.5 m.
    angle = np.linspace(0, np.pi, 41)
    arc = metres_to_lonlat(100 * np.column_stack([np.cos(angle), np.sin(angle)]))
    a = np.vstack([arc[:-1], metres_to_lonlat(np.array([[0.0, -99.5]]))])
    b = np.vstack([arc[1:], metres_to_lonlat(np.array([[0.0, -101.5]]))])
    owner = np.r_[np.zeros(40, dtype=int), 7]
    dist, got_owner = Edges(a, b, owner).nearest(np.array([X0]), np.array([Y0]))
    assert dist[0] == pytest.approx(99.5, abs=0.01) and got_owner[0] == 7


def stars(seed: int) -> gpd.GeoDataFrame:
    """A few overlapping spiky star polygons: many close vertices, thin spikes."""
    rng = np.random.default_rng(seed)
    polys = []
    for _ in range(4):
        centre = rng.uniform((X0, Y0), (X0 + D, Y0 + D))
        angle = np.sort(rng.uniform(0, 2 * np.pi, 40))
        radius = rng.uniform(0.0002, 0.005, 40) * np.where(rng.random(40) < 0.5, 1, 0.1)
        ring = centre + np.column_stack([np.cos(angle), np.sin(angle)]) * radius[:, None]
        parts = shapely.get_parts(shapely.make_valid(Polygon(ring)))
        parts = [p for p in parts if p.geom_type == "Polygon" and p.area > 0]
        polys.append(MultiPolygon(parts) if len(parts) > 1 else parts[0])
    return frame([f"S{i}" for i in rng.permutation(4)], polys)


@pytest.mark.parametrize("cells_per_grid", [3, 50, 2000])
def test_agrees_with_sjoin_on_spiky_overlapping_stars(cells_per_grid):
    for seed in range(4):
        grids = stars(seed)
        rng = np.random.default_rng(seed)
        x0, y0, x1, y1 = grids.total_bounds
        lon, lat = rng.uniform(x0, x1, 5000), rng.uniform(y0, y1, 5000)
        got = GridIndex(grids, cells_per_grid=cells_per_grid).locate(lon, lat, snap_m=0)
        points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326)
        covered = gpd.sjoin(points, grids, predicate="covered_by").groupby(level=0)["code"].min()
        codes = got["grid_code"].to_numpy()
        assert (codes[covered.index] == covered.to_numpy()).all()
        assert pd.isna(np.delete(codes, covered.index)).all()
