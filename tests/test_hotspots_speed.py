"""The hot spot pages' fast paths against the plain computations they replace: Gi* without
libpysal weights objects against esda's ``G_Local`` (same z, same seeded pseudo p-values),
contiguity as sparse matrices against libpysal's ``Queen`` and ``W``, the space-time weights
against their definition, Mann-Kendall on whole columns against :func:`mann_kendall`, and the
counts one read gives the whole Hot spots page against each statistic's own read (both
backends)."""

from __future__ import annotations

import datetime as dt
import random
import warnings
from dataclasses import replace

import esda
import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest
import scipy.sparse as sp
import shapely
from libpysal.weights import WSP, Queen
from sqlalchemy import func, select

from grid_model.analysis import hotspots
from grid_model.analysis.counts import grid_need_counts, read_need_months
from grid_model.analysis.emerging import (
    CATEGORIES,
    _categories,
    _cube,
    _mann_kendall_columns,
    classify_emerging,
    emerging_change,
    emerging_table,
    last_whole_month_end,
    mann_kendall,
    space_time_adjacency,
    space_time_weights,
    what_changed,
)
from grid_model.analysis.gistar import _local_gi_star
from grid_model.analysis.hexagons import hex_adjacency, hex_weights
from grid_model.analysis.hotspots import hotspot_months, hotspot_table
from grid_model.db.sqldates import month_start
from grid_model.errors import InvalidInputError
from grid_model.measures import need_stats
from grid_model.models import Need, NeedMonthStat, NeedStatsDirty
from grid_model.scope import Scope, Viewer
from tests.factories import make_community
from tests.test_hotspots import square_grids
from tests.test_need_stats import FIRST, _random_needs, _random_scope

ADMIN = Viewer.local_admin("test")


def random_graph(rng: np.random.Generator, n: int, density: float) -> sp.csr_matrix:
    m = sp.random(n, n, density=density, random_state=int(rng.integers(2**31)))
    a = ((m + m.T) > 0).astype(float).tocsr()
    a.setdiag(0)
    a.eliminate_zeros()
    return a


def esda_gi_star(y: np.ndarray, a: sp.csr_matrix, permutations: int, seed: int):
    """What the project computed before: esda's Gi* on a libpysal ``W``."""
    w = WSP(a).to_W(silence_warnings=True)
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore")
        return esda.G_Local(
            y,
            w,
            transform="B",
            star=True,
            permutations=permutations,
            seed=seed,
            n_jobs=1,
            keep_simulations=False,
        )


# --------------------------------------------------------------------------- Gi*


@pytest.mark.parametrize("permutations", [0, 99, 999])
def test_gi_star_equals_esda_on_random_graphs(permutations):
    rng = np.random.default_rng(permutations)
    for trial in range(12):
        n = int(rng.integers(4, 90))
        a = random_graph(rng, n, float(rng.uniform(0.02, 0.4))).tolil()
        a[0, :] = 0  # an island (row and column)
        a[:, 0] = 0
        a = a.tocsr()
        y = rng.poisson(4, n).astype(float) if trial % 2 else rng.gamma(2.0, 1.7, n)
        seed = int(rng.integers(10**6))
        z, p, neighbours = _local_gi_star(y, a, permutations=permutations, seed=seed)
        g = esda_gi_star(y, a, permutations, seed)
        finite = np.isfinite(np.asarray(g.Zs))
        np.testing.assert_array_equal(z[finite], np.asarray(g.Zs)[finite])
        assert np.isnan(z[~finite]).all()
        np.testing.assert_array_equal(neighbours, np.diff(a.indptr))
        tested = (neighbours > 0) & (neighbours + 1 < n) & finite
        assert np.isnan(p[~tested]).all() and not np.isnan(p[tested]).any()
        if permutations:
            extreme = np.rint(np.asarray(g.p_sim, dtype=float) * (permutations + 1))
            reference = np.minimum(1.0, 2.0 * extreme / (permutations + 1))
        else:
            reference = 2 * esda_gi_star(y, a, 0, seed).p_norm
        np.testing.assert_array_equal(p[tested], reference[tested])


