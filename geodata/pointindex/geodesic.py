"""Geodesic distances from points to polygon edges drawn straight in lon/lat, anywhere on Earth.

The metric under :mod:`geodata.pointindex.index`: no map projection, so no zone to be far
from, no antimeridian and no pole to break it.

- An edge is the straight line between its ends in lon/lat (as PostGIS geometry and
  geopandas draw it); it is cut into pieces no longer than a few kilometres on the ground.
- Pieces are found near a point with a k-d tree of their midpoints in Earth-centred
  coordinates (ECEF, metres): the chord between two points never exceeds their geodesic
  distance, so a ball of the geodesic radius plus half the longest piece holds every piece
  that may be that near.
- The distance to a piece is measured in a frame local to the point (lon and lat scaled by
  the ellipsoid's radii of curvature there, longitudes unwrapped around the point), which
  keeps the piece straight; the nearest point so found is refined along the edge and the
  distance taken geodesically with :class:`pyproj.Geod` (WGS 84, Karney's algorithm). Ends of
  the edge are its vertices exactly, and every edge is measured from its lexicographically
  first end, so grids sharing a vertex or an edge tie exactly.

Example
-------
>>> import numpy as np
>>> edges = Edges(np.array([[179.9, -16.0]]), np.array([[180.0, -16.0]]), np.array([0]))
>>> dist, owner = edges.nearest(np.array([-179.9999]), np.array([-16.0001]), reach=30.0)
>>> round(float(dist[0]), 3), int(owner[0])  # across the antimeridian, to the vertex (180, -16)
(15.395, 0)
>>> round(float(GEOD.inv(180.0, -16.0, -179.9999, -16.0001)[2]), 3)
15.395
"""

from __future__ import annotations

import numpy as np
import pyproj
from scipy.spatial import KDTree

__all__ = ["Edges", "beyond_box", "ecef", "least_metres_per_degree", "radii"]

A = 6378137.0  # WGS 84
F = 1 / 298.257223563
E2 = F * (2 - F)
M_MIN = A * (1 - E2)  # smallest meridian radius of curvature (equator), metres
R_MAX = A / np.sqrt(1 - E2)  # largest radius of curvature (poles), metres
GEOD = pyproj.Geod(ellps="WGS84")
_MAX_PIECE_M = 2000.0  # longest piece on the ground
_NO_OWNER = np.iinfo(np.int64).max


