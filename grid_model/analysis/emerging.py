"""Emerging hot spots: space-time Gi* over monthly slices, Mann-Kendall trend, and the
categories of ArcGIS Emerging Hot Spot Analysis (DESIGN §6).

Procedure
---------
1. **Cube.** Needs are counted per grid per calendar month; months without needs and grids
   without needs are zeros, so every grid has one bin per month of the period.
2. **Space-time Gi*** (as ArcGIS with a one-month time step). The neighbourhood of bin
   (grid *i*, month *t*) is the grid itself and its Queen neighbours, in month *t* and in the
   ``neighbourhood_time_step`` months before it (ArcGIS's *Neighborhood Time Step*, default
   1; 0 = same month only). Weights are binary, the focal bin included (Gi*), and every bin
   is compared with the whole cube (ArcGIS's default global window, *Entire cube*): the mean
   and variance in the z-score are those of all grid-months. The z-score and its p-value come
   from :mod:`grid_model.analysis.gistar` (esda's ``G_Local(star=True)`` on these space-time weights),
   and the bins are classified there too (``gi_bin`` -3..3, with the Benjamini–Hochberg FDR
   correction across all bins of the cube when ``fdr=True``, as ArcGIS computes the bins
   "with FDR correction"). A bin is a *significant hot (cold) spot* when ``gi_bin > 0``
   (``< 0``), i.e. at 90 % or more.

   The p-value is analytical by default, as in ArcGIS. Permutations are available but coarse
   here: the smallest pseudo p is ``2 / (permutations + 1)``, so with FDR over all ``m`` bins
   of the cube the smallest adjusted p is ``2 m / ((permutations + 1) k)`` when ``k`` bins
   share it — 25 grids × 12 months need 999 permutations for anything to reach 90 %.
3. **Trend.** Mann-Kendall on each grid's series of Gi* z-scores against time: the classical
   ``S = sum_{i<j} sign(z_j - z_i)``, ``Var(S) = [n(n-1)(2n+5) - sum_t t(t-1)(2t+5)] / 18``
   (``t`` = sizes of groups of tied values), ``Z = (S - sign(S)) / sqrt(Var(S))`` (continuity
   correction) and the two-sided normal p-value. The trend is significant when
   ``trend_p <= trend_alpha`` (default 0.05; ArcGIS's documentation only says "statistically
   significant").
4. **Category.** :func:`classify_emerging`, with the definitions below.

Categories (ArcGIS "How Emerging Hot Spot Analysis works"; cold spots mirror them)
------------------------------------------------------------------------------
With ``n`` months, "90 %" meaning at least 90 % of the ``n`` bins (``10 * hot >= 9 * n``):

* ``new_hot`` — a significant hot spot in the final month and never a significant hot spot
  before.
* ``consecutive_hot`` — a single uninterrupted run of at least two significant hot bins ending
  in the final month, never a significant hot spot before the run, less than 90 % hot.
* ``intensifying_hot`` — hot in at least 90 % of the months including the final one, and the
  intensity of clustering (Gi* z) increases with a significant Mann-Kendall trend.
* ``persistent_hot`` — hot in at least 90 % of the months including the final one, with no
  significant trend.
* ``diminishing_hot`` — hot in at least 90 % of the months including the final one, with a
  significant decreasing trend.
* ``sporadic_hot`` — hot in the final month, on-again off-again before, less than 90 % hot,
  never a significant cold spot.
* ``oscillating_hot`` — hot in the final month, a significant cold spot in some earlier month,
  less than 90 % hot.
* ``historical_hot`` — not hot in the final month, but hot in at least 90 % of the months.
* ``no_pattern`` — none of these.

For cold spots read "cold" for "hot"; *intensifying* cold means the z-scores fall (colder)
with a significant trend, *diminishing* cold that they rise.

The published definitions overlap; the order that decides (same as the R package sfdep):

1. The final bin picks the family: hot final → a hot category; cold final → a cold category;
   not significant → ``historical_hot``, ``historical_cold`` or ``no_pattern``.
2. Within a family: ≥ 90 % → intensifying / diminishing / persistent by the trend; otherwise a
   significant bin of the opposite kind earlier → oscillating (so ``new`` and ``consecutive``
   mean: nothing significant before, not even of the opposite kind); otherwise only the final
   bin → new; otherwise one run at the end → consecutive; otherwise sporadic.

ArcGIS asks for at least ten time steps for this analysis; with fewer months every rule still
applies but "90 %" means "all" and the trend test has little power.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import stats
from sqlalchemy.orm import Session

from grid_model import fields
from grid_model.analysis.counts import NeedMonths, grid_need_counts, read_need_months
from grid_model.analysis.gistar import (
    _check_run_options,
    _local_gi_star,
    adjacency_matrix,
    class_labels,
    gi_bins,
)
from grid_model.analysis.hotspots import (
    TOLERANCE_M,
    _check_values,
    _grid_codes,
    _scoped_grids,
    _viewers_scope,
    queen_adjacency,
)
from grid_model.errors import InvalidInputError
from grid_model.scope import Scope, Viewer

HOT_CATEGORIES = (
    "new_hot",
    "consecutive_hot",
    "intensifying_hot",
    "persistent_hot",
    "diminishing_hot",
    "sporadic_hot",
    "oscillating_hot",
    "historical_hot",
)
CATEGORIES = (
    "no_pattern",
    *HOT_CATEGORIES,
    *(c.replace("_hot", "_cold") for c in HOT_CATEGORIES),
)
MIN_MONTHS = 2


# --------------------------------------------------------------------------- Mann-Kendall


@dataclass(frozen=True)
class MannKendall:
    """Mann-Kendall trend test of a series against time."""

    s: float
    var_s: float
    z: float
    p: float
    tau: float  # Kendall's tau-a, S / (n(n-1)/2)


def mann_kendall(x) -> MannKendall:
    """Mann-Kendall test of ``x`` (in time order): S, its tie-corrected variance, the
    continuity-corrected Z and the two-sided p-value. NaN anywhere gives NaN results.

    >>> mk = mann_kendall([1, 2, 3, 5, 4])
    >>> mk.s, round(mk.tau, 2)
    (8.0, 0.8)
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 1 or len(x) < 2:
        raise InvalidInputError(f"Mann-Kendall needs a series of 2 or more values, got {x.shape}")
    if np.isnan(x).any():
        return MannKendall(np.nan, np.nan, np.nan, np.nan, np.nan)
    n = len(x)
    s = float(np.triu(np.sign(x[None, :] - x[:, None]), k=1).sum())
    _, ties = np.unique(x, return_counts=True)
    var_s = (n * (n - 1) * (2 * n + 5) - float((ties * (ties - 1) * (2 * ties + 5)).sum())) / 18
    z = (s - np.sign(s)) / np.sqrt(var_s) if var_s > 0 else 0.0
    p = float(2 * stats.norm.sf(abs(z)))
    return MannKendall(s, float(var_s), float(z), p, s / (n * (n - 1) / 2))


