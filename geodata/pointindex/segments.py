"""Polygon ring segments: orientation, shared edges, and exact nearest-segment search.

The geometry under :mod:`geodata.pointindex.index`, on plain numpy arrays of coordinates:

- :func:`ring_segments` lists every ring segment of polygons given as
  ``shapely.to_ragged_array`` parts, oriented with the interior on the left;
- :func:`segment_groups` finds equal segments (an edge shared by two polygons is in both
  rings, reversed), and :func:`outline_segments` which of them lie on the outline of the
  polygons' union;
- :func:`segment_meets_box` is a vectorised Liang–Barsky clip test;
- :class:`Pieces` answers "how far is the nearest segment, and whose is it" exactly, with a
  k-d tree of piece midpoints and a bound.

Example
-------
>>> import numpy as np
>>> a, b = np.array([[0.0, 0.0], [10.0, 0.0]]), np.array([[10.0, 0.0], [10.0, 10.0]])
>>> pieces = Pieces(a, b, np.array([3, 5]))
>>> dist, owner = pieces.nearest(np.array([5.0, 12.0]), np.array([1.0, 5.0]))
>>> dist.tolist(), owner.tolist()
([1.0, 2.0], [3, 5])
"""

from __future__ import annotations

import numpy as np
import shapely
from scipy.spatial import KDTree

__all__ = [
    "Pieces",
    "outline_segments",
    "ring_segments",
    "segment_groups",
    "segment_meets_box",
    "sorted_unique",
]


class Pieces:
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


def sorted_unique(a: np.ndarray) -> np.ndarray:
    # np.unique hashes integers since numpy 2.3, several times slower than sorting here.
    a = np.sort(a)
    keep = np.ones(a.size, dtype=bool)
    keep[1:] = a[1:] != a[:-1]
    return a[keep]


def ring_segments(
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


def segment_groups(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


def segment_meets_box(p: np.ndarray, q: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
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


def outline_segments(
    a: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Groups of equal segments (see :func:`segment_groups`) and which
    segments lie on the outline of the union.

    A shared edge is in two rings, reversed; the grids on either side of a group come from its
    copies, each with its polygon on the left. A group whose copies all run one way has a grid
    on one side only: it is on the outline (one segment of it is marked).
    """
    group, forward, first = segment_groups(a, b)
    n_groups = first.size
    n_forward = np.bincount(group, weights=forward, minlength=n_groups)
    one_sided = (n_forward == 0) | (n_forward == np.bincount(group, minlength=n_groups))
    on_outline = np.zeros(len(a), dtype=bool)
    on_outline[first[one_sided]] = True
    return group, forward, first, on_outline