def radii(lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Metres per radian of longitude (N cos lat) and of latitude (M) at ``lat`` degrees."""
    phi = np.radians(lat)
    w2 = 1 - E2 * np.sin(phi) ** 2
    n = A / np.sqrt(w2)
    return n * np.cos(phi), n * (1 - E2) / w2


def ecef(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Earth-centred coordinates (metres, shape (n, 3)) of points on the WGS 84 ellipsoid."""
    lam, phi = np.radians(lon), np.radians(lat)
    n = A / np.sqrt(1 - E2 * np.sin(phi) ** 2)
    return np.column_stack(
        [n * np.cos(phi) * np.cos(lam), n * np.cos(phi) * np.sin(lam), n * (1 - E2) * np.sin(phi)]
    )


def least_metres_per_degree(lat0: float, lat1: float, reach: float) -> tuple[float, float]:
    """Least metres per degree of longitude and of latitude within ``reach`` metres of the
    latitudes lat0..lat1: latitudes there differ by at most reach / M_MIN radians, and a degree
    of longitude is at least A cos(lat) * pi / 180 metres long."""
    lat_max = min(max(abs(lat0), abs(lat1)) + np.degrees(reach / M_MIN), 90.0)
    return float(np.radians(A * np.cos(np.radians(lat_max)))), float(np.radians(M_MIN))


def beyond_box(
    x: np.ndarray, y: np.ndarray, box: tuple[float, float, float, float], per_lon: float,
    per_lat: float, reach: float,
) -> np.ndarray:  # fmt: skip
    """Which points (lon, lat) are farther than ``reach`` metres from every point of ``box``
    (x0, y0, x1, y1), longitudes taken either way round the Earth; ``per_lon``, ``per_lat``
    from :func:`least_metres_per_degree`. A geodesic that short stays within those latitudes,
    where crossing a degree takes at least that many metres."""
    x0, y0, x1, y1 = box
    if x.size and np.abs(x).max() > 180:
        x = _wrap(x)
    out_x = np.maximum(x0 - x, x - x1)
    dlon = np.minimum(out_x, (360.0 - (x1 - x0)) - out_x)
    dlat = np.maximum(y0 - y, y - y1)
    return np.maximum(dlat * per_lat, dlon * per_lon) > reach


def _wrap(dlon: np.ndarray) -> np.ndarray:
    """Longitude differences brought into [-180, 180)."""
    return (dlon + 180.0) % 360.0 - 180.0


def ground_length_bound(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """An upper bound, in metres, of the ground length of lon/lat-straight segments a→b."""
    lat_lo, lat_hi = np.minimum(a[:, 1], b[:, 1]), np.maximum(a[:, 1], b[:, 1])
    widest = np.where((lat_lo <= 0) & (lat_hi >= 0), 1.0, np.cos(np.radians(np.minimum(
        np.abs(lat_lo), np.abs(lat_hi)))))  # fmt: skip
    d = np.radians(np.abs(b - a))
    return R_MAX * np.hypot(d[:, 1], d[:, 0] * widest) * (1 + 1e-9) + 1e-9


class Edges:
    """Polygon edges (lon/lat segments a→b with an owner rank) for geodesic nearest queries.

    Parameters
    ----------
    a, b : numpy.ndarray
        Ends of the edges in degrees (lon, lat), shape (n, 2); no edge spans 180 degrees of
        longitude or more (polygons crossing the antimeridian are split there).
    owner : numpy.ndarray
        Rank of the polygon each edge belongs to; ties in distance go to the smallest.
    """

    def __init__(self, a: np.ndarray, b: np.ndarray, owner: np.ndarray) -> None:
        forward = (a[:, 0] < b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] < b[:, 1]))
        a, b = np.where(forward[:, None], a, b), np.where(forward[:, None], b, a)
        length = ground_length_bound(a, b)
        # Pieces no longer than twice the median edge: the ball around a point that must hold every
        # piece within some distance is that distance plus half the longest piece.
        limit = min(2 * float(np.median(length)) if length.size else 1.0, _MAX_PIECE_M)
        pieces = np.maximum(np.ceil(length / max(limit, 1e-3)), 1).astype(np.int64)
        rep = np.repeat(np.arange(len(a)), pieces)
        j = (np.arange(rep.size) - np.repeat(np.cumsum(pieces) - pieces, pieces))[:, None]
        step = (b - a)[rep] / pieces[rep, None]
        pa, pb = a[rep] + step * j, a[rep] + step * (j + 1)
        pb[np.cumsum(pieces) - 1] = b  # the last piece ends exactly on the vertex
        self.a, self.b = pa, pb
        self.owner = np.asarray(owner, dtype=np.int64)[rep]
        self.half = float(np.max(length / pieces, initial=0.0)) / 2
        self._mid = ecef(*((pa + pb) / 2).T) if len(pa) else np.empty((0, 3))
        self._tree: KDTree | None = None  # built on first use

    def __len__(self) -> int:
        return len(self.a)

    @property
    def tree(self) -> KDTree:
        if self._tree is None:
            # Unbalanced, uncompacted, 64 a leaf: the quickest to build, and as quick to query
            # as any for the few points a bound leaves (measured on the coastline bench).
            self._tree = KDTree(self._mid, leafsize=64, balanced_tree=False, compact_nodes=False)
        return self._tree

    # -- queries -------------------------------------------------------------------------------
    def nearest(
        self, lon: np.ndarray, lat: np.ndarray, *, reach: float = np.inf
    ) -> tuple[np.ndarray, np.ndarray]:
        """Geodesic distance from each point to the nearest edge within ``reach`` metres, and
        the smallest owner among the edges at that distance; NaN and -1 beyond ``reach``."""
        dist = np.full(lon.size, np.nan)
        owner = np.full(lon.size, -1, dtype=np.int64)
        if not len(self) or not lon.size:
            return dist, owner
        if np.isfinite(reach):
            pt, piece = self._within(lon, lat, np.full(lon.size, reach))
        else:
            pt, piece = self._nearest_candidates(lon, lat)
        d, o = self._best(lon, lat, pt, piece)
        ok = d <= reach
        dist[ok], owner[ok] = d[ok], o[ok]
        return dist, owner

    def _within(
        self, lon: np.ndarray, lat: np.ndarray, radius: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(point, piece) pairs of every piece that may lie within ``radius`` metres."""
        xyz = ecef(lon, lat)
        r = radius * (1 + 1e-9) + self.half + 1e-6
        k = min(16, len(self))
        dm, j = self.tree.query(xyz, k=k, distance_upper_bound=float(np.max(r)))
        dm, j = dm.reshape(lon.size, k), j.reshape(lon.size, k)
        found = dm <= r[:, None]
        pt = np.repeat(np.arange(lon.size), k)[found.ravel()]
        piece = j.ravel()[found.ravel()]
        full = np.flatnonzero(found[:, -1])  # maybe more than k pieces in reach
        if full.size:
            more = self.tree.query_ball_point(xyz[full], r[full], return_sorted=False)
            counts = np.fromiter((len(m) for m in more), dtype=np.int64, count=full.size)
            keep = ~np.isin(pt, full)
            pt = np.concatenate([pt[keep], np.repeat(full, counts)])
            piece = np.concatenate([piece[keep], np.concatenate(more).astype(np.int64)])
        return pt, piece

    def _nearest_candidates(
        self, lon: np.ndarray, lat: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(point, piece) pairs holding each point's nearest piece, however far."""
        k = min(8, len(self))
        dm, j = self.tree.query(ecef(lon, lat), k=k)
        dm, j = dm.reshape(lon.size, k), j.reshape(lon.size, k)
        pt = np.repeat(np.arange(lon.size), k)
        d, _ = self._best(lon, lat, pt, j.ravel())
        # No piece is nearer than its midpoint's chord less half the longest piece: where the
        # k-th midpoint is that far beyond the best so far, those k hold the nearest.
        open_ = np.flatnonzero(dm[:, -1] - self.half <= d)
        if open_.size == 0 or k == len(self):
            return pt, j.ravel()
        sure = ~np.isin(pt, open_)
        more_pt, more_piece = self._within(lon[open_], lat[open_], d[open_])
        return (
            np.concatenate([pt[sure], open_[more_pt]]),
            np.concatenate([j.ravel()[sure], more_piece]),
        )

    def _best(
        self, lon: np.ndarray, lat: np.ndarray, pt: np.ndarray, piece: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per point, the geodesic distance to the nearest of its candidate pieces and the
        smallest owner at that distance (inf and -1 without candidates)."""
        n = lon.size
        rough = self._frame_distance(lon[pt], lat[pt], piece)
        best_rough = np.full(n, np.inf)
        np.minimum.at(best_rough, pt, rough)
        # The local frame is off by a relative ~|tan lat| * d / R: keep every piece that may be
        # the nearest, and measure those geodesically.
        slack = 1e-6 + 8 * np.abs(np.tan(np.radians(np.minimum(np.abs(lat), 89.999999))))
        limit = best_rough * (1 + 1e-6 + slack * best_rough / M_MIN) + 1e-3
        close = rough <= limit[pt]
        pt, piece = pt[close], piece[close]
        exact = self._geodesic_distance(lon[pt], lat[pt], piece)
        best = np.full(n, np.inf)
        np.minimum.at(best, pt, exact)
        owner = np.full(n, _NO_OWNER, dtype=np.int64)
        tie = exact == best[pt]
        np.minimum.at(owner, pt[tie], self.owner[piece[tie]])
        return best, np.where(owner == _NO_OWNER, -1, owner)

    def _local(self, lon: np.ndarray, lat: np.ndarray, piece: np.ndarray) -> tuple[np.ndarray, ...]:
        """Piece ends in metres in the frame local to each point (the point at the origin)."""
        kx, ky = radii(lat)
        kx, ky = np.radians(kx), np.radians(ky)
        a, b = self.a[piece], self.b[piece]
        ax = _wrap(a[:, 0] - lon)
        bx = ax + (b[:, 0] - a[:, 0])
        return ax * kx, (a[:, 1] - lat) * ky, bx * kx, (b[:, 1] - lat) * ky

    def _frame_distance(self, lon: np.ndarray, lat: np.ndarray, piece: np.ndarray) -> np.ndarray:
        ax, ay, bx, by = self._local(lon, lat, piece)
        t = _foot(ax, ay, bx - ax, by - ay)
        return np.hypot(ax + t * (bx - ax), ay + t * (by - ay))

    def _geodesic_distance(self, lon: np.ndarray, lat: np.ndarray, piece: np.ndarray) -> np.ndarray:
        """Geodesic distance to the nearest point of each piece (lon/lat-straight)."""
        ax, ay, bx, by = self._local(lon, lat, piece)
        t = _foot(ax, ay, bx - ax, by - ay)
        a, b = self.a[piece], self.b[piece]
        # The frame finds the nearest point to within ~|tan lat| d^2 / R along the edge; a
        # Newton step on the ellipsoid makes that error negligible, a second one near the poles.
        t = _newton_step(t, a, b, lon, lat)
        polar = np.flatnonzero(np.abs(lat) > 80)
        t[polar] = _newton_step(t[polar], a[polar], b[polar], lon[polar], lat[polar])
        q = a + t[:, None] * (b - a)
        q = np.where((t == 0.0)[:, None], a, np.where((t == 1.0)[:, None], b, q))
        return np.asarray(GEOD.inv(q[:, 0], q[:, 1], lon, lat)[2], dtype=float)


def _newton_step(
    t: np.ndarray, a: np.ndarray, b: np.ndarray, lon: np.ndarray, lat: np.ndarray
) -> np.ndarray:
    """Move the point at ``t`` of each edge a→b towards the foot of the geodesic from (lon,
    lat): along the edge by the geodesic's length times the cosine of its angle with it."""
    d = b - a
    q = a + t[:, None] * d
    az, _, dist = GEOD.inv(q[:, 0], q[:, 1], lon, lat)
    ex, ey = radii(q[:, 1])
    ex, ey = np.radians(d[:, 0]) * ex, np.radians(d[:, 1]) * ey  # metres per unit of t
    speed2 = ex * ex + ey * ey
    az = np.radians(az)
    along = np.asarray(dist) * (np.sin(az) * ex + np.cos(az) * ey)
    step = np.divide(along, speed2, out=np.zeros_like(along), where=speed2 > 0)
    return np.clip(t + step, 0.0, 1.0)


def _foot(ax: np.ndarray, ay: np.ndarray, dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Parameter in [0, 1] of the point of a→a+d nearest to the origin."""
    length2 = dx * dx + dy * dy
    t = np.divide(-(ax * dx + ay * dy), length2, out=np.zeros_like(length2), where=length2 > 0)
    return np.clip(t, 0.0, 1.0)