# --------------------------------------------------------------------------- classification


def _trailing_run(flags: np.ndarray) -> int:
    run = 0
    for f in flags[::-1]:
        if not f:
            break
        run += 1
    return run


def _family(
    mine: np.ndarray, other: np.ndarray, kind: str, trend_z: float, trend_p: float, alpha: float
) -> str:
    n = len(mine)
    count = int(mine.sum())
    if 10 * count >= 9 * n:
        significant = np.isfinite(trend_p) and trend_p <= alpha and trend_z != 0
        if not significant:
            return f"persistent_{kind}"
        stronger = trend_z > 0 if kind == "hot" else trend_z < 0
        return f"intensifying_{kind}" if stronger else f"diminishing_{kind}"
    if other[:-1].any():
        return f"oscillating_{kind}"
    if count == 1:
        return f"new_{kind}"
    if _trailing_run(mine) == count:
        return f"consecutive_{kind}"
    return f"sporadic_{kind}"


def classify_emerging(bins, *, trend_z: float, trend_p: float, trend_alpha: float = 0.05) -> str:
    """Emerging hot spot category of one grid.

    Parameters
    ----------
    bins : sequence of int
        The grid's ``gi_bin`` (-3..3) per month, oldest first.
    trend_z, trend_p : float
        Mann-Kendall Z and p of the grid's Gi* z-score series (NaN = no trend).
    trend_alpha : float
        Significance level of the trend.

    Returns
    -------
    str
        One of :data:`CATEGORIES` (definitions and precedence in the module docstring).

    >>> classify_emerging([0, 0, 0, 2], trend_z=1.0, trend_p=0.3)
    'new_hot'
    >>> classify_emerging([3, 3, 3, 3], trend_z=2.5, trend_p=0.01)
    'intensifying_hot'
    """
    b = np.asarray(bins)
    if b.ndim != 1 or len(b) < 1:
        raise InvalidInputError(f"bins must be a series of monthly gi_bin values, got {b.shape}")
    if not np.isin(b, np.arange(-3, 4)).all():
        raise InvalidInputError(f"bins must be integers -3..3, got {sorted(set(b.tolist()))}")
    hot, cold = b > 0, b < 0
    n = len(b)
    if hot[-1]:
        return _family(hot, cold, "hot", trend_z, trend_p, trend_alpha)
    if cold[-1]:
        return _family(cold, hot, "cold", trend_z, trend_p, trend_alpha)
    if 10 * int(hot.sum()) >= 9 * n:
        return "historical_hot"
    if 10 * int(cold.sum()) >= 9 * n:
        return "historical_cold"
    return "no_pattern"


