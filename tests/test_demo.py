"""geodata.demo: determinism, scales, tiling, codes, needs, staff and services."""

from __future__ import annotations

import datetime as dt
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from geodata.crs import gcj02_to_wgs84
from geodata.demo import END, START, build_demo

YUDE = "440703006106"
METRIC = "EPSG:32649"
TIME_LIMITS = {
    "consultation": 7,
    "publicity": 7,
    "legal_aid": 30,
    "mediation": 30,
    "correction": 30,
    "other": 15,
}
DISPUTE_TYPES = {
    "婚姻家庭纠纷",
    "邻里纠纷",
    "房屋宅基地纠纷",
    "合同纠纷",
    "生产经营纠纷",
    "损害赔偿纠纷",
    "山林土地纠纷",
    "征地拆迁纠纷",
    "环境污染纠纷",
    "劳动争议纠纷",
    "消费纠纷",
    "医疗纠纷",
    "道路交通事故纠纷",
    "物业纠纷",
    "其它纠纷",
}


@pytest.fixture(scope="module")
def community():
    return build_demo(seed=0)


@pytest.fixture(scope="module")
def street():
    return build_demo(scale="street", seed=0)


@pytest.fixture(params=["community", "street"])
def demo(request, community, street):
    return community if request.param == "community" else street


def _points(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs="EPSG:4326"
    )


def _located(demo) -> pd.DataFrame:
    """Needs with the code of the grid that contains them (inside needs only)."""
    joined = gpd.sjoin(
        _points(demo.needs), demo.grids[["code", "geometry"]], predicate="within", how="inner"
    )
    return pd.DataFrame(joined.drop(columns="geometry")).rename(columns={"code": "grid_code"})


def _holder(assignments: pd.DataFrame, role: str, grid_codes, days) -> pd.Series:
    """The worker holding ``role`` on each (grid, day) pair; raises unless exactly one."""
    pairs = pd.DataFrame({"grid_code": list(grid_codes), "day": list(days)})
    pairs["row"] = range(len(pairs))
    rows = assignments[assignments["role"] == role]
    merged = pairs.merge(rows, on="grid_code")
    end = merged["valid_to"].map(lambda d: dt.date.max if d is None else d)
    held = merged[(merged["valid_from"] <= merged["day"]) & (merged["day"] < end)]
    per_pair = held.groupby("row").size().reindex(pairs["row"], fill_value=0)
    assert (per_pair == 1).all(), (
        f"{role}: pairs without exactly one holder: {per_pair[per_pair != 1]}"
    )
    return held.set_index("row").loc[pairs["row"], "worker_code"].reset_index(drop=True)


# --- arguments and determinism -------------------------------------------------------------


def test_same_seed_gives_identical_frames_and_other_seed_differs(community):
    again = build_demo(seed=0)
    for name in ("areas", "grids"):
        assert_geodataframe_equal(getattr(again, name), getattr(community, name))
    for name in ("workers", "assignments", "needs", "service_events", "service_points"):
        pd.testing.assert_frame_equal(getattr(again, name), getattr(community, name))

    other = build_demo(seed=1)
    assert not other.needs[["lon", "lat"]].equals(community.needs[["lon", "lat"]])
    assert not other.grids.geometry.geom_equals(community.grids.geometry).all()
    assert not other.workers["name"].equals(community.workers["name"])


def test_yude_grids_are_the_same_at_both_scales(community, street):
    yude = street.grids[street.grids["community_code"] == YUDE].reset_index(drop=True)
    assert_geodataframe_equal(yude, community.grids)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"scale": "city"}, "scale"),
        ({"needs": -1}, "needs"),
        ({"needs": 1_000_001}, "needs"),
        ({"needs": True}, "needs"),
        ({"needs": 10.5}, "needs"),
        ({"seed": -1}, "seed"),
        ({"seed": "0"}, "seed"),
    ],
)
def test_bad_arguments_name_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        build_demo(**kwargs)


# --- scales and areas ----------------------------------------------------------------------


