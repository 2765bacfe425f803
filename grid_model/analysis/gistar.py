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


def _local_gi_star(
    y: np.ndarray, w, *, permutations: int, seed: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """z, two-sided p (NaN = not tested) and neighbour counts for ``y`` on binary weights ``w``
    (a libpysal ``W`` without self-weights)."""
    # esda takes 2.4 s to import (measured with -X importtime, after scipy and geopandas):
    # paid when a statistic is computed, not by every importer of the analysis package.
    import esda

    n = len(y)
    neighbours = np.asarray(w.sparse.getnnz(axis=1), dtype=int)
    if np.ptp(y) == 0:
        nan = np.full(n, np.nan)
        return nan, nan.copy(), neighbours
    # esda seeds numpy's global generator (np.random.seed) for its permutations; give the
    # caller's random state back untouched.
    state = np.random.get_state()
    try:
        # A neighbourhood covering every feature has zero variance: esda divides by it.
        with np.errstate(divide="ignore", invalid="ignore"):
            g = esda.G_Local(
                y,
                w,
                transform="B",
                star=True,
                permutations=permutations,
                seed=seed,
                n_jobs=1,
                keep_simulations=False,
            )
    finally:
        np.random.set_state(state)
    z = np.asarray(g.Zs, dtype=float)
    if permutations:
        # esda keeps p_sim in float32; recover the exact count of as-extreme draws.
        extreme = np.rint(np.asarray(g.p_sim, dtype=float) * (permutations + 1))
        p = np.minimum(1.0, 2.0 * extreme / (permutations + 1))
    else:
        p = 2.0 * stats.norm.sf(np.abs(z))
    untested = (neighbours == 0) | (neighbours + 1 >= n) | ~np.isfinite(z)
    z[~np.isfinite(z)] = np.nan
    p[untested] = np.nan
    return z, p, neighbours


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