def test_gi_star_with_a_neighbourhood_of_every_feature_and_without_seed():
    rng = np.random.default_rng(5)
    a = random_graph(rng, 30, 0.2).tolil()
    a[3, :] = 1  # feature 3 sees every other one
    a[:, 3] = 1
    a[3, 3] = 0
    a = a.tocsr()
    y = rng.poisson(3, 30).astype(float)
    z, p, neighbours = _local_gi_star(y, a, permutations=199, seed=11)
    g = esda_gi_star(y, a, 199, 11)
    assert neighbours[3] == 29 and np.isnan(p[3])
    np.testing.assert_array_equal(z[np.isfinite(z)], g.Zs[np.isfinite(z)])
    np.random.seed(3)
    before = np.random.get_state()[1].copy()
    first = _local_gi_star(y, a, permutations=99, seed=None)
    np.testing.assert_array_equal(np.random.get_state()[1], before)
    np.testing.assert_array_equal(first[1], _local_gi_star(y, a, permutations=99, seed=None)[1])


def test_gi_star_accepts_a_libpysal_w_or_a_dense_matrix():
    rng = np.random.default_rng(9)
    a = random_graph(rng, 25, 0.2)
    y = rng.poisson(3, 25).astype(float)
    from_matrix = _local_gi_star(y, a, permutations=99, seed=1)
    for w in (WSP(a).to_W(silence_warnings=True), a.toarray() * 2.5):
        ours = _local_gi_star(y, w, permutations=99, seed=1)
        for got, expected in zip(ours, from_matrix, strict=True):
            np.testing.assert_array_equal(got, expected)


# --------------------------------------------------------------------------- contiguity


def queen_weights_before(grids: gpd.GeoDataFrame, codes: list[str], tolerance: float):
    """The contiguity the project built before: libpysal's exact Queen, plus every pair
    closer than ``tolerance`` metres in the UTM zone."""
    exact = Queen.from_dataframe(grids, ids=codes, use_index=False, silence_warnings=True)
    neighbours = {c: set(exact.neighbors[c]) for c in codes}
    if tolerance and grids.crs is not None:
        geoms = grids.geometry.to_crs(grids.geometry.estimate_utm_crs())
        left, right = geoms.sindex.query(geoms, predicate="dwithin", distance=tolerance)
        for i, j in zip(left, right, strict=True):
            if i != j:
                neighbours[codes[i]].add(codes[j])
    return {c: sorted(v) for c, v in neighbours.items()}


def jittered_voronoi(seed: int, n: int = 120) -> gpd.GeoDataFrame:
    """Voronoi grids about 400 m across near Jiangmen, their vertices moved by up to ~1.5 m
    (so some neighbours share vertices, some miss by less than 1 m, some by more), and a
    few cells moved away whole (islands)."""
    rng = np.random.default_rng(seed)
    pts = shapely.points(rng.uniform(0, 4000, (n, 2)))
    cells = shapely.voronoi_polygons(
        shapely.multipoints(pts), extend_to=shapely.box(0, 0, 4000, 4000)
    )
    cells = [
        shapely.intersection(c, shapely.box(0, 0, 4000, 4000)) for c in shapely.get_parts(cells)
    ]
    jittered = []
    for k, c in enumerate(cells):
        coords = np.asarray(c.exterior.coords)
        if k % 3:
            coords = coords + rng.uniform(-1.5, 1.5, coords.shape) * (rng.random() < 0.5)
            coords[-1] = coords[0]
        if k % 29 == 0:
            coords = coords + 10_000
        jittered.append(shapely.Polygon(coords))
    metric = gpd.GeoDataFrame(
        {"grid_code": [f"v{k:03d}" for k in range(len(cells))]},
        geometry=jittered,
        crs="EPSG:32649",
    )
    return metric.to_crs("EPSG:4326")


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("tolerance", [0.0, 0.5, 1.0, 3.0])
def test_queen_adjacency_equals_libpysal_queen_with_the_tolerance_pass(seed, tolerance):
    grids = jittered_voronoi(seed)
    codes = grids["grid_code"].tolist()
    expected = queen_weights_before(grids, codes, tolerance)
    a = hotspots.queen_adjacency(grids, codes, tolerance=tolerance)
    got = {c: sorted(codes[j] for j in a[i].indices) for i, c in enumerate(codes)}
    assert got == expected
    assert set(a.data) <= {1.0} and a.diagonal().sum() == 0
    assert (a != a.T).nnz == 0
    w = hotspots.queen_weights(grids, codes, tolerance=tolerance)
    assert {c: sorted(v) for c, v in w.neighbors.items()} == expected