def _categories(
    bins: np.ndarray, trend_z: np.ndarray, trend_p: np.ndarray, *, trend_alpha: float
) -> np.ndarray:
    """:func:`classify_emerging` of every column of ``bins`` (months down the rows, valid
    bins), the same rules in the same order on whole columns."""
    n = bins.shape[0]
    hot, cold = bins > 0, bins < 0
    significant = np.isfinite(trend_p) & (trend_p <= trend_alpha) & (trend_z != 0)
    out = np.full(bins.shape[1], "no_pattern", dtype=object)
    for kind, mine, other, stronger in (
        ("hot", hot, cold, trend_z > 0),
        ("cold", cold, hot, trend_z < 0),
    ):
        count = mine.sum(axis=0)
        backwards = mine[::-1]
        run = np.where(backwards.all(axis=0), n, backwards.argmin(axis=0))
        mostly = 10 * count >= 9 * n
        family = np.select(
            [
                mostly & ~significant,
                mostly & stronger,
                mostly,
                other[:-1].any(axis=0),
                count == 1,
                run == count,
            ],
            [f"persistent_{kind}", f"intensifying_{kind}", f"diminishing_{kind}"]
            + [f"oscillating_{kind}", f"new_{kind}", f"consecutive_{kind}"],
            default=f"sporadic_{kind}",
        )
        historical = ~hot[-1] & ~cold[-1] & mostly & (out == "no_pattern")
        out[historical] = f"historical_{kind}"
        out[mine[-1]] = family[mine[-1]]
    return out


# --------------------------------------------------------------------------- the cube


def _to_months(values: pd.Series, field: str) -> pd.Series:
    try:
        if isinstance(values.dtype, pd.PeriodDtype):
            return values.dt.asfreq("M")
        if values.dtype == object:
            values = values.map(lambda v: v.to_timestamp() if isinstance(v, pd.Period) else v)
        stamps = pd.to_datetime(values)
        if stamps.dt.tz is not None:
            stamps = stamps.dt.tz_localize(None)
        return stamps.dt.to_period("M")
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"{field} must be months (YYYY-MM, dates or pandas Periods): {exc}"
        ) from exc


def _one_month(value, field: str) -> pd.Period:
    return _to_months(pd.Series([value]), field).iloc[0]


def _cube(
    counts: pd.DataFrame, codes: list[str], first_month, last_month
) -> tuple[pd.PeriodIndex, np.ndarray]:
    if not isinstance(counts, pd.DataFrame):
        raise InvalidInputError(f"counts must be a DataFrame, got {type(counts).__name__}")
    missing = [c for c in ("grid_code", "month", "count") if c not in counts.columns]
    if missing:
        raise InvalidInputError(
            f"counts lacks column(s) {missing}; expected grid_code, month, count"
        )
    grid_codes = counts["grid_code"].astype(str)
    month = _to_months(counts["month"], "counts.month")
    count = _check_values(counts["count"].to_numpy(), grid_codes.to_numpy(), "counts")
    column = pd.Index(codes).get_indexer(grid_codes)
    if (column < 0).any():
        unknown = sorted(set(grid_codes[column < 0]))
        raise InvalidInputError(f"counts for grid codes not in grids: {unknown[:5]}")
    if month.isna().any():
        raise InvalidInputError("counts.month has empty values")
    first = _one_month(first_month, "first_month") if first_month is not None else None
    last = _one_month(last_month, "last_month") if last_month is not None else None
    if first is None or last is None:
        if counts.empty:
            raise InvalidInputError("no counts and no first_month/last_month: no months to analyse")
        first = first if first is not None else month.min()
        last = last if last is not None else month.max()
    months = pd.period_range(first, last, freq="M")
    if len(months) < MIN_MONTHS:
        raise InvalidInputError(
            f"emerging hot spots need at least {MIN_MONTHS} months, got {first} to {last}"
        )
    row = month.array.asi8 - first.ordinal
    outside = (row < 0) | (row >= len(months))
    if outside.any():
        raise InvalidInputError(
            f"counts for months outside {first}..{last}: "
            f"{sorted(month[outside].astype(str).unique())[:5]}"
        )
    # Several rows of one grid-month add up (a bincount: the cells in one pass).
    size = len(months) * len(codes)
    cube = np.bincount(row * len(codes) + column, weights=count, minlength=size)
    return months, cube.reshape(len(months), len(codes))


