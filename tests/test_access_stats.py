"""The access summary and the hot spots' counts: ``need_access``, ``suggest_service_points``,
the coverage gaps and the hot spot counts read through the summaries equal the plain
computation over every need, whatever the scope, the viewer and the writes since the last
refresh — on both backends."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest
from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import func, select, update

from grid_model.analysis.counts import grid_need_counts
from grid_model.analysis.emerging import emerging_table
from grid_model.analysis.hotspots import hotspot_table
from grid_model.gaps import access_stats
from grid_model.gaps.access import need_access, suggest_service_points
from grid_model.measures import need_stats
from grid_model.models import Need, NeedAccessStat, NeedStatsDirty, ServicePoint
from grid_model.scope import Scope, Viewer
from tests.factories import CELL_DEG, COMMUNITY, add_need, make_community
from tests.test_need_stats import FIRST, _random_hold, _random_needs, _random_scope

pytestmark = pytest.mark.db

ADMIN = Viewer.local_admin("test")
LEADER = Viewer(role="community_leader")
VIEWERS = (ADMIN, LEADER, Viewer(role="grid_assistant", area_code=f"{COMMUNITY[0]}001"))


@pytest.fixture()
def community(session):
    c = make_community(session, n_grids=6)
    for i, code in enumerate(c.grid_codes[:2]):
        lon, lat = c.centre(code)
        session.add(
            ServicePoint(
                code=f"SP{i}",
                name=f"room {i}",
                kind=("legal_service_room", "legal_aid_station")[i],
                community_code=COMMUNITY[0],
                location=from_shape(Point(lon, lat), 4326),
            )
        )
    session.flush()
    return c


def _spread(session, community, rng: random.Random) -> None:
    """Move every need in a grid to a random place in it, and put some under correction:
    distances differ need by need."""
    for need in session.scalars(select(Need).where(Need.grid_code.is_not(None))):
        lon, lat = community.centre(need.grid_code)
        need.lon = lon + rng.uniform(-0.45, 0.45) * CELL_DEG
        need.lat = lat + rng.uniform(-0.45, 0.45) * CELL_DEG
        need.location = from_shape(Point(need.lon, need.lat), 4326)
        need.under_correction = rng.random() < 0.15
    session.flush()


def _needs(session, community, n: int, seed: int) -> None:
    rng = random.Random(seed)
    _random_needs(session, community.grid_codes, n, rng)
    _spread(session, community, rng)
    holds = random.Random(seed + 1)
    for need in session.scalars(select(Need).limit(20)):
        _random_hold(session, need, holds)


def _assert_access_same(session, scope: Scope, viewer: Viewer, walk_m: float) -> None:
    fast = need_access(session, scope, viewer, walk_m=walk_m)
    plain = need_access(session, scope, viewer, walk_m=walk_m, summary=False)
    what = f"need_access({scope}, {viewer.role}, walk_m={walk_m})"
    for got in (fast, plain):  # aligned, in no particular order
        assert len(got.ids) == len(got.distances) == len(set(got.ids.tolist())), what
    np.testing.assert_array_equal(
        fast.distances[np.argsort(fast.ids)], plain.distances[np.argsort(plain.ids)], err_msg=what
    )
    np.testing.assert_array_equal(fast.far_ids, plain.far_ids, err_msg=what)
    np.testing.assert_array_equal(fast.far_distances, plain.far_distances, err_msg=what)
    assert fast.beyond["need_id"].sort_values().tolist() == fast.far_ids.tolist(), what
    lean = need_access(session, scope, viewer, walk_m=walk_m, details=False)
    assert lean.beyond is None and lean.beyond_count == fast.beyond_count, what
    assert fast.median_m == plain.median_m, what
    pdt.assert_frame_equal(fast.beyond, plain.beyond, obj=what)


def _assert_counts_same(session, scope: Scope) -> None:
    for by_month in (False, True):
        keys = ["grid_code", "month"] if by_month else ["grid_code"]
        got = [grid_need_counts(session, scope, by_month=by_month, summary=s) for s in (1, 0)]
        for frame in got:
            if by_month:
                frame["month"] = pd.to_datetime(frame["month"])
        fast, plain = (f.groupby(keys)["count"].sum() for f in got)
        pdt.assert_series_equal(fast, plain, obj=f"grid_need_counts({scope}, {by_month})")


def _summarised(session, scope: Scope) -> bool:
    points = access_stats.access_points(session)
    return access_stats.read_distances(session, scope, points, hide_corrections=False) is not None


def test_random_scopes_and_viewers_match_the_plain_computation(session, community):
    _needs(session, community, 400, 7)
    need_stats.refresh(session)
    assert session.scalar(select(func.count()).select_from(NeedStatsDirty)) == 0
    assert session.scalar(select(func.count()).select_from(NeedAccessStat)) > 50
    rng = random.Random(8)
    used = 0
    for _ in range(40):
        scope = _random_scope(rng, community.grid_codes)
        used += _summarised(session, scope)
        _assert_access_same(session, scope, rng.choice(VIEWERS), rng.choice([150.0, 300.0, 600.0]))
        _assert_counts_same(session, scope)
    assert used > 15  # the summary was actually read in many of them


def test_writes_since_the_refresh_are_measured_from_needs_until_refreshed(session, community):
    _needs(session, community, 200, 11)
    need_stats.refresh(session)
    g0, g1 = community.grid_codes[:2]
    first = session.scalars(select(Need).where(Need.status == "closed").order_by(Need.id)).first()
    lon, lat = community.centre(g1)
    writes = [
        lambda: add_need(
            session,
            grid_code=g0,
            status="closed",
            reported_at=FIRST,
            closed_at=FIRST,
            under_correction=True,
        ),  # fmt: skip
        # a closed need moved within its grid, and one newly under correction: marked on
        # SQLite by migration 0011's trigger
        lambda: session.execute(
            update(Need).where(Need.id == first.id).values(lon=lon + 0.001, lat=lat - 0.001)
        ),
        lambda: session.execute(
            update(Need)
            .where((Need.grid_code == g1) & (Need.status == "closed"))
            .values(under_correction=True)
        ),
        lambda: session.execute(
            update(Need).where(Need.id == first.id).values(status="in_progress", closed_at=None)
        ),
    ]
    scopes = [Scope(), Scope(area_code=g1), Scope(start=FIRST.replace(month=12))]
    for write in writes:
        write()
        session.flush()
        assert session.scalar(select(func.count()).select_from(NeedStatsDirty)) > 0
        for scope in scopes:
            for viewer in (ADMIN, LEADER):
                _assert_access_same(session, scope, viewer, 300.0)
        need_stats.refresh(session)
        for scope in scopes:
            for viewer in (ADMIN, LEADER):
                _assert_access_same(session, scope, viewer, 300.0)


def test_other_service_points_are_measured_from_needs_until_rebuilt(session, community):
    _needs(session, community, 150, 3)
    need_stats.refresh(session)
    assert _summarised(session, Scope())
    lon, lat = community.centre(community.grid_codes[4])
    session.add(
        ServicePoint(code="SP9", name="new room", kind="legal_service_room",
                     community_code=COMMUNITY[0], location=from_shape(Point(lon, lat), 4326))
    )  # fmt: skip
    session.flush()
    assert not _summarised(session, Scope())  # built for the old points: not used
    _assert_access_same(session, Scope(), LEADER, 300.0)
    need_stats.refresh(session, full=True)
    assert _summarised(session, Scope())
    _assert_access_same(session, Scope(), LEADER, 300.0)


def test_the_pages_services_through_the_summaries_equal_the_plain_ones(session, community):
    _needs(session, community, 300, 5)
    need_stats.refresh(session)
    scope = Scope(area_code=COMMUNITY[0])
    for kwargs in ({"p": 1}, {"p": 2, "candidates": "needs_hexes"}):
        fast = suggest_service_points(session, scope, walk_m=200, **kwargs)
        plain = suggest_service_points(session, scope, walk_m=200, summary=False, **kwargs)
        pdt.assert_frame_equal(pd.DataFrame(fast), pd.DataFrame(plain))
        assert fast.attrs == plain.attrs
    for viewer in (ADMIN, LEADER):
        fast = hotspot_table(session, scope, viewer, permutations=99)
        plain = hotspot_table(session, scope, viewer, permutations=99, summary=False)
        pdt.assert_frame_equal(fast, plain)
    start = Scope(area_code=COMMUNITY[0], start=FIRST, end=FIRST.replace(year=FIRST.year + 1))
    pdt.assert_frame_equal(
        emerging_table(session, start, ADMIN), emerging_table(session, start, ADMIN, summary=False)
    )


NEED_LISTS = ("needs_outside", "needs_snapped", "overdue", "beyond_walking_distance")


def test_coverage_gap_lists_cut_to_a_limit_are_the_first_of_the_whole_lists(session, community):
    import datetime as dt

    from grid_model.gaps.coverage import GAP_KINDS, find_coverage_gaps

    _needs(session, community, 300, 5)
    need_stats.refresh(session)
    rng = random.Random(9)
    today = dt.date(2025, 12, 31)
    cut_seen = 0
    for _ in range(8):
        scope, viewer = _random_scope(rng, community.grid_codes), rng.choice(VIEWERS)
        walk_m = rng.choice([150.0, 300.0])
        whole = find_coverage_gaps(session, scope, today=today, viewer=viewer, walk_m=walk_m)
        for limit in (0, 1, 7):
            cut = find_coverage_gaps(
                session, scope, today=today, viewer=viewer, walk_m=walk_m, list_limit=limit
            )
            for kind in GAP_KINDS:
                what = f"{kind} of {scope} for {viewer.role}, list_limit={limit}"
                assert cut[kind].count == whole[kind].count, what
                assert whole[kind].complete, what
                expected = whole[kind].items
                if kind in NEED_LISTS:
                    expected = expected.head(limit)
                    assert cut[kind].complete == (whole[kind].count <= limit), what
                    cut_seen += not cut[kind].complete
                got = cut[kind].items.reset_index(drop=True)
                if expected.empty:  # an empty frame's columns have no dtype to compare
                    assert got.empty and list(got.columns) == list(expected.columns), what
                else:
                    pdt.assert_frame_equal(got, expected.reset_index(drop=True), obj=what)
                assert len(cut[kind].layer) == len(cut[kind].items), what
    assert cut_seen > 10  # lists were actually cut


def test_a_list_limit_is_a_whole_number():
    import datetime as dt

    from grid_model.errors import InvalidInputError
    from grid_model.gaps.coverage import find_coverage_gaps

    for bad in (-1, 2.5, True, "10"):
        with pytest.raises(InvalidInputError, match="list_limit"):
            find_coverage_gaps(
                None, Scope(), today=dt.date(2025, 1, 1), viewer=ADMIN, list_limit=bad
            )
