"""Access to legal service points: distances, uncovered area and MCLP siting.

Expected distances and areas come from :class:`pyproj.Geod` on the WGS84 ellipsoid, not from
the projection the code uses.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from geoalchemy2.shape import from_shape, to_shape
from pyproj import Geod
from shapely.geometry import Point

from grid_model.errors import InvalidInputError
from grid_model.gaps.access import (
    access_table,
    grid_access_table,
    nearest_service_distance,
    need_access,
    suggest_service_points,
    uncovered_area,
)
from grid_model.models import ServicePoint
from grid_model.scope import Scope, Viewer
from tests.factories import COMMUNITY, ORIGIN, add_need, make_community

GEOD = Geod(ellps="WGS84")
A = ORIGIN
B = GEOD.fwd(A[0], A[1], 0, 1000)[:2]  # 1000 m due north of A, along the meridian
SCOPE = Scope(area_code=COMMUNITY[0])
ADMIN = Viewer.local_admin("test")


def points(*rows) -> gpd.GeoDataFrame:
    kinds = [k for k, _ in rows]
    return gpd.GeoDataFrame(
        {"kind": kinds}, geometry=[Point(xy) for _, xy in rows], crs="EPSG:4326"
    )


# --- pure -----------------------------------------------------------------------------------


def test_nearest_distance_along_a_meridian_is_metres():
    pts = points(("legal_service_room", A), ("library", B))
    d = nearest_service_distance(np.array([B, A]), pts)
    assert d[0] == pytest.approx(1000.0, rel=1e-3)  # the library at B does not count
    assert d[1] == pytest.approx(0.0, abs=1e-6)
    assert nearest_service_distance(np.array([B]), pts, kinds=None)[0] == pytest.approx(0.0)


def test_nearest_distance_takes_the_nearest_of_both_kinds_in_any_crs():
    east = GEOD.fwd(A[0], A[1], 90, 400)[:2]
    pts = points(("legal_service_room", A), ("legal_aid_station", east))
    needs = pd.DataFrame({"lon": [B[0], east[0]], "lat": [B[1], east[1]]})
    for frame in (pts, pts.to_crs("EPSG:32649")):
        d = nearest_service_distance(needs, frame)
        assert d[0] == pytest.approx(1000.0, rel=1e-3)  # A, not the station ≈1077 m away
        assert d[1] == pytest.approx(0.0, abs=1e-3)


def test_no_point_at_all_is_infinitely_far():
    d = nearest_service_distance(np.array([A]), points(("library", A)))
    assert np.isinf(d[0])
    assert nearest_service_distance(np.zeros((0, 2)), points()).shape == (0,)


@pytest.mark.parametrize(
    ("needs", "pts", "message"),
    [
        (np.array([[22.6, 113.08]]), points(), "swapped"),
        (np.array([1.0, 2.0, 3.0]), points(), "shape"),
        (pd.DataFrame({"x": [1.0]}), points(), "lon"),
        (
            np.array([A]),
            gpd.GeoDataFrame({"kind": ["legal_service_room"]}, geometry=[Point(A)]),
            "CRS",
        ),
    ],
)
def test_bad_input_is_named(needs, pts, message):
    with pytest.raises(InvalidInputError, match=message):
        nearest_service_distance(needs, pts)


# --- database ---------------------------------------------------------------------------------


def add_point(session, code, kind, lon, lat):
    session.add(
        ServicePoint(
            code=code,
            name=code,
            kind=kind,
            community_code=COMMUNITY[0],
            location=from_shape(Point(lon, lat), 4326),
        )
    )
    session.flush()


@pytest.mark.db
def test_access_table_distances_and_cover(session):
    c = make_community(session, n_grids=4, population=[1000, None, 1000, 1000])
    room = c.centre(c.grid_codes[0])
    add_point(session, "R1", "legal_service_room", *room)
    add_point(session, "LIB", "library", *GEOD.fwd(*room, 0, 1500)[:2])
    near = add_need(session, grid_code=c.grid_codes[0], lon=room[0], lat=room[1])
    east = GEOD.fwd(*room, 90, 500)[:2]
    mid = add_need(session, grid_code=c.grid_codes[1], lon=east[0], lat=east[1])
    north = GEOD.fwd(*room, 0, 1500)[:2]
    far = add_need(session, grid_code=None, lon=north[0], lat=north[1])

    # the far need lies outside every grid: a district-level list holds it
    district = Scope(area_code=COMMUNITY[0][:6])
    assert far.id not in set(access_table(session, SCOPE, ADMIN, walk_m=1000)["need_id"])
    t = access_table(session, district, walk_m=1000, viewer=ADMIN).set_index("need_id")
    assert t.loc[near.id, "distance_m"] == pytest.approx(0.0, abs=1e-3)
    assert t.loc[mid.id, "distance_m"] == pytest.approx(500.0, rel=1e-3)
    assert t.loc[far.id, "distance_m"] == pytest.approx(1500.0, rel=1e-3)
    assert t["covered"].to_dict() == {near.id: True, mid.id: True, far.id: False}
    assert set(t["nearest_point"]) == {"R1"}
    assert not {"resident_name", "resident_phone"} & set(t.columns)

    # need_access: the same distances by id, and only the far need in full
    a = need_access(session, district, walk_m=1000, viewer=ADMIN)
    by_id = dict(zip(a.ids.tolist(), a.distances.tolist(), strict=True))
    assert a.needs == 3 and by_id == pytest.approx(t["distance_m"].to_dict())
    assert a.far_ids.tolist() == [far.id] and a.beyond_count == 1
    assert a.median_m == pytest.approx(500.0, rel=1e-3)
    assert a.beyond["need_id"].tolist() == [far.id]
    row = a.beyond.iloc[0]
    assert (row["nearest_point"], row["grid_code"], row["external_id"]) == (
        "R1",
        None,
        far.external_id,
    )
    assert row["distance_m"] == pytest.approx(1500.0, rel=1e-3)
    assert row["reported_at"] == far.reported_at
    assert not {"resident_name", "resident_phone", "covered"} & set(a.beyond.columns)
    assert need_access(session, district, walk_m=2000, viewer=ADMIN).beyond.empty


@pytest.mark.db
def test_grid_access_weighted_by_households(session):
    c = make_community(session, n_grids=4, population=[1000, None, 1000, 1000])
    room = c.centre(c.grid_codes[0])
    add_point(session, "R1", "legal_aid_station", *room)
    add_need(session, grid_code=c.grid_codes[3])
    t = grid_access_table(session, SCOPE, walk_m=500).set_index("grid_code")
    for code in c.grid_codes:
        expected = GEOD.inv(*room, *c.centre(code))[2]
        assert t.loc[code, "distance_m"] == pytest.approx(expected, rel=1e-3, abs=1e-3)
    g1, g2, _, g4 = c.grid_codes
    assert t.loc[g1, "household_m"] == pytest.approx(0.0, abs=1)
    assert pd.isna(t.loc[g2, "household_m"])  # households unknown
    assert t.loc[g4, "household_m"] == pytest.approx(333 * t.loc[g4, "distance_m"])
    assert t.loc[g4, "households_beyond"] == 333  # ≈ 600 m away
    assert t.loc[g1, "households_beyond"] == 0
    assert (t.loc[g4, "needs"], t.loc[g4, "needs_beyond"]) == (1, 1)


@pytest.mark.db
def test_uncovered_area_is_grid_minus_walking_circle(session):
    c = make_community(session, n_grids=1, cell_deg=0.01)
    grid = to_shape(c.grids[0].boundary)
    centre = c.centre(c.grid_codes[0])
    add_point(session, "R1", "legal_service_room", *centre)
    add_point(session, "FAR", "legal_service_room", centre[0] + 0.5, centre[1])
    out = uncovered_area(session, SCOPE, walk_m=300)
    assert len(out) == 1
    grid_m2 = abs(GEOD.geometry_area_perimeter(grid)[0])
    assert out["grid_m2"].iloc[0] == pytest.approx(grid_m2, rel=0.01)
    assert out["uncovered_m2"].iloc[0] == pytest.approx(grid_m2 - math.pi * 300**2, rel=0.01)
    assert out.crs.to_epsg() == 4326
    assert not out.geometry.iloc[0].contains(Point(centre))
    # 0.01° × 0.01° (≈ 1027 m × 1112 m): a 800 m walk from the centre reaches every corner.
    assert uncovered_area(session, SCOPE, walk_m=800).empty


def cluster(session, grid_code, centre, n):
    """``n`` needs within 50 m of ``centre``."""
    for k in range(n):
        lon, lat = GEOD.fwd(*centre, 360 * k / n, 50)[:2]
        add_need(session, grid_code=grid_code, lon=lon, lat=lat)


@pytest.fixture()
def two_clusters(session):
    """2×2 grids of ≈1 km; six needs round G1's centre, three round G4's, no service point."""
    c = make_community(session, n_grids=4, cell_deg=0.01)
    g1, _, _, g4 = c.grid_codes
    cluster(session, g1, c.centre(g1), 6)
    cluster(session, g4, c.centre(g4), 3)
    return c


@pytest.mark.db
def test_mclp_picks_the_bigger_cluster(session, two_clusters):
    c = two_clusters
    g1, _, _, g4 = c.grid_codes
    one = suggest_service_points(session, SCOPE, walk_m=300, p=1)
    assert list(one["candidate"]) == [g1]
    assert list(one["grid_code"]) == [g1]
    assert list(one["needs_covered"]) == [6]
    assert one.attrs == {"unmet_needs": 9, "needs_covered_total": 6}
    site = one.geometry.iloc[0]
    assert GEOD.inv(site.x, site.y, *c.centre(g1))[2] < 1.0

    two = suggest_service_points(session, SCOPE, walk_m=300, p=2)
    assert list(zip(two["candidate"], two["needs_covered"], strict=True)) == [(g1, 6), (g4, 3)]
    assert two.attrs["needs_covered_total"] == 9
    assert list(two["needs_covered_alone"]) == [6, 3]  # the clusters are far apart
    # A third site would cover nothing more: still two suggestions.
    assert len(suggest_service_points(session, SCOPE, walk_m=300, p=3)) == 2


@pytest.mark.db
def test_mclp_counts_existing_points_as_covering(session, two_clusters):
    c = two_clusters
    g1, _, _, g4 = c.grid_codes
    add_point(session, "R1", "legal_service_room", *c.centre(g1))
    one = suggest_service_points(session, SCOPE, walk_m=300, p=1)
    assert list(one["candidate"]) == [g4]
    assert list(one["needs_covered"]) == [3]
    assert one.attrs["unmet_needs"] == 3


@pytest.mark.db
def test_mclp_on_hexagon_candidates(session, two_clusters):
    g1 = two_clusters.grid_codes[0]
    one = suggest_service_points(session, SCOPE, walk_m=300, p=1, candidates="needs_hexes")
    assert len(one) == 1
    assert one["candidate"].iloc[0].startswith("89")  # an H3 resolution-9 cell
    assert one["grid_code"].iloc[0] == g1
    assert one["needs_covered"].iloc[0] == 6


@pytest.mark.db
def test_nothing_to_suggest_when_all_needs_are_covered(session, two_clusters):
    c = two_clusters
    for i, code in enumerate(c.grid_codes):
        add_point(session, f"R{i}", "legal_service_room", *c.centre(code))
    out = suggest_service_points(session, SCOPE, walk_m=300, p=1)
    assert out.empty
    assert out.attrs["unmet_needs"] == 0


@pytest.mark.db
@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"p": 0}, "p="),
        ({"p": 1.5}, "p="),
        ({"candidates": "stations"}, "candidates"),
        ({"walk_m": -5}, "walk_m"),
    ],
)
def test_siting_bad_arguments(session, kwargs, field):
    with pytest.raises(InvalidInputError, match=field):
        suggest_service_points(session, SCOPE, **kwargs)