def space_time_adjacency(spatial, n_months: int, neighbourhood_time_step: int = 1):
    """Binary weights over the cube's bins as a sparse matrix, ordered month by month (bin =
    t * n_grids + i): the spatial neighbours in the same month, plus the grid and its
    neighbours in each of the ``neighbourhood_time_step`` previous months. No self-weight
    (Gi* adds it). ``spatial``: the grids' contiguity (a matrix or a libpysal ``W``)."""
    if isinstance(neighbourhood_time_step, bool) or not isinstance(
        neighbourhood_time_step, (int, np.integer)
    ):
        raise InvalidInputError(
            f"neighbourhood_time_step must be an integer, got {neighbourhood_time_step!r}"
        )
    if neighbourhood_time_step < 0:
        raise InvalidInputError(
            f"neighbourhood_time_step must be 0 or more, got {neighbourhood_time_step}"
        )
    a = adjacency_matrix(spatial)
    n = a.shape[0]
    lag = sp.csr_matrix((n_months, n_months))
    for k in range(1, min(neighbourhood_time_step, n_months - 1) + 1):
        lag = lag + sp.eye(n_months, k=-k, format="csr")
    cube = sp.kron(sp.identity(n_months), a) + sp.kron(lag, a + sp.identity(n))
    return adjacency_matrix(cube)


def space_time_weights(spatial_w, n_months: int, neighbourhood_time_step: int = 1):
    """:func:`space_time_adjacency` as a libpysal ``W`` (ids = bin numbers)."""
    # libpysal.weights takes 0.9 s to import (measured with -X importtime): paid here only,
    # the statistics use the matrix.
    from libpysal.weights import WSP

    cube = space_time_adjacency(spatial_w, n_months, neighbourhood_time_step)
    return WSP(cube).to_W(silence_warnings=True)


@dataclass(frozen=True)
class _Bins:
    """Gi* of every bin of the cube as arrays of shape (months, grids)."""

    codes: list[str]
    months: pd.PeriodIndex
    count: np.ndarray
    neighbours: np.ndarray
    z: np.ndarray
    p: np.ndarray
    p_fdr: np.ndarray
    gi_bin: np.ndarray


def _space_time_bins(
    grids: gpd.GeoDataFrame,
    counts: pd.DataFrame,
    *,
    first_month,
    last_month,
    neighbourhood_time_step: int,
    permutations: int,
    seed: int | None,
    fdr: bool,
    tolerance: float,
) -> _Bins:
    _check_run_options(permutations, seed)
    codes = _grid_codes(grids)
    months, cube = _cube(counts, codes, first_month, last_month)
    spatial = queen_adjacency(grids, codes, tolerance=tolerance)
    w = space_time_adjacency(spatial, len(months), neighbourhood_time_step)
    y = cube.ravel()
    z, p, neighbours = _local_gi_star(y, w, permutations=permutations, seed=seed)
    gi_bin, p_fdr = gi_bins(z, p, fdr=fdr)
    shape = cube.shape
    return _Bins(
        codes,
        months,
        cube,
        neighbours.reshape(shape),
        z.reshape(shape),
        p.reshape(shape),
        p_fdr.reshape(shape),
        gi_bin.reshape(shape),
    )


