"""Step 1 of the search: make today's assignment a valid start, and reconnect locked grids.

A territory keeps its largest connected piece (the one with most locked grids, then most
grids); detached pieces, grids without an assistant and grids of assistants who leave become
unassigned. New assistants are seeded in the largest unassigned area, else at a grid where
overloaded territories meet. Unassigned grids are then grown into the neighbouring territory
with the lowest relative load.

A territory that cannot shed workload because its unlocked grids all hold its locked grids
together can get a lighter connection (:func:`reroute_locked`); the search then repairs again.
"""

from __future__ import annotations

import heapq
import math
from collections import deque

import numpy as np

from grid_model.errors import InvalidInputError
from grid_model.rebalance.adjacency import connected_pieces
from grid_model.rebalance.state import REL_EPS, SearchState


def repair(s: SearchState) -> None:
    """Make every territory one piece, seed empty ones, grow unassigned grids."""
    for _ in range(3):
        changed = False
        for a in range(s.k):
            if _keep_main_piece(s, a):
                changed = True
        if not changed:
            break
    empty = [a for a in range(s.k) if not s.members[a]]
    if len(empty) == s.k:
        _seed_from_scratch(s)
    else:
        for a in sorted(empty, key=lambda a: (-s.t[a], a)):
            _seed_empty(s, a)
    _grow(s)


def _keep_main_piece(s: SearchState, a: int) -> bool:
    """Unassign the unlocked grids of territory ``a`` off its main piece and join its locked
    ones back to it. True when a grid changed territory."""
    pieces = s.pieces(a)
    if len(pieces) <= 1:
        return False
    changed = False
    pieces.sort(key=lambda p: (-sum(s.locked[g] for g in p), -len(p), min(p)))
    keep = pieces[0]
    for piece in pieces[1:]:
        for g in piece:
            if not s.locked[g]:
                s.move(g, -1)
                changed = True
    stranded = [g for p in pieces[1:] for g in p if s.locked[g]]
    if stranded and _connect_locked(s, a, keep, stranded):
        changed = True
    return changed


def _connect_locked(s: SearchState, a: int, keep: set[int], stranded: list[int]) -> bool:
    """Join locked grids cut off from their territory by the shortest path of grids that are not
    locked elsewhere; the grids on it change territory."""
    changed = False
    for target in stranded:
        if s.label[target] != a:
            continue
        prev = {target: -1}
        queue = deque([target])
        found = -1
        while queue and found < 0:
            v = queue.popleft()
            for u in s.nb[v]:
                if u in prev or (s.locked[u] and s.label[u] != a):
                    continue
                prev[u] = v
                if u in keep:
                    found = u
                    break
                queue.append(u)
        if found < 0:
            continue
        v = prev[found]
        while v != target and v >= 0:
            if s.label[v] != a:
                s.move(v, a)
                changed = True
            keep.add(v)
            v = prev[v]
        keep.add(target)
    return changed


