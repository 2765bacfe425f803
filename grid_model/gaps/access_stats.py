"""The access summary (``need_access_stats``): every closed need's distance to the nearest
legal service room or legal-aid station, kept so the Access and Coverage gaps pages need not
read a million coordinates.

:func:`grid_model.gaps.access.need_access` needs, for every need of a scope, its distance
(the count, the median, those beyond walking distance). A distance depends only on the need's
place, the service points and the metric CRS, so closed needs in a grid — 97 % of the demo —
keep theirs, packed per (grid, report month, category, district, under community correction):
the ids and distances as int64/float64 arrays, by id, and the bounds of the coordinates. The
buckets are those of the closed-needs summary (:mod:`grid_model.measures.need_stats`), so the
same marks keep this one exact: the triggers of migration 0003 (and, on SQLite, the one of
migration 0011 for a moved need or a change of ``under_correction``) mark a changed closed
need's (grid, month), readers read marked buckets from ``needs``, and
:func:`grid_model.measures.need_stats.refresh` calls :func:`refresh_marked` (or
:func:`rebuild`) before it clears the marks.

A reader (:func:`read_distances`) takes the scope's closed needs of whole months from here and
the rest — open needs, needs outside every grid, months at the period's edges, marked buckets —
from ``needs`` (:meth:`~grid_model.measures.need_stats.Window.rest`), measured as
:func:`grid_model.gaps.access.need_access` measures them. It gives up (None: the caller reads
every need) when the summary was computed for other service points (:class:`NeedAccessState`
holds their fingerprint), when the scope's needs may fall in another UTM zone than the one
the distances were measured in, or when the closed-needs summary cannot serve the scope.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from sqlalchemy import ColumnElement, delete, exists, false, func, select, true
from sqlalchemy.orm import Session

from geodata.crs import metric_crs
from grid_model import db
from grid_model.db.bulk import insert_frame
from grid_model.db.sqldates import month_start
from grid_model.gaps.distance import ACCESS_KINDS, _nearest
from grid_model.measures.need_stats import summary_window
from grid_model.models import Need, NeedAccessStat, NeedAccessState, NeedStatsDirty
from grid_model.queries import load_service_points
from grid_model.scope import Scope

_KEY = ["grid_code", "month_start", "category", "district_code", "under_correction"]


def access_points(session: Session, kinds: Sequence[str] = ACCESS_KINDS) -> gpd.GeoDataFrame:
    """The service points of ``kinds``, whatever their community: the nearest room of a need
    near a community boundary is often the neighbour's."""
    pts = load_service_points(session)
    return pts[pts["kind"].isin(list(kinds))].reset_index(drop=True)


def points_fingerprint(points: gpd.GeoDataFrame) -> str:
    """A digest of the service points distances are measured to (codes, kinds, places)."""
    h = hashlib.sha256()
    for code, kind, geom in zip(points["code"], points["kind"], points.geometry, strict=True):
        h.update(f"{code}\x1f{kind}\x1f{geom.wkt if geom is not None else ''}\x1e".encode())
    return h.hexdigest()


# --- building -------------------------------------------------------------------------------


def _closed_in_grids() -> ColumnElement[bool]:
    return (Need.status == "closed") & Need.grid_code.is_not(None)


def _need_rows(session: Session, cond) -> pd.DataFrame:
    """The closed needs matching ``cond``: bucket key, id and coordinates, grouped by bucket
    and by id within — read as the driver's tuples (SQLAlchemy's row processing of a million rows
    cost more than the query)."""
    key = [
        Need.grid_code,
        month_start(Need.reported_at).label("month_start"),
        Need.category,
        func.coalesce(Need.district_code, "").label("district_code"),
        func.coalesce(Need.under_correction, false()).label("under_correction"),
    ]
    stmt = select(*key, Need.id, Need.lon, Need.lat).where(cond)
    rows = pd.DataFrame(_plain_rows(session, stmt), columns=[*_KEY, "id", "lon", "lat"])
    # sorted here, on integer codes of the keys: SQLite's ORDER BY of a million rows is a
    # temporary B-tree, several times slower
    codes = [pd.factorize(rows[c])[0] for c in reversed(_KEY)]
    return rows.take(np.lexsort([rows["id"].to_numpy(), *codes])).reset_index(drop=True)