def test_community_scale_is_yude_with_eleven_grids(community):
    areas = community.areas.set_index("code")
    assert list(areas.index) == ["440703", "440703006", YUDE]
    assert list(areas["level"]) == ["district", "street", "community"]
    assert list(areas["name"]) == ["蓬江区", "环市街道", "育德社区"]
    assert list(areas["parent_code"]) == [None, "440703", "440703006"]
    assert list(community.grids["code"]) == [f"{YUDE}{i:03d}" for i in range(1, 12)]
    assert community.grids["name"].iloc[0] == "育德社区第1网格"
    assert len(community.needs) == 1_200
    assert set(community.service_points["kind"]) == {
        "legal_service_room",
        "legal_aid_station",
        "legal_school",
        "library",
    }


def test_street_scale_has_18_communities_of_8_to_12_grids(street):
    communities = street.areas[street.areas["level"] == "community"]
    assert len(communities) == 18
    assert communities["code"].str.fullmatch(r"440703006\d{3}").all()
    assert not communities["name"].str.contains("居委会").any()
    assert set(communities["parent_code"]) == {"440703006"}
    per_community = street.grids.groupby("community_code").size()
    assert set(per_community.index) == set(communities["code"])
    assert per_community.between(8, 12).all()
    assert per_community[YUDE] == 11
    assert len(street.needs) == 1_200 * 18


def test_communities_are_town_sized_and_tile_the_street(street):
    areas = street.areas.set_index("code")
    communities = areas[areas["level"] == "community"]
    assert (communities.to_crs(METRIC).area / 1e6).between(0.2, 2.5).all()
    # tiling is checked in the output system: reprojecting bends straight edges by ~1e-6
    shape = areas.geometry["440703006"]
    geoms = np.asarray(communities.geometry.array)
    assert shapely.symmetric_difference(shapely.union_all(geoms), shape).area < 1e-9 * shape.area
    assert abs(shapely.area(geoms).sum() - shape.area) < 1e-9 * shape.area
    assert areas.geometry["440703"].contains(shape.buffer(-1e-5))


def test_grids_tile_their_community(demo):
    areas = demo.areas.set_index("code").geometry
    assert (demo.grids.geom_type == "MultiPolygon").all()
    assert demo.grids.is_valid.all()
    for code, grids in demo.grids.groupby("community_code"):
        shape = areas[code]
        geoms = np.asarray(grids.geometry.array)
        union = shapely.union_all(geoms)
        assert shapely.symmetric_difference(union, shape).area < 1e-9 * shape.area, code
        left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
        pair = left < right
        overlap = shapely.area(shapely.intersection(geoms[left[pair]], geoms[right[pair]]))
        assert (overlap < 1e-9 * shape.area).all(), code
        # every grid touches another one: no grid floats alone in the community
        assert set(left[pair]) | set(right[pair]) == set(range(len(geoms)))


def test_grid_codes_number_rows_north_to_south_and_west_to_east(demo):
    for code, grids in demo.grids.groupby("community_code"):
        n = len(grids)
        assert grids["code"].str.fullmatch(rf"{code}\d{{3}}").all()
        assert list(grids["code"].str[-3:].astype(int)) == list(range(1, n + 1))
        xy = shapely.get_coordinates(shapely.centroid(grids.geometry.array))
        # rows: grids ranked by centroid latitude, cut into round(sqrt(n)) near-equal bands
        rows = np.array_split(np.argsort(-xy[:, 1], kind="stable"), round(math.sqrt(n)))
        expected = np.concatenate([r[np.argsort(xy[r, 0], kind="stable")] for r in rows])
        assert list(expected) == list(range(n)), code
        first_row, last_row = rows[0], rows[-1]
        assert xy[first_row, 1].min() > xy[last_row, 1].max()


def test_grid_population_is_realistic(demo):
    grids = demo.grids
    assert grids["households"].between(300, 600).all()
    persons = grids["population"] / grids["households"]
    assert persons.between(2.2, 3.0).all()
    assert abs(persons.mean() - 2.6) < 0.1


