"""Emerging hot spots: the category rules on constructed bin series, Mann-Kendall, the
space-time Gi* against a hand-written closed form, month handling, what changed, and the
database-facing table on both backends."""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from grid_model.analysis.emerging import (
    CATEGORIES,
    classify_emerging,
    emerging_hotspots,
    emerging_table,
    mann_kendall,
    space_time_gi_star,
    space_time_weights,
    what_changed,
)
from grid_model.analysis.hotspots import gi_star, queen_weights
from grid_model.errors import InvalidInputError
from grid_model.scope import Scope, Viewer
from tests.factories import add_need, make_community
from tests.test_hotspots import closed_form_gi_star, queen_by_index, square_grids

UP = {"trend_z": 3.1, "trend_p": 0.002}
DOWN = {"trend_z": -3.1, "trend_p": 0.002}
FLAT = {"trend_z": 0.4, "trend_p": 0.69}


# --------------------------------------------------------------------------- categories

CASES = [
    # hot spots; 10 months unless said otherwise
    ("new_hot", [0, 0, 0, 0, 0, 0, 0, 0, 0, 2], FLAT),
    ("new_hot", [0, 0, 0, 0, 0, 0, 0, 0, 0, 1], UP),  # a trend does not matter here
    ("consecutive_hot", [0, 0, 0, 0, 0, 0, 0, 1, 3, 2], UP),
    ("consecutive_hot", [0] * 6 + [1] * 12, FLAT),  # a long run, still under 90 %
    ("persistent_hot", [0, 3, 3, 3, 3, 3, 3, 3, 3, 3], FLAT),  # a run of 9 of 10 is 90 %
    ("intensifying_hot", [1, 1, 2, 2, 2, 3, 3, 3, 3, 3], UP),
    ("intensifying_hot", [0, 1, 2, 2, 2, 3, 3, 3, 3, 3], UP),  # 9 of 10 = 90 %
    ("persistent_hot", [2, 3, 2, 3, 2, 0, 3, 2, 3, 2], FLAT),
    ("persistent_hot", [3, 3, 3, 3, 3, 3, 3, 3, 3, 3], {"trend_z": 1.5, "trend_p": 0.13}),
    ("diminishing_hot", [3, 3, 3, 3, 3, 2, 2, 1, 0, 1], DOWN),
    ("sporadic_hot", [0, 1, 0, 0, 2, 0, 0, 1, 0, 1], FLAT),
    ("sporadic_hot", [1, 1, 1, 0, 0, 0, 0, 0, 1, 1], FLAT),  # hot before the final run
    ("sporadic_hot", [1, 1, 1, 1, 1, 1, 1, 0, 0, 1], UP),  # 80 %: under the 90 % rules
    ("oscillating_hot", [-1, -2, 0, 0, 0, 0, 0, 0, 0, 2], FLAT),  # cold before: not new
    ("oscillating_hot", [0, 0, -1, 0, 0, 0, 0, 0, 1, 2], UP),  # not consecutive either
    ("oscillating_hot", [2, 2, 0, -1, 0, 1, 0, 1, 1, 1], FLAT),
    ("historical_hot", [3, 3, 3, 3, 3, 3, 3, 3, 3, 0], DOWN),
    ("historical_hot", [2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0], FLAT),
    # cold spots mirror them; "intensifying" cold means z falling
    ("new_cold", [0, 0, 0, 0, 0, 0, 0, 0, 0, -3], FLAT),
    ("consecutive_cold", [0, 0, 0, 0, 0, 0, -1, -1, -2, -3], DOWN),
    ("intensifying_cold", [-1, -1, -2, -2, -2, -3, -3, -3, -3, -3], DOWN),
    ("persistent_cold", [-2] * 10, FLAT),
    ("diminishing_cold", [-3, -3, -3, -3, -3, -3, -2, -2, -1, -1], UP),
    ("sporadic_cold", [0, -1, 0, -1, 0, 0, -2, 0, 0, -1], FLAT),
    ("oscillating_cold", [0, 2, 0, 0, 0, 0, 0, 0, 0, -1], FLAT),
    ("oscillating_cold", [3, 3, 3, 3, 3, 3, 3, 3, 3, -1], DOWN),  # the final bin decides
    ("historical_cold", [-1] * 9 + [0], FLAT),
    # nothing
    ("no_pattern", [0] * 10, FLAT),
    ("no_pattern", [1, 2, 0, 0, -1, 0, 0, 0, 0, 0], FLAT),
    ("no_pattern", [3, 3, 3, 3, 3, 3, 3, 3, 0, 0], DOWN),  # 80 % then not hot: not historical
]


