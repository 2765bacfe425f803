"""Coverage gaps (DESIGN §5) on a hand-made community where every gap is planted on purpose.

The community of :func:`tests.factories.make_community` is a 2×2 block (G1 NW, G2 NE, G3 SW,
G4 SE, 0.004° squares). Planted: a strip south of the grids inside the community boundary
(hole), G2 widened 0.001° west over G1 (overlap), a sub-m² sliver under G1's top edge, one
staffing gap per role, a stale and a missing diary, grids without publicity this quarter,
overdue needs, a grid with needs but no service, needs outside and snapped. Expected areas
and distances are worked out on the ellipsoid with :class:`pyproj.Geod`, not with the code
under test.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from geoalchemy2.shape import from_shape
from pyproj import Geod
from shapely.geometry import MultiPolygon, Point, box
from sqlalchemy import select

from grid_model.gaps import coverage
from grid_model.gaps.coverage import GAP_KINDS, GAP_LABELS, CoverageGaps, find_coverage_gaps
from grid_model.models import Area, Grid, ServicePoint
from grid_model.scope import Scope, Viewer
from tests.factories import (
    COMMUNITY,
    ORIGIN,
    add_need,
    add_service_event,
    add_worker,
    assign,
    make_community,
)

pytestmark = pytest.mark.db
ADMIN = Viewer.local_admin("test")

GEOD = Geod(ellps="WGS84")
TODAY = dt.date(2025, 5, 20)
X0, Y0 = ORIGIN
C = 0.004
G1, G2, G3, G4 = (f"{COMMUNITY[0]}00{i}" for i in range(1, 5))
HOLE = box(X0, Y0 - 0.002, X0 + 2 * C, Y0)
OVERLAP = box(X0 + C - 0.001, Y0 + C, X0 + C, Y0 + 2 * C)
DONE = {"status": "closed", "closed_at": dt.date(2025, 5, 19)}  # closed needs are never overdue
PERSONAL = {"resident_name", "resident_phone", "description", "under_correction"}


def geod_area(geom) -> float:
    return abs(GEOD.geometry_area_perimeter(geom)[0])


def days_ago(n: int) -> dt.date:
    return TODAY - dt.timedelta(days=n)


@pytest.fixture()
def world(session):
    c = make_community(session, n_grids=4)
    grids = {g.code: g for g in c.grids}
    # The community reaches 0.002° south of the grids: a hole no grid covers.
    area = session.get(Area, COMMUNITY[0])
    area.boundary = from_shape(MultiPolygon([box(X0, Y0 - 0.002, X0 + 2 * C, Y0 + 2 * C)]), 4326)
    # G2 widened west over G1; G1's top edge pulled in by 1e-9° (a ~0.03 m² sliver).
    grids[G2].boundary = from_shape(
        MultiPolygon([box(X0 + C - 0.001, Y0 + C, X0 + 2 * C, Y0 + 2 * C)]), 4326
    )
    grids[G1].boundary = from_shape(
        MultiPolygon([box(X0, Y0 + C, X0 + C, Y0 + 2 * C - 1e-9)]), 4326
    )
    # Staffing: G2's lawyer left today, G3's assistant is inactive, G4's mediator left ten days
    # ago and the next one starts in five days.
    by_role = {role: dict(zip(c.grid_codes, ws, strict=True)) for role, ws in c.workers.items()}
    for a in c.assignments:
        if a.grid_id == grids[G2].id and a.role == "lawyer":
            a.valid_to = TODAY
        if a.grid_id == grids[G4].id and a.role == "mediator":
            a.valid_to = days_ago(10)
    by_role["grid_assistant"][G3].active = False
    new_mediator = add_worker(session, role="mediator", code="M_NEXT")
    assign(session, new_mediator, grids[G4], valid_from=TODAY + dt.timedelta(days=5))
    session.flush()

    needs = {}
    # Outreach: G1's last diary exactly 30 days ago (not stale), G2's 45 days ago plus a phone
    # call (not a diary) 2 days ago, G3 only a household visit, G4 nothing.
    needs["d1"] = add_need(session, grid_code=G1, source="diary", reported_at=days_ago(30), **DONE)
    needs["d2"] = add_need(session, grid_code=G2, source="diary", reported_at=days_ago(45), **DONE)
    needs["p2"] = add_need(
        session, grid_code=G2, source="phone", reported_at=days_ago(2), resident_name="王五", **DONE
    )
    add_service_event(session, grid_code=G3, kind="household_visit", held_on=days_ago(3))
    # Publicity: G1 this quarter, G2 only last quarter, G3 by location only, G4 none.
    add_service_event(session, grid_code=G1, kind="film_screening", held_on=dt.date(2025, 4, 10))
    add_service_event(session, grid_code=G2, kind="lecture", held_on=dt.date(2025, 3, 28))
    add_service_event(
        session,
        grid_code=None,
        location=from_shape(Point(X0 + 0.002, Y0 + 0.002), 4326),
        kind="leaflet_drive",
        held_on=dt.date(2025, 5, 1),
    )
    add_service_event(session, grid_code=G4, kind="mediation_session", held_on=days_ago(1))
    # Service: due yesterday (overdue 1 day); no due date, consultation 60 days old (7-day
    # default → 53 days overdue); closed past due; due today (not yet overdue).
    needs["late"] = add_need(
        session, grid_code=G1, status="in_progress", due_date=days_ago(1), resident_phone="1"
    )
    needs["old"] = add_need(session, grid_code=G1, reported_at=days_ago(60))
    add_need(session, grid_code=G1, status="closed", due_date=days_ago(30), closed_at=days_ago(20))
    add_need(session, grid_code=G3, due_date=TODAY, reported_at=days_ago(40))
    # Spatial: one need well east of the block (outside), one 20 m east of G4 (snapped).
    east = X0 + 2 * C
    needs["out"] = add_need(
        session, grid_code=None, lon=east + 0.007, lat=Y0 + 0.006, reported_at=days_ago(19), **DONE
    )
    needs["snap"] = add_need(
        session,
        grid_code=G4,
        quality="snapped",
        lon=east + 0.0002,
        lat=Y0 + 0.001,
        reported_at=days_ago(19),
        **DONE,
    )
    # A legal service room in G1; a library at the outside need does not count for access.
    session.add_all(
        [
            ServicePoint(
                code="R1",
                name="育德社区法律服务室",
                kind="legal_service_room",
                community_code=COMMUNITY[0],
                location=from_shape(Point(X0 + 0.002, Y0 + 0.006), 4326),
            ),
            ServicePoint(
                code="LIB",
                name="图书室",
                kind="library",
                community_code=COMMUNITY[0],
                location=from_shape(Point(east + 0.007, Y0 + 0.006), 4326),
            ),
        ]
    )
    session.flush()
    return c, needs


SCOPE = Scope(area_code=COMMUNITY[0], start=dt.date(2025, 4, 1))


@pytest.fixture()
def gaps(session, world) -> CoverageGaps:
    return find_coverage_gaps(session, SCOPE, today=TODAY, walk_m=700, viewer=ADMIN)


def test_summary_lists_every_kind_with_its_count(gaps):
    s = gaps.summary()
    assert list(s.columns) == ["kind", "count"]
    assert list(s["kind"]) == list(GAP_KINDS)
    assert set(GAP_LABELS) == set(GAP_KINDS)
    assert list(gaps.gaps) == list(GAP_KINDS) == [g.kind for g in gaps]
    for kind, count in zip(s["kind"], s["count"], strict=True):
        gap = gaps[kind]
        assert gap.kind == kind
        assert count == gap.count == len(gap.items) == len(gap.layer)
        assert gap.layer.crs.to_epsg() == 4326
    assert gaps.metric_crs == "EPSG:32649"


def test_hole_in_community_is_uncovered_area_and_sliver_is_ignored(gaps):
    gap = gaps.uncovered_area
    assert gap.count == 1
    row = gap.items.iloc[0]
    assert row["community_code"] == COMMUNITY[0]
    assert row["area_m2"] == pytest.approx(geod_area(HOLE), rel=0.01)
    assert gap.layer.geometry.iloc[0].symmetric_difference(HOLE).area < 1e-3 * HOLE.area
    whole = geod_area(box(X0, Y0 - 0.002, X0 + 2 * C, Y0 + 2 * C))
    assert row["share"] == pytest.approx(geod_area(HOLE) / whole, rel=0.01)


def test_overlapping_grids_are_reported_once_per_pair(gaps):
    gap = gaps.grid_overlap
    assert gap.count == 1
    row = gap.items.iloc[0]
    assert (row["grid_a"], row["grid_b"]) == (G1, G2)
    assert row["area_m2"] == pytest.approx(geod_area(OVERLAP), rel=0.01)
    assert row["share_a"] == pytest.approx(0.25, rel=0.01)
    # Edge-sharing grids (G1/G3, G3/G4, …) do not overlap.
    assert gap.layer.geometry.iloc[0].symmetric_difference(OVERLAP).area < 1e-3 * OVERLAP.area


def test_needs_outside_and_snapped_are_listed_apart_with_distance(session, gaps, world):
    _, needs = world
    # A need outside every grid belongs to the district level (grid_model.scope): the
    # community lists only the snapped one, the district both.
    assert gaps.needs_outside.count == 0
    assert list(gaps.needs_snapped.items["need_id"]) == [needs["snap"].id]
    district = dataclasses.replace(SCOPE, area_code=COMMUNITY[0][:6])
    at_district = find_coverage_gaps(session, district, today=TODAY, walk_m=700, viewer=ADMIN)
    out, snap = at_district.needs_outside, at_district.needs_snapped
    assert list(out.items["need_id"]) == [needs["out"].id]
    assert list(snap.items["need_id"]) == [needs["snap"].id]
    east = X0 + 2 * C
    expected_out = GEOD.inv(east, Y0 + 0.006, east + 0.007, Y0 + 0.006)[2]
    expected_snap = GEOD.inv(east, Y0 + 0.001, east + 0.0002, Y0 + 0.001)[2]
    assert out.items["distance_to_grid_m"].iloc[0] == pytest.approx(expected_out, rel=0.01)
    assert snap.items["distance_to_grid_m"].iloc[0] == pytest.approx(expected_snap, rel=0.01)
    pt = out.layer.geometry.iloc[0]
    assert (pt.x, pt.y) == pytest.approx((east + 0.007, Y0 + 0.006))


def test_staffing_gaps_judge_assignments_on_today(gaps):
    assert list(gaps.no_assistant.items["grid_code"]) == [G3]  # worker inactive
    assert list(gaps.no_lawyer.items["grid_code"]) == [G2]  # valid_to == today has ended
    mediator = gaps.no_mediator.items
    assert list(mediator["grid_code"]) == [G4]  # ended, and the next one has not started
    assert mediator["last_until"].iloc[0] == days_ago(10)
    # The layer draws the grid polygon.
    assert gaps.no_lawyer.layer.geometry.iloc[0].equals(
        MultiPolygon([box(X0 + C - 0.001, Y0 + C, X0 + 2 * C, Y0 + 2 * C)])
    )


def test_no_recent_diary_or_visit(gaps):
    items = gaps.no_recent_diary.items.set_index("grid_code")
    assert list(items.index) == [G2, G4]
    assert items.loc[G2, "last_date"] == days_ago(45)
    assert items.loc[G2, "days_since"] == 45
    assert items.loc[G4, "last_date"] is None
    assert items["days_since"].isna().tolist() == [False, True]


def test_outreach_window_is_a_parameter(session, world):
    g = find_coverage_gaps(session, SCOPE, today=TODAY, outreach_days=29, viewer=ADMIN)
    assert list(g.no_recent_diary.items["grid_code"]) == [G1, G2, G4]


def test_no_publicity_this_quarter_counts_events_placed_by_location(gaps):
    items = gaps.no_publicity_quarter.items.set_index("grid_code")
    assert list(items.index) == [G2, G4]
    assert set(items["quarter"]) == {"2025Q2"}
    assert items.loc[G2, "last_publicity"] == dt.date(2025, 3, 28)


def test_overdue_needs_with_default_due_dates(gaps, world):
    _, needs = world
    items = gaps.overdue.items
    assert list(items["need_id"]) == [needs["old"].id, needs["late"].id]
    assert list(items["days_overdue"]) == [53, 1]
    assert list(items["due_date_default"]) == [True, False]
    assert items["due_date"].iloc[0] == days_ago(53)


def test_grids_with_needs_but_no_services_in_the_period(gaps):
    items = gaps.needs_without_services.items
    assert list(items["grid_code"]) == [G2]
    assert items["needs"].iloc[0] == 2  # the stale diary entry and the phone call
    assert items["period_end"].iloc[0] == TODAY


def test_needs_beyond_walking_distance_match_geodesic_distances(gaps, session):
    from grid_model.models import Need

    room = (X0 + 0.002, Y0 + 0.006)
    rows = session.query(Need.id, Need.lon, Need.lat, Need.reported_at, Need.grid_code).all()
    # the community's list: needs of its grids (outside every grid is the district's)
    in_period = [r for r in rows if r.reported_at >= SCOPE.start and r.grid_code]
    expected = {r.id for r in in_period if GEOD.inv(room[0], room[1], r.lon, r.lat)[2] > 700}
    assert 1 <= len(expected) < len(in_period)
    items = gaps.beyond_walking_distance.items
    assert set(items["need_id"]) == expected
    assert (items["distance_m"] > 700).all()
    assert set(items["nearest_point"]) == {"R1"}  # the library is not a legal service point


def test_lists_carry_no_personal_data(gaps):
    for gap in gaps:
        assert not PERSONAL & set(gap.items.columns), gap.kind
        assert not PERSONAL & set(gap.layer.columns), gap.kind


def test_viewer_without_personal_rights_does_not_see_people_under_correction(session, world):
    add_need(session, grid_code=G1, reported_at=days_ago(90), under_correction=True)
    admin = find_coverage_gaps(session, SCOPE, today=TODAY, viewer=Viewer("admin"))
    leader = find_coverage_gaps(
        session, SCOPE, today=TODAY, viewer=Viewer("community_leader", COMMUNITY[0])
    )
    assert admin.overdue.count == 3
    assert leader.overdue.count == 2


def test_area_gaps_kept_across_visits_follow_every_boundary_change(session, world, gaps):
    def area_gaps(g):
        return [(k, g[k].items.to_dict("records"), list(g[k].layer.geometry.to_wkb()))
                for k in ("uncovered_area", "grid_overlap")]  # fmt: skip

    # A second visit takes them kept, equal to computing them afresh; changing what a visit
    # got changes nothing kept.
    again = find_coverage_gaps(session, SCOPE, today=TODAY, walk_m=700, viewer=ADMIN)
    assert area_gaps(again) == area_gaps(gaps)
    again.grid_overlap.items.loc[0, "area_m2"] = -1.0
    again.uncovered_area.layer["geometry"] = None
    kept = find_coverage_gaps(session, SCOPE, today=TODAY, walk_m=700, viewer=ADMIN)
    assert area_gaps(kept) == area_gaps(gaps)
    coverage._AREA_GAPS._results.clear()
    assert area_gaps(find_coverage_gaps(session, SCOPE, today=TODAY, walk_m=700, viewer=ADMIN)) == (
        area_gaps(gaps)
    )
    # G2 pulled back east of G1 (no overlap), the community cut to the grids (the hole gone,
    # no more than slivers left): both seen on the next visit.
    g2 = session.scalars(select(Grid).where(Grid.code == G2)).one()
    g2.boundary = from_shape(MultiPolygon([box(X0 + C, Y0 + C, X0 + 2 * C, Y0 + 2 * C)]), 4326)
    session.get(Area, COMMUNITY[0]).boundary = from_shape(
        MultiPolygon([box(X0, Y0, X0 + 2 * C, Y0 + 2 * C)]), 4326
    )
    session.flush()
    after = find_coverage_gaps(session, SCOPE, today=TODAY, walk_m=700, viewer=ADMIN)
    assert after.grid_overlap.count == 0
    assert after.uncovered_area.items["area_m2"].sum() < 10  # the hole was ~182,000 m²


def test_grid_scope_still_sees_its_community_hole(session, world):
    g = find_coverage_gaps(session, Scope(area_code=G4), today=TODAY, viewer=ADMIN)
    assert g.uncovered_area.count == 1
    assert g.grid_overlap.count == 0  # G1/G2 are not in scope
    assert list(g.no_mediator.items["grid_code"]) == [G4]
    assert g.no_lawyer.count == 0


def test_empty_scope_gives_empty_gaps(session, world):
    g = find_coverage_gaps(session, Scope(area_code="110101"), today=TODAY, viewer=ADMIN)
    assert g.summary()["count"].sum() == 0
    assert g.uncovered_area.layer.crs.to_epsg() == 4326


def test_community_without_boundary_is_noted(session, world):
    session.get(Area, COMMUNITY[0]).boundary = None
    session.flush()
    g = find_coverage_gaps(session, SCOPE, today=TODAY, viewer=ADMIN)
    assert g.uncovered_area.count == 0
    assert any(COMMUNITY[0] in note for note in g.notes)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"today": "2025-05-20"}, "today"),
        ({"today": TODAY, "outreach_days": -1}, "outreach_days"),
        ({"today": TODAY, "walk_m": 0}, "walk_m"),
    ],
)
def test_bad_arguments_name_the_field(session, kwargs, field):
    from grid_model.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match=field):
        find_coverage_gaps(session, SCOPE, **kwargs, viewer=ADMIN)
