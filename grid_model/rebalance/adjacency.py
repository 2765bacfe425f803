"""Which grids are neighbours: the contiguity graph territories must be connected in.

Contiguity is **rook** contiguity by default: two grids are neighbours when they share a piece
of boundary of positive length (``shapely``: the length of one grid's boundary inside the other
is > 0, which also tolerates small overlaps of imperfect tilings). ``contiguity="queen"`` also
counts grids that touch at a single corner. A grid or a group of grids with no neighbour in the
rest (an island, or a gap in digitised boundaries) is linked to the nearest grid by a *bridge*;
bridges are listed in the plan so that a planner sees them.

>>> import geopandas as gpd
>>> from shapely.geometry import box
>>> corner = gpd.GeoDataFrame(
...     {"code": ["a", "b", "c"]}, geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 1, 3, 2)]
... )
>>> rook = grid_adjacency(corner)
>>> rook.neighbours, rook.bridges
([[1], [0, 2], [1]], [(1, 2)])
>>> grid_adjacency(corner, contiguity="queen").bridges
[]
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely

from grid_model.errors import InvalidInputError
from grid_model.rebalance.inputs import check_grids

CONTIGUITY = ("rook", "queen")


@dataclass
class GridAdjacency:
    """Neighbours of grids: ``neighbours[i]`` lists indices of grids adjacent to grid ``i``.

    ``shared[i][j]`` is the length of boundary they share (metres when the grids have a CRS; 0
    for corner-only queen neighbours and for bridges). ``bridges`` are links added between
    grids of otherwise disconnected groups (islands), as index pairs.
    """

    codes: list[str]
    neighbours: list[list[int]]
    shared: list[dict[int, float]]
    bridges: list[tuple[int, int]] = field(default_factory=list)
    contiguity: str = "rook"

    def to_networkx(self) -> nx.Graph:
        """A graph whose nodes are the grid codes (bridges included)."""
        g = nx.Graph()
        g.add_nodes_from(self.codes)
        for i, nbrs in enumerate(self.neighbours):
            for j in nbrs:
                if i < j:
                    g.add_edge(self.codes[i], self.codes[j], shared=self.shared[i].get(j, 0.0))
        return g


def grid_adjacency(
    grids: gpd.GeoDataFrame, *, contiguity: str = "rook", link_islands: bool = True
) -> GridAdjacency:
    """Neighbours of each grid of ``grids`` (columns ``code``, ``geometry``).

    Parameters
    ----------
    contiguity : {"rook", "queen"}
        Rook: a shared boundary of positive length; queen: any contact.
    link_islands : bool
        Link every group of grids without a neighbour outside it to the nearest grid of the
        rest (a bridge), so that each group can belong to a territory.
    """
    if contiguity not in CONTIGUITY:
        raise InvalidInputError(
            f"contiguity {contiguity!r} is not supported; expected one of {', '.join(CONTIGUITY)}"
        )
    check_grids(grids, need_workload=False)
    geoms = _metric_geometries(grids)
    neighbours, shared = _contacts(geoms, contiguity)
    bridges = _link_islands(geoms, neighbours, shared) if link_islands else []
    for nbrs in neighbours:
        nbrs.sort()
    codes = grids["code"].astype(str).tolist()
    return GridAdjacency(codes, neighbours, shared, bridges, contiguity)


def _metric_geometries(grids: gpd.GeoDataFrame) -> np.ndarray:
    """Geometries in a metric CRS (UTM zone) when the frame's CRS is geographic."""
    frame = grids
    if grids.crs is not None and grids.crs.is_geographic and len(grids):
        frame = grids.to_crs(grids.estimate_utm_crs())
    return np.asarray(frame.geometry.values, dtype=object)


def _contacts(geoms: np.ndarray, contiguity: str) -> tuple[list[list[int]], list[dict[int, float]]]:
    """Neighbour lists and shared boundary lengths of grids in contact."""
    n = len(geoms)
    neighbours: list[list[int]] = [[] for _ in range(n)]
    shared: list[dict[int, float]] = [{} for _ in range(n)]
    if not n:
        return neighbours, shared
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    length = shapely.length(shapely.intersection(shapely.boundary(geoms[left]), geoms[right]))
    perimeter = shapely.length(geoms)
    scale = np.minimum(perimeter[left], perimeter[right])
    rook = length > 1e-6 * scale
    for i, j, ln, is_rook in zip(
        left.tolist(), right.tolist(), length.tolist(), rook.tolist(), strict=True
    ):
        if not is_rook and contiguity == "rook":
            continue
        shared_len = ln if is_rook else 0.0
        neighbours[i].append(j)
        neighbours[j].append(i)
        shared[i][j] = shared_len
        shared[j][i] = shared_len
    return neighbours, shared


def connected_pieces(
    order: Iterable[int], members: set[int], nb: Sequence[Sequence[int]]
) -> list[set[int]]:
    """Connected pieces of ``members`` (neighbours ``nb``), each grown by breadth-first search
    from the first of ``order`` (the members, in some order) not yet reached, in that order.

    >>> connected_pieces([3, 0, 1], {0, 1, 3}, [[1], [0, 2], [1, 3], [2]])
    [{3}, {0, 1}]
    """
    seen: set[int] = set()
    out = []
    for start in order:
        if start in seen:
            continue
        comp = {start}
        queue = deque([start])
        while queue:
            v = queue.popleft()
            for u in nb[v]:
                if u in members and u not in comp:
                    comp.add(u)
                    queue.append(u)
        seen |= comp
        out.append(comp)
    return out


def _components(n: int, neighbours: list[list[int]]) -> list[list[int]]:
    seen = np.zeros(n, dtype=bool)
    comps = []
    for start in range(n):
        if seen[start]:
            continue
        seen[start] = True
        comp, queue = [start], deque([start])
        while queue:
            v = queue.popleft()
            for w in neighbours[v]:
                if not seen[w]:
                    seen[w] = True
                    comp.append(w)
                    queue.append(w)
        comps.append(comp)
    return comps


def _link_islands(
    geoms: np.ndarray, neighbours: list[list[int]], shared: list[dict[int, float]]
) -> list[tuple[int, int]]:
    """Join disconnected groups, smallest first, to the nearest grid outside them."""
    bridges: list[tuple[int, int]] = []
    n = len(geoms)
    while True:
        comps = _components(n, neighbours)
        if len(comps) <= 1:
            return bridges
        comps.sort(key=lambda c: (len(c), min(c)))
        small = np.array(sorted(comps[0]))
        rest = np.setdiff1d(np.arange(n), small)
        tree = shapely.STRtree(geoms[rest])
        idx, dist = tree.query_nearest(geoms[small], return_distance=True, all_matches=False)
        best = int(np.argmin(dist))
        i, j = int(small[idx[0][best]]), int(rest[idx[1][best]])
        neighbours[i].append(j)
        neighbours[j].append(i)
        shared[i][j] = shared[j][i] = 0.0
        bridges.append((min(i, j), max(i, j)))