@pytest.mark.parametrize(("expected", "bins", "trend"), CASES)
def test_category_rules(expected, bins, trend):
    assert classify_emerging(bins, **trend) == expected


def test_every_category_is_reachable_by_the_cases():
    assert {c[0] for c in CASES} == set(CATEGORIES)


def test_trend_alpha_decides_significance():
    bins = [2] * 10
    assert classify_emerging(bins, trend_z=2.0, trend_p=0.045) == "intensifying_hot"
    assert classify_emerging(bins, trend_z=2.0, trend_p=0.045, trend_alpha=0.01) == "persistent_hot"
    assert classify_emerging(bins, trend_z=np.nan, trend_p=np.nan) == "persistent_hot"


@pytest.mark.parametrize("bins", [[], [0, 4, 1], [[1, 2], [3, 0]]])
def test_bad_bins(bins):
    with pytest.raises(InvalidInputError, match="bins"):
        classify_emerging(bins, **FLAT)


# --------------------------------------------------------------------------- Mann-Kendall


def test_mann_kendall_monotone_series_are_significant():
    up = mann_kendall(np.arange(12) ** 1.5)
    assert up.s == 66 and up.tau == 1
    assert up.z > 0 and up.p < 0.001
    down = mann_kendall(-np.arange(12.0))
    assert down.s == -66 and down.z == -up.z and down.p == up.p


@pytest.mark.parametrize(
    "series",
    [np.full(12, 3.0), np.array([1.0, 2.0] * 6), np.array([5, 1, 4, 2, 3, 3, 2, 4, 1, 5.0])],
)
def test_mann_kendall_flat_series_are_not(series):
    result = mann_kendall(series)
    assert result.p > 0.5


def test_mann_kendall_matches_definition_and_scipy_kendalltau():
    rng = np.random.default_rng(8)
    x = rng.integers(0, 5, 15).astype(float)  # plenty of ties
    n = len(x)
    s = sum(np.sign(x[j] - x[i]) for i, j in itertools.combinations(range(n), 2))
    result = mann_kendall(x)
    assert result.s == s
    _, ties = np.unique(x, return_counts=True)
    var = (n * (n - 1) * (2 * n + 5) - (ties * (ties - 1) * (2 * ties + 5)).sum()) / 18
    assert result.var_s == pytest.approx(var)
    assert result.z == pytest.approx((s - np.sign(s)) / np.sqrt(var))
    # Without the continuity correction S / sqrt(Var S) is scipy's tau-b test against time.
    tau = stats.kendalltau(np.arange(n), x, method="asymptotic")
    assert 2 * stats.norm.sf(abs(s) / np.sqrt(var)) == pytest.approx(tau.pvalue)


def test_mann_kendall_with_missing_values_is_undefined():
    assert np.isnan(mann_kendall([1.0, np.nan, 3.0]).p)
    with pytest.raises(InvalidInputError):
        mann_kendall([1.0])


# --------------------------------------------------------------------------- space-time Gi*


def _cube_counts(codes, months, table) -> pd.DataFrame:
    return pd.DataFrame(
        [
            (code, month, table[t][i])
            for t, month in enumerate(months)
            for i, code in enumerate(codes)
        ],
        columns=["grid_code", "month", "count"],
    )


