"""Which grid is a point in? Vectorised point-in-grid with snapping (DESIGN §6).

Rules
-----
- A point covered by exactly one grid polygon gets that grid, quality ``inside``.
- A point covered by several grids (on a shared edge or vertex, or where grids overlap) goes
  to the grid whose ``code`` is **smallest when codes are compared as strings**
  (``str(code)``), quality ``inside``. The rule does not depend on the order of the rows.
- A hole is not part of its polygon.
- A point outside every grid but within ``snap_m`` metres of one snaps to the nearest grid,
  quality ``snapped``; grids at exactly the same distance are decided by the same
  smallest-code rule. Farther points get no grid, quality ``outside``.
- Distances are measured in metres in the UTM zone of the centre of the grids' bounding box
  (WGS 84 / UTM, EPSG:326xx or 327xx), never in degrees, to the grid edges as drawn in
  lon/lat (edges longer than 0.005 degrees are followed as curves, to within millimetres).
  Containment is decided on the EPSG:4326 coordinates, as PostGIS and geopandas do.
- Coordinates that are NaN or cannot be projected (latitude beyond ±90°) are ``outside`` with
  ``distance_m`` NaN; with no grids at all every point is ``outside`` with NaN distance.

How it is fast
--------------
:class:`GridIndex` lays a uniform raster over the grids' bounding box (about
``cells_per_grid`` cells per grid) and classifies every cell once, with numpy:

- ring segments are cut into pieces shorter than a cell, and every cell a piece may touch
  (with a small safety margin) is *crossed* by that polygon's boundary;
- along a row, the cells between two crossed cells of one polygon are all inside it or all
  outside it, so one exact test per run tells which cells the polygon holds whole.

A cell crossed by no boundary answers all its points at once (the smallest code holding it,
or none). A cell whose only boundary is one edge cutting right through it answers a point by
the side of the edge it lies on (an orientation test with Shewchuk's error bound; points on
or extremely near the edge go on to the exact test). A point in any other crossed cell tries
the cell's candidates in code order with ``shapely.intersects_xy`` on prepared polygons (so
the boundary counts as covered) and stops at the first hit; where the grids cover the whole
cell the last candidate needs no test.
Points left over are projected; outside every grid, the distance to the nearest grid is the
distance to the outline of the grids' union (ring segments, less those shared by two grids
lying on both sides), found exactly with a k-d tree of segment midpoints and a bound; points
within ``snap_m`` take the grid of the nearest ring segment the same way.

A :class:`GridIndex` can be kept and reused; one index answers one call at a time (a lock),
as prepared GEOS geometries are not safe to share between threads. :func:`locate` keeps the
last few indexes in a cache keyed by the grids' content (codes and coordinates), so repeated
calls with the same grids build the index once, and a changed frame is never answered from
a stale index.

Example
-------
>>> import geopandas as gpd
>>> from shapely import box
>>> grids = gpd.GeoDataFrame(
...     {"code": ["B", "A"]}, geometry=[box(113.0, 22.5, 113.01, 22.51),
...     box(112.99, 22.5, 113.0, 22.51)], crs=4326)
>>> locate(grids, [113.005, 113.0, 113.0101, 113.1], [22.505] * 4).round(1)
  grid_code  quality  distance_m
0         B   inside         0.0
1         A   inside         0.0
2         B  snapped        10.3
3      None  outside      9261.7
"""

from __future__ import annotations

import hashlib
import math
import numbers
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from scipy.spatial import KDTree

from grid_model.errors import InvalidInputError

__all__ = ["GridIndex", "locate", "QUALITIES"]

QUALITIES = ("inside", "snapped", "outside")
_INSIDE, _SNAPPED, _OUTSIDE = 0, 1, 2
_EMPTY, _CROSSED = -1, -2  # cell states; values >= 0 are a polygon rank
# Safety margin, in cell widths, around ring pieces and polygon boxes when marking cells:
# far above the rounding error of the cell arithmetic (~1e-12 cell), far below a cell.
_MARGIN = 1e-7
_MAX_PIECE = 0.9  # ring pieces span at most this many cells per axis, so touch <= 2x2 cells
_MAX_CELLS = 4_000_000
_ORIENT_BOUND = 4 * (3 + 16 * 2.0**-53) * 2.0**-53  # Shewchuk's ccwerrboundA, times 4
_MAX_DEGREES = 0.005  # longest segment (about 0.5 km) projected as a straight line
_CACHE_SIZE = 4
_CELLS_PER_GRID = 32.0


class _Checked(NamedTuple):
    codes: np.ndarray  # object, in row order
    ragged: tuple | None  # shapely.to_ragged_array of the geometries (2-D), None if no rows
    fingerprint: str


