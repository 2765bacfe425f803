"""The local Getis-Ord Gi* statistic and its ArcGIS-style classes, shared by the hot spots of
:mod:`grid_model.analysis.hotspots` (grids), :mod:`grid_model.analysis.hexagons` (H3 cells) and
:mod:`grid_model.analysis.emerging` (space-time cube). How it is configured and which p-value
decides is explained in :mod:`grid_model.analysis.hotspots`.

>>> gi_bins([2.9, -2.0, 0.5], [0.004, 0.04, 0.6], fdr=False)[0].tolist()
[3, -2, 0]
>>> class_labels([3, 0, -1]).tolist()
['hot_99', 'not_significant', 'cold_90']
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import stats

from grid_model.errors import InvalidInputError

WGS84 = "EPSG:4326"

CLASS_LABELS = {
    3: "hot_99",
    2: "hot_95",
    1: "hot_90",
    0: "not_significant",
    -1: "cold_90",
    -2: "cold_95",
    -3: "cold_99",
}
# (bin, alpha) from the strictest level down: a feature takes the first level it reaches.
CONFIDENCE_LEVELS = ((3, 0.01), (2, 0.05), (1, 0.10))

MIN_FEATURES = 3


# --------------------------------------------------------------------------- classes


def bh_adjust(p) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q-values); NaN entries are left out of the family
    and stay NaN."""
    p = np.asarray(p, dtype=float)
    q = np.full(p.shape, np.nan)
    tested = ~np.isnan(p)
    if tested.any():
        q[tested] = stats.false_discovery_control(p[tested], method="bh")
    return q