def _double_sweep_centre(s: SearchState, nodes: set[int]) -> int:
    """A central node of a connected node set: middle of a long BFS path."""

    def bfs(src: int) -> tuple[int, dict[int, int]]:
        prev = {src: -1}
        queue = deque([src])
        last = src
        while queue:
            v = queue.popleft()
            last = v
            for u in s.nb[v]:
                if u in nodes and u not in prev:
                    prev[u] = v
                    queue.append(u)
        return last, prev

    start = min(nodes, key=lambda g: s.tie[g])
    far, _ = bfs(start)
    other, prev = bfs(far)
    path = [other]
    while prev[path[-1]] >= 0:
        path.append(prev[path[-1]])
    return path[len(path) // 2]


def _seed_empty(s: SearchState, a: int) -> None:
    """Give an empty territory its first grid: the centre of the heaviest unassigned area, else
    a grid where overloaded territories meet."""
    unassigned = {g for g in range(s.n) if s.label[g] < 0}
    if unassigned:
        areas = connected_pieces(sorted(unassigned, key=lambda g: s.tie[g]), unassigned, s.nb)
        area = max(areas, key=lambda c: (sum(s.w[g] for g in c), len(c)))
        s.move(_double_sweep_centre(s, area), a)
        return
    rel = [(s.load[a] / s.t[a] - 1) if s.t[a] > 0 else 0.0 for a in range(s.k)]
    best, best_key = -1, None
    for g in range(s.n):
        if not s.can_give(g):
            continue
        terr = {int(s.label[g])} | {int(s.label[h]) for h in s.nb[g] if s.label[h] >= 0}
        pressure = sum(max(0.0, rel[b]) for b in terr)
        key = (-pressure, -rel[s.label[g]], s.tie[g])
        if best_key is None or key < best_key:
            best, best_key = g, key
    if best < 0:
        raise InvalidInputError(
            "assistants: no grid can be given to a new assistant without splitting a territory "
            "or moving a locked grid"
        )
    s.move(best, a)


def _seed_from_scratch(s: SearchState) -> None:
    """Nobody has grids today: seeds far apart (farthest-point in hops)."""
    start = s.tie.index(0)
    dist = np.full(s.n, np.inf)
    seeds = []
    for _ in range(s.k):
        seed = start if not seeds else int(np.lexsort((np.array(s.tie), -dist))[0])
        seeds.append(seed)
        d = _bfs_hops(s, seed)
        dist = np.minimum(dist, d)
    for a, g in enumerate(seeds):
        s.move(g, a)


def _bfs_hops(s: SearchState, src: int) -> np.ndarray:
    d = np.full(s.n, np.inf)
    d[src] = 0
    queue = deque([src])
    while queue:
        v = queue.popleft()
        for u in s.nb[v]:
            if d[u] == np.inf:
                d[u] = d[v] + 1
                queue.append(u)
    return d


def _grow(s: SearchState) -> None:
    """Give unassigned grids to the adjacent territory with the lowest relative load."""
    heap: list[tuple[float, int, int, int]] = []

    def rel(a: int) -> float:
        return s.load[a] / s.t[a] if s.t[a] > 0 else 0.0

    def push_around(g: int) -> None:
        a = int(s.label[g])
        for u in s.nb[g]:
            if s.label[u] < 0:
                heapq.heappush(heap, (rel(a), int(s.tie[u]), u, a))

    for g in range(s.n):
        if s.label[g] >= 0:
            push_around(g)
    while heap:
        r, _, u, a = heapq.heappop(heap)
        if s.label[u] >= 0:
            continue
        if rel(a) > r + 1e-12:
            heapq.heappush(heap, (rel(a), int(s.tie[u]), u, a))
            continue
        s.move(u, a)
        push_around(u)


def stuck_by_locks(s: SearchState) -> list[int]:
    """Territories over band whose every unlocked grid holds locked ones together."""
    return [
        a
        for a in range(s.k)
        if s.over(a)
        and sum(s.locked[g] for g in s.members[a]) >= 2
        and not any(s.can_give(g) for g in s.members[a])
    ]


def reroute_locked(s: SearchState, a: int) -> bool:
    """Connect territory ``a``'s locked grids by a lighter tree (shortest node-weighted paths
    added one locked grid at a time, through grids not locked elsewhere); grids of ``a`` off
    the tree become unassigned. False when no lighter tree is found."""
    tree = _locked_tree(s, a)
    if tree is None or sum(s.w[g] for g in tree) >= s.load[a] - REL_EPS * max(s.t[a], 1.0):
        return False
    for g in list(s.members[a]):
        if g not in tree:
            s.move(g, -1)
    for g in tree:
        if s.label[g] != a:
            s.move(g, a)
    return True


def _locked_tree(s: SearchState, a: int) -> set[int] | None:
    """Grids joining territory ``a``'s locked grids, grown one lightest path at a time; None
    when a locked grid cannot be reached."""
    locks = sorted((g for g in s.members[a] if s.locked[g]), key=lambda g: s.tie[g])
    tree = {locks[0]}
    remaining = set(locks[1:])
    while remaining:
        path = _lightest_path(s, a, tree, remaining)
        if path is None:
            return None
        tree.update(path)
        remaining -= tree
    return tree


def _lightest_path(s: SearchState, a: int, tree: set[int], targets: set[int]) -> list[int] | None:
    """The grids outside ``tree`` on the lightest path (by workload, Dijkstra) from ``tree``
    to one of ``targets``, through grids not locked to another territory than ``a``."""
    dist = dict.fromkeys(tree, 0.0)
    prev: dict[int, int] = {}
    heap = [(0.0, s.tie[g], g) for g in tree]
    while heap:
        d, _, v = heapq.heappop(heap)
        if d > dist[v]:
            continue
        if v in targets:
            path = []
            while v not in tree:
                path.append(v)
                v = prev[v]
            return path
        for u in s.nb[v]:
            if s.locked[u] and s.label[u] != a:
                continue
            nd = d + s.w[u]
            if nd < dist.get(u, math.inf):
                dist[u] = nd
                prev[u] = v
                heapq.heappush(heap, (nd, s.tie[u], u))
    return None
