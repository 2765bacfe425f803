"""Which grid is a point in? Vectorised point-in-polygon with snapping (DESIGN §6).

The pure index: polygons with a ``code`` ("grids") in a GeoDataFrame, points as lon/lat
arrays, no database. Bad input raises :class:`geodata.errors.PointIndexError` (a
``ValueError``); ``grid_model.needs.geolocate`` is the grid_model side and re-raises it as
``InvalidInputError``. The ring-segment geometry is in :mod:`geodata.pointindex.segments`,
the geodesic distances in :mod:`geodata.pointindex.geodesic`.

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
- Distances are geodesic, in metres on the WGS 84 ellipsoid (within a centimetre of
  :class:`pyproj.Geod`, as tested anywhere on Earth), to the grid edges as drawn in lon/lat (straight between their
  vertices in EPSG:4326): no projection, so grids anywhere work alike, at high latitudes and
  on both sides of the antimeridian (a grid crossing it is split there into a MultiPolygon).
  Containment is decided on the EPSG:4326 coordinates, as PostGIS and geopandas do (a point
  at lon -180 is not in a grid ending at +180, but snaps to it at distance 0).
- ``distance_m`` is 0 inside and the distance to the grid when snapped. For points outside
  (farther than ``snap_m`` from every grid) it is NaN, unless ``far_distances=True`` asks
  for the distance to the nearest grid (an exact nearest-edge search: far from long
  coastlines it costs many times the rest).
- Coordinates that are NaN or off the Earth (latitude beyond ±90°) are ``outside`` with
  ``distance_m`` NaN; with no grids at all every point is ``outside`` with NaN distance.

How it is fast
--------------
:class:`GridIndex` lays a uniform raster over the grids' bounding box (about
``cells_per_grid`` cells per grid, more for long coastlines) and classifies every cell once,
with numpy:

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
Points left outside every grid are decided by a bound first: the raster knows, for every
cell, how many cells lie between it and the nearest cell a boundary crosses, and so how many
metres at least (the box of the grids bounds the points beyond it, longitudes taken round the
antimeridian); a point that bound puts farther than ``snap_m`` is ``outside`` without any
search. The
others look for ring segments within ``snap_m`` (a k-d tree of their midpoints in Earth-centred
coordinates, searched in a ball of that radius) and snap to the grid of the nearest one,
measured geodesically (:class:`~geodata.pointindex.geodesic.Edges`).

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
3      None  outside         NaN
>>> locate(grids, [113.1], [22.505], far_distances=True)["distance_m"].round(1).tolist()
[9260.3]
"""

from __future__ import annotations

import math
import numbers
import threading
from collections import OrderedDict
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import ndimage

from geodata.errors import PointIndexError
from geodata.pointindex.geodesic import Edges, beyond_box, least_metres_per_degree
from geodata.pointindex.inputs import Checked, checked_grids, checked_points
from geodata.pointindex.segments import (
    outline_segments,
    ring_segments,
    segment_meets_box,
    sorted_unique,
)

__all__ = ["GridIndex", "locate", "QUALITIES"]

QUALITIES = ("inside", "snapped", "outside")
#: Snap tolerance in metres when the caller names none (GridLaw passes its setting,
#: ``grid_model.config.snap_m``, whose default is the same 30 m).
DEFAULT_SNAP_M = 30.0
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
_CELLS_PER_GRID = 128.0
_SEGMENTS_PER_GRID = 32.0