def gi_bins(z, p, *, fdr: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """ArcGIS-style confidence bins from z-scores and two-sided p-values.

    Parameters
    ----------
    z, p : array-like
        Gi* z-scores (their sign gives hot/cold) and two-sided p-values; NaN p = not tested.
    fdr : bool
        Decide with the Benjamini–Hochberg adjusted p-values instead of the raw ones.

    Returns
    -------
    (gi_bin, p_fdr) : integer bins in -3..3 and the adjusted p-values.
    """
    z = np.asarray(z, dtype=float)
    p = np.asarray(p, dtype=float)
    if z.shape != p.shape:
        raise InvalidInputError(f"z and p differ in shape: {z.shape} vs {p.shape}")
    p_fdr = bh_adjust(p)
    deciding = p_fdr if fdr else p
    level = np.zeros(p.shape, dtype=int)
    for bin_, alpha in reversed(CONFIDENCE_LEVELS):  # 90 %, then overwrite with 95, 99
        level[np.nan_to_num(deciding, nan=1.0) <= alpha] = bin_
    sign = np.sign(np.nan_to_num(z)).astype(int)
    return level * sign, p_fdr


def class_labels(gi_bin) -> np.ndarray:
    """``hot_99`` … ``cold_99`` for integer bins."""
    return np.array([CLASS_LABELS[int(b)] for b in np.asarray(gi_bin).ravel()], dtype=object)


# --------------------------------------------------------------------------- the statistic


def _check_run_options(permutations: int, seed: int | None) -> None:
    if isinstance(permutations, bool) or not isinstance(permutations, (int, np.integer)):
        raise InvalidInputError(f"permutations must be an integer, got {permutations!r}")
    if permutations < 0:
        raise InvalidInputError(f"permutations must be 0 (analytical) or more, got {permutations}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise InvalidInputError(f"seed must be an integer or None, got {seed!r}")


def adjacency_matrix(w) -> sp.csr_matrix:
    """Binary weights without self-weights as a CSR matrix: 1.0 where ``w`` (a scipy sparse
    matrix, a dense array or anything with a ``.sparse`` matrix, like libpysal's ``W``) is
    non-zero off the diagonal."""
    coo = sp.coo_matrix(getattr(w, "sparse", w))
    if coo.shape[0] != coo.shape[1]:
        raise InvalidInputError(f"weights must be a square matrix, got shape {coo.shape}")
    off = (coo.row != coo.col) & (coo.data != 0)
    a = sp.csr_matrix((np.ones(int(off.sum())), (coo.row[off], coo.col[off])), shape=coo.shape)
    a.sum_duplicates()
    a.data[:] = 1.0
    return a


def _local_gi_star(
    y: np.ndarray, w, *, permutations: int, seed: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """z, two-sided p (NaN = not tested) and neighbour counts for ``y`` on binary weights ``w``
    (see :func:`adjacency_matrix`; no self-weights: Gi* adds the focal unit with weight 1).

    The arithmetic is esda's ``G_Local(y, w, transform="B", star=True)`` step for step (its
    ``calc`` and, for ``permutations``, its conditional randomisation with the same seeded
    draws), without building libpysal weights objects: the same inputs give the same z and
    pseudo p-values (``tests/test_hotspots_speed.py`` checks it against esda).
    """
    a = adjacency_matrix(w)
    n = len(y)
    neighbours = np.diff(a.indptr).astype(int)
    if np.ptp(y) == 0:
        nan = np.full(n, np.nan)
        return nan, nan.copy(), neighbours
    # A neighbourhood covering every feature has zero variance: the z divides by it.
    with np.errstate(divide="ignore", invalid="ignore"):
        g, z = _gi_star_z(y, a, neighbours)
    untested = (neighbours == 0) | (neighbours + 1 >= n) | ~np.isfinite(z)
    if permutations:
        extreme = _as_extreme(y, a, g, neighbours, untested, permutations, seed)
        p = np.minimum(1.0, 2.0 * (extreme + 1) / (permutations + 1))
    else:
        p = 2.0 * stats.norm.sf(np.abs(z))
    z[~np.isfinite(z)] = np.nan
    p[untested] = np.nan
    return z, p, neighbours


def _gi_star_z(y: np.ndarray, a: sp.csr_matrix, neighbours: np.ndarray):
    """Gi* (the share of the total in each neighbourhood, focal unit included) and its
    analytical z, as esda's ``G_Local.calc`` computes them for binary weights with a unit
    diagonal."""
    n = len(y)
    w = a + sp.identity(n, format="csr")
    statistic = (w @ y) / y.sum()
    mean = y.sum() / n
    variance = (y**2).sum() / n - mean**2
    cardinality = neighbours + 1.0
    expected = cardinality / n
    expected_variance = cardinality * (n - cardinality)
    expected_variance /= n - 1
    expected_variance *= 1 / n**2
    expected_variance *= variance / (mean**2)
    return statistic, (statistic - expected) / np.sqrt(expected_variance)


def _as_extreme(
    y: np.ndarray,
    a: sp.csr_matrix,
    observed: np.ndarray,
    neighbours: np.ndarray,
    untested: np.ndarray,
    permutations: int,
    seed: int | None,
) -> np.ndarray:
    """Per feature, how many of ``permutations`` conditional draws are as extreme as the
    observed Gi*, on the side it lies (esda's "directed" count: ``min(#sim >= obs, #sim <
    obs)``); 0 for untested features.

    The draws are esda's: a legacy ``RandomState(seed)`` (what ``np.random.seed`` seeds)
    picks ``max(neighbours)`` of the ``n - 1`` other features without replacement once per
    permutation, and feature ``i`` takes the first ``neighbours[i]`` of each draw, indices at
    or past ``i`` shifted by one.
    """
    n = len(y)
    if seed is None:
        # esda draws its seed from numpy's global generator; leave that where it was.
        state = np.random.get_state()
        seed = np.random.randint(12345, 12345000)
        np.random.set_state(state)
    rng = np.random.RandomState(seed)
    max_card = int(neighbours.max())
    draws = np.empty((permutations, max_card), dtype=np.int64)
    others = np.arange(n - 1)
    for k in range(permutations):
        # rng.choice(n - 1, size=max_card, replace=False) as esda draws it, which is the head
        # of rng.permutation(n - 1), a shuffle of a fresh arange: the same draws, a third of
        # the time.
        order = others.copy()
        rng.shuffle(order)
        draws[k] = order[:max_card]
    total = y.sum()
    extreme = np.zeros(n)
    for i in np.flatnonzero(~untested):
        ids = draws[:, : neighbours[i]]
        values = y[ids + (ids >= i)]
        simulated = (values @ np.ones(neighbours[i]) + 1.0 * y[i]) / total
        larger = (simulated >= observed[i]).sum()
        extreme[i] = min(larger, permutations - larger)
    return extreme


def _result_frame(
    id_column: str,
    ids,
    y: np.ndarray,
    w,
    *,
    permutations: int,
    seed: int | None,
    fdr: bool,
) -> pd.DataFrame:
    z, p, neighbours = _local_gi_star(y, w, permutations=permutations, seed=seed)
    gi_bin, p_fdr = gi_bins(z, p, fdr=fdr)
    return pd.DataFrame(
        {
            id_column: list(ids),
            "count": y,
            "neighbours": neighbours,
            "z": z,
            "p": p,
            "p_fdr": p_fdr,
            "gi_bin": gi_bin,
            "class": class_labels(gi_bin),
        }
    )
