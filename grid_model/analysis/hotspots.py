"""Hot spots: local Getis-Ord Gi* on grid polygons and on H3 hexagon bins (DESIGN §6).

A hot spot here is a statistic, not a density picture: a grid is a hot spot when the sum of
needs in its neighbourhood (the grid itself and the grids touching it) is larger than chance
would give, judged against every grid of the study area.

Configuration, pinned because the library defaults are something else
----------------------------------------------------------------------
* Contiguity: libpysal ``Queen`` (shared edge or corner), binary weights (transform ``"B"``),
  plus pairs of grids less than ``tolerance`` (1 m) apart, because stored boundaries of
  neighbouring grids seldom share their vertices to the last digit (:func:`queen_weights`;
  the statistics take it as a sparse matrix, :func:`queen_adjacency`).
* Gi*, not Gi: ``esda.G_Local(y, w, transform="B", star=True)``, computed as esda computes it
  but on the sparse matrix, without libpysal's weights objects (same z, same seeded pseudo
  p-values; ``tests/test_hotspots_speed.py`` compares with esda). With binary weights and no
  weight on the diagonal esda fills the diagonal with 1, so the focal grid counts in its own
  neighbourhood with weight 1, as Getis & Ord (1992, 1995) define Gi*. esda's *default*
  ``G_Local(y, w)`` is the row-standardised Gi without the focal unit: a different statistic.
* The z-score is esda's analytical ``Zs``, which equals Getis & Ord's (1995) closed form::

      z_i = (sum_j w_ij x_j - xbar * W_i) / (S * sqrt((n * sum_j w_ij**2 - W_i**2) / (n - 1)))

  with ``W_i = sum_j w_ij`` (the focal grid included), ``xbar`` the mean and
  ``S = sqrt(sum x**2 / n - xbar**2)``.

Which p-value decides
---------------------
* ``permutations=0``: the analytical two-sided p, ``2 * (1 - Phi(|z|))`` — what ArcGIS's Hot
  Spot Analysis uses.
* ``permutations > 0``: conditional randomisation (esda): the focal value stays put, the others
  are shuffled ``permutations`` times (seeded). esda's ``p_sim`` is the *directed* (folded)
  pseudo p-value ``(min(#sim >= obs, #sim < obs) + 1) / (permutations + 1)``, i.e. one tail
  chosen after looking; esda itself notes it is half the two-sided value. We report
  ``p = min(1, 2 * p_sim)``, a two-sided pseudo p on the same scale as the analytical one, so
  the 90/95/99 % thresholds mean the same thing in both modes. With 999 permutations the
  smallest possible p is 0.002, and after the FDR correction over ``m`` features the smallest
  adjusted p is ``0.002 m / k`` when ``k`` features share it: for hundreds of hexagons use
  more permutations (or the analytical p).
* The sign of ``z`` says hot (+) or cold (-).

Classes (ArcGIS ``Gi_Bin``)
---------------------------
``gi_bin`` = sign(z) × 3 / 2 / 1 when the deciding p-value is <= 0.01 / 0.05 / 0.10 (99, 95,
90 % confidence), else 0. Labels ``hot_99, hot_95, hot_90, not_significant, cold_90, cold_95,
cold_99``.

With ``fdr=True`` (ArcGIS's "Apply False Discovery Rate correction") the deciding p-value is
the Benjamini–Hochberg adjusted one, ``p_fdr``, taken over all tested features: for each level
alpha in (0.10, 0.05, 0.01) ArcGIS ranks the p-values, finds the largest rank k with
``p_(k) <= k * alpha / m`` and calls every feature with ``p <= p_(k)`` significant at that
level. That is exactly ``p_fdr <= alpha`` with ``p_fdr_(i) = min_{j >= i} m * p_(j) / j``, so a
feature's bin is the highest level whose alpha its ``p_fdr`` reaches. ``p_fdr`` is reported
either way; with ``fdr=False`` the raw ``p`` decides.

Features that are not tested
----------------------------
A grid with no neighbours (an island) has only itself in its neighbourhood: its "Gi*" is its
own standardised value and conditional randomisation cannot move it. A grid whose
neighbourhood is every grid has a constant Gi*. And if every grid has the same value there is
no variance. Such features keep esda's z (NaN where undefined) but get ``p = p_fdr = NaN``,
``gi_bin = 0`` and do not count in the FDR family. ``neighbours`` (excluding the grid itself)
shows islands as 0.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import box
>>> grids = gpd.GeoDataFrame(
...     {"grid_code": [f"g{r}{c}" for r in range(4) for c in range(4)]},
...     geometry=[box(c, -r, c + 1, -r + 1) for r in range(4) for c in range(4)],
... )
>>> counts = [9, 8, 1, 0, 7, 9, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]
>>> analytical = gi_star(grids, counts, permutations=0)
>>> analytical.loc[0, ["grid_code", "z", "class"]].tolist()
['g00', np.float64(3.8147...), 'hot_99']
>>> permuted = gi_star(grids, counts, permutations=999, seed=12345)
>>> permuted.loc[0, ["p", "p_fdr", "class"]].tolist()
[np.float64(0.004), np.float64(0.064), 'hot_90']
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
from pyproj import CRS
from sqlalchemy import select
from sqlalchemy.orm import Session

from geodata.kept import Kept, geometries_digest
from grid_model.analysis.counts import NeedMonths, grid_need_counts, read_need_months
from grid_model.analysis.gistar import (
    CLASS_LABELS,
    CONFIDENCE_LEVELS,
    MIN_FEATURES,
    _check_run_options,
    _result_frame,
    adjacency_matrix,
    bh_adjust,
    class_labels,
    gi_bins,
)
from grid_model.analysis.hexagons import gi_star_hex, hex_adjacency, hex_bins, hex_weights
from grid_model.errors import InvalidInputError, NotFoundError
from grid_model.models import Need
from grid_model.queries import load_grids
from grid_model.scope import Scope, Viewer, check_viewer

__all__ = [
    "CLASS_LABELS",
    "CONFIDENCE_LEVELS",
    "MIN_FEATURES",
    "TOLERANCE_M",
    "bh_adjust",
    "class_labels",
    "gi_bins",
    "gi_star",
    "gi_star_hex",
    "hex_adjacency",
    "hex_bins",
    "hex_hotspot_table",
    "hex_weights",
    "hotspot_months",
    "hotspot_table",
    "queen_adjacency",
    "queen_weights",
]

# Boundaries closer than this count as touching (see queen_weights).
TOLERANCE_M = 1.0


# --------------------------------------------------------------------------- grids


def _grid_codes(grids) -> list[str]:
    if not isinstance(grids, gpd.GeoDataFrame):
        raise InvalidInputError(f"grids must be a GeoDataFrame, got {type(grids).__name__}")
    if "grid_code" not in grids.columns:
        raise InvalidInputError(
            f"grids has no 'grid_code' column (columns: {', '.join(map(str, grids.columns))})"
        )
    codes = grids["grid_code"]
    if codes.isna().any():
        raise InvalidInputError("grids.grid_code has empty values; every grid needs a code")
    dup = codes[codes.duplicated()].unique().tolist()
    if dup:
        raise InvalidInputError(f"grids.grid_code is not unique: {dup[:5]}")
    if len(grids) < MIN_FEATURES:
        raise InvalidInputError(
            f"Gi* needs at least {MIN_FEATURES} grids to compare with each other, got {len(grids)}"
        )
    bad = grids.geometry.isna() | grids.geometry.is_empty
    if bad.any():
        raise InvalidInputError(
            f"grids without a boundary: {codes[bad.to_numpy()].tolist()[:5]}; expected polygons"
        )
    return [str(c) for c in codes]


def _check_values(y: np.ndarray, ids: Sequence[str], field: str) -> np.ndarray:
    try:
        y = np.asarray(y, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{field} must be numbers (counts), got {exc}") from exc
    bad = ~np.isfinite(y) | (y < 0)
    if bad.any():
        where = [f"{ids[i]}={y[i]}" for i in np.flatnonzero(bad)[:5]]
        raise InvalidInputError(
            f"{field} must be finite and not negative (counts of needs): {', '.join(where)}"
        )
    return y


def _aligned_values(values, grids: gpd.GeoDataFrame, codes: list[str]) -> np.ndarray:
    if isinstance(values, str):
        if values not in grids.columns:
            raise InvalidInputError(f"grids has no column {values!r} to take the values from")
        y = grids[values].to_numpy()
    elif isinstance(values, pd.Series) and not values.index.equals(grids.index):
        # Keyed by grid code: grids missing from it have no needs.
        keyed = values.copy()
        keyed.index = keyed.index.astype(str)
        unknown = sorted(set(keyed.index) - set(codes))
        if unknown:
            raise InvalidInputError(f"values for unknown grid codes: {unknown[:5]}")
        if keyed.index.duplicated().any():
            raise InvalidInputError("values has several entries for one grid code")
        y = keyed.reindex(codes, fill_value=0).to_numpy()
    else:
        y = np.asarray(values)
        if y.ndim != 1 or len(y) != len(codes):
            raise InvalidInputError(
                f"values has {y.size} entries for {len(codes)} grids; expected one per grid "
                "(or a Series indexed by grid code, or a column name)"
            )
    return _check_values(y, codes, "values")


def _metric(grids: gpd.GeoDataFrame) -> gpd.GeoSeries:
    geoms = grids.geometry
    units = {a.unit_name for a in grids.crs.axis_info}
    if grids.crs.is_geographic or units - {"metre"}:
        geoms = geoms.to_crs(_utm_crs(geoms))
    return geoms


def _utm_crs(geoms: gpd.GeoSeries):
    """``geoms.estimate_utm_crs()``: the WGS 84 UTM zone of the centre of their bounds.

    geopandas asks pyproj's database for the zones whose area of use holds the centre (60 ms
    on a page's first visit). In geographic coordinates with the centre inside one zone, not
    on a zone's edge, the equator or past 84°N / 80°S, that zone is the standard one, EPSG
    326zz north or 327zz south (``tests/test_hotspots_speed.py`` checks it against the
    database); elsewhere the database decides.
    """
    if geoms.crs.is_geographic:
        west, south, east, north = geoms.total_bounds
        lon, lat = np.mean([west, east]), np.mean([south, north])
        zone = (lon + 180) / 6
        if -180 < lon < 180 and zone != np.floor(zone) and -80 < lat < 84 and lat != 0:
            return CRS.from_epsg((32600 if lat > 0 else 32700) + int(zone) + 1)
    return geoms.estimate_utm_crs()


def queen_adjacency(
    grids: gpd.GeoDataFrame,
    codes: Sequence[str] | None = None,
    *,
    tolerance: float = TOLERANCE_M,
) -> sp.csr_matrix:
    """Binary Queen contiguity of ``grids`` as a sparse matrix (rows and columns in ``codes``
    order, 1.0 for neighbours, no self-weights), joining boundaries closer than ``tolerance``
    metres as :func:`queen_weights` explains. Kept for the last few grid sets."""
    codes = list(codes) if codes is not None else _grid_codes(grids)
    if not tolerance >= 0:
        raise InvalidInputError(f"tolerance must be 0 or more (metres), got {tolerance!r}")
    key = (tuple(codes), float(tolerance), str(grids.crs), geometries_digest(grids.geometry))
    return _WEIGHTS.get(key, lambda: _queen_adjacency(grids, codes, tolerance))


def queen_weights(
    grids: gpd.GeoDataFrame,
    codes: Sequence[str] | None = None,
    *,
    tolerance: float = TOLERANCE_M,
):
    """Binary Queen contiguity (libpysal ``W``, ids = grid codes, no self-weights).

    libpysal's ``Queen`` joins polygons that share a vertex exactly. Boundaries drawn or stored
    separately rarely do: coordinates differ in the last digits, or a corner lies on a
    neighbour's edge. Pairs closer than ``tolerance`` metres (measured in the UTM zone unless
    the CRS is already in metres) are joined as well. 0, or grids without a CRS, keep exact
    Queen. The statistics use the same contiguity as a matrix (:func:`queen_adjacency`).
    """
    from libpysal.weights import W

    codes = list(codes) if codes is not None else _grid_codes(grids)
    a = queen_adjacency(grids, codes, tolerance=tolerance)
    rows = np.split(a.indices, a.indptr[1:-1])
    neighbours = {c: [codes[j] for j in row] for c, row in zip(codes, rows, strict=True)}
    w = W(neighbours, id_order=codes, silence_warnings=True)
    w.transform = "B"
    return w


#: Contiguity of the last few grid sets: a page computes hot spots and two emerging runs on
#: the same grids. Nothing downstream changes a matrix in place (the statistics copy it).
_WEIGHTS: Kept[sp.csr_matrix] = Kept(8)


def _queen_adjacency(grids: gpd.GeoDataFrame, codes: list[str], tolerance: float):
    if tolerance == 0 or grids.crs is None:
        # libpysal.weights takes 0.9 s to import (measured with -X importtime): paid only
        # for exact contiguity.
        from libpysal.weights import Queen

        # Islands are reported per grid (neighbours == 0) rather than as a console warning.
        exact = Queen.from_dataframe(grids, ids=codes, use_index=False, silence_warnings=True)
        return adjacency_matrix(exact.sparse)  # rows in id order: codes
    # Polygons sharing a vertex (libpysal's Queen) are 0 m apart in any projection, so every
    # exact Queen pair is among the pairs within the tolerance: those pairs are the union.
    geoms = _metric(grids)
    left, right = geoms.sindex.query(geoms, predicate="dwithin", distance=tolerance)
    n = len(codes)
    return adjacency_matrix(sp.csr_matrix((np.ones(len(left)), (left, right)), shape=(n, n)))


def gi_star(
    grids: gpd.GeoDataFrame,
    values,
    *,
    permutations: int = 999,
    seed: int | None = 12345,
    fdr: bool = True,
    tolerance: float = TOLERANCE_M,
) -> pd.DataFrame:
    """Local Getis-Ord Gi* per grid, classified like ArcGIS Hot Spot Analysis.

    Parameters
    ----------
    grids : GeoDataFrame
        Grid polygons with a unique ``grid_code`` column (any CRS: contiguity is topological).
    values : str, Series or array-like
        Counts per grid: a column of ``grids``, a Series indexed by grid code (grids missing
        from it count 0) or aligned with ``grids``' index, or one number per grid in order.
    permutations : int
        Conditional permutations for the pseudo p-value; 0 uses the analytical p.
    seed : int or None
        Seed of the permutations (same seed, same p-values).
    fdr : bool
        Classify with Benjamini–Hochberg adjusted p-values (ArcGIS's FDR option).
    tolerance : float
        Boundaries closer than this (metres) touch; see :func:`queen_weights`.

    Returns
    -------
    DataFrame
        One row per grid, in ``grids`` order: ``grid_code, count, neighbours, z, p, p_fdr,
        gi_bin, class`` (see the module docstring for how ``p`` and ``class`` are decided).
    """
    _check_run_options(permutations, seed)
    codes = _grid_codes(grids)
    y = _aligned_values(values, grids, codes)
    a = queen_adjacency(grids, codes, tolerance=tolerance)
    return _result_frame("grid_code", codes, y, a, permutations=permutations, seed=seed, fdr=fdr)


# --------------------------------------------------------------------------- database


def _viewers_scope(session: Session, scope: Scope, viewer: Viewer) -> Scope:
    """``scope`` cut to ``viewer``'s area (:func:`grid_model.scope.check_viewer` first): the
    counts a hot spot is computed from never include another area's needs."""
    return scope.restricted_to(check_viewer(session, viewer))


def _scoped_grids(
    session: Session, scope: Scope, months: NeedMonths | None = None
) -> gpd.GeoDataFrame:
    """The grids of ``scope``; those read along with ``months`` when they serve it."""
    if months is not None and months.grids is not None and months.serves(scope):
        return months.grids
    grids = load_grids(session, scope).rename(columns={"code": "grid_code"})
    if grids.empty:
        raise NotFoundError(f"no grids in area {scope.area_code or '(all)'}")
    return grids


def _need_counts(
    session: Session, scope: Scope, *, summary: bool = True, months: NeedMonths | None = None
) -> pd.Series:
    if months is not None and months.serves(scope):
        counts = NeedMonths(scope, months.of(scope)).per_grid()
    else:
        counts = grid_need_counts(session, scope, summary=summary)
    return pd.Series(counts["count"].to_numpy(), index=counts["grid_code"], dtype=float)


def hotspot_months(session: Session, scope: Scope, viewer: Viewer) -> NeedMonths:
    """The needs of ``scope`` (cut to ``viewer``'s area) per grid and month, from which
    :func:`hotspot_table` and :func:`~grid_model.analysis.emerging.emerging_table` of that
    scope (and of its whole months) take their counts when given them as ``months``: one
    read for a page that shows both."""
    scope = _viewers_scope(session, scope, viewer)
    return read_need_months(session, scope, grids=_scoped_grids(session, scope))


def hotspot_table(
    session: Session,
    scope: Scope,
    viewer: Viewer,
    *,
    permutations: int = 999,
    seed: int | None = 12345,
    fdr: bool = True,
    tolerance: float = TOLERANCE_M,
    summary: bool = True,
    months: NeedMonths | None = None,
) -> pd.DataFrame:
    """Gi* hot spots of needs per grid in ``scope`` (area, period, categories, statuses), cut
        to ``viewer``'s area.

        Needs matching ``scope.need_filter()`` are counted per grid
        (:func:`~grid_model.analysis.counts.grid_need_counts`: closed needs of whole months from
        the closed-needs summary unless ``summary=False``, or summed from ``months`` of
    :func:`hotspot_months` when they hold this scope); grids without needs count 0. Returns
        :func:`gi_star`'s columns with the grid ``name`` after ``grid_code``. Raises
        :class:`NotFoundError` when the scope has no grids.
    """
    scope = _viewers_scope(session, scope, viewer)
    grids = _scoped_grids(session, scope, months)
    counts = _need_counts(session, scope, summary=summary, months=months)
    counts = counts[counts.index.isin(grids["grid_code"])]
    result = gi_star(
        grids, counts, permutations=permutations, seed=seed, fdr=fdr, tolerance=tolerance
    )
    result.insert(1, "name", grids["name"].to_numpy())
    return result


def hex_hotspot_table(
    session: Session,
    scope: Scope,
    viewer: Viewer,
    *,
    resolution: int = 9,
    permutations: int = 999,
    seed: int | None = 12345,
    fdr: bool = True,
) -> gpd.GeoDataFrame:
    """Gi* on H3 hexagons of the needs in ``scope`` (cut to ``viewer``'s area), the study
    area being the union of the
    scope's grids (see :func:`gi_star_hex`)."""
    scope = _viewers_scope(session, scope, viewer)
    grids = _scoped_grids(session, scope)
    rows = session.execute(select(Need.lon, Need.lat).where(scope.need_filter())).all()
    lon = np.array([r[0] for r in rows], dtype=float)
    lat = np.array([r[1] for r in rows], dtype=float)
    return gi_star_hex(
        lon,
        lat,
        area=grids.geometry,
        resolution=resolution,
        permutations=permutations,
        seed=seed,
        fdr=fdr,
    )