def test_output_is_wgs84_and_yude_sits_at_its_converted_point(community):
    assert community.areas.crs.to_epsg() == 4326
    assert community.grids.crs.to_epsg() == 4326
    lon, lat = gcj02_to_wgs84(113.088217, 22.608589)
    yude = community.areas.set_index("code").loc[[YUDE]].to_crs(METRIC).geometry
    point = gpd.GeoSeries.from_xy([lon], [lat], crs="EPSG:4326").to_crs(METRIC)
    assert yude.iloc[0].centroid.distance(point.iloc[0]) < 1_000
    assert yude.iloc[0].contains(point.iloc[0])


# --- staff ---------------------------------------------------------------------------------


def test_workers_look_real(street):
    workers = street.workers
    assert workers["code"].is_unique
    assert workers["name"].is_unique
    assert workers["name"].str.fullmatch(r"[\u4e00-\u9fff]{2,4}").all()
    assert workers["phone"].str.fullmatch(r"1[3-9]\d{9}").all()
    assert set(workers["role"]) == {
        "grid_assistant",
        "mediator",
        "lawyer",
        "info_officer",
        "volunteer",
    }
    assert set(street.assignments["worker_code"]) == set(workers["code"])


def test_every_grid_is_staffed_except_one_lawyer_vacancy(street):
    grids = street.grids["code"]
    current = street.assignments[street.assignments["valid_to"].isna()]
    for role in ("grid_assistant", "mediator"):
        held = current[current["role"] == role].groupby("grid_code").size()
        assert held.reindex(grids, fill_value=0).eq(1).all(), role
    lawyers = current[current["role"] == "lawyer"].groupby("grid_code").size()
    assert lawyers.reindex(grids, fill_value=0).value_counts().to_dict() == {
        1: len(grids) - 1,
        0: 1,
    }
    covered = set(current.loc[current["role"] == "info_officer", "grid_code"])
    assert covered == set(grids)


def test_assistant_history_closes_the_old_row(demo):
    rows = demo.assignments[demo.assignments["role"] == "grid_assistant"]
    closed = rows[rows["valid_to"].notna()]
    assert len(closed) == demo.grids["community_code"].nunique()
    for _, old in closed.iterrows():
        assert START <= old["valid_to"] < dt.date(2025, 1, 1)
        successor = rows[(rows["grid_code"] == old["grid_code"]) & rows["valid_to"].isna()]
        assert list(successor["valid_from"]) == [old["valid_to"]]
        active = demo.workers.set_index("code").loc[old["worker_code"], "active"]
        assert not active


# --- needs ---------------------------------------------------------------------------------


def test_needs_columns_and_vocabularies(demo):
    needs = demo.needs
    assert list(needs.columns) == [
        "id",
        "reported_at",
        "lon",
        "lat",
        "category",
        "dispute_type",
        "description",
        "source",
        "status",
        "outcome",
        "due_date",
        "closed_at",
        "assistant",
        "resident_name",
        "resident_phone",
        "under_correction",
        "priority",
        "dispatched_at",
        "accepted_at",
        "handled_at",
        "verified_at",
        "visited_at",
        "satisfaction",
        "rework",
    ]
    assert needs["id"].is_unique
    assert set(needs["category"]) == set(TIME_LIMITS)
    assert set(needs["source"]) == {"diary", "phone", "online", "walk_in"}
    assert set(needs["status"]) == {"recorded", "dispatched", "accepted", "returned",
                                    "in_progress", "on_hold", "handled", "closed"}  # fmt: skip
    # the loop's moments follow one another; a closed case was verified on its closing day
    for early, late in (("dispatched_at", "accepted_at"), ("accepted_at", "handled_at"),
                        ("handled_at", "verified_at"), ("verified_at", "visited_at")):  # fmt: skip
        both = needs[early].notna() & needs[late].notna()
        assert (needs.loc[both, early] <= needs.loc[both, late]).all(), (early, late)
    closed = needs["status"] == "closed"
    assert (needs.loc[closed, "verified_at"].dt.date == needs.loc[closed, "closed_at"]).all()
    assert needs.loc[needs["satisfaction"].notna(), "visited_at"].notna().all()
    mediation = needs["category"] == "mediation"
    assert needs.loc[mediation, "dispute_type"].isin(DISPUTE_TYPES).all()
    assert needs.loc[~mediation, "dispute_type"].isna().all()
    assert needs["resident_phone"].str.fullmatch(r"1[3-9]\d{9}").all()
    assert needs["description"].str.len().gt(4).all()
    correction = needs["category"] == "correction"
    assert not needs.loc[~correction, "under_correction"].any()
    assert 0.01 < needs["under_correction"].mean() < 0.03