def space_time_gi_star(
    grids: gpd.GeoDataFrame,
    counts: pd.DataFrame,
    *,
    first_month=None,
    last_month=None,
    neighbourhood_time_step: int = 1,
    permutations: int = 0,
    seed: int | None = 12345,
    fdr: bool = True,
    tolerance: float = TOLERANCE_M,
) -> pd.DataFrame:
    """Gi* of every grid-month of the cube (step 2 of the module docstring).

    Parameters
    ----------
    grids : GeoDataFrame
        Grid polygons with a unique ``grid_code``.
    counts : DataFrame
        ``grid_code, month, count``; month as ``YYYY-MM``, a date or a Period. Missing
        grid-months are 0; several rows for one grid-month are added up.
    first_month, last_month : optional
        The period analysed (default: the first and last month in ``counts``).
    neighbourhood_time_step, permutations, seed, fdr, tolerance
        See the module docstring and :func:`grid_model.analysis.hotspots.gi_star`.

    Returns
    -------
    DataFrame
        ``grid_code, month (Period), count, neighbours, z, p, p_fdr, gi_bin, class``, month by
        month, grids in ``grids`` order.
    """
    b = _space_time_bins(
        grids,
        counts,
        first_month=first_month,
        last_month=last_month,
        neighbourhood_time_step=neighbourhood_time_step,
        permutations=permutations,
        seed=seed,
        fdr=fdr,
        tolerance=tolerance,
    )
    gi_bin = b.gi_bin.ravel()
    return pd.DataFrame(
        {
            "grid_code": np.tile(np.array(b.codes, dtype=object), len(b.months)),
            "month": b.months.repeat(len(b.codes)),
            "count": b.count.ravel(),
            "neighbours": b.neighbours.ravel(),
            "z": b.z.ravel(),
            "p": b.p.ravel(),
            "p_fdr": b.p_fdr.ravel(),
            "gi_bin": gi_bin,
            "class": class_labels(gi_bin),
        }
    )


