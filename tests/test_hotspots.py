"""Gi* hot spots: pinned against esda's G_Local(star=True, binary) and the Getis & Ord (1995)
closed form, ArcGIS-style classes with Benjamini–Hochberg FDR, H3 hexagons, and the
database-facing table on both backends."""

from __future__ import annotations

import datetime as dt
import doctest

import esda
import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
from libpysal.weights import Queen
from scipy import stats
from shapely.geometry import box

from grid_model.analysis import hotspots
from grid_model.analysis.hotspots import (
    bh_adjust,
    gi_bins,
    gi_star,
    gi_star_hex,
    hex_bins,
    hex_hotspot_table,
    hotspot_table,
)
from grid_model.errors import InvalidInputError, NotFoundError
from grid_model.scope import Scope, Viewer
from tests.factories import CELL_DEG, ORIGIN, add_need, make_community

# 5 x 5 grids, row-major from the north-west corner; a block of high counts in the north-west,
# a few scattered ones elsewhere.
PATTERN = np.array(
    [
        [12, 10, 7, 1, 0],
        [11, 9, 4, 0, 1],
        [6, 3, 2, 1, 0],
        [1, 0, 1, 0, 2],
        [0, 2, 0, 1, 0],
    ],
    dtype=float,
)


def square_grids(rows: int, cols: int | None = None, *, prefix: str = "g") -> gpd.GeoDataFrame:
    """``rows x cols`` unit squares, codes ``g{r}{c}`` in row-major order."""
    cols = cols or rows
    return gpd.GeoDataFrame(
        {"grid_code": [f"{prefix}{r}{c}" for r in range(rows) for c in range(cols)]},
        geometry=[box(c, -r - 1, c + 1, -r) for r in range(rows) for c in range(cols)],
    )


def queen_by_index(rows: int, cols: int) -> np.ndarray:
    """Queen adjacency of a rows x cols lattice from index arithmetic (no libpysal)."""
    n = rows * cols
    a = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            ri, ci, rj, cj = i // cols, i % cols, j // cols, j % cols
            if i != j and abs(ri - rj) <= 1 and abs(ci - cj) <= 1:
                a[i, j] = 1
    return a