def test_needs_dates_are_consistent(demo):
    needs = demo.needs
    reported = pd.to_datetime(needs["reported_at"])
    assert reported.min().date() >= START and reported.max().date() <= END
    assert reported.is_monotonic_increasing
    limit = needs["category"].map(TIME_LIMITS)
    due = pd.to_datetime(needs["due_date"])
    assert (due - reported).dt.days.eq(limit).all()

    closed = needs["status"] == "closed"
    assert needs.loc[closed, "closed_at"].notna().all()
    assert needs.loc[~closed, "closed_at"].isna().all()
    assert needs.loc[closed, "outcome"].notna().all()
    assert needs.loc[~closed, "outcome"].isna().all()
    closed_at = pd.to_datetime(needs.loc[closed, "closed_at"])
    assert (closed_at >= reported[closed]).all()
    assert closed_at.max().date() <= END
    late = closed_at > due[closed]
    assert 0.01 < late.mean() < 0.2  # most on time, some late

    open_ = needs[~closed]
    assert len(open_) > 0
    assert (pd.to_datetime(open_["due_date"]).dt.date < END).any()  # overdue ones
    assert (pd.to_datetime(open_["reported_at"]).dt.date > END - dt.timedelta(days=7)).any()


def test_outcomes_fit_the_category(street):
    needs = street.needs[street.needs["status"] == "closed"]
    mediation = needs["category"] == "mediation"
    assert set(needs.loc[~mediation, "outcome"]) <= {"resolved", "referred", "rejected"}
    share = needs.loc[mediation, "outcome"].value_counts(normalize=True)
    assert share["mediated"] > 0.6
    assert set(share.index) <= {"mediated", "mediation_failed", "referred"}


def test_category_mix_and_yude_volumes_follow_the_article(community, street):
    share = street.needs["category"].value_counts(normalize=True)
    assert list(share.index[:2]) == ["consultation", "publicity"]
    assert share["mediation"] > share["legal_aid"] > 0
    assert share["correction"] < 0.03
    mediated = (community.needs["outcome"] == "mediated").sum()
    assert 15 <= mediated <= 50  # the article: about 30 disputes mediated
    assert 180 <= len(community.service_events) <= 220  # about 200 services


def test_needs_are_seasonal_and_diaries_pause_at_weekends(street):
    needs = street.needs
    reported = pd.to_datetime(needs["reported_at"])
    month = reported.dt.month
    mediation = month[needs["category"] == "mediation"].value_counts()
    peak = mediation.reindex([1, 2, 7, 8]).mean()
    rest = mediation.drop([1, 2, 7, 8]).mean()
    assert peak > 1.2 * rest
    weekend = reported.dt.day_of_week >= 5
    diary = needs["source"] == "diary"
    # per day: 2 weekend days against 5 weekdays a week
    assert (diary & weekend).sum() / 2 < 0.5 * (diary & ~weekend).sum() / 5


def test_needs_lie_in_the_grids_except_a_few(demo):
    needs = demo.needs
    minx, miny, maxx, maxy = demo.areas.set_index("code").geometry["440703"].bounds
    assert needs["lon"].between(minx, maxx).all() and needs["lat"].between(miny, maxy).all()
    located = _located(demo)
    outside = needs[~needs["id"].isin(located["id"])]
    n = len(needs)
    assert len(outside) == round(0.005 * n) + 2
    grids = demo.grids.to_crs(METRIC)
    gap = _points(outside).to_crs(METRIC).distance(shapely.union_all(grids.geometry.array))
    near, far = gap[gap < 1_000], gap[gap >= 1_000]
    assert near.between(0.5, 20).all()
    assert len(far) == 2 and (far > 1_500).all()
    assert outside.loc[far.index, "assistant"].isna().all()