def test_queen_adjacency_of_grids_in_metres_and_without_crs():
    grids = square_grids(4).set_crs("EPSG:3857")
    grids = grids.set_geometry(grids.geometry.scale(100, 100, origin=(0, 0)))
    codes = grids["grid_code"].tolist()
    for frame in (grids, grids.set_crs(None, allow_override=True)):
        a = hotspots.queen_adjacency(frame, codes)
        got = {c: sorted(codes[j] for j in a[i].indices) for i, c in enumerate(codes)}
        assert got == queen_weights_before(frame, codes, 1.0)


def test_utm_zone_without_the_database_is_the_one_geopandas_estimates():
    rng = np.random.default_rng(7)
    centres = [(113.08, 22.6), (5.0, 60.0), (15.0, 78.0), (-74.0, 40.7), (151.2, -33.9)]
    centres += [(6.0, 10.0), (0.0, 10.0), (10.0, 0.0), (-180.0, 5.0), (3.0, 83.9), (3.0, -79.9)]
    centres += list(zip(rng.uniform(-180, 180, 60), rng.uniform(-79.9, 83.9, 60), strict=True))
    for lon, lat in centres:
        square = shapely.box(lon - 0.01, lat - 0.01, lon + 0.01, lat + 0.01)
        geoms = gpd.GeoSeries([square], crs="EPSG:4326")
        assert hotspots._utm_crs(geoms) == geoms.estimate_utm_crs(), (lon, lat)
    metric = gpd.GeoSeries([shapely.box(0, 0, 10, 10)], crs="EPSG:2263")  # feet
    assert hotspots._utm_crs(metric) == metric.estimate_utm_crs()


def test_hex_adjacency_equals_hex_weights():
    cells = sorted(h3.grid_disk(h3.latlng_to_cell(22.6, 113.08, 9), 4))[5:-7]
    a = hex_adjacency(cells)
    w = hex_weights(cells)
    assert (a != w.sparse).nnz == 0


# --------------------------------------------------------------------------- space-time


def space_time_by_definition(a: sp.csr_matrix, months: int, step: int) -> np.ndarray:
    n = a.shape[0]
    dense = a.toarray() > 0
    out = np.zeros((n * months, n * months), dtype=bool)
    for t in range(months):
        for i in range(n):
            for j in range(n):
                out[t * n + i, t * n + j] = dense[i, j]
                for k in range(1, step + 1):
                    if t - k >= 0:
                        out[t * n + i, (t - k) * n + j] = dense[i, j] or i == j
    return out


@pytest.mark.parametrize("step", [0, 1, 2, 5])
def test_space_time_adjacency_equals_its_definition_and_the_libpysal_w(step):
    a = random_graph(np.random.default_rng(step), 12, 0.25)
    cube = space_time_adjacency(a, 4, step)
    np.testing.assert_array_equal(cube.toarray() > 0, space_time_by_definition(a, 4, step))
    assert set(cube.data) <= {1.0}
    w = space_time_weights(WSP(a).to_W(silence_warnings=True), 4, step)
    assert (w.sparse != cube).nnz == 0


# --------------------------------------------------------------------------- Mann-Kendall


def test_mann_kendall_on_columns_equals_the_series_test():
    rng = np.random.default_rng(4)
    for months in (2, 3, 10, 24, 61):
        x = np.round(rng.normal(size=(months, 40)), 1)  # rounded: many ties
        x[:, 3] = 0.0  # constant: no variance
        x[:, 5] = np.arange(months)  # monotone
        x[1, 7] = np.nan  # undefined
        z, p = _mann_kendall_columns(x)
        for g in range(x.shape[1]):
            mk = mann_kendall(x[:, g])
            np.testing.assert_array_equal([z[g], p[g]], [mk.z, mk.p])


def test_categories_on_columns_equal_classify_emerging():
    rng = np.random.default_rng(12)
    seen = set()
    for months in (2, 3, 5, 10, 11, 24):
        g = 3000
        # mostly-hot, mostly-cold, mixed and quiet columns, so that every rule is reached
        kind = rng.integers(0, 4, g)
        p_hot = np.array([0.95, 0.02, 0.35, 0.05])[kind]
        p_cold = np.array([0.02, 0.95, 0.35, 0.05])[kind]
        u = rng.random((months, g))
        level = rng.integers(1, 4, (months, g))
        bins = np.where(u < p_hot, level, np.where(u > 1 - p_cold, -level, 0))
        trend_z = np.round(rng.normal(0, 2.5, g), 1)
        trend_p = rng.choice([0.001, 0.03, 0.05, 0.2, np.nan], g)
        trend_z[rng.random(g) < 0.05] = 0.0
        got = _categories(bins, trend_z, trend_p, trend_alpha=0.05)
        expected = [
            classify_emerging(bins[:, j], trend_z=trend_z[j], trend_p=trend_p[j]) for j in range(g)
        ]
        assert got.tolist() == expected
        seen |= set(expected)
    assert seen == set(CATEGORIES)