def _mann_kendall_columns(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`mann_kendall`'s Z and p of every column of ``x`` (time down the rows), the same
    arithmetic on whole columns at once."""
    n, columns = x.shape
    s = np.empty(columns)
    upper = np.triu(np.ones((n, n), dtype=bool), k=1)
    step = max(1, 4_000_000 // (n * n))  # columns per block: a few MB of differences
    for lo in range(0, columns, step):
        block = x[:, lo : lo + step]
        signs = np.sign(block[None, :, :] - block[:, None, :])  # [i, j] = sign(x_j - x_i)
        s[lo : lo + step] = signs[upper].sum(axis=0)
    ordered = np.sort(x, axis=0)
    starts = np.ones((n + 1, columns), dtype=bool)
    starts[1:-1] = ordered[1:] != ordered[:-1]
    column, row = np.nonzero(starts.T)  # run starts (and the end), column by column
    same = column[1:] == column[:-1]
    t = np.diff(row)[same].astype(float)
    ties = np.bincount(column[1:][same], weights=t * (t - 1) * (2 * t + 5), minlength=columns)
    var_s = (n * (n - 1) * (2 * n + 5) - ties) / 18
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(var_s > 0, (s - np.sign(s)) / np.sqrt(var_s), 0.0)
    p = 2 * stats.norm.sf(np.abs(z))
    undefined = np.isnan(x).any(axis=0)
    z[undefined] = np.nan
    p[undefined] = np.nan
    return z, p


def _summaries(b: _Bins, *, trend_alpha: float) -> pd.DataFrame:
    trend_z, trend_p = _mann_kendall_columns(b.z)
    categories = _categories(b.gi_bin, trend_z, trend_p, trend_alpha=trend_alpha)
    return pd.DataFrame(
        {
            "grid_code": b.codes,
            "category": categories,
            "trend_z": trend_z,
            "trend_p": trend_p,
            "share_hot": (b.gi_bin > 0).mean(axis=0),
            "share_cold": (b.gi_bin < 0).mean(axis=0),
            "last_bin": b.gi_bin[-1].astype(int),
            "previous_bin": b.gi_bin[-2].astype(int),
            "last_z": b.z[-1].astype(float),
            "last_count": b.count[-1].astype(float),
        }
    )


def emerging_hotspots(
    grids: gpd.GeoDataFrame,
    counts: pd.DataFrame,
    *,
    first_month=None,
    last_month=None,
    neighbourhood_time_step: int = 1,
    permutations: int = 0,
    seed: int | None = 12345,
    fdr: bool = True,
    trend_alpha: float = 0.05,
    tolerance: float = TOLERANCE_M,
) -> pd.DataFrame:
    """Emerging hot spot category per grid from monthly need counts.

    Parameters are those of :func:`space_time_gi_star`, plus ``trend_alpha`` (significance of
    the Mann-Kendall trend).

    Returns
    -------
    DataFrame
        One row per grid in ``grids`` order: ``grid_code, category, trend_z, trend_p,
        share_hot, share_cold, last_bin, previous_bin, last_z, last_count``.
        ``result.attrs["months"]`` holds the months analysed.
    """
    if not 0 < trend_alpha < 1:
        raise InvalidInputError(f"trend_alpha must be between 0 and 1, got {trend_alpha}")
    bins = _space_time_bins(
        grids,
        counts,
        first_month=first_month,
        last_month=last_month,
        neighbourhood_time_step=neighbourhood_time_step,
        permutations=permutations,
        seed=seed,
        fdr=fdr,
        tolerance=tolerance,
    )
    result = _summaries(bins, trend_alpha=trend_alpha)
    result.attrs["months"] = [str(m) for m in bins.months]
    return result


def what_changed(
    current: pd.DataFrame, previous: pd.DataFrame, *, column: str | None = None
) -> pd.DataFrame:
    """Grids whose class differs between two results (e.g. this month's and last month's).

    Parameters
    ----------
    current, previous : DataFrame
        Results keyed by ``grid_code``: :func:`emerging_hotspots` (compared on ``category``),
        :func:`grid_model.analysis.hotspots.gi_star` or a month of :func:`space_time_gi_star`
        (compared on ``class``).
    column : str, optional
        The column to compare (default ``category`` if both have it, else ``class``).

    Returns
    -------
    DataFrame
        ``grid_code, previous, current`` (plus ``name`` when ``current`` has it) for grids whose
        value changed, appeared or disappeared (missing side: None), ordered by grid code.
    """
    for label, frame in (("current", current), ("previous", previous)):
        if not isinstance(frame, pd.DataFrame) or "grid_code" not in frame.columns:
            raise InvalidInputError(f"{label} must be a DataFrame with a grid_code column")
    if column is None:
        column = next((c for c in ("category", "class") if c in current and c in previous), None)
        if column is None:
            raise InvalidInputError(
                "current and previous share neither a 'category' nor a 'class' column"
            )
    for label, frame in (("current", current), ("previous", previous)):
        if column not in frame.columns:
            raise InvalidInputError(f"{label} has no column {column!r}")
    keep = ["grid_code", column] + (["name"] if "name" in current.columns else [])
    merged = current[keep].merge(
        previous[["grid_code", column]],
        on="grid_code",
        how="outer",
        suffixes=("_current", "_previous"),
    )
    now, before = merged[f"{column}_current"], merged[f"{column}_previous"]
    changed = (now != before) & ~(now.isna() & before.isna())
    out = pd.DataFrame(
        {
            "grid_code": merged["grid_code"],
            "previous": before.astype(object).where(before.notna(), None),
            "current": now.astype(object).where(now.notna(), None),
        }
    )
    if "name" in merged.columns:
        out.insert(1, "name", merged["name"].astype(object).where(merged["name"].notna(), None))
    return out[changed.to_numpy()].sort_values("grid_code").reset_index(drop=True)


# --------------------------------------------------------------------------- database


def emerging_table(
    session: Session,
    scope: Scope,
    viewer: Viewer,
    *,
    neighbourhood_time_step: int = 1,
    permutations: int = 0,
    seed: int | None = 12345,
    fdr: bool = True,
    trend_alpha: float = 0.05,
    tolerance: float = TOLERANCE_M,
    summary: bool = True,
    months: NeedMonths | None = None,
) -> pd.DataFrame:
    """Emerging hot spots of needs per grid in ``scope``, cut to ``viewer``'s area.

    Needs matching ``scope.need_filter()`` are counted per grid and report month
    (:func:`~grid_model.analysis.counts.grid_need_counts`: closed needs of whole months from
    the closed-needs summary unless ``summary=False``; taken from ``months`` of
    :func:`~grid_model.analysis.hotspots.hotspot_months` when they hold them, e.g. those of a
    longer period starting alike, this one ending on a month's last day). The months run from
    ``scope.start`` to ``scope.end`` (default: the first and last month with needs), bounded
    to the plausible report dates of :mod:`grid_model.fields` (1990-01-01 to tomorrow): a
    date such as 0001-01-01 written by another tool would otherwise make 24,000 months. A
    period ending mid-month makes the final slice partial, which reads as a drop: prefer whole
    months.
    Returns :func:`emerging_hotspots`' columns with ``name`` after ``grid_code``.
    """
    return _emerging_of(
        session,
        _viewers_scope(session, scope, viewer),
        months,
        neighbourhood_time_step=neighbourhood_time_step,
        permutations=permutations,
        seed=seed,
        fdr=fdr,
        trend_alpha=trend_alpha,
        tolerance=tolerance,
        summary=summary,
    )


def _emerging_of(
    session: Session, scope: Scope, months: NeedMonths | None, *, summary: bool, **options
) -> pd.DataFrame:
    """:func:`emerging_table` of a scope already cut to the viewer's area."""
    first, last, plausible = _plausible(scope)
    served = months is not None and months.serves(plausible)
    grids = _scoped_grids(session, scope, months if served else None)
    if served:
        counts = months.of(plausible)
    else:
        counts = grid_need_counts(session, plausible, by_month=True, summary=summary)
    counts = counts[counts["grid_code"].isin(grids["grid_code"])]
    result = emerging_hotspots(
        grids,
        counts,
        first_month=first,
        last_month=last,
        **options,
    )
    result.insert(1, "name", grids["name"].to_numpy())
    return result


def _plausible(scope: Scope) -> tuple[dt.date | None, dt.date | None, Scope]:
    """The first and last day asked for, bounded to plausible report dates (None: not
    asked), and the scope whose needs are counted."""
    earliest, latest = fields.EARLIEST, fields.latest_reported()
    first = max(scope.start, earliest) if scope.start else None
    last = min(scope.end, latest) if scope.end else None
    return first, last, replace(scope, start=first or earliest, end=last or latest)


def last_whole_month_end(day: dt.date) -> dt.date:
    """The last day of the latest calendar month that is complete on ``day``.

    >>> last_whole_month_end(dt.date(2025, 12, 15)), last_whole_month_end(dt.date(2025, 11, 30))
    (datetime.date(2025, 11, 30), datetime.date(2025, 11, 30))
    """
    following = day + dt.timedelta(days=1)
    return day if following.day == 1 else day.replace(day=1) - dt.timedelta(days=1)


@dataclass(frozen=True)
class EmergingChange:
    """This month's and last month's emerging hot spots (:func:`emerging_table`) and what
    changed between them (:func:`what_changed`); ``previous`` and ``changed`` are None when
    the scope's period leaves too few months before last month's end."""

    current: pd.DataFrame
    previous: pd.DataFrame | None
    changed: pd.DataFrame | None
    current_end: dt.date
    previous_end: dt.date


def emerging_change(
    session: Session,
    scope: Scope,
    viewer: Viewer,
    day: dt.date,
    *,
    months: NeedMonths | None = None,
    **options,
) -> EmergingChange:
    """Emerging hot spots of ``scope`` (cut to ``viewer``'s area) as of this month and as of
    last month, and what changed between them.

    "This month" is the latest whole month on ``day`` (a partial month would read as a
    drop), or before the scope's end; both runs start where ``scope`` starts. Both take their
    counts from one read per grid and month (``months`` of
    :func:`~grid_model.analysis.hotspots.hotspot_months` when they hold them). ``options``
    are :func:`emerging_table`'s.
    """
    end = scope.end if scope.end and scope.end < day else day
    current_end = last_whole_month_end(end)
    previous_end = current_end.replace(day=1) - dt.timedelta(days=1)
    options = {"summary": True, **options}
    cut = _viewers_scope(session, scope, viewer)
    now = replace(cut, end=current_end)
    counted = _plausible(now)[2]
    if months is None or not months.serves(counted):
        grids = _scoped_grids(session, now)
        months = read_need_months(session, counted, summary=options["summary"], grids=grids)
    current = _emerging_of(session, now, months, **options)
    previous = changed = None
    if scope.start is None or scope.start <= previous_end.replace(day=1):
        try:
            previous = _emerging_of(session, replace(cut, end=previous_end), months, **options)
        except InvalidInputError:  # too few months before: nothing to compare with
            previous = None
    if previous is not None:
        changed = what_changed(current, previous)
    return EmergingChange(current, previous, changed, current_end, previous_end)