class GridIndex:
    """A reusable point-in-grid index over one set of grids.

    Parameters
    ----------
    grids : geopandas.GeoDataFrame
        Grid polygons in EPSG:4326 with a ``code`` column; Polygon or MultiPolygon, holes allowed.
    cells_per_grid : float, default 32
        Average number of raster cells per grid. More cells answer more points without an exact
        test but take longer to build.

    Attributes
    ----------
    codes : numpy.ndarray
        Grid codes (object) sorted by ``str(code)``; polygon *rank* ``i`` is ``codes[i]``.
    metric_crs : pyproj.CRS or None
        The UTM zone distances are measured in; None when there are no grids.
    shape : tuple of int
        ``(ny, nx)`` cells of the raster.
    fingerprint : str
        Digest of the codes and geometries the index was built from.
    """

    def __init__(self, grids: gpd.GeoDataFrame, *, cells_per_grid: float = _CELLS_PER_GRID) -> None:
        self._build(_checked_grids(grids), cells_per_grid)

    @classmethod
    def _from_checked(cls, checked: _Checked) -> GridIndex:
        index = cls.__new__(cls)
        index._build(checked, _CELLS_PER_GRID)
        return index

    def __len__(self) -> int:
        return len(self.codes)

    # -- build ---------------------------------------------------------------------------------
    def _build(self, checked: _Checked, cells_per_grid: float) -> None:
        if not (isinstance(cells_per_grid, numbers.Real) and 0 < cells_per_grid < math.inf):
            raise InvalidInputError(
                f"cells_per_grid must be a positive number, got {cells_per_grid!r}"
            )
        self.fingerprint = checked.fingerprint
        order = np.argsort(np.array([str(c) for c in checked.codes], dtype=str), kind="stable")
        self.codes = checked.codes[order]
        self._codes_none = np.append(self.codes, None)
        self._lock = threading.Lock()
        self.metric_crs = None
        self.shape = (0, 0)
        if checked.ragged is None:
            return
        # Own copies, by rank: preparing mutates geometries, and the caller's are not ours.
        self._polys = shapely.from_ragged_array(*checked.ragged)[order]
        self._polys[shapely.is_empty(self._polys)] = None
        if shapely.is_missing(self._polys).all():
            return
        shapely.prepare(self._polys)
        rank_of_row = np.empty(len(order), dtype=np.int64)
        rank_of_row[order] = np.arange(len(order))
        xy, start, end, owner = _ring_segments(*checked.ragged)
        owner = rank_of_row[owner]
        on_outline = self._build_raster(cells_per_grid, xy, start, end, owner)
        self._build_metric(xy, start, end, owner, on_outline)

    def _build_raster(
        self, cells_per_grid: float, xy: np.ndarray, start: np.ndarray, end: np.ndarray,
        owner: np.ndarray,
    ) -> np.ndarray:  # fmt: skip
        """Classify the raster's cells; return which segments lie on the union's outline."""
        bounds = shapely.bounds(self._polys)
        x0, y0 = np.nanmin(bounds[:, 0]), np.nanmin(bounds[:, 1])
        x1, y1 = np.nanmax(bounds[:, 2]), np.nanmax(bounds[:, 3])
        # Roughly square cells on the ground.
        kx = math.cos(math.radians(min(max((y0 + y1) / 2, -89.0), 89.0)))
        width, height = max((x1 - x0) * kx, 1e-12), max(y1 - y0, 1e-12)
        n_valid = int((~shapely.is_missing(self._polys)).sum())
        n_cells = min(max(cells_per_grid * n_valid, 1.0), _MAX_CELLS)
        side = math.sqrt(width * height / n_cells)
        nx = max(1, min(math.ceil(width / side), _MAX_CELLS))
        ny = max(1, min(math.ceil(height / side), _MAX_CELLS // nx))
        self.shape = (ny, nx)
        self._bbox = (x0, y0, x1, y1)
        self._inv_w = nx / (x1 - x0) if x1 > x0 else 0.0
        self._inv_h = ny / (y1 - y0) if y1 > y0 else 0.0
        n_poly, n_cells = len(self._polys), nx * ny

        # (polygon, cell) pairs where the polygon's boundary may cross the cell, sorted by
        # polygon, row, column.
        a, b = xy[start], xy[end]
        cells, piece_seg = self._segment_cells(a, b)
        crossed = _sorted_unique(owner[piece_seg] * n_cells + cells)
        c_poly, c_cell = crossed // n_cells, crossed % n_cells
        c_row, c_col = c_cell // nx, c_cell % nx

        # Cells a polygon holds whole. Along a row, cells not crossed by a polygon's boundary
        # form runs that are all inside or all outside it; only runs between two of its
        # crossed cells can be inside (the raster's edge columns are never inside), and one
        # exact test per run tells.
        gap = np.flatnonzero(
            (c_poly[1:] == c_poly[:-1]) & (c_row[1:] == c_row[:-1]) & (c_col[1:] > c_col[:-1] + 1)
        )
        g_poly, g_row, g_col = c_poly[gap], c_row[gap], c_col[gap] + 1
        inside = shapely.intersects_xy(
            self._polys[g_poly],
            x0 + (g_col + 0.5) * ((x1 - x0) / nx),
            y0 + (g_row + 0.5) * ((y1 - y0) / ny),
        )
        gap = gap[inside]
        g_len = c_col[gap + 1] - c_col[gap] - 1
        rep_ = np.repeat(np.arange(gap.size), g_len)
        offset = np.arange(rep_.size) - np.repeat(np.cumsum(g_len) - g_len, g_len)
        full_cell = c_cell[gap][rep_] + 1 + offset
        full_poly = c_poly[gap][rep_].astype(np.int32)

        no_poly = np.iinfo(np.int32).max
        min_full = np.full(n_cells, no_poly, dtype=np.int32)
        np.minimum.at(min_full, full_cell, full_poly)
        is_crossed = np.zeros(n_cells, dtype=bool)
        is_crossed[c_cell] = True
        state = np.where(min_full < no_poly, min_full, _EMPTY).astype(np.int32)
        state[is_crossed] = _CROSSED
        self._cell_state = state

        # Candidates of crossed cells, by rank. A polygon ranked after one that holds the whole
        # cell never wins there.
        in_crossed = is_crossed[full_cell]
        keys = np.concatenate(
            [c_cell * n_poly + c_poly, full_cell[in_crossed] * n_poly + full_poly[in_crossed]]
        )
        keys.sort()
        cell, cand = keys // n_poly, (keys % n_poly).astype(np.int32)
        keep = cand <= min_full[cell]
        cell, self._cand = cell[keep], cand[keep]
        self._ptr = np.concatenate([[0], np.cumsum(np.bincount(cell, minlength=n_cells))])

        # Equal segments (a shared edge is in two rings, reversed) form a group; the grids on
        # either side of a group come from its copies, each with its polygon on the left.
        group, forward, first = _segment_groups(a, b)
        n_groups = first.size
        n_forward = np.bincount(group, weights=forward, minlength=n_groups)
        one_sided = (n_forward == 0) | (n_forward == np.bincount(group, minlength=n_groups))
        on_outline = np.zeros(len(a), dtype=bool)
        on_outline[first[one_sided]] = True

        # A crossed cell the outline of the union does not touch lies inside the union: a point
        # there that misses all candidates but the last is in the last one, untested.
        self._no_gap = np.ones(n_cells, dtype=bool)
        self._no_gap[self._segment_cells(a[on_outline], b[on_outline])[0]] = False
        self._no_gap[min_full < no_poly] = True  # a polygon holds the whole cell
        self._build_lines(
            cells, group[piece_seg], min_full < no_poly, a, b, owner, group, forward, first
        )
        return on_outline

    def _build_lines(
        self, cells: np.ndarray, cell_group: np.ndarray, held: np.ndarray, a: np.ndarray,
        b: np.ndarray, owner: np.ndarray, group: np.ndarray, forward: np.ndarray,
        first: np.ndarray,
    ) -> None:  # fmt: skip
        """Cells whose only boundary is one edge crossing them right through.

        There a point's grid is the side of the edge it lies on: the smallest grid on that
        side (or none). Cells another boundary comes near, or a grid holds whole (overlaps),
        are left to the exact test.
        """
        ny, nx = self.shape
        n_groups = first.size
        low = np.full(nx * ny, n_groups, dtype=np.int64)
        high = np.full(nx * ny, -1, dtype=np.int64)
        np.minimum.at(low, cells, cell_group)
        np.maximum.at(high, cells, cell_group)
        cell = np.flatnonzero((low == high) & ~held)
        g = low[cell]
        # Each group's edge from its lexicographically first end, in cell units.
        lo = np.where(forward[first, None], a[first], b[first])
        hi = np.where(forward[first, None], b[first], a[first])
        origin, scale = np.array(self._bbox[:2]), np.array([self._inv_w, self._inv_h])
        lo_uv, hi_uv = (lo[g] - origin) * scale, (hi[g] - origin) * scale
        corner = np.column_stack([cell % nx, cell // nx]).astype(float)
        # The edge must come within half the margin of the cell (so no other boundary lies
        # between) and both its ends must be beyond twice the margin (so within the cell it
        # is a straight cut).
        through = _segment_meets_box(lo_uv, hi_uv, corner - _MARGIN / 2, corner + 1 + _MARGIN / 2)
        for end in (lo_uv, hi_uv):
            through &= np.any(
                (end < corner - 2 * _MARGIN) | (end > corner + 1 + 2 * _MARGIN), axis=1
            )
        self._line = np.full(nx * ny, -1, dtype=np.int32)
        self._line[cell[through]] = g[through]
        self._line_lo, self._line_hi = lo, hi
        # Smallest grid left and right of each edge (from lo to hi), -1 for none.
        left = np.full(n_groups, np.iinfo(np.int32).max, dtype=np.int64)
        right = left.copy()
        np.minimum.at(left, group[forward], owner[forward])
        np.minimum.at(right, group[~forward], owner[~forward])
        self._line_left = np.where(left < np.iinfo(np.int32).max, left, -1).astype(np.int32)
        self._line_right = np.where(right < np.iinfo(np.int32).max, right, -1).astype(np.int32)

    def _cell_xy(
        self, x: np.ndarray, y: np.ndarray, margin: float = 0.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """Column and row of the cells holding (x, y) shifted by ``margin`` cell widths."""
        ny, nx = self.shape
        x0, y0 = self._bbox[:2]
        u = (x - x0) * self._inv_w + margin
        v = (y - y0) * self._inv_h + margin
        return (
            np.clip(np.floor(u), 0, nx - 1).astype(np.int64),
            np.clip(np.floor(v), 0, ny - 1).astype(np.int64),
        )

    def _segment_cells(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cells each segment a→b may touch (a superset), with the segment's position."""
        # Cut segments into pieces spanning less than a cell per axis; the box of a piece
        # widened by the margin then touches at most 2 x 2 cells.
        du = (b[:, 0] - a[:, 0]) * self._inv_w
        dv = (b[:, 1] - a[:, 1]) * self._inv_h
        pieces = np.ceil(np.maximum(np.abs(du), np.abs(dv)) / _MAX_PIECE)
        pieces = np.maximum(pieces, 1).astype(np.int64)
        rep = np.repeat(np.arange(len(a)), pieces)
        j = np.arange(rep.size) - np.repeat(np.cumsum(pieces) - pieces, pieces)
        t0, t1 = j / pieces[rep], (j + 1) / pieces[rep]
        ax, ay, bx, by = a[rep, 0], a[rep, 1], b[rep, 0], b[rep, 1]
        px0, px1 = ax + (bx - ax) * t0, ax + (bx - ax) * t1
        py0, py1 = ay + (by - ay) * t0, ay + (by - ay) * t1
        ix0, iy0 = self._cell_xy(np.minimum(px0, px1), np.minimum(py0, py1), -_MARGIN)
        ix1, iy1 = self._cell_xy(np.maximum(px0, px1), np.maximum(py0, py1), _MARGIN)
        nx = self.shape[1]
        cells, which = [], []
        for ax_ in (0, 1):
            for ay_ in (0, 1):
                m = np.flatnonzero((ix0 + ax_ <= ix1) & (iy0 + ay_ <= iy1))
                cells.append((iy0[m] + ay_) * nx + ix0[m] + ax_)
                which.append(rep[m])
        return np.concatenate(cells), np.concatenate(which)

    def _build_metric(
        self, xy: np.ndarray, start: np.ndarray, end: np.ndarray, owner: np.ndarray,
        on_outline: np.ndarray,
    ) -> None:  # fmt: skip
        x0, y0, x1, y1 = self._bbox
        lon, lat = (x0 + x1) / 2, (y0 + y1) / 2
        zone = min(max(int((lon + 180) // 6) + 1, 1), 60)
        self.metric_crs = pyproj.CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)
        self._to_metric = pyproj.Transformer.from_crs(4326, self.metric_crs, always_xy=True)
        # Projected ring segments. A straight edge in lon/lat is curved in UTM: long edges
        # are cut first (the chord of 30 km misses the curve by ~7 m, of 0.5 km by ~2 mm).
        d = xy[end] - xy[start]
        pieces = np.ceil(
            np.maximum(np.abs(d[:, 0]) * math.cos(math.radians(lat)), np.abs(d[:, 1]))
            / _MAX_DEGREES
        )
        pieces = np.maximum(pieces, 1).astype(np.int64)
        rep = np.repeat(np.arange(len(start)), pieces)
        j = np.arange(rep.size) - np.repeat(np.cumsum(pieces) - pieces, pieces)
        inner = np.flatnonzero(j > 0)  # pieces starting at a new vertex
        new_xy = xy[start[rep[inner]]] + d[rep[inner]] * (j[inner] / pieces[rep[inner]])[:, None]
        first = np.empty(rep.size, dtype=np.int64)
        first[j == 0] = start
        first[inner] = len(xy) + np.arange(inner.size)
        last = np.empty(rep.size, dtype=np.int64)
        last[:-1] = first[1:]
        last[np.cumsum(pieces) - 1] = end
        xy = self._project_xy(np.vstack([xy, new_xy]))
        a, b, owner, on_outline = xy[first], xy[last], owner[rep], on_outline[rep]
        self._rings = _Pieces(a, b, owner)
        # Short pieces make the bound tight for far points; the outline has few segments.
        self._outline = _Pieces(a[on_outline], b[on_outline], split=0.25, k=8)

    def _project_xy(self, xy: np.ndarray) -> np.ndarray:
        return np.column_stack(self._to_metric.transform(xy[:, 0], xy[:, 1]))

    # -- query ---------------------------------------------------------------------------------
    def locate(
        self, lon: Sequence[float], lat: Sequence[float], *, snap_m: float = 30.0
    ) -> pd.DataFrame:
        """Grid of each point; see :func:`locate` for the rules and the result."""
        x, y = _checked_points(lon, lat)
        if not (isinstance(snap_m, numbers.Real) and 0 <= snap_m < math.inf):
            raise InvalidInputError(f"snap_m must be a finite number >= 0 metres, got {snap_m!r}")
        n = x.size
        rank = np.full(n, -1, dtype=np.int32)
        quality = np.full(n, _OUTSIDE, dtype=np.int8)
        distance = np.full(n, np.nan)
        if self.metric_crs is not None:
            with self._lock:  # prepared GEOS geometries are not safe to share between threads
                self._locate_inside(x, y, rank)
                found = rank >= 0
                quality = np.where(found, _INSIDE, _OUTSIDE).astype(np.int8)
                distance = np.where(found, 0.0, np.nan)
                self._locate_outside(x, y, float(snap_m), rank, quality, distance)
        # Rank -1 takes the None appended to the codes.
        grid_code = np.take(self._codes_none, np.maximum(rank, -1))
        return pd.DataFrame(
            {
                "grid_code": pd.Series(grid_code, dtype=object, copy=False),
                "quality": pd.Categorical.from_codes(quality, QUALITIES, validate=False),
                "distance_m": distance,
            }
        )

    def _locate_inside(self, x: np.ndarray, y: np.ndarray, rank: np.ndarray) -> None:
        ny, nx = self.shape
        u = x - self._bbox[0]
        u *= self._inv_w
        v = y - self._bbox[1]
        v *= self._inv_h
        # The margin keeps points on the bounding box's edges that the cell arithmetic puts a
        # rounding error outside (edge cells are never held whole: such points get tested).
        lo, hi_u, hi_v = -_MARGIN / 2, nx + _MARGIN / 2, ny + _MARGIN / 2
        pts = np.flatnonzero((u >= lo) & (u <= hi_u) & (v >= lo) & (v <= hi_v))  # NaN fails
        # Truncation is floor here (or 0 within the margin); the east edge is the last column.
        cell = np.minimum(v[pts].astype(np.int64), ny - 1) * nx
        cell += np.minimum(u[pts].astype(np.int64), nx - 1)
        state = self._cell_state[cell]
        rank[pts] = state  # a rank, or negative: not found (yet)
        crossed = np.flatnonzero(state == _CROSSED)
        pts, cell = pts[crossed], cell[crossed]
        pts, cell = self._side_of_line(x, y, pts, cell, rank)
        start = self._ptr[cell]
        left = self._ptr[cell + 1] - start  # candidates not yet tried
        no_gap = self._no_gap[cell]
        small = len(self) <= 1 << 16
        # Round j tries every open point's j-th candidate, in rank order, so the first hit is
        # the smallest code.
        while pts.size:
            cand = self._cand[start]
            sure = no_gap & (left == 1)
            hit = sure.copy()
            test = np.flatnonzero(~sure)
            # Grouped by polygon each prepared polygon's index stays in cache: ~10x faster
            # (a stable sort of uint16 is a radix sort).
            order = cand[test].astype(np.uint16) if small else cand[test]
            by_poly = test[np.argsort(order, kind="stable")]
            at = pts[by_poly]
            hit[by_poly] = shapely.intersects_xy(self._polys[cand[by_poly]], x[at], y[at])
            rank[pts[hit]] = cand[hit]
            go_on = ~hit & (left > 1)
            pts, start, left, no_gap = pts[go_on], start[go_on] + 1, left[go_on] - 1, no_gap[go_on]

    def _side_of_line(
        self, x: np.ndarray, y: np.ndarray, pts: np.ndarray, cell: np.ndarray, rank: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Answer points in cells cut by one edge by its side; return the others."""
        g = self._line[cell]
        on = np.flatnonzero(g >= 0)
        p, g = pts[on], g[on]
        # Orientation of (lo, hi, point) with Shewchuk's error bound: beyond it the sign is
        # exact; points on or extremely near the edge go to the exact test.
        lo, hi = self._line_lo[g], self._line_hi[g]
        left = (lo[:, 0] - x[p]) * (hi[:, 1] - y[p])
        right = (lo[:, 1] - y[p]) * (hi[:, 0] - x[p])
        det = left - right
        bound = _ORIENT_BOUND * (np.abs(left) + np.abs(right))
        side = np.where(det < -bound, self._line_right[g], -1)
        rank[p] = np.where(det > bound, self._line_left[g], side)
        unsure = np.ones(pts.size, dtype=bool)
        unsure[on] = np.abs(det) <= bound
        return pts[unsure], cell[unsure]

    def _locate_outside(
        self, x: np.ndarray, y: np.ndarray, snap_m: float, rank: np.ndarray,
        quality: np.ndarray, distance: np.ndarray,
    ) -> None:  # fmt: skip
        rest = np.flatnonzero((rank < 0) & np.isfinite(x) & np.isfinite(y))
        if rest.size == 0:
            return
        with np.errstate(invalid="ignore"):
            mx, my = self._to_metric.transform(x[rest], y[rest], errcheck=False)
        mx, my = np.asarray(mx, dtype=float), np.asarray(my, dtype=float)
        ok = np.isfinite(mx) & np.isfinite(my)
        rest, mx, my = rest[ok], mx[ok], my[ok]
        # Outside every grid, the nearest grid is as far as the outline of their union...
        distance[rest] = self._outline.nearest(mx, my)[0]
        if snap_m == 0:
            return
        # ...and is the grid of the nearest ring segment, ties by rank.
        near = np.flatnonzero(distance[rest] <= snap_m * (1 + 1e-9))
        dist, grid = self._rings.nearest(mx[near], my[near])
        snap = dist <= snap_m
        at = rest[near[snap]]
        rank[at] = grid[snap]
        quality[at] = _SNAPPED
        distance[at] = dist[snap]


class _Pieces:
    """Metric segments cut into pieces, indexed by their midpoints.

    Parameters
    ----------
    a, b : numpy.ndarray
        Start and end points, shape (n, 2).
    owner : numpy.ndarray, optional
        Polygon rank of each segment.
    split : float
        Pieces are at most this many times the median segment length.
    k : int
        Nearest midpoints tried first.
    """

    def __init__(
        self, a: np.ndarray, b: np.ndarray, owner: np.ndarray | None = None, *,
        split: float = 2.0, k: int = 16,
    ) -> None:  # fmt: skip
        length = np.hypot(*(b - a).T)
        limit = split * float(np.median(length)) if length.size else 1.0
        self.k = k
        pieces = np.maximum(np.ceil(length / limit), 1).astype(np.int64)
        rep = np.repeat(np.arange(len(a)), pieces)
        j = (np.arange(rep.size) - np.repeat(np.cumsum(pieces) - pieces, pieces))[:, None]
        step = (b - a)[rep] / pieces[rep, None]
        pa, pb = a[rep] + step * j, a[rep] + step * (j + 1)
        pb[np.cumsum(pieces) - 1] = b  # the last piece ends exactly on the vertex
        self.ax, self.ay, self.bx, self.by = pa[:, 0], pa[:, 1], pb[:, 0], pb[:, 1]
        self.dx, self.dy = self.bx - self.ax, self.by - self.ay
        length2 = self.dx**2 + self.dy**2
        self.inv2 = np.divide(1.0, length2, out=np.zeros_like(length2), where=length2 > 0)
        self.owner = None if owner is None else owner[rep]
        self.half = float(np.sqrt(length2.max(initial=0))) / 2
        self._mid = (pa + pb) / 2
        self._tree: KDTree | None = None  # built on first use

    def __len__(self) -> int:
        return len(self.ax)

    def nearest(self, px: np.ndarray, py: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Exact distance to the nearest piece and the smallest owner among the nearest.

        The k pieces with the nearest midpoints give a candidate; no other piece is nearer
        than (k-th midpoint distance - half the longest piece), so when that bound exceeds the
        candidate it is exact, ties included; otherwise k grows.
        """
        best = np.full(px.size, np.nan)
        owner = None if self.owner is None else np.full(px.size, -1, dtype=np.int64)
        m = len(self)
        todo = np.arange(px.size) if m else np.empty(0, dtype=np.int64)
        if todo.size and self._tree is None:
            self._tree = KDTree(self._mid)
        k = min(self.k, m)
        while todo.size:
            open_ = []
            for chunk in np.array_split(todo, -(-todo.size * k // 2_000_000)):
                cx, cy = px[chunk], py[chunk]
                dm, j = self._tree.query(np.column_stack([cx, cy]), k=k)
                dm, j = dm.reshape(chunk.size, k), j.reshape(chunk.size, k)
                d2 = self._distance2(cx[:, None], cy[:, None], j)
                best2 = d2.min(axis=1)
                best[chunk] = np.sqrt(best2)
                if owner is not None:
                    ties = d2 == best2[:, None]
                    owner[chunk] = np.where(ties, self.owner[j], np.iinfo(np.int64).max).min(1)
                open_.append(chunk[dm[:, -1] - self.half <= best[chunk]])
            todo = np.concatenate(open_) if k < m else todo[:0]
            k = min(8 * k, m)
        return best, owner

    def _distance2(self, px: np.ndarray, py: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Squared distance from (px, py) to pieces j."""
        dx, dy = self.dx[j], self.dy[j]
        qx, qy = px - self.ax[j], py - self.ay[j]
        t = (qx * dx + qy * dy) * self.inv2[j]
        np.clip(t, 0.0, 1.0, out=t)
        # At the end take the vertex itself, so grids meeting there tie exactly.
        end = t == 1.0
        ex = np.where(end, px - self.bx[j], qx - t * dx)
        ey = np.where(end, py - self.by[j], qy - t * dy)
        return ex * ex + ey * ey


def _sorted_unique(a: np.ndarray) -> np.ndarray:
    # np.unique hashes integers since numpy 2.3, several times slower than sorting here.
    a = np.sort(a)
    keep = np.ones(a.size, dtype=bool)
    keep[1:] = a[1:] != a[:-1]
    return a[keep]


def _ring_segments(
    kind: shapely.GeometryType, xy: np.ndarray, offsets: tuple[np.ndarray, ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every ring segment of polygons given as ``shapely.to_ragged_array`` parts.

    Returns the vertices, each segment's start and end vertex, and its polygon (row).
    Segments are oriented so that the polygon's interior lies left of each (shells
    counter-clockwise, holes clockwise). Zero-length segments are left out.
    """
    if kind == shapely.GeometryType.MULTIPOLYGON:
        ring_offsets, part_offsets, row_offsets = offsets
    else:
        ring_offsets, part_offsets = offsets
        row_offsets = np.arange(len(part_offsets))
    n_rings, n_parts = len(ring_offsets) - 1, len(part_offsets) - 1
    ring = np.repeat(np.arange(n_rings), np.diff(ring_offsets))
    ring_part = np.repeat(np.arange(n_parts), np.diff(part_offsets))
    part_row = np.repeat(np.arange(len(row_offsets) - 1), np.diff(row_offsets))
    start = np.flatnonzero((ring[:-1] == ring[1:]) & np.any(xy[:-1] != xy[1:], axis=1))
    end, ring = start + 1, ring[start]
    # Shoelace sign per ring, around the ring's first vertex for precision; a part's first ring
    # is its shell.
    a, b, o = xy[start], xy[end], xy[ring_offsets[ring]]
    cross = (a[:, 0] - o[:, 0]) * (b[:, 1] - o[:, 1]) - (b[:, 0] - o[:, 0]) * (a[:, 1] - o[:, 1])
    twice_area = np.bincount(ring, weights=cross, minlength=n_rings)
    shell = np.arange(n_rings) == part_offsets[ring_part]
    flip = ((twice_area > 0) != shell)[ring]
    start[flip], end[flip] = end[flip], start[flip]
    return xy, start, end, part_row[ring_part[ring]]


def _segment_groups(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group equal segments a→b regardless of direction.

    Returns each segment's group, whether it runs from the lexicographically first end
    (``forward``), and one segment of each group. Groups are found by sorting a hash of the
    ends' bits; a collision can only split a group, which every use tolerates.
    """
    forward = (a[:, 0] < b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] < b[:, 1]))
    ends = np.where(forward[:, None], np.column_stack([a, b]), np.column_stack([b, a]))
    bits = np.ascontiguousarray(ends).view(np.uint64)
    mix = np.array(
        [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93],
        dtype=np.uint64,
    )
    key = np.bitwise_xor.reduce(bits * mix, axis=1)
    key ^= key >> np.uint64(29)
    order = np.argsort(key, kind="stable")
    key, ends = key[order], ends[order]
    new = np.ones(len(order), dtype=bool)
    new[1:] = (key[1:] != key[:-1]) | np.any(ends[1:] != ends[:-1], axis=1)
    group = np.empty(len(order), dtype=np.int64)
    group[order] = np.cumsum(new) - 1
    return group, forward, order[new]


def _segment_meets_box(p: np.ndarray, q: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Whether segments p→q meet boxes [lo, hi] (Liang–Barsky); all arrays shape (n, 2)."""
    t0, t1 = np.zeros(len(p)), np.ones(len(p))
    meets = np.ones(len(p), dtype=bool)
    d = q - p
    with np.errstate(divide="ignore", invalid="ignore"):
        for axis in (0, 1):
            for step, room in (
                (-d[:, axis], p[:, axis] - lo[:, axis]),
                (d[:, axis], hi[:, axis] - p[:, axis]),
            ):
                ratio = room / step
                t0 = np.where(step < 0, np.maximum(t0, ratio), t0)
                t1 = np.where(step > 0, np.minimum(t1, ratio), t1)
                meets &= (step != 0) | (room >= 0)
    return meets & (t0 <= t1)


def _checked_grids(grids: object) -> _Checked:
    if not isinstance(grids, gpd.GeoDataFrame):
        raise InvalidInputError(f"grids must be a GeoDataFrame, got {type(grids).__name__}")
    if "code" not in grids.columns:
        raise InvalidInputError(
            f"grids has no 'code' column (columns: {', '.join(map(str, grids.columns))})"
        )
    if grids.crs is None or grids.crs.to_epsg() != 4326:
        raise InvalidInputError(
            f"grids must be in EPSG:4326 (WGS 84 lon/lat), got CRS {grids.crs!r}; "
            "convert with grids.to_crs(4326)"
        )
    geoms = np.asarray(grids.geometry.values, dtype=object)
    types = shapely.get_type_id(geoms)
    bad = np.flatnonzero(
        (types != shapely.GeometryType.POLYGON) & (types != shapely.GeometryType.MULTIPOLYGON)
    )
    if bad.size:
        i = bad[0]
        kind = "missing geometry" if types[i] < 0 else geoms[i].geom_type
        raise InvalidInputError(
            f"grids geometry must be Polygon or MultiPolygon; {bad.size} row(s) are not, "
            f"first at position {i} (code {grids['code'].iloc[i]!r}): {kind}"
        )
    codes = grids["code"].to_numpy(dtype=object)
    missing = np.flatnonzero(pd.isna(codes))
    if missing.size:
        raise InvalidInputError(
            f"grids 'code' is empty in {missing.size} row(s), first at position {missing[0]}"
        )
    digest = hashlib.blake2b(repr(codes.tolist()).encode(), digest_size=16)
    ragged = None
    if len(geoms):
        ragged = shapely.to_ragged_array(geoms, include_z=False)
        digest.update(repr((int(ragged[0]), [len(o) for o in ragged[2]])).encode())
        for part in (ragged[1], *ragged[2]):
            digest.update(np.ascontiguousarray(part).tobytes())
    return _Checked(codes, ragged, digest.hexdigest())


def _checked_points(lon: Sequence[float], lat: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    arrays = []
    for name, values in (("lon", lon), ("lat", lat)):
        try:
            a = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(f"{name} must be numbers (degrees WGS 84)") from exc
        if a.ndim != 1:
            raise InvalidInputError(f"{name} must be one-dimensional, got shape {a.shape}")
        arrays.append(a)
    x, y = arrays
    if x.size != y.size:
        raise InvalidInputError(f"lon and lat differ in length: {x.size} lon vs {y.size} lat")
    return x, y


_cache: OrderedDict[str, GridIndex] = OrderedDict()
_cache_lock = threading.Lock()


def locate(
    grids: gpd.GeoDataFrame, lon: Sequence[float], lat: Sequence[float], *, snap_m: float = 30.0
) -> pd.DataFrame:
    """Find the grid of each point.

    Parameters
    ----------
    grids : geopandas.GeoDataFrame
        Grid polygons in EPSG:4326 with a ``code`` column (Polygon/MultiPolygon, holes allowed).
    lon, lat : array-like of float
        WGS 84 coordinates of the points, same length.
    snap_m : float, default 30
        Points outside every grid but at most this many metres from one snap to it.

    Returns
    -------
    pandas.DataFrame
        One row per point in input order (RangeIndex) with ``grid_code`` (object, None when
        outside), ``quality`` (categorical: ``inside`` | ``snapped`` | ``outside``) and
        ``distance_m`` (float: 0 inside, metres to the nearest grid otherwise, NaN for NaN or
        unprojectable input or with no grids). Rules: see the module docstring; shared edges
        go to the smallest ``str(code)``. Repeated calls with the same grids reuse a cached
        :class:`GridIndex`.

    Raises
    ------
    ValueError
        (:class:`~grid_model.errors.InvalidInputError`) for grids without a ``code`` column,
        with empty codes, non-polygon geometries or a CRS other than EPSG:4326, for lon/lat of
        different lengths or not numeric, and for a negative ``snap_m``.
    """
    checked = _checked_grids(grids)
    key = checked.fingerprint
    with _cache_lock:
        index = _cache.get(key)
        if index is not None:
            _cache.move_to_end(key)
    if index is None:
        index = GridIndex._from_checked(checked)
        with _cache_lock:
            _cache[key] = index
            while len(_cache) > _CACHE_SIZE:
                _cache.popitem(last=False)
    return index.locate(lon, lat, snap_m=snap_m)