def _day(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def _write_buckets(session: Session, rows: pd.DataFrame, points, crs: str) -> None:
    if rows.empty:
        return
    rows = rows.assign(
        distance=_nearest(rows[["lon", "lat"]].to_numpy(dtype=float), points, crs)[0]
    )
    # Rows come grouped by bucket: each bucket is a slice (a groupby over 30 k buckets of a
    # million needs costs seconds in pandas' per-group overhead).
    keys = rows[_KEY]
    starts = np.flatnonzero(
        np.r_[True, (keys.iloc[1:].to_numpy() != keys.iloc[:-1].to_numpy()).any(axis=1)]
    )
    bounds = np.r_[starts, len(rows)]
    ids = rows["id"].to_numpy(dtype="<i8")
    dist = rows["distance"].to_numpy(dtype="<f8")
    lon, lat = rows["lon"].to_numpy(dtype=float), rows["lat"].to_numpy(dtype=float)
    first = keys.iloc[starts].to_dict("records")
    out = [
        {
            **key,
            "month_start": _day(key["month_start"]),
            "under_correction": bool(key["under_correction"]),
            "needs": int(b - a),
            "ids": ids[a:b].tobytes(),
            "distances": dist[a:b].tobytes(),
            "min_lon": float(lon[a:b].min()),
            "max_lon": float(lon[a:b].max()),
            "min_lat": float(lat[a:b].min()),
            "max_lat": float(lat[a:b].max()),
        }
        for key, a, b in zip(first, bounds[:-1], bounds[1:], strict=True)
    ]
    # through the driver (COPY on PostgreSQL): the ORM's executemany of 40k blobs took seconds
    insert_frame(session, NeedAccessStat.__tablename__, pd.DataFrame(out), list(out[0]))


def rebuild(session: Session, points: gpd.GeoDataFrame) -> None:
    """Recompute the whole summary from ``needs`` for ``points`` (the service points of
    :data:`~grid_model.gaps.distance.ACCESS_KINDS`), in the UTM zone of every closed need in a
    grid. Runs in the caller's transaction."""
    session.execute(delete(NeedAccessStat))
    session.execute(delete(NeedAccessState))
    rows = _need_rows(session, _closed_in_grids())
    crs = metric_crs(rows["lon"], rows["lat"]) if len(rows) else "EPSG:4326"
    _write_buckets(session, rows, points, crs)
    session.add(NeedAccessState(id=1, points=points_fingerprint(points), crs=crs))
    session.flush()


def refresh_marked(session: Session, points: gpd.GeoDataFrame) -> None:
    """Recompute the buckets marked in :class:`~grid_model.models.NeedStatsDirty` (before
    :func:`~grid_model.measures.need_stats.refresh` clears the marks), or everything when the
    summary was never built or was built for other service points."""
    state = session.get(NeedAccessState, 1)
    if state is None or state.points != points_fingerprint(points):
        rebuild(session, points)
        return
    d = NeedStatsDirty
    marked = exists().where(
        (d.grid_code == NeedAccessStat.grid_code) & (d.month_start == NeedAccessStat.month_start)
    )
    session.execute(delete(NeedAccessStat).where(marked))
    in_marked = exists().where(
        (d.grid_code == Need.grid_code)
        & (d.month_start <= Need.reported_at)
        & (d.month_end > Need.reported_at)
    )
    _write_buckets(session, _need_rows(session, _closed_in_grids() & in_marked), points, state.crs)


# --- reading --------------------------------------------------------------------------------


@dataclass
class Distances:
    """Ids and distances of a scope's needs (in no particular order) and the CRS they were
    measured in."""

    ids: np.ndarray
    distances: np.ndarray
    crs: str


def _zone_of_bounds(lon_min: float, lon_max: float, lat_min: float, lat_max: float) -> str | None:
    """The UTM zone :func:`~geodata.crs.metric_crs` gives any set of points within these
    bounds, or None when it depends on the points."""
    low, high = metric_crs(lon_min, lat_min), metric_crs(lon_max, lat_max)
    same = metric_crs(lon_min, lat_max) == low and metric_crs(lon_max, lat_min) == high
    return low if low == high and same else None


def read_distances(
    session: Session, scope: Scope, points: gpd.GeoDataFrame, *, hide_corrections: bool
) -> Distances | None:
    """Distances of the needs of ``scope`` (without those under community correction when
    ``hide_corrections``) to ``points``, from the summary where it holds them; None when it
    cannot serve (see the module docstring)."""
    state = session.get(NeedAccessState, 1)
    if state is None or state.points != points_fingerprint(points):
        return None
    window = summary_window(session, scope, None)
    if window is None:
        return None
    visible = ~Need.under_correction if hide_corrections else true()
    raw = [need_points(session, cond & visible) for cond in window.rest(scope, None)]
    s = NeedAccessStat
    rows = _plain_rows(
        session,
        select(s.ids, s.distances, s.min_lon, s.max_lon, s.min_lat, s.max_lat).where(
            window.summary_rows(scope, s),
            s.under_correction.is_(false()) if hide_corrections else true(),
        ),
    )
    raw_ids = np.concatenate([r[0] for r in raw]) if raw else np.zeros(0, dtype=np.int64)
    raw_lonlat = np.concatenate([r[1] for r in raw]) if raw else np.zeros((0, 2))
    bounds = _bounds(rows, raw_lonlat)
    if bounds is not None and _zone_of_bounds(*bounds) != state.crs:
        return None
    raw_dist = _nearest(raw_lonlat, points, state.crs)[0]
    ids = np.concatenate([raw_ids, np.frombuffer(b"".join(r[0] for r in rows), dtype="<i8")])
    dist = np.concatenate([raw_dist, np.frombuffer(b"".join(r[1] for r in rows), dtype="<f8")])
    return Distances(ids=ids.astype(np.int64), distances=dist.astype(float), crs=state.crs)


def _bounds(rows, lonlat: np.ndarray) -> tuple[float, float, float, float] | None:
    lon_min = [r[2] for r in rows] + ([lonlat[:, 0].min()] if len(lonlat) else [])
    if not lon_min:
        return None
    lon_max = [r[3] for r in rows] + ([lonlat[:, 0].max()] if len(lonlat) else [])
    lat_min = [r[4] for r in rows] + ([lonlat[:, 1].min()] if len(lonlat) else [])
    lat_max = [r[5] for r in rows] + ([lonlat[:, 1].max()] if len(lonlat) else [])
    return min(lon_min), max(lon_max), min(lat_min), max(lat_max)


def _plain_rows(session: Session, stmt) -> list[tuple]:
    """The driver's own tuples of ``stmt``: bytes and floats need none of SQLAlchemy's row
    processing. PostgreSQL sends them in its binary format (the 16 MB of packed arrays of a
    million needs: 0.06 s, against 0.14 s as hex text)."""
    conn = session.connection()
    if db.is_sqlite(conn):
        result = conn.execute(stmt)
        try:
            return result.cursor.fetchall()
        finally:
            result.close()
    sql = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    with conn.connection.dbapi_connection.cursor(binary=True) as cur:
        cur.execute(str(sql), sql.params)
        return cur.fetchall()


def need_points(session: Session, cond, *, by_id: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Ids and (lon, lat) of the needs matching ``cond`` as arrays (``by_id``: ordered by id).
    Read from the driver's plain tuples: numeric columns need none of SQLAlchemy's row
    processing, and turning a million Row objects into numpy takes seconds (measured 11 s vs
    0.9 s)."""
    stmt = select(Need.id, Need.lon, Need.lat).where(cond)
    found = _plain_rows(session, stmt.order_by(Need.id) if by_id else stmt)
    arr = np.array(found, dtype=float).reshape(-1, 3)
    return arr[:, 0].astype(np.int64), arr[:, 1:]