def test_space_time_neighbourhoods():
    w = space_time_weights(queen_weights(square_grids(3)), 3, 1)
    nb = np.asarray(w.sparse.getnnz(axis=1)).reshape(3, 9)
    # centre grid: 8 neighbours in its month; from the second month on, also itself and its 8
    # neighbours of the month before
    assert nb[:, 4].tolist() == [8, 17, 17]
    assert nb[:, 0].tolist() == [3, 7, 7]  # a corner: 3, then 3 + 4
    two = space_time_weights(queen_weights(square_grids(3)), 3, 2)
    assert np.asarray(two.sparse.getnnz(axis=1)).reshape(3, 9)[:, 4].tolist() == [8, 17, 26]
    same = space_time_weights(queen_weights(square_grids(3)), 3, 0)
    assert np.asarray(same.sparse.getnnz(axis=1)).reshape(3, 9)[:, 4].tolist() == [8, 8, 8]


def test_space_time_z_equals_closed_form_over_the_cube():
    rng = np.random.default_rng(4)
    grids = square_grids(4)
    months = ["2025-01", "2025-02", "2025-03", "2025-04"]
    table = rng.poisson(3, (4, 16))
    table[2:, :2] += 9
    result = space_time_gi_star(
        grids, _cube_counts(grids["grid_code"], months, table), permutations=0
    )

    # neighbourhood of (i, t): Queen neighbours and i itself, in months t and t - 1
    spatial = queen_by_index(4, 4) + np.eye(16)
    lag = np.eye(4) + np.eye(4, k=-1)
    w = np.kron(lag, spatial)
    expected = closed_form_gi_star(table.ravel().astype(float), w)
    np.testing.assert_allclose(result["z"], expected, rtol=0, atol=1e-9)
    assert result["month"].astype(str).tolist() == list(np.repeat(months, 16))
    assert result["grid_code"].tolist() == list(grids["grid_code"]) * 4


def test_per_month_neighbourhood_with_time_step_zero():
    rng = np.random.default_rng(5)
    grids = square_grids(4)
    table = rng.poisson(3, (3, 16))
    counts = _cube_counts(grids["grid_code"], ["2025-01", "2025-02", "2025-03"], table)
    result = space_time_gi_star(grids, counts, neighbourhood_time_step=0, permutations=0)
    w = np.kron(np.eye(3), queen_by_index(4, 4) + np.eye(16))
    np.testing.assert_allclose(
        result["z"], closed_form_gi_star(table.ravel().astype(float), w), rtol=0, atol=1e-9
    )


def _emerging_fixture():
    """5 x 5 grids over 12 months: background 1-3 needs, the north-west 2 x 2 block jumps to
    14+ in the last three months."""
    rng = np.random.default_rng(0)
    grids = square_grids(5)
    table = rng.integers(1, 4, (12, 25))
    block = [0, 1, 5, 6]
    table[9:, block] += 12
    months = [f"2025-{m:02d}" for m in range(1, 13)]
    return grids, _cube_counts(grids["grid_code"], months, table)


def test_emerging_hotspots_finds_the_new_cluster():
    grids, counts = _emerging_fixture()
    result = emerging_hotspots(grids, counts, permutations=0).set_index("grid_code")
    assert result.attrs["months"][0] == "2025-01" and len(result.attrs["months"]) == 12
    for code in ("g00", "g01", "g10", "g11"):
        assert result.loc[code, "category"] == "consecutive_hot"
        assert result.loc[code, "last_bin"] == 3 and result.loc[code, "previous_bin"] == 3
        assert result.loc[code, "share_hot"] == pytest.approx(3 / 12)
        assert result.loc[code, "trend_z"] > 0
    assert result.loc["g44", "category"] == "no_pattern"
    assert set(result["category"]) <= set(CATEGORIES)
    assert list(result.reset_index().columns) == [
        "grid_code",
        "category",
        "trend_z",
        "trend_p",
        "share_hot",
        "share_cold",
        "last_bin",
        "previous_bin",
        "last_z",
        "last_count",
    ]