def test_hot_grids_are_genuinely_hotter(community):
    located = _located(community)
    grids = community.grids.set_index("code")
    rate = located.groupby("grid_code").size().reindex(grids.index, fill_value=0)
    rate = rate / grids["population"]
    assert rate.max() > 3 * rate.median()


def test_assistant_is_the_one_assigned_on_the_report_date(demo):
    located = _located(demo).reset_index(drop=True)
    holder = _holder(
        demo.assignments, "grid_assistant", located["grid_code"], located["reported_at"]
    )
    assert (holder.to_numpy() == located["assistant"].to_numpy()).all()
    # the history matters: some needs were recorded by a former assistant
    former = demo.workers.loc[~demo.workers["active"], "code"]
    assert located["assistant"].isin(former).any()


def test_assistant_of_needs_just_outside_is_the_nearest_grids(street):
    located = _located(street)
    outside = street.needs[~street.needs["id"].isin(located["id"])]
    outside = outside[outside["assistant"].notna()]
    points = _points(outside).to_crs(METRIC)
    grids = street.grids[["code", "geometry"]].to_crs(METRIC)
    nearest = gpd.sjoin_nearest(points, grids, how="left").sort_index()
    holder = _holder(street.assignments, "grid_assistant", nearest["code"], nearest["reported_at"])
    assert (holder.to_numpy() == nearest["assistant"].to_numpy()).all()


@pytest.mark.slow
def test_hundred_thousand_needs(street):
    demo = build_demo(scale="street", needs=100_000, seed=7)
    needs = demo.needs
    assert len(needs) == 100_000 and needs["id"].is_unique
    assert needs["lon"].notna().all() and needs["lat"].notna().all()
    assert needs["assistant"].notna().sum() == 100_000 - 2
    assert len(_located(demo)) == 100_000 - round(0.005 * 100_000) - 2


def test_zero_needs():
    needs = build_demo(needs=0).needs
    assert len(needs) == 0 and "assistant" in needs.columns


# --- services ------------------------------------------------------------------------------


def test_service_events(demo):
    events = demo.service_events
    assert events["id"].is_unique
    assert set(events["kind"]) == {
        "film_screening",
        "lecture",
        "legal_school_class",
        "leaflet_drive",
        "consultation_session",
        "mediation_session",
    }
    held = pd.to_datetime(events["held_on"])
    assert held.min().date() >= START and held.max().date() <= END
    films = events[events["kind"] == "film_screening"]
    per_month = films.groupby([films["grid_code"].str[:12], held[films.index].dt.to_period("M")])
    assert (
        per_month.size().eq(2).all()
        and per_month.ngroups == 24 * demo.grids["community_code"].nunique()
    )
    located = gpd.sjoin(
        _points(events), demo.grids[["code", "geometry"]], predicate="intersects"
    ).drop_duplicates("id")
    assert (located["code"] == located["grid_code"]).all() and len(located) == len(events)
    assert events["attendees"].gt(0).all()


def test_service_points_sit_in_their_community(demo):
    points = demo.service_points
    assert points["code"].is_unique
    yude = points[points["community_code"] == YUDE]
    assert sorted(yude["name"]) == sorted(
        ["育德社区法律服务室", "育德社区法律援助工作站", "育德社区法制学校", "育德社区图书室"]
    )
    areas = demo.areas.set_index("code").geometry
    inside = [
        areas[c].contains(shapely.Point(x, y))
        for c, x, y in points[["community_code", "lon", "lat"]].itertuples(index=False)
    ]
    assert all(inside)
    assert points["opening_hours"].str.len().gt(0).all()


def test_street_leaves_access_gaps(street):
    rooms = street.service_points[
        street.service_points["kind"].isin(["legal_service_room", "legal_aid_station"])
    ]
    assert (
        rooms.groupby("community_code")
        .size()
        .reindex(street.areas.loc[street.areas["level"] == "community", "code"])
        .ge(1)
        .all()
    )
    covered = shapely.union_all(_points(rooms).to_crs(METRIC).buffer(800).array)
    shape = street.areas.set_index("code").to_crs(METRIC).geometry["440703006"]
    assert shapely.difference(shape, covered).area > 0.02 * shape.area