def cube_before(counts: pd.DataFrame, codes: list[str], months: pd.PeriodIndex) -> np.ndarray:
    """The cube as the project built it before: a pandas group-by, unstacked."""
    frame = counts.assign(month=pd.to_datetime(counts["month"]).dt.to_period("M"))
    return (
        frame.groupby(["month", "grid_code"])["count"]
        .sum()
        .unstack("grid_code")
        .reindex(index=months, columns=codes, fill_value=0)
        .fillna(0)
        .to_numpy(dtype=float)
    )


def test_cube_equals_the_group_by():
    rng = np.random.default_rng(3)
    codes = [f"g{i:02d}" for i in range(40)]
    for rows in (0, 1, 50, 2000):
        counts = pd.DataFrame(
            {
                "grid_code": rng.choice(codes[5:], rows),  # grids without needs too
                "month": rng.choice(pd.date_range("2023-01-01", "2024-12-01", freq="MS"), rows),
                "count": rng.integers(0, 40, rows),
            }
        )
        months, cube = _cube(counts, codes, "2022-11", "2025-01")
        assert months[0] == pd.Period("2022-11") and len(months) == 27
        np.testing.assert_array_equal(cube, cube_before(counts, codes, months))


# --------------------------------------------------------------------------- one read per page


def _sub_scopes(rng: random.Random, scope: Scope) -> list[Scope]:
    """Scopes the months of ``scope`` serve (whole months inside it) and some they do not."""
    out = [scope, replace(scope, categories=("dispute",)), replace(scope, area_code="440703")]
    for _ in range(4):
        day = FIRST + dt.timedelta(days=rng.randrange(-40, 460))
        month_end = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        out.append(replace(scope, end=month_end - dt.timedelta(days=1)))
        out.append(replace(scope, start=day.replace(day=1)))
        out.append(replace(scope, end=day))  # mid-month: read, unless it is the scope's end
    return out


@pytest.mark.db
def test_need_months_answer_what_they_hold_as_grid_need_counts_does(session):
    community = make_community(session, n_grids=6)
    rng = random.Random(21)
    _random_needs(session, community.grid_codes, 300, rng)
    need_stats.refresh(session)
    served = 0
    for _ in range(25):
        scope = _random_scope(rng, community.grid_codes)
        months = read_need_months(session, scope)
        total = months.per_grid()
        plain = grid_need_counts(session, scope, summary=False)
        pdt.assert_frame_equal(total, plain.sort_values("grid_code", ignore_index=True))
        for sub in _sub_scopes(rng, scope):
            if not months.serves(sub):
                with pytest.raises(InvalidInputError):
                    months.of(sub)
                continue
            served += 1
            got = months.of(sub)
            expected = grid_need_counts(session, sub, by_month=True, summary=False)
            expected["month"] = pd.to_datetime(expected["month"])
            rows = [
                sorted(map(tuple, f[["grid_code", "month", "count"]].to_numpy().tolist()))
                for f in (got, expected)
            ]
            assert rows[0] == rows[1], f"months of {scope} for {sub}"
    assert served > 60


@pytest.mark.db
@pytest.mark.parametrize("viewer", [ADMIN, Viewer(role="community_leader")])
def test_hot_spots_and_emerging_from_shared_months_equal_their_own_reads(session, viewer):
    community = make_community(session, n_grids=9)
    rng = random.Random(5)
    _random_needs(session, community.grid_codes, 400, rng)
    need_stats.refresh(session)
    for scope in (
        Scope(),
        Scope(area_code=community.code, start=dt.date(2024, 12, 1)),
        Scope(start=dt.date(2024, 11, 17), categories=("dispute", "petition")),
        Scope(area_code="440703", statuses=("closed",), end=dt.date(2025, 11, 30)),
    ):
        months = hotspot_months(session, scope, viewer)
        for options in ({"permutations": 0}, {"permutations": 199, "seed": 3}):
            shared = hotspot_table(session, scope, viewer, months=months, **options)
            pdt.assert_frame_equal(shared, hotspot_table(session, scope, viewer, **options))
            plain = hotspot_table(session, scope, viewer, summary=False, **options)
            pdt.assert_frame_equal(shared, plain)
        end = dt.date(2025, 10, 31)
        for last in (end, dt.date(2025, 9, 30)):
            sub = replace(scope, end=last)
            shared = emerging_table(session, sub, viewer, months=months)
            pdt.assert_frame_equal(shared, emerging_table(session, sub, viewer))
            pdt.assert_frame_equal(shared, emerging_table(session, sub, viewer, summary=False))


