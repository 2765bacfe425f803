"""Polygon ring segments: orientation, shared edges, clipping.

The geometry under :mod:`geodata.pointindex.index`, on plain numpy arrays of coordinates:

- :func:`ring_segments` lists every ring segment of polygons given as
  ``shapely.to_ragged_array`` parts, oriented with the interior on the left;
- :func:`segment_groups` finds equal segments (an edge shared by two polygons is in both
  rings, reversed), and :func:`outline_segments` which of them lie on the outline of the
  polygons' union;
- :func:`segment_meets_box` is a vectorised Liang–Barsky clip test.

Distances to the segments are :mod:`geodata.pointindex.geodesic`'s.

Example
-------
>>> import numpy as np
>>> a, b = np.array([[0.0, 0.0], [10.0, 0.0]]), np.array([[10.0, 0.0], [0.0, 0.0]])
>>> group, forward, first = segment_groups(a, b)
>>> group.tolist(), forward.tolist()
([0, 0], [True, False])
"""

from __future__ import annotations

import numpy as np
import shapely

__all__ = [
    "outline_segments",
    "ring_segments",
    "segment_groups",
    "segment_meets_box",
    "sorted_unique",
]


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
