"""Access to legal service rooms and legal-aid stations: who lives beyond walking distance,
which area is beyond it, and where new points would help most (DESIGN §5.5).

Distances and buffers are computed in the UTM zone of the data
(:func:`geodata.crs.metric_crs`), never in degrees; results come back in EPSG:4326. The
distance primitive lives in :mod:`grid_model.gaps.distance` (re-exported here).

"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import pulp
import shapely
from h3.api import numpy_int as h3
from pyproj import Transformer
from sqlalchemy import ARRAY, ColumnElement, Integer, any_, bindparam, func, select
from sqlalchemy.orm import Session

from geodata.crs import metric_crs
from grid_model import config, db
from grid_model.errors import ConfigError, GridLawError, InvalidInputError
from grid_model.gaps.access_stats import access_points, need_points, read_distances
from grid_model.gaps.distance import (
    ACCESS_KINDS,
    WGS84,
    _check_walk_m,
    _nearest,
)
from grid_model.gaps.distance import nearest_service_distance as nearest_service_distance
from grid_model.models import Need
from grid_model.queries import load_grids, need_list_columns, read_frame
from grid_model.scope import Scope, Viewer, check_viewer

CANDIDATES = ("grid_centroids", "needs_hexes")
#: H3 resolution of the demand bins of :func:`suggest_service_points` (edge ≈ 174 m).
H3_RESOLUTION = 9


# --- database-facing ------------------------------------------------------------------------


#: Columns describing a need in the access results (no personal data).
NEED_ACCESS_COLUMNS = [c.key for c in need_list_columns()]


def _need_rows(session: Session, ids: np.ndarray) -> pd.DataFrame:
    """:data:`NEED_ACCESS_COLUMNS` of the needs ``ids``, by id."""
    frames = [
        read_frame(session, select(*need_list_columns()).where(cond).order_by(Need.id))
        for cond in _ids_in(session, ids)
    ]
    if not frames:
        return pd.DataFrame(columns=NEED_ACCESS_COLUMNS)
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def _ids_in(session: Session, ids: np.ndarray, chunk: int = 5000) -> list[ColumnElement[bool]]:
    """Conditions picking the needs ``ids`` (ascending chunks), one query each: on SQLite
    ``IN`` lists of ``chunk`` ids; on PostgreSQL one array parameter (psycopg parses a
    statement with thousands of placeholders slowly: 0.25 s for 18k ids)."""
    if not db.is_sqlite(session.get_bind()):
        ints = ids.tolist()
        return [Need.id == any_(bindparam("ids", ints, type_=ARRAY(Integer)))] if ints else []
    return [Need.id.in_(ids[i : i + chunk].tolist()) for i in range(0, len(ids), chunk)]


@dataclass
class NeedAccess:
    """How far the needs of a scope are from the nearest service point.

    Attributes
    ----------
    ids, distances : numpy.ndarray
        Each need's id and its metres to the nearest point of the kinds asked (``inf``: none),
        aligned, in no particular order.
    walk_m : float
        The walking distance.
    far_ids, far_distances : numpy.ndarray
        The needs farther than ``walk_m``, by id.
    beyond : DataFrame or None
        Those needs in full (:func:`_far_rows`), farthest first; None when read without
        ``details``.
    crs, kinds : the metric CRS the distances were measured in, the kinds of service point.
    """

    ids: np.ndarray = field(repr=False)
    distances: np.ndarray = field(repr=False)
    walk_m: float
    far_ids: np.ndarray = field(repr=False)
    far_distances: np.ndarray = field(repr=False)
    beyond: pd.DataFrame | None = field(repr=False)
    crs: str | None = None
    kinds: tuple[str, ...] = ACCESS_KINDS

    @property
    def needs(self) -> int:
        return len(self.distances)

    @property
    def beyond_count(self) -> int:
        return len(self.far_ids)

    @property
    def median_m(self) -> float | None:
        finite = self.distances[np.isfinite(self.distances)]
        return float(np.median(finite)) if len(finite) else None


def need_access(
    session: Session,
    scope: Scope,
    viewer: Viewer,
    *,
    walk_m: float = 1000.0,
    kinds: Sequence[str] = ACCESS_KINDS,
    lang: str = "zh",
    summary: bool = True,
    details: bool = True,
) -> NeedAccess:
    """Distances of every need of ``scope`` that ``viewer`` may see
    (:meth:`~grid_model.scope.Scope.visible_needs`) to its nearest service point, and the
    needs beyond ``walk_m`` in full (``details``; without, only their ids and distances) —
    what :func:`access_table` gives, without loading every need's details.

    Closed needs of whole months come with their distances from the access summary
    (:mod:`grid_model.gaps.access_stats`) where it can serve the scope, the rest are measured
    here; ``summary=False`` measures every need (the reference the tests compare with).
    """
    walk_m = _check_walk_m(walk_m)
    viewer = check_viewer(session, viewer, lang=lang)
    if summary:
        hide = not viewer.sees_personal_data
        restricted = scope.restricted_to(viewer)
        fast = _summarised_access(session, restricted, hide, walk_m, kinds, details)
        if fast is not None:
            return fast
    return _need_access(session, scope.visible_needs(viewer), walk_m, kinds, details)


def _need_access(
    session: Session, cond, walk_m: float, kinds: Sequence[str], details: bool
) -> NeedAccess:
    """:func:`need_access` of the needs matching ``cond``, every one measured here (the
    aggregates below count every need of their scope; only the public function lists them,
    for a viewer)."""
    ids, lonlat = need_points(session, cond)
    points = access_points(session, kinds)
    crs = metric_crs(lonlat[:, 0], lonlat[:, 1]) if len(ids) else None
    dist = _nearest(lonlat, points, crs)[0] if len(ids) else np.zeros(0)
    return _access_of(session, ids, dist, crs, walk_m, points, details, kinds)


def _summarised_access(
    session: Session,
    scope: Scope,
    hide_corrections: bool,
    walk_m: float,
    kinds: Sequence[str],
    details: bool,
) -> NeedAccess | None:
    """:func:`need_access` of ``scope`` through the access summary; None when it cannot
    serve."""
    if tuple(kinds) != ACCESS_KINDS:
        return None
    points = access_points(session, kinds)
    found = read_distances(session, scope, points, hide_corrections=hide_corrections)
    if found is None:
        return None
    return _access_of(
        session, found.ids, found.distances, found.crs, walk_m, points, details, kinds
    )


def _access_of(
    session: Session,
    ids: np.ndarray,
    dist: np.ndarray,
    crs: str | None,
    walk_m: float,
    points: gpd.GeoDataFrame,
    details: bool,
    kinds: Sequence[str],
) -> NeedAccess:
    """The :class:`NeedAccess` of needs ``ids`` at distances ``dist`` (metres, measured in
    ``crs``): with ``details``, those beyond ``walk_m`` read in full, with their nearest point.
    Only the far ones are put in order (sorting a million ids cost 0.06 s)."""
    far = dist > walk_m
    order = np.argsort(ids[far], kind="stable")
    far_ids, far_dist = ids[far][order], dist[far][order]
    out = NeedAccess(ids, dist, walk_m, far_ids, far_dist, None, crs, tuple(kinds))
    if details:
        out.beyond = _beyond_rows(session, far_ids, far_dist, points, crs)
    return out


def _far_rows(session: Session, access: NeedAccess, *, limit: int | None = None) -> pd.DataFrame:
    """The needs of ``access`` beyond its walking distance in full, farthest first (then by
    id): :data:`NEED_ACCESS_COLUMNS` plus ``distance_m`` and ``nearest_point`` (code); only the
    first ``limit`` of them are read when given. A building block, not a service: ``access``
    comes from :func:`need_access`, which chose the needs its viewer may see."""
    ids, dist = access.far_ids, access.far_distances
    if limit is not None and len(ids) > limit:
        keep = np.sort(np.lexsort((ids, -dist))[:limit])  # still by id
        ids, dist = ids[keep], dist[keep]
    return _beyond_rows(session, ids, dist, access_points(session, access.kinds), access.crs)


def _beyond_rows(session, ids, dist, points, crs) -> pd.DataFrame:
    """Needs ``ids`` (ascending) at ``dist`` in full, with their nearest point, farthest first."""
    beyond = _need_rows(session, ids)
    codes = np.append(points["code"].to_numpy(dtype=object), None)
    idx = np.zeros(0, dtype=np.int64)
    if len(beyond):
        idx = _nearest(beyond[["lon", "lat"]].to_numpy(dtype=float), points, crs)[1]
    beyond["distance_m"] = dist
    beyond["nearest_point"] = codes[idx]  # idx -1 (no point at all) picks the trailing None
    beyond = beyond.sort_values(["distance_m", "need_id"], ascending=[False, True])
    return beyond.reset_index(drop=True)


def access_table(
    session: Session,
    scope: Scope,
    viewer: Viewer,
    *,
    walk_m: float = 1000.0,
    kinds: Sequence[str] = ACCESS_KINDS,
    lang: str = "zh",
) -> pd.DataFrame:
    """Each need of ``scope`` that ``viewer`` may see with the straight-line distance to its
    nearest service point.

    Returns
    -------
    DataFrame with ``need_id, external_id, grid_code, reported_at, category, status, lon, lat,
    distance_m, nearest_point`` (code, None when there is no point) and ``covered``
    (``distance_m <= walk_m``). No personal columns.
    """
    walk_m = _check_walk_m(walk_m)
    viewer = check_viewer(session, viewer, lang=lang)
    needs = read_frame(
        session,
        select(*need_list_columns()).where(scope.visible_needs(viewer)).order_by(Need.id),
    )
    points = access_points(session, kinds)
    if len(needs):
        lonlat = needs[["lon", "lat"]].to_numpy(dtype=float)
        dist, idx = _nearest(lonlat, points, metric_crs(lonlat[:, 0], lonlat[:, 1]))
    else:
        dist, idx = np.zeros(0), np.zeros(0, dtype=np.int64)
    codes = np.append(points["code"].to_numpy(dtype=object), None)
    needs["distance_m"] = dist
    needs["nearest_point"] = codes[idx]  # idx -1 (no point at all) picks the trailing None
    needs["covered"] = dist <= walk_m
    return needs


def _metric_centroids(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    """Centroids, or a point on the surface where the centroid falls outside (concave grids)."""
    cent = geoms.centroid
    inside = geoms.contains(cent)
    return cent.where(inside, geoms.representative_point())


def grid_access_table(
    session: Session,
    scope: Scope,
    *,
    walk_m: float = 1000.0,
    on: dt.date | None = None,
    kinds: Sequence[str] = ACCESS_KINDS,
) -> pd.DataFrame:
    """Per grid: distance from its centroid to the nearest service point, weighted by households.

    Returns
    -------
    DataFrame with ``grid_code, grid_name, population, households, distance_m, covered,
    household_m`` (``distance_m × households``; NaN where households are unknown),
    ``households_beyond`` (households of grids whose centroid is beyond ``walk_m``), ``needs``
    and ``needs_beyond`` (needs of the grid in the scope period, and those beyond ``walk_m``).
    The household-weighted mean distance of an area is ``household_m.sum() /
    households.sum()`` over grids with known households.
    """
    walk_m = _check_walk_m(walk_m)
    grids = load_grids(session, scope, on=on or config.today())
    out = pd.DataFrame(
        {
            "grid_code": grids["code"],
            "grid_name": grids["name"],
            "population": grids["population"].astype("Float64"),
            "households": grids["households"].astype("Float64"),
        }
    )
    if len(grids):
        crs = metric_crs(*_lonlat_of(grids))
        cent = _metric_centroids(grids.to_crs(crs).geometry).to_crs(WGS84)
        lonlat = np.column_stack([cent.x.to_numpy(), cent.y.to_numpy()])
        dist = _nearest(lonlat, access_points(session, kinds), crs)[0]
    else:
        dist = np.zeros(0)
    out["distance_m"] = dist
    out["covered"] = dist <= walk_m
    out["household_m"] = out["households"] * np.where(np.isfinite(dist), dist, np.nan)
    out["households_beyond"] = out["households"].where(~out["covered"], 0.0)
    totals = session.execute(
        select(Need.grid_code, func.count())
        .where(scope.need_filter() & Need.grid_code.is_not(None))
        .group_by(Need.grid_code)
    ).all()
    beyond = _need_access(session, scope.need_filter(), walk_m, kinds, details=True).beyond
    per_grid = pd.DataFrame(
        {
            "needs": pd.Series(dict(totals), dtype="int64"),
            "needs_beyond": beyond["grid_code"].value_counts(),
        }
    )
    out = out.join(per_grid, on="grid_code")
    out[["needs", "needs_beyond"]] = out[["needs", "needs_beyond"]].fillna(0).astype(int)
    return out


def _lonlat_of(gdf: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    b = gdf.geometry.bounds
    return ((b["minx"] + b["maxx"]) / 2).to_numpy(), ((b["miny"] + b["maxy"]) / 2).to_numpy()


def uncovered_area(
    session: Session,
    scope: Scope,
    *,
    walk_m: float = 1000.0,
    on: dt.date | None = None,
    kinds: Sequence[str] = ACCESS_KINDS,
) -> gpd.GeoDataFrame:
    """The part of each grid farther than ``walk_m`` from every service point of ``kinds``.

    Buffers are made in the UTM zone of the grids (a 64-gon per point) and subtracted from
    the grids active on ``on`` (default today); pieces under 1 m² are dropped.

    Returns
    -------
    GeoDataFrame (EPSG:4326), one row per grid with uncovered area: ``grid_code, grid_name,
    community_code, households, grid_m2, uncovered_m2, uncovered_share, geometry``.
    """
    walk_m = _check_walk_m(walk_m)
    grids = load_grids(session, scope, on=on or config.today())
    columns = ["grid_code", "grid_name", "community_code", "households", "grid_m2"]
    columns += ["uncovered_m2", "uncovered_share"]
    if grids.empty:
        return gpd.GeoDataFrame(columns=[*columns, "geometry"], geometry="geometry", crs=WGS84)
    crs = metric_crs(*_lonlat_of(grids))
    metric = grids.to_crs(crs).geometry.to_numpy()
    points = access_points(session, kinds).to_crs(crs).geometry.to_numpy()
    # Only buffers that can reach a grid matter.
    tree = shapely.STRtree(points)
    near = np.unique(tree.query(metric, predicate="dwithin", distance=walk_m)[1])
    reach = shapely.union_all(shapely.buffer(points[near], walk_m, quad_segs=16))
    rest = shapely.difference(metric, reach) if near.size else metric
    out = pd.DataFrame(
        {
            "grid_code": grids["code"],
            "grid_name": grids["name"],
            "community_code": grids["community_code"],
            "households": grids["households"],
            "grid_m2": shapely.area(metric),
        }
    )
    rest = _drop_slivers(rest, min_m2=1.0)
    out["uncovered_m2"] = shapely.area(rest)
    out["uncovered_share"] = out["uncovered_m2"] / out["grid_m2"]
    keep = out["uncovered_m2"] >= 1.0
    return gpd.GeoDataFrame(
        out[keep].reset_index(drop=True),
        geometry=gpd.GeoSeries(rest[keep.to_numpy()], crs=crs).to_crs(WGS84).to_numpy(),
        crs=WGS84,
    )


def _drop_slivers(geoms: np.ndarray, *, min_m2: float) -> np.ndarray:
    """Each geometry reduced to its polygons of at least ``min_m2`` (metric CRS), as
    MultiPolygons; empty where nothing is left."""
    parts, owner = shapely.get_parts(geoms, return_index=True)
    keep = (shapely.get_type_id(parts) == 3) & (shapely.area(parts) >= min_m2)
    out = np.full(len(geoms), shapely.MultiPolygon(), dtype=object)
    if keep.any():
        owners = np.unique(owner[keep])
        out[owners] = shapely.multipolygons(
            parts[keep], indices=np.searchsorted(owners, owner[keep])
        )
    return out


# --- siting ---------------------------------------------------------------------------------


def _cbc_solver() -> pulp.LpSolver:
    solver = pulp.PULP_CBC_CMD(msg=False)
    if not solver.available():
        raise ConfigError(
            f"the CBC solver is not available to PuLP (available: "
            f"{pulp.listSolvers(onlyAvailable=True)}); reinstall PuLP, which bundles CBC"
        )
    return solver


def _h3_cells(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    # h3-py has no vectorised indexer; loop over distinct coordinates only.
    coords, inverse = np.unique(np.column_stack([lat, lon]), axis=0, return_inverse=True)
    cells = np.fromiter(
        (h3.latlng_to_cell(a, b, H3_RESOLUTION) for a, b in coords),
        dtype=np.uint64,
        count=len(coords),
    )
    return cells[inverse.ravel()]


def _candidate_sites(
    kind: str, grids: gpd.GeoDataFrame, cells: np.ndarray, crs: str
) -> gpd.GeoDataFrame:
    """Candidate sites (metric CRS) with an id."""
    if kind == "grid_centroids":
        geoms = _metric_centroids(grids.to_crs(crs).geometry)
        return gpd.GeoDataFrame({"candidate": grids["code"].to_numpy()}, geometry=geoms.values)
    uniq = np.unique(cells)
    latlng = np.array([h3.cell_to_latlng(c) for c in uniq]).reshape(-1, 2)
    geoms = gpd.GeoSeries(gpd.points_from_xy(latlng[:, 1], latlng[:, 0]), crs=WGS84).to_crs(crs)
    ids = [h3.int_to_str(int(c)) for c in uniq]
    return gpd.GeoDataFrame({"candidate": ids}, geometry=geoms.values)


SITE_COLUMNS = ["candidate", "grid_code", "needs_covered", "needs_covered_alone"]


def _check_siting(walk_m: float, p: int, candidates: str) -> float:
    walk_m = _check_walk_m(walk_m)
    if isinstance(p, bool) or not isinstance(p, int | np.integer) or p < 1:
        raise InvalidInputError(f"p={p!r}: expected a whole number of new points, at least 1")
    if candidates not in CANDIDATES:
        raise InvalidInputError(f"candidates={candidates!r}: expected one of {CANDIDATES}")
    return walk_m


def _no_sites(unmet_needs: int) -> gpd.GeoDataFrame:
    empty = gpd.GeoDataFrame(columns=[*SITE_COLUMNS, "geometry"], geometry="geometry", crs=WGS84)
    empty.attrs.update(unmet_needs=unmet_needs, needs_covered_total=0)
    return empty


@dataclass
class _Demand:
    """Unmet needs in a metric CRS (``x``, ``y``), their H3 ``cells``, and the ``bins``: per
    cell the mean position of its needs and their number (``weight``)."""

    crs: str
    x: np.ndarray
    y: np.ndarray
    cells: np.ndarray
    bins: pd.DataFrame


def _demand(unmet: pd.DataFrame) -> _Demand:
    lon, lat = unmet["lon"].to_numpy(), unmet["lat"].to_numpy()
    crs = metric_crs(lon, lat)
    x, y = Transformer.from_crs(WGS84, crs, always_xy=True).transform(lon, lat)
    cells = _h3_cells(lat, lon)
    bins = (
        pd.DataFrame({"cell": cells, "x": x, "y": y})
        .groupby("cell")
        .agg(x=("x", "mean"), y=("y", "mean"), weight=("x", "size"))
    )
    return _Demand(crs, x, y, cells, bins)


def _chosen_sites(
    sites: gpd.GeoDataFrame, bins: pd.DataFrame, walk_m: float, p: int
) -> np.ndarray | None:
    """Positions in ``sites`` of the chosen ones; None when no site reaches any demand."""
    sx, sy = sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy()
    cost = np.hypot(bins["x"].to_numpy()[:, None] - sx, bins["y"].to_numpy()[:, None] - sy)
    within = cost <= walk_m
    # Candidates that reach no demand and demand no candidate reaches only enlarge the model.
    useful_sites = within.any(axis=0)
    reachable = within.any(axis=1)
    if not useful_sites.any():
        return None
    chosen_idx = np.flatnonzero(useful_sites)
    if useful_sites.sum() > p:
        chosen_idx = chosen_idx[
            _solve_mclp(
                cost[np.ix_(reachable, useful_sites)],
                bins["weight"].to_numpy()[reachable],
                walk_m,
                p,
            )
        ]
    return chosen_idx


def _covered(
    chosen: gpd.GeoDataFrame, demand: _Demand, grids: gpd.GeoDataFrame, walk_m: float
) -> gpd.GeoDataFrame:
    """The chosen sites with the needs each covers, in EPSG:4326, most useful first."""
    # Coverage counted on the needs themselves, not on the bins.
    d = np.hypot(
        demand.x[:, None] - chosen.geometry.x.to_numpy(),
        demand.y[:, None] - chosen.geometry.y.to_numpy(),
    )
    reach = d <= walk_m
    chosen["needs_covered"] = reach.sum(axis=0)
    chosen["needs_covered_alone"] = (reach & (reach.sum(axis=1, keepdims=True) == 1)).sum(axis=0)
    chosen = gpd.GeoDataFrame(chosen, geometry="geometry", crs=demand.crs).to_crs(WGS84)
    chosen["grid_code"] = _containing_grid(chosen, grids)
    chosen = chosen.sort_values(["needs_covered", "candidate"], ascending=[False, True])
    chosen = chosen[[*SITE_COLUMNS, "geometry"]].reset_index(drop=True)
    chosen.attrs.update(unmet_needs=len(demand.x), needs_covered_total=int(reach.any(axis=1).sum()))
    return chosen


def suggest_service_points(
    session: Session,
    scope: Scope,
    *,
    walk_m: float = 1000.0,
    p: int = 1,
    candidates: str = "grid_centroids",
    on: dt.date | None = None,
    kinds: Sequence[str] = ACCESS_KINDS,
    summary: bool = True,
) -> gpd.GeoDataFrame:
    """Up to ``p`` new service points that bring the most unmet needs within ``walk_m``.

    A maximal covering location problem (spopt MCLP, solved with CBC). Demand: the needs of
    ``scope`` beyond ``walk_m`` of every existing point (so existing points count as already
    covering), binned in H3 resolution-9 hexagons, each bin at the mean of its needs and
    weighted by their number. Candidates: centroids of the grids active on ``on``
    (``'grid_centroids'``; a point on the surface for concave grids) or the centres of the
    hexagons holding unmet needs (``'needs_hexes'``).

    Returns
    -------
    GeoDataFrame (EPSG:4326) of the chosen sites, most useful first: ``candidate`` (grid code
    or H3 cell), ``grid_code`` (grid containing the site, if any), ``needs_covered`` (unmet
    needs within ``walk_m`` of the site, counted on the needs themselves) and
    ``needs_covered_alone`` (of those, the ones no other chosen site covers). ``attrs`` holds
    ``unmet_needs`` and ``needs_covered_total``. Fewer than ``p`` rows when fewer sites
    would cover anything; none when every need is covered.
    """
    walk_m = _check_siting(walk_m, p, candidates)
    on = on or config.today()
    fast = _summarised_access(session, scope, False, walk_m, kinds, False) if summary else None
    access = fast or _need_access(session, scope.need_filter(), walk_m, kinds, False)
    unmet = _unmet_points(session, access)
    grids = load_grids(session, scope, on=on)
    if unmet.empty:
        return _no_sites(len(unmet))
    demand = _demand(unmet)
    sites = _candidate_sites(candidates, grids, demand.cells, demand.crs)
    chosen_idx = None if sites.empty else _chosen_sites(sites, demand.bins, walk_m, p)
    if chosen_idx is None:
        return _no_sites(len(unmet))
    chosen = sites.iloc[chosen_idx].reset_index(drop=True)
    return _covered(chosen, demand, grids, walk_m)


def _unmet_points(session: Session, access: NeedAccess) -> pd.DataFrame:
    """``lon, lat`` of the needs beyond walking distance, farthest first (then by id): only
    their coordinates are read, not the needs in full."""
    ids = access.far_ids
    parts = [need_points(session, cond, by_id=True) for cond in _ids_in(session, ids)]
    got = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, dtype=np.int64)
    lonlat = np.concatenate([p[1] for p in parts]) if parts else np.zeros((0, 2))
    dist = access.far_distances[np.searchsorted(ids, got)]
    return pd.DataFrame(lonlat[np.lexsort((got, -dist))], columns=["lon", "lat"])


def _solve_mclp(cost: np.ndarray, weights: np.ndarray, radius: float, p: int) -> np.ndarray:
    """Positions of the ``p`` sites chosen by spopt's MCLP."""
    # spopt.locate takes 1.2 s to import (measured with -X importtime, after geopandas):
    # paid only when a siting model is solved.
    from spopt.locate import MCLP

    model = MCLP.from_cost_matrix(cost, weights, service_radius=radius, p_facilities=p)
    try:
        model.solve(_cbc_solver(), results=False)
    except RuntimeError as exc:  # spopt's "Model is not solved: …"
        raise GridLawError(f"siting model could not be solved: {exc}") from exc
    picked = np.array([v.value() or 0 for v in model.fac_vars]) > 0.5
    return np.flatnonzero(picked)


def _containing_grid(points: gpd.GeoDataFrame, grids: gpd.GeoDataFrame) -> np.ndarray:
    out = np.full(len(points), None, dtype=object)
    if len(grids) and len(points):
        tree = shapely.STRtree(grids.geometry.to_numpy())
        src, dst = tree.query(points.geometry.to_numpy(), predicate="intersects")
        first = np.unique(src, return_index=True)[1]
        out[src[first]] = grids["code"].to_numpy()[dst[first]]
    return out