def test_emerging_hotspots_with_permutations_is_seeded():
    grids, counts = _emerging_fixture()
    first = emerging_hotspots(grids, counts, permutations=999, seed=3)
    again = emerging_hotspots(grids, counts, permutations=999, seed=3)
    pd.testing.assert_frame_equal(first, again)
    assert first.set_index("grid_code").loc["g00", "category"] == "consecutive_hot"


def test_months_without_needs_are_zero_slices():
    grids = square_grids(3)
    counts = pd.DataFrame(
        {
            "grid_code": ["g00", "g00", "g11", "g22"],
            "month": [dt.date(2025, 1, 5), dt.date(2025, 1, 20), pd.Period("2025-03"), "2025-03"],
            "count": [1, 2, 4, 1],
        }
    )
    result = space_time_gi_star(grids, counts, last_month="2025-04", permutations=0)
    assert result["month"].astype(str).unique().tolist() == [
        "2025-01",
        "2025-02",
        "2025-03",
        "2025-04",
    ]
    cube = result.pivot(index="month", columns="grid_code", values="count")
    assert cube.loc[pd.Period("2025-01"), "g00"] == 3  # two rows of one month added up
    assert cube.loc[pd.Period("2025-02")].sum() == 0
    assert cube.to_numpy().sum() == 8


def test_a_period_without_needs_has_no_pattern():
    empty = pd.DataFrame({"grid_code": [], "month": [], "count": []})
    result = emerging_hotspots(square_grids(3), empty, first_month="2025-01", last_month="2025-03")
    assert (result["category"] == "no_pattern").all()
    assert result["trend_p"].isna().all()