class GridIndex:
    """A reusable point-in-grid index over one set of grids.

    Parameters
    ----------
    grids : geopandas.GeoDataFrame
        Grid polygons in EPSG:4326 with a ``code`` column; Polygon or MultiPolygon, holes allowed.
    cells_per_grid : float, default 128
        Average number of raster cells per grid. More cells answer more points without an exact
        test but take longer to build.

    Attributes
    ----------
    codes : numpy.ndarray
        Grid codes (object) sorted by ``str(code)``; polygon *rank* ``i`` is ``codes[i]``.
    shape : tuple of int
        ``(ny, nx)`` cells of the raster.
    fingerprint : str
        Digest of the codes and geometries the index was built from.
    """

    def __init__(self, grids: gpd.GeoDataFrame, *, cells_per_grid: float = _CELLS_PER_GRID) -> None:
        self._build(checked_grids(grids), cells_per_grid)

    @classmethod
    def _from_checked(cls, checked: Checked) -> GridIndex:
        index = cls.__new__(cls)
        index._build(checked, _CELLS_PER_GRID)
        return index

    def __len__(self) -> int:
        return len(self.codes)

    # -- build ---------------------------------------------------------------------------------
    def _build(self, checked: Checked, cells_per_grid: float) -> None:
        if not (isinstance(cells_per_grid, numbers.Real) and 0 < cells_per_grid < math.inf):
            raise PointIndexError(
                f"cells_per_grid must be a positive number, got {cells_per_grid!r}"
            )
        self.fingerprint = checked.fingerprint
        order = np.argsort(np.array([str(c) for c in checked.codes], dtype=str), kind="stable")
        self.codes = checked.codes[order]
        self._codes_none = np.append(self.codes, None)
        self._lock = threading.Lock()
        self._edges: Edges | None = None
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
        xy, start, end, owner = ring_segments(*checked.ragged)
        owner = rank_of_row[owner]
        self._build_raster(cells_per_grid, xy, start, end, owner)
        self._build_metric(xy, start, end, owner)

    def _build_raster(
        self, cells_per_grid: float, xy: np.ndarray, start: np.ndarray, end: np.ndarray,
        owner: np.ndarray,
    ) -> None:  # fmt: skip
        """Classify the raster's cells."""
        self._lay_raster(cells_per_grid, len(start))
        a, b = xy[start], xy[end]
        cells, piece_seg = self._segment_cells(a, b)
        c_poly, c_cell = self._crossed_cells(cells, owner[piece_seg])
        full_cell, full_poly = self._held_cells(c_poly, c_cell)
        min_full, is_crossed = self._classify_cells(c_cell, full_cell, full_poly)
        self._build_candidates(c_poly, c_cell, full_cell, full_poly, min_full, is_crossed)
        group, forward, first, on_outline = outline_segments(a, b)
        held = min_full < np.iinfo(np.int32).max
        # A crossed cell the outline of the union does not touch lies inside the union: a point
        # there that misses all candidates but the last is in the last one, untested.
        self._no_gap = np.ones(self.shape[0] * self.shape[1], dtype=bool)
        self._no_gap[cells[on_outline[piece_seg]]] = False
        self._no_gap[held] = True  # a polygon holds the whole cell
        self._build_lines(cells, group[piece_seg], held, a, b, owner, group, forward, first)

    def _lay_raster(self, cells_per_grid: float, n_segments: int) -> None:
        """Size the raster over the grids' bounding box: about ``cells_per_grid`` cells per
        grid, a grid counting as at least one per ``_SEGMENTS_PER_GRID`` ring segments (long
        coastlines want more cells), roughly square on the ground."""
        bounds = shapely.bounds(self._polys)
        x0, y0 = np.nanmin(bounds[:, 0]), np.nanmin(bounds[:, 1])
        x1, y1 = np.nanmax(bounds[:, 2]), np.nanmax(bounds[:, 3])
        kx = math.cos(math.radians(min(max((y0 + y1) / 2, -89.0), 89.0)))
        width, height = max((x1 - x0) * kx, 1e-12), max(y1 - y0, 1e-12)
        n_valid = int((~shapely.is_missing(self._polys)).sum())
        n_grids = max(n_valid, n_segments / _SEGMENTS_PER_GRID)
        n_cells = min(max(cells_per_grid * n_grids, 1.0), _MAX_CELLS)
        side = math.sqrt(width * height / n_cells)
        nx = max(1, min(math.ceil(width / side), _MAX_CELLS))
        ny = max(1, min(math.ceil(height / side), _MAX_CELLS // nx))
        self.shape = (ny, nx)
        self._bbox = (x0, y0, x1, y1)
        self._inv_w = nx / (x1 - x0) if x1 > x0 else 0.0
        self._inv_h = ny / (y1 - y0) if y1 > y0 else 0.0

    def _crossed_cells(
        self, cells: np.ndarray, piece_owner: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(polygon, cell) pairs where the polygon's boundary may cross the cell, sorted by
        polygon, row, column."""
        n_cells = self.shape[0] * self.shape[1]
        crossed = sorted_unique(piece_owner * n_cells + cells)
        return crossed // n_cells, crossed % n_cells

    def _held_cells(self, c_poly: np.ndarray, c_cell: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cells a polygon holds whole, with that polygon (a cell may be held by several).

        Along a row, cells not crossed by a polygon's boundary form runs that are all inside
        or all outside it; only runs between two of its crossed cells can be inside (the
        raster's edge columns are never inside), and one exact test per run tells.
        """
        ny, nx = self.shape
        x0, y0, x1, y1 = self._bbox
        c_row, c_col = c_cell // nx, c_cell % nx
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
        return full_cell, full_poly

    def _classify_cells(
        self, c_cell: np.ndarray, full_cell: np.ndarray, full_poly: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Set each cell's state (``_EMPTY``, ``_CROSSED`` or the smallest rank holding it);
        return the smallest rank holding each cell (int32 max for none) and which are crossed."""
        n_cells = self.shape[0] * self.shape[1]
        no_poly = np.iinfo(np.int32).max
        min_full = np.full(n_cells, no_poly, dtype=np.int32)
        np.minimum.at(min_full, full_cell, full_poly)
        is_crossed = np.zeros(n_cells, dtype=bool)
        is_crossed[c_cell] = True
        state = np.where(min_full < no_poly, min_full, _EMPTY).astype(np.int32)
        state[is_crossed] = _CROSSED
        self._cell_state = state
        return min_full, is_crossed

    def _build_candidates(
        self, c_poly: np.ndarray, c_cell: np.ndarray, full_cell: np.ndarray,
        full_poly: np.ndarray, min_full: np.ndarray, is_crossed: np.ndarray,
    ) -> None:  # fmt: skip
        """Candidates of crossed cells, by rank. A polygon ranked after one that holds the
        whole cell never wins there."""
        n_poly, n_cells = len(self._polys), min_full.size
        in_crossed = is_crossed[full_cell]
        keys = np.concatenate(
            [c_cell * n_poly + c_poly, full_cell[in_crossed] * n_poly + full_poly[in_crossed]]
        )
        keys.sort()
        cell, cand = keys // n_poly, (keys % n_poly).astype(np.int32)
        keep = cand <= min_full[cell]
        cell, self._cand = cell[keep], cand[keep]
        self._ptr = np.concatenate([[0], np.cumsum(np.bincount(cell, minlength=n_cells))])

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
        through = segment_meets_box(lo_uv, hi_uv, corner - _MARGIN / 2, corner + 1 + _MARGIN / 2)
        for end in (lo_uv, hi_uv):
            through &= np.any(
                (end < corner - 2 * _MARGIN) | (end > corner + 1 + 2 * _MARGIN), axis=1
            )
        self._line = np.full(nx * ny, -1, dtype=np.int32)
        self._line[cell[through]] = g[through]
        self._lo_x, self._lo_y = lo[:, 0].copy(), lo[:, 1].copy()
        self._hi_x, self._hi_y = hi[:, 0].copy(), hi[:, 1].copy()
        # Smallest grid left and right of each edge (from lo to hi), -1 for none.
        left = np.full(n_groups, np.iinfo(np.int32).max, dtype=np.int64)
        right = left.copy()
        np.minimum.at(left, group[forward], owner[forward])
        np.minimum.at(right, group[~forward], owner[~forward])
        # Right of edge g at 2 g, left at 2 g + 1 (a positive orientation is left).
        side = np.column_stack([right, left])
        self._line_side = np.where(side < np.iinfo(np.int32).max, side, -1).astype(np.int32).ravel()

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

    def _build_metric(self, xy: np.ndarray, start: np.ndarray, end: np.ndarray,
                      owner: np.ndarray) -> None:  # fmt: skip
        """Geodesic edges for distances, and each cell's distance in cells (chessboard) to the
        nearest crossed cell: a point in an empty cell that far is beyond any snap."""
        self._edges = Edges(xy[start], xy[end], owner)
        crossed = (self._cell_state == _CROSSED).reshape(self.shape)
        x0, _, x1, _ = self._bbox
        wraps = x1 - x0 > 180  # the way round the antimeridian may be the shorter one
        tiled = np.tile(crossed, (1, 3)) if wraps else crossed
        steps = ndimage.distance_transform_cdt(~tiled, metric="chessboard")
        if wraps:
            steps = steps[:, self.shape[1] : 2 * self.shape[1]]
        self._steps = steps.ravel().astype(np.int32)

    # -- query ---------------------------------------------------------------------------------
    def locate(
        self, lon: Sequence[float], lat: Sequence[float], *, snap_m: float = DEFAULT_SNAP_M,
        far_distances: bool = False,
    ) -> pd.DataFrame:  # fmt: skip
        """Grid of each point; see :func:`locate` for the rules and the result."""
        x, y = checked_points(lon, lat)
        if not (isinstance(snap_m, numbers.Real) and 0 <= snap_m < math.inf):
            raise PointIndexError(f"snap_m must be a finite number >= 0 metres, got {snap_m!r}")
        n = x.size
        rank = np.full(n, -1, dtype=np.int32)
        quality = np.full(n, _OUTSIDE, dtype=np.int8)
        distance = np.full(n, np.nan)
        if self._edges is not None:
            with self._lock:  # prepared GEOS geometries are not safe to share between threads
                cell, off = self._locate_inside(x, y, rank)
                found = rank >= 0
                quality[found] = _INSIDE
                distance[found] = 0.0
                np.maximum(rank, -1, out=rank)
                self._locate_outside(x, y, float(snap_m), rank, quality, distance, cell, off)
                if far_distances:
                    far = np.flatnonzero(np.isnan(distance) & _on_earth(x, y))
                    distance[far] = self._edges.nearest(x[far], y[far])[0]
        # Rank -1 takes the None appended to the codes.
        grid_code = self._codes_none[rank]
        return pd.DataFrame(
            {
                "grid_code": pd.Series(grid_code, dtype=object, copy=False),
                "quality": pd.Categorical.from_codes(quality, QUALITIES, validate=False),
                "distance_m": distance,
            }
        )

    def _locate_inside(
        self, x: np.ndarray, y: np.ndarray, rank: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Rank of the grid holding each point (negative for none); return every point's cell
        and which points lie off the raster's box."""
        ny, nx = self.shape
        u = x - self._bbox[0]
        u *= self._inv_w
        v = y - self._bbox[1]
        v *= self._inv_h
        # The margin keeps points on the bounding box's edges that the cell arithmetic puts a
        # rounding error outside (edge cells are never held whole: such points get tested).
        lo, hi_u, hi_v = -_MARGIN / 2, nx + _MARGIN / 2, ny + _MARGIN / 2
        off = ~((u >= lo) & (u <= hi_u) & (v >= lo) & (v <= hi_v))  # NaN is off
        # Truncation is floor within the box (or 0 within the margin); the east edge is the
        # last column. Points off the box get a clipped cell, then no grid.
        with np.errstate(invalid="ignore"):
            col, row = u.astype(np.int32), v.astype(np.int32)
        np.clip(col, 0, nx - 1, out=col)
        np.clip(row, 0, ny - 1, out=row)
        cell = row * np.int32(nx)
        cell += col
        state = self._cell_state[cell]
        state[off] = _EMPTY
        rank[:] = state  # a rank, or negative: not found (yet)
        pts = np.flatnonzero(state == _CROSSED)
        self._test_crossed(x, y, pts, cell[pts], rank)
        return cell, off

    def _test_crossed(
        self, x: np.ndarray, y: np.ndarray, pts: np.ndarray, cell: np.ndarray, rank: np.ndarray
    ) -> None:
        """Points in crossed cells: by the side of the one edge cutting the cell, else the
        cell's candidates in rank order, tested exactly."""
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
        px, py = x[p], y[p]
        # Orientation of (lo, hi, point) with Shewchuk's error bound: beyond it the sign is
        # exact; points on or extremely near the edge go to the exact test.
        left = self._lo_x[g] - px
        left *= self._hi_y[g] - py
        right = self._lo_y[g] - py
        right *= self._hi_x[g] - px
        det = left - right
        bound = np.abs(left)
        bound += np.abs(right)
        bound *= _ORIENT_BOUND
        sure = np.flatnonzero(np.abs(det) > bound)
        rank[p[sure]] = self._line_side[2 * g[sure] + (det[sure] > 0)]
        unsure = np.ones(pts.size, dtype=bool)
        unsure[on[sure]] = False
        return pts[unsure], cell[unsure]

    def _locate_outside(
        self, x: np.ndarray, y: np.ndarray, snap_m: float, rank: np.ndarray,
        quality: np.ndarray, distance: np.ndarray, cell: np.ndarray, off: np.ndarray,
    ) -> None:  # fmt: skip
        """Snap the points outside every grid that lie within ``snap_m`` of one. Those a bound
        puts beyond it are left alone; the others look for edges within ``snap_m``."""
        reach = snap_m * (1 + 1e-9) + 1e-6
        per_lon, per_lat = least_metres_per_degree(self._bbox[1], self._bbox[3], reach)
        rest = np.flatnonzero(rank < 0)
        in_box, off_box = rest[~off[rest]], rest[off[rest]]
        off_box = off_box[_on_earth(x[off_box], y[off_box])]
        in_box = in_box[~self._far_cells(per_lon, per_lat, reach)[cell[in_box]]]
        clear = in_box[self._steps[cell[in_box]] > 0]  # in cells no boundary crosses
        far = self._far_in_cell(x[clear], y[clear], cell[clear], per_lon, per_lat, reach)
        in_box = np.setdiff1d(in_box, clear[far], assume_unique=True)
        near = np.concatenate([
            in_box,
            off_box[~beyond_box(x[off_box], y[off_box], self._bbox, per_lon, per_lat, reach)],
        ])  # fmt: skip
        if near.size == 0:
            return
        dist, grid = self._edges.nearest(x[near], y[near], reach=snap_m)
        snap = grid >= 0
        at = near[snap]
        rank[at] = grid[snap]
        quality[at] = _SNAPPED
        distance[at] = dist[snap]

    def _far_cells(self, per_lon: float, per_lat: float, reach: float) -> np.ndarray:
        """Cells whose points are all farther than ``reach`` metres from every edge: those
        whose chessboard distance in cells to the nearest crossed cell, less one, is that far
        (the cells between are crossed by no boundary)."""
        ny, nx = self.shape
        x0, y0, x1, y1 = self._bbox
        cell_m = min(per_lon * (x1 - x0) / nx, per_lat * (y1 - y0) / ny)
        # Less a millionth of a cell for the points within the margin round the box.
        return (self._steps - (1 + 1e-6)) * cell_m > reach

    def _far_in_cell(
        self, x: np.ndarray, y: np.ndarray, cell: np.ndarray, per_lon: float, per_lat: float,
        reach: float,
    ) -> np.ndarray:  # fmt: skip
        """Which points, in cells no boundary crosses, lie farther than ``reach`` metres from
        every crossed cell, by where in their cell they are: every boundary lies in crossed
        cells, so a point is at least as far from it as from the nearest of them.

        A crossed neighbour is as far as the gap to it along the axis it lies on (the larger
        of the two for a corner); any cell two or more cells away (chessboard) is at least a
        whole cell plus the gap to the point's own cell's nearer side along some axis farther
        (``steps`` cells, less one, for cells that far from every crossed one). Gaps are taken
        a millionth of a cell short, for the rounding of the cell arithmetic."""
        ny, nx = self.shape
        x0, y0, x1, y1 = self._bbox
        cell_w, cell_h = per_lon * (x1 - x0) / nx, per_lat * (y1 - y0) / ny
        row, col = cell // nx, cell % nx
        fx = np.clip((x - x0) * self._inv_w - col, 0.0, 1.0)
        fy = np.clip((y - y0) * self._inv_h - row, 0.0, 1.0)
        gap_x = {-1: fx - 1e-6, 0: np.zeros_like(fx), 1: 1.0 - fx - 1e-6}
        gap_y = {-1: fy - 1e-6, 0: np.zeros_like(fy), 1: 1.0 - fy - 1e-6}
        beyond = np.maximum(self._steps[cell], 2) - 1
        bound = np.minimum(
            (beyond + np.minimum(gap_x[-1], gap_x[1])) * cell_w,
            (beyond + np.minimum(gap_y[-1], gap_y[1])) * cell_h,
        )
        wraps = x1 - x0 > 180  # as the steps take it: the raster's columns wrap round
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                if dx == dy == 0:
                    continue
                r, c = row + dy, col + dx
                on = (r >= 0) & (r < ny)
                if wraps:
                    c = c % nx
                else:
                    on &= (c >= 0) & (c < nx)
                crossed = np.zeros(cell.size, dtype=bool)
                crossed[on] = self._cell_state[r[on] * nx + c[on]] == _CROSSED
                gap = np.maximum(gap_x[dx] * cell_w, gap_y[dy] * cell_h)
                np.minimum(bound, np.where(crossed, gap, np.inf), out=bound)
        return bound > reach


def _on_earth(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Finite coordinates with a latitude within +-90 degrees (NaN compares False)."""
    return np.isfinite(x) & (np.abs(y) <= 90.0)


_cache: OrderedDict[str, GridIndex] = OrderedDict()
_cache_lock = threading.Lock()


def locate(
    grids: gpd.GeoDataFrame,
    lon: Sequence[float],
    lat: Sequence[float],
    *,
    snap_m: float = DEFAULT_SNAP_M,
    far_distances: bool = False,
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
    far_distances : bool, default False
        Also measure, for points farther than ``snap_m`` from every grid, the distance to the
        nearest grid (else NaN). Slow far from long coastlines.

    Returns
    -------
    pandas.DataFrame
        One row per point in input order (RangeIndex) with ``grid_code`` (object, None when
        outside), ``quality`` (categorical: ``inside`` | ``snapped`` | ``outside``) and
        ``distance_m`` (float: 0 inside, geodesic metres to the grid when snapped; when
        outside, NaN or with ``far_distances`` metres to the nearest grid; NaN for NaN or
        off-Earth input or with no grids). Rules: see the module docstring; shared edges
        go to the smallest ``str(code)``. Repeated calls with the same grids reuse a cached
        :class:`GridIndex`.

    Raises
    ------
    ValueError
        (:class:`~geodata.errors.PointIndexError`) for grids without a ``code`` column,
        with empty codes, non-polygon geometries or a CRS other than EPSG:4326, for lon/lat of
        different lengths or not numeric, and for a negative ``snap_m``.
    """
    checked = checked_grids(grids)
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
    return index.locate(lon, lat, snap_m=snap_m, far_distances=far_distances)