@pytest.mark.db
def test_emerging_change_from_one_read_equals_two_runs_of_their_own(session):
    community = make_community(session, n_grids=9)
    _random_needs(session, community.grid_codes, 400, random.Random(9))
    need_stats.refresh(session)
    day = dt.date(2025, 12, 10)
    for scope in (
        Scope(),
        Scope(area_code=community.code, start=dt.date(2024, 12, 1)),
        Scope(start=dt.date(2025, 10, 1)),  # last month leaves one month: no comparison
        Scope(start=dt.date(2024, 11, 17), end=dt.date(2025, 8, 20), categories=("dispute",)),
    ):
        for months in (None, hotspot_months(session, scope, ADMIN)):
            got = emerging_change(session, scope, ADMIN, day, months=months)
            end = min(scope.end or day, day)
            assert got.current_end == last_whole_month_end(end)
            now = emerging_table(session, replace(scope, end=got.current_end), ADMIN)
            pdt.assert_frame_equal(got.current, now)
            try:
                before = emerging_table(session, replace(scope, end=got.previous_end), ADMIN)
            except InvalidInputError:
                assert got.previous is None and got.changed is None
                continue
            pdt.assert_frame_equal(got.previous, before)
            pdt.assert_frame_equal(got.changed, what_changed(now, before))


@pytest.mark.db
def test_counts_added_up_in_the_database_equal_the_parts_added_up_in_pandas(session):
    community = make_community(session, n_grids=6)
    rng = random.Random(33)
    _random_needs(session, community.grid_codes, 300, rng)
    need_stats.refresh(session)
    # writes since the refresh: their buckets are marked and read from needs
    for need in session.scalars(select(Need).where(Need.status == "closed").limit(15)):
        need.status = "in_progress"
    session.flush()
    assert session.scalar(select(func.count()).select_from(NeedStatsDirty)) > 0
    for by_month in (False, True):
        keys = ["grid_code", "month"] if by_month else ["grid_code"]
        s = NeedMonthStat
        raw_keys = [func.coalesce(Need.grid_code, "").label("grid_code")]
        stat_keys = [s.grid_code]
        if by_month:
            raw_keys.append(month_start(Need.reported_at).label("month"))
            stat_keys.append(s.month_start.label("month"))
        raw = select(*raw_keys, func.count(Need.id).label("needs")).group_by(*raw_keys)
        stats = select(*stat_keys, func.sum(s.needs).label("needs")).group_by(*stat_keys)
        for _ in range(15):
            scope = _random_scope(rng, community.grid_codes)
            args = (session, scope, None, raw, stats, ["needs"], keys)
            frames = [need_stats.read_measures(*args, in_database=d) for d in (True, False)]
            rows = [
                sorted((*(str(v) for v in r[:-1]), int(r[-1])) for r in f[[*keys, "needs"]].values)
                for f in frames
            ]
            assert rows[0] == rows[1], scope
    with pytest.raises(ValueError, match="add up"):
        need_stats.read_measures(
            session, Scope(), None, raw, stats, ["last_diary"], keys, in_database=True
        )


# --------------------------------------------------------------------------- maps


def test_hotspot_maps_draw_the_shapes_base_draws_and_keep_them_per_geometry_set():
    from dashboard.maps import base
    from dashboard.maps import hotspots as hotspot_maps

    grids = jittered_voronoi(4, n=40).rename(columns={"grid_code": "code"})
    frame = pd.DataFrame({"code": grids["code"], "fill": "#ffffff"})
    for crs in ("wgs84", "gcj02"):
        expected = base._shapes(
            frame, grids.geometry.array, simplify_m=5.0, crs=crs, props=["code", "fill"]
        )
        for _ in range(2):  # computed, then kept
            got = hotspot_maps._display_shapes(
                frame, grids.geometry.array, simplify_m=5.0, crs=crs, props=["code", "fill"]
            )
            pdt.assert_frame_equal(pd.DataFrame(got), pd.DataFrame(expected))
    moved = grids.geometry.translate(0.001, 0)
    other = hotspot_maps._display_shapes(
        frame, moved.array, simplify_m=5.0, crs="wgs84", props=["code"]
    )
    assert not other.geometry.geom_equals(expected.geometry).all()