def closed_form_gi_star(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Getis & Ord (1995) Gi*: ``w`` includes the focal unit (w_ii = 1)."""
    n = len(x)
    xbar = x.mean()
    s = np.sqrt((x**2).sum() / n - xbar**2)
    wi = w.sum(axis=1)
    num = w @ x - xbar * wi
    den = s * np.sqrt((n * (w**2).sum(axis=1) - wi**2) / (n - 1))
    return num / den


# --------------------------------------------------------------------------- the statistic


def test_z_equals_esda_gi_star_and_the_closed_form():
    grids = square_grids(5)
    y = PATTERN.ravel()
    ours = gi_star(grids, y, permutations=0)

    w = Queen.from_dataframe(grids, use_index=False)
    reference = esda.G_Local(y, w, transform="B", star=True, permutations=0)
    np.testing.assert_allclose(ours["z"], reference.Zs, rtol=0, atol=1e-9)

    star = queen_by_index(5, 5) + np.eye(25)
    np.testing.assert_allclose(ours["z"], closed_form_gi_star(y, star), rtol=0, atol=1e-9)
    # a corner grid sees itself and 3 neighbours; a central one, itself and 8
    assert ours.loc[0, "neighbours"] == 3 and ours.loc[12, "neighbours"] == 8


def test_esda_default_g_local_is_a_different_statistic():
    # The trap the configuration avoids: row-standardised Gi without the focal grid.
    grids = square_grids(5)
    y = PATTERN.ravel()
    ours = gi_star(grids, y, permutations=0)["z"].to_numpy()
    w = Queen.from_dataframe(grids, use_index=False)
    default = esda.G_Local(y, w, permutations=0).Zs
    assert np.abs(ours - default).max() > 0.5
    gi_without_self = closed_form_gi_star(y, queen_by_index(5, 5))
    assert np.abs(ours - gi_without_self).max() > 0.5


def test_analytical_p_is_two_sided_normal():
    result = gi_star(square_grids(5), PATTERN.ravel(), permutations=0)
    np.testing.assert_allclose(result["p"], 2 * stats.norm.sf(np.abs(result["z"])))


def test_esda_p_sim_is_the_directed_pseudo_p():
    # We double esda's p_sim; pin what it is so an esda release that changes its default
    # alternative (it announces one) cannot silently quadruple our p-values.
    grids = square_grids(5)
    y = PATTERN.ravel()
    w = Queen.from_dataframe(grids, use_index=False)
    g = esda.G_Local(y, w, transform="B", star=True, permutations=199, seed=7, n_jobs=1)
    larger = (g.rGs >= g.Gs[:, None]).sum(axis=1)
    directed = (np.minimum(larger, 199 - larger) + 1) / 200
    np.testing.assert_allclose(g.p_sim, directed, rtol=1e-6)


def test_permutation_p_is_two_sided_seeded_and_leaves_global_rng_alone():
    grids = square_grids(5)
    y = PATTERN.ravel()
    np.random.seed(2024)
    before = np.random.random(3)
    np.random.seed(2024)
    first = gi_star(grids, y, permutations=999, seed=99)
    np.testing.assert_array_equal(np.random.random(3), before)

    again = gi_star(grids, y, permutations=999, seed=99)
    other = gi_star(grids, y, permutations=999, seed=100)
    pd.testing.assert_frame_equal(first, again)
    assert not np.array_equal(first["p"], other["p"])
    np.testing.assert_array_equal(first["z"], other["z"])  # z is analytical either way

    w = Queen.from_dataframe(grids, use_index=False)
    g = esda.G_Local(y, w, transform="B", star=True, permutations=999, seed=99, n_jobs=1)
    np.testing.assert_allclose(first["p"], np.minimum(1, 2 * g.p_sim), rtol=1e-6)
    assert first["p"].min() >= 2 / 1000


def test_clear_cluster_is_hot_and_empty_corner_is_not():
    result = gi_star(square_grids(5), PATTERN.ravel(), permutations=0, fdr=False)
    by_code = result.set_index("grid_code")
    # g00: itself and g01, g10, g11 -> 42 of 74 needs in 4 of 25 grids; z = 3.68, p = 0.0002
    assert by_code.loc["g00", "class"] == "hot_99"
    assert by_code.loc["g00", "gi_bin"] == 3
    assert by_code.loc["g44", "gi_bin"] <= 0


# --------------------------------------------------------------------------- classes and FDR

# Hand-worked Benjamini–Hochberg over m = 10 features (thresholds k * alpha / m):
#   sorted p     .0009 .008 .012 .045 .049 .059 .2 .5 .7 .9
#   alpha = .10: .01k  -> largest k with p_(k) <= .01k is 6 (p4 = .045 > .04 is rescued)
#   alpha = .05: .005k -> largest k is 3
#   alpha = .01: .001k -> largest k is 1
# Adjusted: q_(i) = min_{j>=i} m p_(j) / j.
HAND_P = np.array([0.0009, 0.008, 0.012, 0.045, 0.049, 0.059, 0.2, 0.5, 0.7, 0.9])
HAND_Z = np.array([3.3, -2.6, 2.5, 2.0, -1.97, 1.9, 1.3, -0.7, 0.4, 0.1])
HAND_Q = np.array([0.009, 0.04, 0.04, 0.098, 0.098, 0.059 * 10 / 6, 2 / 7, 0.625, 7 / 9, 0.9])


def test_fdr_bins_follow_benjamini_hochberg_by_hand():
    gi_bin, q = gi_bins(HAND_Z, HAND_P, fdr=True)
    np.testing.assert_allclose(q, HAND_Q)
    np.testing.assert_array_equal(gi_bin, [3, -2, 2, 1, -1, 1, 0, 0, 0, 0])


def test_fdr_bins_equal_arcgis_critical_p_procedure():
    rng = np.random.default_rng(5)
    p = np.concatenate([rng.uniform(0, 0.02, 15), rng.uniform(0, 1, 45)])
    z = rng.choice([-1.0, 1.0], 60) * stats.norm.isf(p / 2)
    expected = np.zeros(60, dtype=int)
    m = len(p)
    ordered = np.sort(p)
    for level, alpha in ((1, 0.10), (2, 0.05), (3, 0.01)):
        passing = np.flatnonzero(ordered <= np.arange(1, m + 1) * alpha / m)
        if passing.size:
            critical = ordered[passing.max()]
            expected[p <= critical] = level
    gi_bin, _ = gi_bins(z, p, fdr=True)
    np.testing.assert_array_equal(gi_bin, expected * np.sign(z).astype(int))


def test_bins_without_fdr_use_raw_p():
    gi_bin, q = gi_bins(HAND_Z, HAND_P, fdr=False)
    np.testing.assert_array_equal(gi_bin, [3, -3, 2, 2, -2, 1, 0, 0, 0, 0])
    np.testing.assert_allclose(q, HAND_Q)  # still reported


def test_class_labels_from_bins():
    result = gi_star(square_grids(5), PATTERN.ravel(), permutations=0)
    expected = result["gi_bin"].map(hotspots.CLASS_LABELS)
    assert (result["class"] == expected).all()
    assert set(hotspots.CLASS_LABELS.values()) == {
        "hot_99",
        "hot_95",
        "hot_90",
        "not_significant",
        "cold_90",
        "cold_95",
        "cold_99",
    }


# --------------------------------------------------------------------------- edge cases


@pytest.mark.parametrize("permutations", [0, 199])
def test_island_is_kept_but_not_tested(permutations):
    grids = pd.concat(
        [square_grids(4), gpd.GeoDataFrame({"grid_code": ["far"]}, geometry=[box(50, 50, 51, 51)])],
        ignore_index=True,
    )
    y = np.append(PATTERN[:4, :4].ravel(), 30.0)
    result = gi_star(grids, y, permutations=permutations, seed=1)
    island = result.iloc[-1]
    assert island["neighbours"] == 0
    assert np.isnan(island["p"]) and np.isnan(island["p_fdr"])
    assert island["class"] == "not_significant"
    # its z is its own standardised value, as esda computes it
    assert island["z"] == pytest.approx((30 - y.mean()) / y.std())
    # the FDR family is the 16 tested grids
    np.testing.assert_allclose(result["p_fdr"][:-1], bh_adjust(result["p"][:-1]))


def test_neighbourhood_of_every_grid_is_not_tested():
    # 2 x 2: every grid touches every other, so each Gi* is the global ratio.
    result = gi_star(square_grids(2), [5, 1, 0, 2], permutations=0)
    assert result["p"].isna().all()
    assert (result["class"] == "not_significant").all()


def test_constant_values_are_not_significant():
    result = gi_star(square_grids(3), np.zeros(9), permutations=99)
    assert result["z"].isna().all() and result["p"].isna().all()
    assert (result["gi_bin"] == 0).all()


def test_values_as_column_series_by_code_or_array():
    grids = square_grids(3).assign(n=[4, 0, 0, 3, 1, 0, 0, 0, 2])
    by_array = gi_star(grids, grids["n"].to_list(), permutations=0)
    by_column = gi_star(grids, "n", permutations=0)
    sparse = pd.Series({"g00": 4, "g10": 3, "g11": 1, "g22": 2})  # others have no needs
    by_code = gi_star(grids, sparse, permutations=0)
    pd.testing.assert_frame_equal(by_array, by_column)
    pd.testing.assert_frame_equal(by_array, by_code)
    assert by_array["count"].tolist() == [4, 0, 0, 3, 1, 0, 0, 0, 2]


@pytest.mark.parametrize(
    ("grids", "values", "message"),
    [
        (square_grids(3), [1, 2, -1, 0, 0, 0, 0, 0, 0], "g02=-1"),
        (square_grids(3), [1, 2, 3], "3 entries for 9 grids"),
        (square_grids(3), pd.Series({"g00": 1, "nope": 2}), "unknown grid codes: ['nope']"),
        (square_grids(3), [1, 2, np.nan, 0, 0, 0, 0, 0, 0], "finite"),
        (square_grids(3), "missing_column", "no column 'missing_column'"),
        (square_grids(3).rename(columns={"grid_code": "code"}), [0] * 9, "no 'grid_code'"),
        (square_grids(1, 2), [1, 2], "at least 3 grids"),
        (pd.concat([square_grids(2), square_grids(2)]), [1] * 8, "not unique"),
    ],
)
def test_bad_input_names_the_problem(grids, values, message):
    with pytest.raises(InvalidInputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        gi_star(grids, values, permutations=0)


@pytest.mark.parametrize(("option", "value"), [("permutations", -1), ("seed", "x")])
def test_bad_options(option, value):
    with pytest.raises(InvalidInputError, match=option):
        gi_star(square_grids(3), np.arange(9), **{option: value})


def test_module_example_runs():
    failures, tried = doctest.testmod(hotspots, optionflags=doctest.ELLIPSIS)
    assert tried > 0 and failures == 0


# --------------------------------------------------------------------------- hexagons

# Around Yude community (Jiangmen), WGS84.
LON0, LAT0 = 113.085, 22.605


def test_hex_bins_counts_points_in_the_cell_that_contains_them():
    rng = np.random.default_rng(3)
    lon = LON0 + rng.uniform(-0.004, 0.004, 200)
    lat = LAT0 + rng.uniform(-0.004, 0.004, 200)
    bins = hex_bins(lon, lat, resolution=9)
    assert bins.crs == "EPSG:4326"
    assert bins["count"].sum() == 200
    assert bins["cell"].is_unique
    located = gpd.sjoin(
        gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326"),
        bins,
        predicate="within",
    )
    assert len(located) == 200  # polygons are (lon, lat), not swapped
    expected = pd.Series(
        [h3.latlng_to_cell(la, lo, 9) for lo, la in zip(lon, lat, strict=True)]
    ).value_counts()
    assert bins.set_index("cell")["count"].to_dict() == expected.to_dict()


def test_hex_bins_rejects_swapped_coordinates():
    with pytest.raises(InvalidInputError, match="lat=113"):
        hex_bins([22.6], [113.08])


def test_gi_star_hex_includes_empty_hexagons_and_uses_edge_contiguity():
    area = box(LON0 - 0.006, LAT0 - 0.005, LON0 + 0.006, LAT0 + 0.005)
    rng = np.random.default_rng(11)
    lon = np.concatenate([LON0 - 0.004 + rng.normal(0, 0.0006, 60), [LON0 + 0.004] * 3])
    lat = np.concatenate([LAT0 + 0.003 + rng.normal(0, 0.0006, 60), [LAT0 - 0.003] * 3])
    result = gi_star_hex(lon, lat, area=area, resolution=10, permutations=0)

    assert result.attrs["points_outside"] == 0
    assert result["count"].sum() == 63
    assert (result["count"] == 0).sum() > len(result) / 2
    assert result.union_all().covers(area)

    # contiguity from the geometry (hexagons sharing an edge), independent of grid_disk
    polys = list(result.geometry)
    n = len(polys)
    adjacency = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            if polys[i].intersection(polys[j]).length > 1e-9:
                adjacency[i, j] = adjacency[j, i] = 1
    np.testing.assert_array_equal(result["neighbours"], adjacency.sum(axis=1))
    x = result["count"].to_numpy(dtype=float)
    np.testing.assert_allclose(
        result["z"], closed_form_gi_star(x, adjacency + np.eye(n)), rtol=0, atol=1e-9
    )
    densest = result.loc[result["count"].idxmax()]
    assert densest["class"].startswith("hot_")


def test_gi_star_hex_area_leaves_out_points_beyond_it():
    area = box(LON0 - 0.003, LAT0 - 0.003, LON0 + 0.003, LAT0 + 0.003)
    lon = [LON0, LON0 + 0.001, LON0 + 0.05]
    lat = [LAT0, LAT0, LAT0 + 0.05]
    result = gi_star_hex(lon, lat, area=area, resolution=9, permutations=0)
    assert result.attrs["points_outside"] == 1
    assert result["count"].sum() == 2


def test_gi_star_hex_default_area_is_hull_of_occupied_cells():
    lon = [LON0 - 0.01, LON0 + 0.01, LON0, LON0]
    lat = [LAT0, LAT0, LAT0 - 0.01, LAT0 + 0.01]
    result = gi_star_hex(lon, lat, resolution=9, permutations=0)
    assert result["count"].sum() == 4
    assert len(result) > 20  # the empty hexagons between the points are analysed too


# --------------------------------------------------------------------------- database


@pytest.mark.db
def test_hotspot_table_counts_needs_in_scope(session):
    community = make_community(session, n_grids=9, staff=False)
    codes = community.grid_codes
    per_grid = {0: 9, 1: 7, 3: 6, 4: 2, 8: 1}  # grids 2, 5, 6, 7 have none
    for index, k in per_grid.items():
        for _ in range(k):
            add_need(session, grid_code=codes[index], reported_at=dt.date(2025, 3, 10))
    add_need(session, grid_code=codes[8], reported_at=dt.date(2024, 12, 31))  # before
    add_need(session, grid_code=codes[8], category="mediation")  # another category
    add_need(session, grid_code=None, lon=113.5, lat=22.9)  # outside every grid

    scope = Scope(
        area_code=community.code,
        start=dt.date(2025, 1, 1),
        end=dt.date(2025, 12, 31),
        categories=("consultation",),
    )
    result = hotspot_table(
        session, scope, permutations=999, seed=12345, viewer=Viewer.local_admin("test")
    )

    assert result["grid_code"].tolist() == codes
    assert result["name"].iloc[0] == "育德社区第1网格"
    assert result["count"].tolist() == [9, 7, 0, 6, 2, 0, 0, 0, 1]
    grids = square_grids(3).assign(grid_code=codes)  # the same 3 x 3 layout
    expected = gi_star(grids, result["count"].to_numpy(), permutations=999, seed=12345)
    pd.testing.assert_frame_equal(result.drop(columns="name"), expected)


@pytest.mark.db
def test_hotspot_table_without_grids_is_not_found(session):
    make_community(session, n_grids=4, staff=False)
    with pytest.raises(NotFoundError, match="440703999"):
        hotspot_table(
            session, Scope(area_code="440703999"), permutations=0, viewer=Viewer.local_admin("test")
        )


@pytest.mark.db
def test_hex_hotspot_table_uses_the_grids_as_study_area(session):
    community = make_community(session, n_grids=9, staff=False)
    for _ in range(5):
        add_need(session, grid_code=community.grid_codes[0])
    add_need(session, grid_code=community.grid_codes[4])
    add_need(session, grid_code=None, lon=113.5, lat=22.9)  # far outside: not in the area
    result = hex_hotspot_table(
        session,
        Scope(area_code=community.code),
        resolution=9,
        permutations=0,
        viewer=Viewer.local_admin("test"),
    )
    assert result["count"].sum() == 6
    # a need outside every grid belongs to the district level: only its scope reads it
    assert result.attrs["points_outside"] == 0
    district = hex_hotspot_table(
        session,
        Scope(area_code=community.code[:6]),
        resolution=9,
        permutations=0,
        viewer=Viewer.local_admin("test"),
    )
    assert (district["count"].sum(), district.attrs["points_outside"]) == (6, 1)
    block = box(ORIGIN[0], ORIGIN[1], ORIGIN[0] + 3 * CELL_DEG, ORIGIN[1] + 3 * CELL_DEG)
    assert result.union_all().covers(block)


def test_contiguity_is_libpysal_queen_on_exact_tilings():
    grids = square_grids(4).set_crs("EPSG:3857")  # unit squares: make them 100 m wide
    grids = grids.set_geometry(grids.geometry.scale(100, 100, origin=(0, 0)))
    ours = hotspots.queen_weights(grids)
    exact = Queen.from_dataframe(grids, ids=grids["grid_code"].tolist(), use_index=False)
    assert {k: sorted(v) for k, v in ours.neighbors.items()} == {
        k: sorted(v) for k, v in exact.neighbors.items()
    }


def test_contiguity_joins_boundaries_that_miss_by_less_than_the_tolerance():
    # Two columns of grids drawn separately: the east column is 0.3 m off, its corners are not
    # the west column's corners.
    rows = [(22.600, 22.604), (22.604, 22.608), (22.608, 22.612)]
    west = [box(113.080, south, 113.084, north) for south, north in rows]
    east = [box(113.084003, south + 0.0011, 113.088, north + 0.0011) for south, north in rows]
    grids = gpd.GeoDataFrame(
        {"grid_code": ["w0", "w1", "w2", "e0", "e1", "e2"]}, geometry=west + east, crs="EPSG:4326"
    )
    strict = hotspots.queen_weights(grids, tolerance=0)
    assert sorted(strict.neighbors["w1"]) == ["w0", "w2"]
    tolerant = hotspots.queen_weights(grids)  # 1 m
    assert sorted(tolerant.neighbors["w1"]) == ["e0", "e1", "w0", "w2"]
    assert sorted(tolerant.neighbors["e0"]) == ["e1", "w0", "w1"]
