"""The state of a territory search: each grid's territory, the territories' loads and how
far they are out of their band, kept up to date move by move, with the contiguity checks the
moves need (articulation points, cached per territory content).

Territories are numbered ``0 … k-1`` in the order of the team; ``-1`` is no territory.

Four grids in a row, three of territory 0 and one of territory 1, both with target 2; grid 1
holds territory 0 together, grid 2 can go:

>>> row = GridAdjacency(list("abcd"), [[1], [0, 2], [1, 3], [2]], [{}, {}, {}, {}])
>>> s = SearchState(row, np.ones(4), np.array([2.0, 2.0]), 0.1, np.array([0, 0, 0, 1]),
...                 np.zeros(4, dtype=bool), np.random.default_rng(0), deadline=float("inf"))
>>> s.set_labels(np.array([0, 0, 0, 1]))  # start from today's territories
>>> s.load, s.over(0), s.can_give(1), s.can_give(2)
([3.0, 1.0], True, False, True)
>>> s.move(2, 1)
>>> s.load, s.in_band(), s.moved_count()
([2.0, 2.0], True, 1)
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence

import numpy as np

from grid_model.rebalance.adjacency import GridAdjacency, connected_pieces

# Relative slack for rounding: an excess below REL_EPS × target counts as none.
REL_EPS = 1e-9


class SearchState:
    """Labels of grids (territory index, -1 unassigned) with loads and incremental checks."""

    def __init__(
        self,
        adj: GridAdjacency,
        weights: np.ndarray,
        targets: np.ndarray,
        tolerance: float,
        original: np.ndarray,
        locked: np.ndarray,
        rng: np.random.Generator,
        deadline: float,
    ) -> None:
        # Plain lists: the search indexes single elements in tight loops.
        self.nb = adj.neighbours
        self.shared = adj.shared
        self.n = len(weights)
        self.k = len(targets)
        self.w_arr = np.asarray(weights, dtype=float)
        self.t_arr = np.asarray(targets, dtype=float)
        self.w = self.w_arr.tolist()
        self.t = self.t_arr.tolist()
        self.tol = tolerance
        self.lo = [t * (1 - tolerance) for t in self.t]
        self.hi = [t * (1 + tolerance) for t in self.t]
        self.original = [int(o) for o in original]
        self.locked = [bool(x) for x in locked]
        self.tie = rng.permutation(self.n).tolist()
        self.deadline = deadline
        # Zobrist keys: a territory's hash is the XOR of its grids' keys, so a move and its undo
        # find the cached articulation points again.
        self.key = rng.integers(1, 2**62, size=self.n).tolist()
        self.set_labels(np.full(self.n, -1, dtype=np.int64))
        self._ap: dict[tuple[int, int], set[int]] = {}

    # -- bookkeeping -------------------------------------------------------------------------
    def set_labels(self, labels: np.ndarray) -> None:
        self.label = [int(a) for a in labels]
        self.members: list[set[int]] = [set() for _ in range(self.k)]
        self.load = [0.0] * self.k
        self.hash = [0] * self.k
        for g, a in enumerate(self.label):
            if a >= 0:
                self.members[a].add(g)
                self.load[a] += self.w[g]
                self.hash[a] ^= self.key[g]
        self.n_moved = sum(a != o for a, o in zip(self.label, self.original, strict=True))
        self.viol2 = [self.viol(a, self.load[a]) ** 2 for a in range(self.k)]
        self.phi_total = sum(self.viol2)

    def move(self, g: int, b: int) -> None:
        a = self.label[g]
        w = self.w[g]
        o = self.original[g]
        self.n_moved += (b != o) - (a != o)
        for x, sign in ((a, -1.0), (b, 1.0)):
            if x < 0:
                continue
            if sign < 0:
                self.members[x].discard(g)
            else:
                self.members[x].add(g)
            self.load[x] += sign * w
            self.hash[x] ^= self.key[g]
            v2 = self.viol(x, self.load[x]) ** 2
            self.phi_total += v2 - self.viol2[x]
            self.viol2[x] = v2
        self.label[g] = b

    def timed_out(self) -> bool:
        return time.perf_counter() > self.deadline

    def moved_delta(self, g: int, b: int) -> int:
        """Change in the count of moved grids if ``g`` goes to ``b``."""
        o = self.original[g]
        return (b != o) - (self.label[g] != o)

    def moved_count(self) -> int:
        return self.n_moved

    # -- balance -----------------------------------------------------------------------------
    def viol(self, a: int, load: float) -> float:
        """Relative excess of ``load`` over territory ``a``'s band (0 inside)."""
        t = self.t[a]
        if t <= 0:
            return 0.0
        excess = abs(load - t) - self.tol * t
        return excess / t if excess > REL_EPS * t else 0.0

    def phi(self) -> float:
        return max(self.phi_total, 0.0) if any(self.viol2) else 0.0

    def in_band(self) -> bool:
        return not any(self.viol2)

    def over(self, a: int) -> bool:
        return self.viol2[a] > 0 and self.load[a] > self.t[a]

    def under(self, a: int) -> bool:
        return self.viol2[a] > 0 and self.load[a] < self.t[a]

    def delta_phi(self, g: int, a: int, b: int) -> float:
        w = self.w[g]
        before = self.viol2[a] + self.viol2[b]
        after = self.viol(a, self.load[a] - w) ** 2 + self.viol(b, self.load[b] + w) ** 2
        return after - before

    # -- contiguity --------------------------------------------------------------------------
    def articulation(self, a: int) -> set[int]:
        """Grids whose removal would split territory ``a`` (cached by territory content)."""
        ckey = (a, self.hash[a])
        ap = self._ap.get(ckey)
        if ap is None:
            if len(self._ap) > 50_000:
                self._ap.clear()
            ap = _articulation_points(self.members[a], self.nb, self.label, a)
            self._ap[ckey] = ap
        return ap

    def can_give(self, g: int) -> bool:
        a = self.label[g]
        return (
            a >= 0
            and not self.locked[g]
            and len(self.members[a]) > 1
            and g not in self.articulation(a)
        )

    def branch(self, g: int) -> list[int] | None:
        """``g`` and the parts its removal cuts off from the heaviest part of its territory;
        None when that would take a locked grid or the whole territory."""
        a = int(self.label[g])
        members = self.members[a]
        parts = []
        seen = {g}
        for start in self.nb[g]:
            if start in seen or start not in members:
                continue
            comp = [start]
            seen.add(start)
            queue = deque([start])
            while queue:
                v = queue.popleft()
                for u in self.nb[v]:
                    if u not in seen and u in members:
                        seen.add(u)
                        comp.append(u)
                        queue.append(u)
            parts.append(comp)
        if len(parts) < 2:
            return None
        parts.sort(key=lambda c: (-sum(self.w[h] for h in c), -len(c), min(c)))
        unit = [g] + [h for c in parts[1:] for h in c]
        if any(self.locked[h] for h in unit):
            return None
        return unit

    def gain(self, g: int, a: int, b: int) -> float:
        """Decrease of the common boundary length if ``g`` goes from ``a`` to ``b``."""
        s = 0.0
        for h, ln in self.shared[g].items():
            lh = self.label[h]
            if lh == b:
                s += ln
            elif lh == a:
                s -= ln
        return s

    def pieces(self, a: int) -> list[set[int]]:
        members = self.members[a]
        return connected_pieces(sorted(members), members, self.nb)

    def snapshot(self) -> np.ndarray:
        return np.array(self.label, dtype=np.int64)

    def score(self) -> tuple[float, int]:
        return (round(self.phi(), 12), self.moved_count())


def _articulation_points(
    members: set[int], nb: Sequence[Sequence[int]], label: Sequence[int], a: int
) -> set[int]:
    """Iterative Hopcroft–Tarjan on the subgraph of territory ``a``."""
    disc: dict[int, int] = {}
    low: dict[int, int] = {}
    ap: set[int] = set()
    time_ = 0
    for root in members:
        if root in disc:
            continue
        disc[root] = low[root] = time_
        time_ += 1
        root_children = 0
        stack = [(root, -1, iter(nb[root]))]
        while stack:
            v, parent, it = stack[-1]
            advanced = False
            for u in it:
                if label[u] != a:
                    continue
                if u not in disc:
                    disc[u] = low[u] = time_
                    time_ += 1
                    stack.append((u, v, iter(nb[u])))
                    advanced = True
                    break
                if u != parent:
                    low[v] = min(low[v], disc[u])
            if advanced:
                continue
            stack.pop()
            if stack:
                p, pparent = stack[-1][0], stack[-1][1]
                low[p] = min(low[p], low[v])
                if pparent == -1:
                    root_children += 1
                elif low[v] >= disc[p]:
                    ap.add(p)
        if root_children > 1:
            ap.add(root)
    return ap