@pytest.mark.parametrize(
    ("counts", "kwargs", "message"),
    [
        (pd.DataFrame({"grid_code": ["g00"], "month": ["2025-01"]}), {}, "lacks column"),
        (
            pd.DataFrame({"grid_code": ["g00"], "month": ["not a month"], "count": [1]}),
            {},
            "counts.month",
        ),
        (pd.DataFrame({"grid_code": ["zz"], "month": ["2025-01"], "count": [1]}), {}, "zz"),
        (pd.DataFrame({"grid_code": ["g00"], "month": ["2025-01"], "count": [-2]}), {}, "g00=-2"),
        (pd.DataFrame({"grid_code": ["g00"], "month": ["2025-01"], "count": [1]}), {}, "2 months"),
        (
            pd.DataFrame({"grid_code": ["g00"], "month": ["2024-12"], "count": [1]}),
            {"first_month": "2025-01", "last_month": "2025-06"},
            "outside 2025-01..2025-06",
        ),
        (
            pd.DataFrame({"grid_code": ["g00"], "month": ["2025-01"], "count": [1]}),
            {"last_month": "2025-06", "neighbourhood_time_step": -1},
            "neighbourhood_time_step",
        ),
    ],
)
def test_bad_counts_name_the_problem(counts, kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        emerging_hotspots(square_grids(3), counts, permutations=0, **kwargs)


# --------------------------------------------------------------------------- what changed


def test_what_changed_between_two_months():
    grids, counts = _emerging_fixture()
    cube = space_time_gi_star(grids, counts, permutations=0)
    december = cube[cube["month"] == pd.Period("2025-12")]
    november = cube[cube["month"] == pd.Period("2025-11")]
    october = cube[cube["month"] == pd.Period("2025-10")]
    september = cube[cube["month"] == pd.Period("2025-09")]
    assert what_changed(december, november).empty  # the block stayed hot
    changes = what_changed(october, september).set_index("grid_code")
    for code in ("g00", "g01", "g10", "g11"):
        assert changes.loc[code, "previous"] == "not_significant"
        assert changes.loc[code, "current"] == "hot_99"
    assert list(changes.reset_index().columns) == ["grid_code", "previous", "current"]


def test_what_changed_on_categories_with_appearing_and_vanishing_grids():
    current = pd.DataFrame(
        {
            "grid_code": ["a", "b", "c", "e"],
            "name": ["A", "B", "C", "E"],
            "category": ["new_hot", "no_pattern", "persistent_hot", "no_pattern"],
        }
    )
    previous = pd.DataFrame(
        {
            "grid_code": ["a", "b", "c", "d"],
            "category": ["no_pattern", "no_pattern", "intensifying_hot", "sporadic_cold"],
        }
    )
    changes = what_changed(current, previous)
    assert changes.to_dict("records") == [
        {"grid_code": "a", "name": "A", "previous": "no_pattern", "current": "new_hot"},
        {
            "grid_code": "c",
            "name": "C",
            "previous": "intensifying_hot",
            "current": "persistent_hot",
        },
        {"grid_code": "d", "name": None, "previous": "sporadic_cold", "current": None},
        {"grid_code": "e", "name": "E", "previous": None, "current": "no_pattern"},
    ]


def test_what_changed_needs_a_common_column():
    with pytest.raises(InvalidInputError, match="category"):
        what_changed(pd.DataFrame({"grid_code": ["a"]}), pd.DataFrame({"grid_code": ["a"]}))


def test_spatial_gi_star_results_compare_on_class():
    grids = square_grids(3)
    now = gi_star(grids, [9, 8, 0, 7, 6, 0, 0, 0, 0], permutations=0, fdr=False)
    before = gi_star(grids, [0, 0, 0, 0, 6, 0, 7, 8, 9], permutations=0, fdr=False)
    changes = what_changed(now, before).set_index("grid_code")
    differs = now["class"].to_numpy() != before["class"].to_numpy()
    assert set(changes.index) == set(now["grid_code"][differs]) and differs.any()
    assert changes.loc["g00", "current"].startswith("hot_")
    assert changes.loc["g00", "previous"] == before.loc[0, "class"]


# --------------------------------------------------------------------------- database


@pytest.mark.db
def test_emerging_table_counts_needs_per_grid_and_month(session):
    community = make_community(session, n_grids=9, staff=False)
    codes = community.grid_codes
    per_month = {  # (grid index, month) -> needs
        (0, 1): 1,
        (0, 3): 2,
        (4, 2): 1,
        (4, 4): 3,
        (8, 4): 1,
    }
    for (index, month), k in per_month.items():
        for day in range(k):
            add_need(session, grid_code=codes[index], reported_at=dt.date(2025, month, 1 + day))
    add_need(session, grid_code=codes[8], reported_at=dt.date(2025, 5, 2))  # after the period
    scope = Scope(area_code=community.code, start=dt.date(2025, 1, 1), end=dt.date(2025, 4, 30))

    result = emerging_table(session, scope, permutations=0, viewer=Viewer.local_admin("test"))

    assert result["grid_code"].tolist() == codes
    assert result["name"].iloc[4] == "育德社区第5网格"
    assert result.attrs["months"] == ["2025-01", "2025-02", "2025-03", "2025-04"]
    counts = pd.DataFrame(
        [(codes[i], f"2025-{m:02d}", k) for (i, m), k in per_month.items()],
        columns=["grid_code", "month", "count"],
    )
    grids = square_grids(3).assign(grid_code=codes)
    expected = emerging_hotspots(
        grids, counts, first_month="2025-01", last_month="2025-04", permutations=0
    )
    pd.testing.assert_frame_equal(result.drop(columns="name"), expected)
    assert result["last_count"].tolist() == [0, 0, 0, 0, 3, 0, 0, 0, 1]
