"""Rebalance grid assistants' territories (DESIGN §6, Rebalancing).

Assign grids to ``k`` assistants so that every territory is contiguous, each assistant's
workload is within a tolerance of their capacity share, as few grids as possible change hands
from today's assignment, locked grids stay, and territories stay compact.

Contiguity is **rook** contiguity by default: two grids are neighbours when they share a piece
of boundary of positive length (``shapely``: the length of one grid's boundary inside the other
is > 0, which also tolerates small overlaps of imperfect tilings). ``contiguity="queen"`` also
counts grids that touch at a single corner. A grid or a group of grids with no neighbour in the
rest (an island, or a gap in digitised boundaries) is linked to the nearest grid by a *bridge*;
bridges are listed in the plan so that a planner sees them.

Algorithm (deterministic for a ``seed``):

1. *Repair* today's assignment: a territory keeps its largest connected piece (the one with
   most locked grids, then most grids); detached pieces, grids without an assistant and grids of
   assistants who leave become unassigned. New assistants are seeded in the largest unassigned
   area, else at a grid where overloaded territories meet. Unassigned grids are then grown into
   the neighbouring territory with the lowest relative load.
2. *Flow rounds*: a linear programme on the territory adjacency graph finds the least total
   workload to pass between neighbouring territories (possibly through intermediate ones) so
   that every territory lands in its band; each flow is carried out by moving border grids from
   donor to receiver — grids that go back to their original assistant first, then grids that were
   moved already, heavier first, then the one that shortens the territories' common boundary —
   never a locked grid nor a grid whose removal would split the donor (articulation point).
3. *Polish*: single-grid border moves that reduce the squared excess over the band; then
   *ejection chains*: short sequences of border moves (depth <= 4) in which each move fixes the
   territory the previous one pushed out of band, for the cases no single move helps.
   A territory that cannot shed workload because its unlocked grids all hold its locked grids
   together gets, once, a lighter connection (shortest node-weighted paths between its locked
   grids); the rest of it is regrown as in step 1.
4. *Fewer moves*: grids that were moved go back to their original assistant when that keeps the
   band, directly or with a short chain that leaves fewer grids moved overall.

Steps 2–4 run for two schedules of how far inside the band the flows aim (a small portfolio:
neither wins on every case measured), each from the repaired start; the plan with the least
excess over the band, then the fewest moved grids, wins. Rounds stop as soon as every territory
is within tolerance, or when ``time_limit_s`` runs out (then the best plan found is returned).

Contiguity, locks and deviations of the result are checked afterwards with networkx
(:func:`validate_plan`), not assumed.
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.optimize import linprog
from sqlalchemy import select
from sqlalchemy.orm import Session

from grid_model import config
from grid_model.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from grid_model.messages import t
from grid_model.models import Assignment, AuditEntry, Grid, Role, Worker, district_of
from grid_model.queries import holders
from grid_model.scope import Scope, Viewer, require

DEFAULT_TOLERANCE = 0.10
DEFAULT_TIME_LIMIT_S = 10.0
CONTIGUITY = ("rook", "queen")
NEW_PREFIX = "NEW-"
# Share of the tolerance band the flow rounds aim for, round after round: aiming inside the band
# leaves room for grid granularity; later rounds only move what is still out of band.
# Schedules tried one after the other from the same start (the best plan wins): neither is
# better on every case measured.
_PORTFOLIO = ((0.8, 0.5, 0.25, 0.0), (0.6, 0.3, 0.0))
_ROUNDS_PER_BAND = 4
# Ejection chains: moves per chain, moves tried per step, moves tried per search.
_CHAIN_DEPTH = 4
_CHAIN_BRANCHING = 6
_CHAIN_BUDGET = 2000
_REL_EPS = 1e-9


@dataclass(frozen=True)
class Assistant:
    """An assistant who can take a territory; ``capacity`` in FTE (default 1.0)."""

    code: str
    capacity: float = 1.0


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


@dataclass
class RebalancePlan:
    """A proposed assignment of grids to assistants.

    Attributes
    ----------
    assignment : DataFrame
        ``grid_code, previous, assistant, workload, moved`` in the order of the input grids.
    loads : DataFrame
        ``assistant, capacity, grids, load, target, deviation`` (deviation = (load - target) /
        target) per assistant.
    max_deviation : float
        Largest absolute relative deviation.
    moved : int
        Grids whose assistant differs from today's (grids without one today count as moved).
    contiguous, locks_respected, within_tolerance : bool
        Checked on the result, not assumed.
    message : str
        What was achieved, or why the plan misses the tolerance.
    bridges : list of (grid_code, grid_code)
        Links added to connect islands (see module notes).
    """

    assignment: pd.DataFrame
    loads: pd.DataFrame
    max_deviation: float
    moved: int
    contiguous: bool
    locks_respected: bool
    within_tolerance: bool
    tolerance: float
    message: str
    bridges: list[tuple[str, str]] = field(default_factory=list)
    elapsed_s: float = 0.0

    @property
    def feasible(self) -> bool:
        """Contiguous, locks kept and every load within tolerance."""
        return self.contiguous and self.locks_respected and self.within_tolerance

    def moves(self) -> pd.DataFrame:
        """The grids that change assistant: ``grid_code, previous, assistant, workload``."""
        moved = self.assignment[self.assignment["moved"]]
        return moved[["grid_code", "previous", "assistant", "workload"]].reset_index(drop=True)

    def mapping(self) -> dict[str, str]:
        """grid code → assistant code."""
        return dict(zip(self.assignment["grid_code"], self.assignment["assistant"], strict=True))

    def new_assistants(self) -> list[str]:
        """The planned new assistants (``NEW-1``…), who need a worker before it is applied."""
        return sorted(
            {a for a in self.loads["assistant"] if str(a).startswith(NEW_PREFIX)},
            key=lambda a: int(a[len(NEW_PREFIX) :]),
        )

    def with_assistants(self, names: Mapping[str, str]) -> RebalancePlan:
        """This plan with assistants renamed (``NEW-1`` → a worker code): what was applied."""
        a = self.assignment.assign(assistant=self.assignment["assistant"].replace(names))
        loads = self.loads.assign(assistant=self.loads["assistant"].replace(names))
        return replace(self, assignment=a, loads=loads)


@dataclass
class PlanCheck:
    """What :func:`validate_plan` found."""

    contiguous: bool
    pieces: dict[str, int]
    locks_respected: bool
    broken_locks: list[str]
    unassigned: list[str]
    loads: pd.DataFrame
    max_deviation: float
    within_tolerance: bool
    moved: int | None

    @property
    def ok(self) -> bool:
        return (
            self.contiguous
            and self.locks_respected
            and self.within_tolerance
            and not self.unassigned
        )


# --------------------------------------------------------------------------------------------
# Adjacency


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
    _check_grids(grids, need_workload=False)
    geoms = _metric_geometries(grids)
    n = len(geoms)
    neighbours: list[list[int]] = [[] for _ in range(n)]
    shared: list[dict[int, float]] = [{} for _ in range(n)]
    if n:
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


def _pieces(order: Iterable[int], members: set[int], nb) -> list[set[int]]:
    """Connected pieces of ``members`` (neighbours ``nb``), each grown by breadth-first search
    from the first of ``order`` not yet reached, in that order."""
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


# --------------------------------------------------------------------------------------------
# Input checks


def _check_grids(grids: gpd.GeoDataFrame, *, need_workload: bool) -> None:
    if not isinstance(grids, gpd.GeoDataFrame):
        raise InvalidInputError(f"grids: expected a GeoDataFrame, got {type(grids).__name__}")
    required = ["code", "geometry"] + (["workload"] if need_workload else [])
    missing = [c for c in required if c not in grids.columns]
    if missing:
        raise InvalidInputError(f"grids: missing column(s) {missing}; expected {required}")
    codes = grids["code"].astype(str)
    dup = codes[codes.duplicated()].unique().tolist()
    if dup:
        raise InvalidInputError(f"grids.code: duplicate grid code(s) {dup[:5]}; expected unique")
    bad = grids.geometry.isna() | grids.geometry.is_empty
    if bad.any():
        raise InvalidInputError(
            f"grids.geometry: empty geometry for grid(s) {codes[bad].tolist()[:5]}"
        )
    if need_workload:
        w = pd.to_numeric(grids["workload"], errors="coerce").to_numpy(dtype=float)
        badw = ~np.isfinite(w) | (w < 0)
        if badw.any():
            raise InvalidInputError(
                f"grids.workload: grid(s) {codes[badw].tolist()[:5]} have "
                f"{grids['workload'][badw].tolist()[:5]}; expected finite numbers >= 0"
            )


def _resolve_assistants(
    assistants: Sequence[Assistant | str] | int,
    current_codes: list[str],
    counts: dict[str, int],
    *,
    capacities: Mapping[str, float] | None = None,
) -> list[Assistant]:
    """The assistants of the plan; for an int ``k`` keep today's codes where possible.

    ``current_codes`` are today's assistants who may stay; ``capacities`` their FTE (default 1).
    """
    if isinstance(assistants, bool):
        raise InvalidInputError(f"assistants: expected an int or a list, got {assistants!r}")
    if isinstance(assistants, int | np.integer):
        k = int(assistants)
        if k < 1:
            raise InvalidInputError(f"assistants: expected k >= 1, got {k}")
        # Keep those with most grids: their grids need not move.
        keep = sorted(current_codes, key=lambda c: (-counts.get(c, 0), c))[:k]
        keep.sort()
        caps = capacities or {}
        out = [Assistant(c, float(caps.get(c, 1.0))) for c in keep]
        taken = set(current_codes) | set(counts)
        i = 1
        while len(out) < k:
            code = f"{NEW_PREFIX}{i}"
            i += 1
            if code not in taken:
                out.append(Assistant(code))
        assistants = out
    out = []
    for a in assistants:
        if isinstance(a, str):
            a = Assistant(a)
        if not isinstance(a, Assistant):
            raise InvalidInputError(f"assistants: expected Assistant or str items, got {a!r}")
        if not (isinstance(a.capacity, int | float) and math.isfinite(a.capacity)) or (
            a.capacity <= 0
        ):
            raise InvalidInputError(
                f"assistants: capacity of {a.code!r} is {a.capacity!r}; expected a number > 0"
            )
        out.append(a)
    if not out:
        raise InvalidInputError("assistants: expected at least one assistant")
    codes = [a.code for a in out]
    if len(set(codes)) != len(codes):
        raise InvalidInputError(f"assistants: duplicate codes in {codes}")
    return out


# --------------------------------------------------------------------------------------------
# Search state


class _Search:
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
        return excess / t if excess > _REL_EPS * t else 0.0

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
        return _pieces(sorted(members), members, self.nb)

    def snapshot(self) -> np.ndarray:
        return np.array(self.label, dtype=np.int64)

    def score(self) -> tuple[float, int]:
        return (round(self.phi(), 12), self.moved_count())


def _articulation_points(members: set[int], nb, label: np.ndarray, a: int) -> set[int]:
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


# --------------------------------------------------------------------------------------------
# Phase 1: repair today's assignment


def _repair(s: _Search) -> list[str]:
    """Make every territory one piece, seed empty ones, grow unassigned grids. Returns notes."""
    notes: list[str] = []
    for _ in range(3):
        changed = False
        for a in range(s.k):
            pieces = s.pieces(a)
            if len(pieces) <= 1:
                continue
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
        if not changed:
            break
    empty = [a for a in range(s.k) if not s.members[a]]
    if len(empty) == s.k:
        _seed_from_scratch(s)
    else:
        for a in sorted(empty, key=lambda a: (-s.t[a], a)):
            _seed_empty(s, a)
    _grow(s)
    return notes


def _connect_locked(s: _Search, a: int, keep: set[int], stranded: list[int]) -> bool:
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


def _double_sweep_centre(s: _Search, nodes: set[int]) -> int:
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


def _seed_empty(s: _Search, a: int) -> None:
    """Give an empty territory its first grid: the centre of the heaviest unassigned area, else
    a grid where overloaded territories meet."""
    unassigned = {g for g in range(s.n) if s.label[g] < 0}
    if unassigned:
        areas = _pieces(sorted(unassigned, key=lambda g: s.tie[g]), unassigned, s.nb)
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


def _seed_from_scratch(s: _Search) -> None:
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


def _bfs_hops(s: _Search, src: int) -> np.ndarray:
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


def _grow(s: _Search) -> None:
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


# --------------------------------------------------------------------------------------------
# Phase 2: flow rounds


def _territory_edges(s: _Search) -> list[tuple[int, int]]:
    pairs = set()
    for g in range(s.n):
        a = s.label[g]
        for h in s.nb[g]:
            b = s.label[h]
            if b != a:
                pairs.add((int(a), int(b)))
    return sorted(pairs)


def _flow_round(s: _Search, beta: float) -> bool:
    """Solve the least-transfer LP towards ``beta`` × tolerance and carry it out."""
    edges = _territory_edges(s)
    if not edges:
        return False
    k = s.k
    load = np.array(s.load)
    inner_lo = s.t_arr * (1 - beta * s.tol)
    inner_hi = s.t_arr * (1 + beta * s.tol)
    in_band = np.array([v == 0.0 for v in s.viol2])
    # A territory already within tolerance may stay where it is; others aim inside the band.
    lo = np.where(in_band, np.minimum(load, inner_lo), inner_lo)
    hi = np.where(in_band, np.maximum(load, inner_hi), inner_hi)
    m = len(edges)
    src = np.array([e[0] for e in edges])
    dst = np.array([e[1] for e in edges])
    cols = np.arange(m)
    # net inflow of node i: in_i - out_i  ∈ [lo_i - load_i, hi_i - load_i]
    inflow = sparse.csr_matrix(
        (np.r_[np.ones(m), -np.ones(m)], (np.r_[dst, src], np.r_[cols, cols])), shape=(k, m)
    )
    a_ub = sparse.vstack([inflow, -inflow]).tocsr()
    b_ub = np.r_[hi - load, load - lo]
    res = linprog(np.ones(m), A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs")
    if res.status != 0:
        return False
    scale = max(float(s.t_arr.max()), 1e-12)
    flows = [(edges[i], float(f)) for i, f in enumerate(res.x) if f > 1e-9 * scale]
    if not flows:
        return False
    for (a, b), f in _topological(flows, k):
        _carry(s, a, b, f)
        if s.timed_out():
            break
    return True


def _topological(flows: list[tuple[tuple[int, int], float]], k: int):
    """Flows ordered so that a territory gives after it has received."""
    indeg = [0] * k
    out: dict[int, list] = {}
    for (a, b), f in flows:
        indeg[b] += 1
        out.setdefault(a, []).append(((a, b), f))
    queue = deque(sorted(a for a in range(k) if indeg[a] == 0))
    order, done = [], set()
    while queue:
        a = queue.popleft()
        for item in out.get(a, []):
            order.append(item)
            done.add(item[0])
            b = item[0][1]
            indeg[b] -= 1
            if indeg[b] == 0:
                queue.append(b)
    order.extend(item for item in flows if item[0] not in done)  # cycles: cannot happen at optimum
    return order


def _carry(s: _Search, a: int, b: int, amount: float) -> None:
    """Move border grids from ``a`` to ``b`` worth about ``amount``.

    A border grid whose removal would split ``a`` goes together with the smaller side(s) of the
    split (a *branch*) when no single grid can go.
    """
    remaining = amount
    border = {g for g in s.members[a] if any(s.label[h] == b for h in s.nb[g])}
    while remaining > 1e-12 and border and not s.timed_out():
        unit = _best_single(s, a, b, border, remaining) or _best_branch(s, a, b, border, remaining)
        if not unit:
            return
        for g in unit:
            s.move(g, b)
            remaining -= s.w[g]
            border.discard(g)
        for g in unit:
            for h in s.nb[g]:
                if s.label[h] == a:
                    border.add(h)


def _fits(weight: float, remaining: float) -> bool | None:
    """True: fits; False: overshoots less than it leaves undone; None: overshoots too much."""
    if weight <= remaining * (1 + 1e-9):
        return True
    return False if weight - remaining < remaining else None


def _best_single(s: _Search, a: int, b: int, border: set[int], remaining: float) -> list[int]:
    best, best_key = -1, None
    for g in border:
        if not s.can_give(g):
            continue
        w = s.w[g]
        fits = _fits(w, remaining)
        if fits is None:
            continue
        key = (s.moved_delta(g, b), not fits, -w if fits else w, -s.gain(g, a, b), s.tie[g])
        if best_key is None or key < best_key:
            best, best_key = g, key
    return [best] if best >= 0 else []


def _best_branch(s: _Search, a: int, b: int, border: set[int], remaining: float) -> list[int]:
    best: list[int] = []
    best_key = None
    for g in border:
        if s.locked[g] or len(s.members[a]) <= 1:
            continue
        unit = s.branch(g)
        if unit is None:
            continue
        w = float(sum(s.w[h] for h in unit))
        fits = _fits(w, remaining)
        if fits is None:
            continue
        moved = sum(s.moved_delta(h, b) for h in unit)
        key = (not fits, moved, -w if fits else w, len(unit), s.tie[g])
        if best_key is None or key < best_key:
            best, best_key = unit, key
    return best


# --------------------------------------------------------------------------------------------
# Phase 3 and 4: polish, move back


def _polish(s: _Search, max_steps: int = 100_000) -> None:
    """Best single-grid border moves that reduce the excess over the band."""
    for _ in range(max_steps):
        if s.timed_out():
            return
        bad = [a for a in range(s.k) if s.viol2[a] > 0]
        if not bad:
            return
        best, best_key = None, None
        bad_set = set(bad)
        candidates: set[int] = set()
        for a in bad:
            for g in s.members[a]:
                for h in s.nb[g]:
                    if s.label[h] != a:
                        candidates.add(g)
                        candidates.add(h)
        for g in candidates:
            a = int(s.label[g])
            if not s.can_give(g):
                continue
            for b in {int(s.label[h]) for h in s.nb[g]} - {a}:
                if a not in bad_set and b not in bad_set:
                    continue
                d = s.delta_phi(g, a, b)
                if d >= -1e-15:
                    continue
                key = (d, s.moved_delta(g, b), -s.gain(g, a, b), s.tie[g])
                if best_key is None or key < best_key:
                    best, best_key = (g, b), key
        if best is None:
            return
        s.move(*best)


def _move_back(s: _Search) -> None:
    """Return moved grids to their original territory where that costs no balance."""
    changed = True
    while changed and not s.timed_out():
        changed = False
        order = sorted(
            (g for g in range(s.n) if s.original[g] >= 0 and s.label[g] != s.original[g]),
            key=lambda g: s.tie[g],
        )
        for g in order:
            o = int(s.original[g])
            a = int(s.label[g])
            if a == o or not any(s.label[h] == o for h in s.nb[g]) or not s.can_give(g):
                continue
            if s.delta_phi(g, a, o) <= 1e-15:
                s.move(g, o)
                changed = True


def _chain_moves(s: _Search, t: int, limit: int) -> list[tuple[int, int, int]]:
    """Up to ``limit`` moves ``(grid, from, to)`` that shrink territory ``t``'s excess over its
    band: border grids out of it when it is over, neighbouring grids into it when under.
    Ranked by what is left of the excess, then moved grids, then compactness."""
    load, cands = s.load[t], []
    if s.over(t):
        for g in s.members[t]:
            if s.locked[g]:
                continue
            left = s.viol(t, load - s.w[g])
            for b in {s.label[h] for h in s.nb[g]} - {t}:
                cands.append((left, s.moved_delta(g, b), s.tie[g], g, t, b))
    elif s.under(t):
        seen = set()
        for g in s.members[t]:
            for h in s.nb[g]:
                x = s.label[h]
                if x != t and h not in seen and not s.locked[h]:
                    seen.add(h)
                    cands.append((s.viol(t, load + s.w[h]), s.moved_delta(h, t), s.tie[h], h, x, t))
    # Compactness only among the best few: computing it for every candidate costs most.
    head = heapq.nsmallest(3 * limit, cands)
    head.sort(key=lambda c: (c[0], c[1], -s.gain(c[3], c[4], c[5]), c[2]))
    out = []
    for c in head:
        if s.can_give(c[3]):
            out.append(c[3:])
            if len(out) >= limit:
                break
    return out


def _find_chain(
    s: _Search,
    start: int,
    *,
    depth: int | None = None,
    branching: int | None = None,
    budget: int | None = None,
) -> list[tuple[int, int]] | None:
    """A short sequence of border moves (an ejection chain) that lowers the total excess.

    Each move fixes the territory the previous one pushed out of band. The moves are tried on
    the state and undone; the best chain — lowest excess, then fewest moved grids — is returned
    as ``(grid, to)`` pairs.
    """
    depth = depth or _CHAIN_DEPTH
    branching = branching or _CHAIN_BRANCHING
    budget = budget or _CHAIN_BUDGET
    phi0 = s.phi()
    moved0 = s.moved_count()
    best: tuple[tuple[float, int], list[tuple[int, int]]] | None = None
    path: list[tuple[int, int, int]] = []
    nodes = 0

    def rec(t: int, d: int, phi: float) -> None:
        nonlocal best, nodes
        for g, x, y in _chain_moves(s, t, branching):
            if nodes >= budget:
                return
            nodes += 1
            dphi = s.delta_phi(g, x, y)
            s.move(g, y)
            path.append((g, x, y))
            now = phi + dphi
            if now < phi0 - 1e-12:
                key = (round(now, 12), s.moved_count() - moved0)
                if best is None or key < best[0]:
                    best = (key, [(m[0], m[2]) for m in path])
            elif d < depth:
                nxt = y if s.over(y) else (x if s.under(x) else -1)
                if nxt >= 0:
                    rec(nxt, d + 1, now)
            path.pop()
            s.move(g, x)

    rec(start, 1, phi0)
    return best[1] if best else None


def _chains(s: _Search) -> None:
    """Apply ejection chains while some territory is out of band and one helps; each pass
    tries every out-of-band territory once, worst first."""
    progress = True
    while progress and not s.in_band() and not s.timed_out():
        progress = False
        for a in sorted(range(s.k), key=lambda a: (-s.viol2[a], a)):
            if s.viol2[a] == 0 or s.timed_out():
                break
            chain = _find_chain(s, a)
            if chain:
                for g, y in chain:
                    s.move(g, y)
                progress = True


def _reduce_moves(s: _Search) -> None:
    """Send moved grids back to their original territory when a short chain restores the band
    with fewer moved grids overall."""
    changed = True
    while changed and not s.timed_out():
        changed = False
        order = sorted(
            (g for g in range(s.n) if s.original[g] >= 0 and s.label[g] != s.original[g]),
            key=lambda g: s.tie[g],
        )
        for g in order:
            if s.timed_out():
                return
            o, a = int(s.original[g]), int(s.label[g])
            if a == o or not any(s.label[h] == o for h in s.nb[g]) or not s.can_give(g):
                continue
            moved0, phi0 = s.moved_count(), s.phi()
            s.move(g, o)
            t = o if s.over(o) else (a if s.under(a) else -1)
            fix = _find_chain(s, t, depth=3, budget=500) if t >= 0 else []
            if fix is not None:
                applied = []
                for h, y in fix:
                    applied.append((h, int(s.label[h])))
                    s.move(h, y)
                if s.phi() <= phi0 + 1e-15 and s.moved_count() < moved0:
                    changed = True
                    continue
                for h, x in reversed(applied):
                    s.move(h, x)
            s.move(g, a)


def _balance(s: _Search, schedule: tuple[float, ...]) -> None:
    """Flow rounds, polish and chains until in band; leaves the best state found. When a
    territory cannot shed workload because its locked grids must stay connected, the
    connection is rerouted through lighter grids once and the rounds run again."""
    best, best_score = s.snapshot(), s.score()
    for attempt in range(2):
        for beta in schedule:
            for _ in range(_ROUNDS_PER_BAND):
                if s.timed_out():
                    break
                # Flows first, again while they help (carried flows change the borders),
                # then single-grid polish and chains.
                before = s.phi()
                while _flow_round(s, beta) and s.phi() < 0.5 * before and not s.timed_out():
                    before = s.phi()
                _polish(s)
                _chains(s)
                score = s.score()
                improved = score[0] < best_score[0] - 1e-12
                if score < best_score:
                    best, best_score = s.snapshot(), score
                if s.in_band() or not improved:
                    break
            if s.in_band() or s.timed_out():
                break
        if attempt or s.in_band() or s.timed_out():
            break
        s.set_labels(best)
        rerouted = [a for a in _stuck_by_locks(s) if _reroute_locked(s, a)]
        if not rerouted:
            break
        _repair(s)
    s.set_labels(best)


def _stuck_by_locks(s: _Search) -> list[int]:
    """Territories over band whose every unlocked grid holds locked ones together."""
    return [
        a
        for a in range(s.k)
        if s.over(a)
        and sum(s.locked[g] for g in s.members[a]) >= 2
        and not any(s.can_give(g) for g in s.members[a])
    ]


def _reroute_locked(s: _Search, a: int) -> bool:
    """Connect territory ``a``'s locked grids by a lighter tree (shortest node-weighted paths
    added one locked grid at a time, through grids not locked elsewhere); grids of ``a`` off
    the tree become unassigned. False when no lighter tree is found."""
    locks = sorted((g for g in s.members[a] if s.locked[g]), key=lambda g: s.tie[g])
    tree = {locks[0]}
    remaining = set(locks[1:])
    while remaining:
        dist = dict.fromkeys(tree, 0.0)
        prev: dict[int, int] = {}
        heap = [(0.0, s.tie[g], g) for g in tree]
        found = -1
        while heap:
            d, _, v = heapq.heappop(heap)
            if d > dist[v]:
                continue
            if v in remaining:
                found = v
                break
            for u in s.nb[v]:
                if s.locked[u] and s.label[u] != a:
                    continue
                nd = d + s.w[u]
                if nd < dist.get(u, math.inf):
                    dist[u] = nd
                    prev[u] = v
                    heapq.heappush(heap, (nd, s.tie[u], u))
        if found < 0:
            return False
        v = found
        while v not in tree:
            tree.add(v)
            v = prev[v]
        remaining -= tree
    if sum(s.w[g] for g in tree) >= s.load[a] - _REL_EPS * max(s.t[a], 1.0):
        return False
    for g in list(s.members[a]):
        if g not in tree:
            s.move(g, -1)
    for g in tree:
        if s.label[g] != a:
            s.move(g, a)
    return True


def _search(s: _Search) -> list[str]:
    """Repair, then each band schedule of the portfolio from the repaired start; the best
    result (least excess, then fewest moved grids) wins."""
    notes = _repair(s)
    start = s.snapshot()
    best, best_score = None, None
    for i, schedule in enumerate(_PORTFOLIO):
        if i and s.timed_out():
            break
        s.set_labels(start)
        start_in_band = s.in_band()
        if not start_in_band:
            _balance(s, schedule)
        _move_back(s)
        _reduce_moves(s)
        score = s.score()
        if best_score is None or score < best_score:
            best, best_score = s.snapshot(), score
        if start_in_band:  # the schedules only differ in balancing
            break
    if s.timed_out():
        notes.append("time limit reached")
    s.set_labels(best)
    return notes


# --------------------------------------------------------------------------------------------
# Public API


def plan_rebalance(
    grids: gpd.GeoDataFrame,
    current: Mapping[str, str | None],
    assistants: Sequence[Assistant | str] | int,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    locked: Iterable[str] = (),
    seed: int = 0,
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
    contiguity: str = "rook",
    adjacency: GridAdjacency | None = None,
) -> RebalancePlan:
    """Assign ``grids`` to assistants: contiguous, balanced, few moves, locks kept.

    Parameters
    ----------
    grids : GeoDataFrame
        ``code, geometry, workload`` (workload >= 0, e.g. from :mod:`grid_model.measures.workload`).
    current : mapping
        grid code → today's assistant code (None or absent: no assistant today).
    assistants : list of Assistant (or codes) or int
        Who takes territories. An int ``k`` keeps today's codes (the ``k`` with most grids when
        fewer are wanted) and names added ones ``NEW-1``, ``NEW-2``…; today's assistants not in
        the list leave and their grids move.
    tolerance : float
        Allowed relative deviation: ``|load - target| <= tolerance * target`` with
        ``target = total * capacity / sum(capacity)``.
    locked : iterable of grid codes
        Grids that stay with today's assistant.
    seed : int
        Tie-breaks; the same seed gives the same plan.
    time_limit_s : float
        Wall-clock budget; the best plan found so far is returned when it runs out (a plan
        cut short by the clock may differ between runs with the same seed).
    contiguity : {"rook", "queen"}
    adjacency : GridAdjacency, optional
        Precomputed :func:`grid_adjacency` of the same grids (same order).

    Returns
    -------
    RebalancePlan
        Also when the tolerance cannot be met: then ``within_tolerance`` is False and
        ``message`` says why.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> g = gpd.GeoDataFrame({"code": list("abcd"), "workload": [1, 1, 1, 1]},
    ...                      geometry=[box(i, 0, i + 1, 1) for i in range(4)])
    >>> plan = plan_rebalance(g, {"a": "X", "b": "X", "c": "X", "d": "Y"}, 2, seed=0)
    >>> plan.mapping(), plan.moved
    ({'a': 'X', 'b': 'X', 'c': 'Y', 'd': 'Y'}, 1)
    """
    started = time.perf_counter()
    _check_grids(grids, need_workload=True)
    if not (isinstance(tolerance, int | float) and 0 <= tolerance < 1):
        raise InvalidInputError(f"tolerance: expected a number in [0, 1), got {tolerance!r}")
    if time_limit_s is None or time_limit_s <= 0:
        raise InvalidInputError(f"time_limit_s: expected a positive number, got {time_limit_s!r}")
    codes = grids["code"].astype(str).tolist()
    index = {c: i for i, c in enumerate(codes)}
    n = len(codes)
    if n == 0:
        raise InvalidInputError("grids: expected at least one grid")
    unknown = sorted(set(map(str, current)) - set(index))
    if unknown:
        raise InvalidInputError(f"current: grid code(s) {unknown[:5]} are not among the grids")
    today = [None if current.get(c) is None else str(current.get(c)) for c in codes]
    counts: dict[str, int] = {}
    for a in today:
        if a is not None:
            counts[a] = counts.get(a, 0) + 1
    team = _resolve_assistants(assistants, sorted(counts), counts)
    k = len(team)
    if k > n:
        raise InvalidInputError(f"assistants: {k} assistants but only {n} grids; expected k <= {n}")
    team_index = {a.code: i for i, a in enumerate(team)}
    locked_codes = sorted({str(c) for c in locked})
    bad_locks = [c for c in locked_codes if c not in index]
    if bad_locks:
        raise InvalidInputError(f"locked: grid code(s) {bad_locks[:5]} are not among the grids")
    orphan_locks = [c for c in locked_codes if today[index[c]] not in team_index]
    if orphan_locks:
        raise InvalidInputError(
            f"locked: grid(s) {orphan_locks[:5]} are locked but today's assistant "
            f"({[today[index[c]] for c in orphan_locks[:5]]}) is not among the assistants"
        )
    if adjacency is None:
        adjacency = grid_adjacency(grids, contiguity=contiguity)
    elif adjacency.codes != codes:
        raise InvalidInputError("adjacency: computed for other grids (codes differ)")

    weights = pd.to_numeric(grids["workload"]).to_numpy(dtype=float)
    capacity = np.array([a.capacity for a in team], dtype=float)
    total = float(weights.sum())
    targets = total * capacity / capacity.sum()
    original = np.array([team_index.get(a, -1) if a is not None else -1 for a in today])
    locked_mask = np.zeros(n, dtype=bool)
    locked_mask[[index[c] for c in locked_codes]] = True
    rng = np.random.default_rng(seed)
    s = _Search(
        adjacency,
        weights,
        targets,
        float(tolerance),
        original,
        locked_mask,
        rng,
        started + time_limit_s,
    )
    s.set_labels(original)
    notes = _search(s)
    return _make_plan(
        grids, adjacency, s, team, today, locked_codes, float(tolerance), notes, started
    )


def _make_plan(
    grids: gpd.GeoDataFrame,
    adj: GridAdjacency,
    s: _Search,
    team: list[Assistant],
    today: list[str | None],
    locked_codes: list[str],
    tolerance: float,
    notes: list[str],
    started: float,
) -> RebalancePlan:
    codes = adj.codes
    names = [a.code for a in team]
    assigned = [names[a] if a >= 0 else None for a in s.label]
    assignment = pd.DataFrame(
        {
            "grid_code": codes,
            "previous": today,
            "assistant": assigned,
            "workload": s.w_arr,
            "moved": [p != a for p, a in zip(today, assigned, strict=True)],
        }
    )
    check = validate_plan(
        grids,
        assignment,
        assistants=team,
        current=dict(zip(codes, today, strict=True)),
        tolerance=tolerance,
        locked=locked_codes,
        adjacency=adj,
    )
    reasons = _reasons(s, team, codes) if not check.within_tolerance else []
    if check.within_tolerance:
        head = (
            f"within tolerance: max deviation {check.max_deviation:.1%} <= {tolerance:.0%}; "
            f"{check.moved} grid(s) moved"
        )
    else:
        head = (
            f"not within tolerance: max deviation {check.max_deviation:.1%} > {tolerance:.0%}; "
            f"{check.moved} grid(s) moved. " + " ".join(reasons)
        )
    if not check.contiguous:
        split = [a for a, p in check.pieces.items() if p > 1]
        head += f" Territories in several pieces: {split}."
    bridges = [(codes[i], codes[j]) for i, j in adj.bridges]
    if bridges:
        head += f" Grids linked across gaps (no shared edge): {bridges}."
    if notes:
        head += " " + "; ".join(notes) + "."
    return RebalancePlan(
        assignment=assignment,
        loads=check.loads,
        max_deviation=check.max_deviation,
        moved=int(check.moved or 0),
        contiguous=check.contiguous,
        locks_respected=check.locks_respected,
        within_tolerance=check.within_tolerance,
        tolerance=tolerance,
        message=head.strip(),
        bridges=bridges,
        elapsed_s=time.perf_counter() - started,
    )


def _reasons(s: _Search, team: list[Assistant], codes: list[str]) -> list[str]:
    """Why the band cannot be met (or was not)."""
    names = [a.code for a in team]
    out = []
    w = s.w_arr
    hi = np.array(s.hi)
    heaviest = int(np.argmax(w))
    if w[heaviest] > hi.max() * (1 + _REL_EPS):
        out.append(
            f"Grid {codes[heaviest]} alone has workload {w[heaviest]:g}, above the largest "
            f"upper bound {hi.max():g}."
        )
    locked = np.array(s.locked)
    original = np.array(s.original)
    for a in range(s.k):
        lock_load = float(w[locked & (original == a)].sum())
        if lock_load > hi[a] * (1 + _REL_EPS):
            out.append(
                f"Locked grids of {names[a]} weigh {lock_load:g}, above its upper bound {hi[a]:g}."
            )
    for a in range(s.k):
        if s.viol2[a] == 0:
            continue
        if s.over(a) and any(s.locked[g] for g in s.members[a]):
            if not any(s.can_give(g) for g in s.members[a]):
                out.append(
                    f"{names[a]} cannot shed workload: its locked grids "
                    f"{sorted(codes[g] for g in s.members[a] if s.locked[g])[:5]} must stay "
                    f"connected and the grids joining them weigh {s.load[a]:g} > upper bound "
                    f"{s.hi[a]:g}."
                )
        elif s.under(a):
            outside = {h for g in s.members[a] for h in s.nb[g] if s.label[h] != a}
            if outside and all(s.locked[h] for h in outside):
                out.append(f"{names[a]} is enclosed by locked grids of other assistants.")
    if not out:
        band = float((hi - np.array(s.lo)).min())
        out.append(
            f"No contiguous plan within tolerance was found (band width {band:g}, "
            f"heaviest grid {w.max():g}); tolerance, locks or grid sizes may not allow one."
        )
    return out


def validate_plan(
    grids: gpd.GeoDataFrame,
    assignment: Mapping[str, str | None] | pd.DataFrame,
    *,
    assistants: Sequence[Assistant | str] | None = None,
    current: Mapping[str, str | None] | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    locked: Iterable[str] = (),
    contiguity: str = "rook",
    adjacency: GridAdjacency | None = None,
) -> PlanCheck:
    """Check a plan: one piece per territory, locks kept, loads against capacity shares.

    ``assignment`` is grid code → assistant (or a frame with ``grid_code, assistant``).
    ``assistants`` gives capacities (default: the assistants in ``assignment``, capacity 1).
    Contiguity is checked with networkx on :func:`grid_adjacency` (bridges included).
    """
    _check_grids(grids, need_workload=True)
    if isinstance(assignment, pd.DataFrame):
        mapping = dict(zip(assignment["grid_code"], assignment["assistant"], strict=True))
    else:
        mapping = dict(assignment)
    codes = grids["code"].astype(str).tolist()
    if adjacency is None:
        adjacency = grid_adjacency(grids, contiguity=contiguity)
    weights = pd.to_numeric(grids["workload"]).to_numpy(dtype=float)
    labels = [None if mapping.get(c) is None else str(mapping.get(c)) for c in codes]
    if assistants is None:
        team = [Assistant(a) for a in sorted({a for a in labels if a is not None})]
    else:
        team = [Assistant(a) if isinstance(a, str) else a for a in assistants]
    graph = adjacency.to_networkx()
    pieces = {}
    for a in team:
        nodes = [c for c, lab in zip(codes, labels, strict=True) if lab == a.code]
        pieces[a.code] = nx.number_connected_components(graph.subgraph(nodes)) if nodes else 0
    extra = sorted({lab for lab in labels if lab is not None} - {a.code for a in team})
    for a in extra:
        nodes = [c for c, lab in zip(codes, labels, strict=True) if lab == a]
        pieces[a] = nx.number_connected_components(graph.subgraph(nodes))
    broken = []
    if current is not None:
        broken = [c for c in sorted({str(x) for x in locked}) if mapping.get(c) != current.get(c)]
    elif list(locked):
        raise InvalidInputError("locked: checking locks needs current")
    unassigned = [c for c, lab in zip(codes, labels, strict=True) if lab is None]
    capacity = np.array([a.capacity for a in team], dtype=float)
    total = float(weights.sum())
    targets = total * capacity / capacity.sum() if len(team) else capacity
    load_by = pd.Series(weights).groupby(pd.Series(labels, dtype=object)).sum()
    count_by = pd.Series(labels, dtype=object).value_counts()
    loads = pd.DataFrame(
        {
            "assistant": [a.code for a in team],
            "capacity": capacity,
            "grids": [int(count_by.get(a.code, 0)) for a in team],
            "load": [float(load_by.get(a.code, 0.0)) for a in team],
            "target": targets,
        }
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        dev = np.where(loads["target"] > 0, loads["load"] / loads["target"] - 1, 0.0)
    loads["deviation"] = dev
    max_dev = float(np.abs(dev).max()) if len(dev) else 0.0
    within = bool(np.all(np.abs(dev) <= tolerance + 1e-9)) and not extra and not unassigned
    moved = None
    if current is not None:
        moved = sum(
            (None if current.get(c) is None else str(current.get(c))) != lab
            for c, lab in zip(codes, labels, strict=True)
        )
    return PlanCheck(
        contiguous=all(p <= 1 for p in pieces.values()),
        pieces=pieces,
        locks_respected=not broken,
        broken_locks=broken,
        unassigned=unassigned,
        loads=loads,
        max_deviation=max_dev,
        within_tolerance=within,
        moved=moved,
    )


# --------------------------------------------------------------------------------------------
# Database


def rebalance_community(
    session: Session,
    scope: Scope,
    *,
    k: int | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    locked: Iterable[str] = (),
    weights: Mapping[str, float] | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    today: dt.date | None = None,
    seed: int = 0,
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
    contiguity: str = "rook",
) -> RebalancePlan:
    """Plan a rebalancing of the grid assistants of the grids in ``scope`` (read only).

    Grids retired by ``today`` (``valid_to <= today``) or not yet in force are left out.

    Parameters
    ----------
    scope : Scope
        The area (a community, usually); its categories filter the needs that count.
    k : int, optional
        Number of assistants. Default: today's active assistants of these grids, with their
        capacities. With ``k`` the ``k`` of them with most grids stay and added ones are named
        ``NEW-1``…; assistants who are inactive or have no capacity leave in any case.
    weights : mapping, optional
        Weight per need category, over :data:`grid_model.measures.workload.DEFAULT_WEIGHTS`.
    start, end : date, optional
        Workload period (inclusive): default ``scope.start``/``scope.end``, else the year up to
        ``today``. Workload = weighted open + new needs (:func:`grid_model.measures.workload.grid_workload`).
    today : date, optional
        Evaluation date for open cases (default: today).

    Other parameters are those of :func:`plan_rebalance`.
    """
    from grid_model.measures.workload import grid_workload
    from grid_model.queries import load_grids

    if not isinstance(scope, Scope):
        raise InvalidInputError(f"scope: expected a Scope, got {type(scope).__name__}")
    today = today or config.today()
    end = end or scope.end or today
    start = start or scope.start or (end - dt.timedelta(days=364))
    grids = load_grids(session, scope)
    inactive = set(
        session.scalars(select(Grid.code).where(scope.grid_filter(), ~Grid.in_force(today)))
    )
    grids = grids[~grids["code"].isin(inactive)]
    if grids.empty:
        raise NotFoundError(f"scope.area_code={scope.area_code!r}: no active grids in this area")
    load = grid_workload(
        session,
        scope,
        start=start,
        end=end,
        weights=dict(weights) if weights is not None else None,
        today=today,
    )
    grids = grids.merge(load[["grid_code", "workload"]], left_on="code", right_on="grid_code")
    grids = grids[["code", "workload", "geometry"]]
    staff = holders(session, scope, None).rename(columns={"worker_code": "assistant"})
    staff = staff[staff["grid_code"].isin(set(grids["code"]))]
    current = dict(zip(staff["grid_code"], staff["assistant"], strict=True))
    staying = staff[staff["active"].astype(bool) & (staff["capacity"].fillna(0) > 0)]
    capacities = dict(zip(staying["assistant"], staying["capacity"].astype(float), strict=False))
    counts = staff["assistant"].value_counts().to_dict()
    eligible = sorted(capacities)
    if k is None:
        if not eligible:
            raise InvalidInputError(
                f"k: no active grid assistant covers {scope.area_code!r} today; pass k"
            )
        team = [Assistant(c, capacities[c]) for c in eligible]
    else:
        team = _resolve_assistants(k, eligible, counts, capacities=capacities)
    return plan_rebalance(
        grids,
        current,
        team,
        tolerance=tolerance,
        locked=locked,
        seed=seed,
        time_limit_s=time_limit_s,
        contiguity=contiguity,
    )


def spare_assistants(session: Session, area_code: str | None, *, day: dt.date) -> pd.DataFrame:
    """Active grid assistants with capacity who cover no grid on ``day`` — who a planned new
    assistant (``NEW-1``…) can be — from the district of ``area_code`` (all without one):
    ``code, name, capacity``, by code."""
    covering = select(Assignment.worker_id).where(
        (Assignment.role == Role.grid_assistant.value) & Assignment.in_force(day)
    )
    conds = [
        Worker.role == Role.grid_assistant.value,
        Worker.active.is_(True),
        Worker.capacity > 0,
        Worker.id.not_in(covering),
    ]
    if area_code:
        conds.append(
            Worker.district_code.is_(None) | (Worker.district_code == district_of(area_code))
        )
    rows = session.execute(
        select(Worker.code, Worker.name, Worker.capacity).where(*conds).order_by(Worker.code)
    ).all()
    return pd.DataFrame(rows, columns=["code", "name", "capacity"])


def apply_plan(
    session: Session,
    plan: RebalancePlan,
    *,
    viewer: Viewer,
    on: dt.date,
    new_workers: Mapping[str, str] | None = None,
    force: bool = False,
    lang: str = "zh",
) -> AuditEntry:
    """Write ``plan``: for each grid whose assistant changes, close the open grid-assistant
    assignment (``valid_to = on``) and open one for the new assistant from ``on``; history is
    never overwritten. Adds an ``AuditEntry`` (action ``rebalance_apply``) with the moves.
    Flushes, does not commit.

    Parameters
    ----------
    viewer : Viewer
        Who applies it (the actor of the audit entry): a role that may rebalance, limited to
        an area that holds every grid of the plan.
    new_workers : mapping, optional
        Worker code for each planned new assistant (``NEW-1`` → ``A0107``).
    force : bool
        Apply a plan that misses the tolerance (never one that is split or breaks a lock).
    lang : {"zh", "en"}
        Language of the error messages.

    Raises
    ------
    InvalidInputError
        The plan is not contiguous or breaks a lock, misses the tolerance without ``force``,
        is stale (today's assistant of a grid is no longer the plan's ``previous``), or ``on``
        is before an assignment it would close.
    NotFoundError
        A grid or worker of the plan does not exist (or a new assistant has no worker).
    PermissionDeniedError
        ``viewer`` may not rebalance, or the plan moves grids outside the viewer's area.
    """
    viewer = require(session, viewer, "rebalance", lang=lang)
    if not isinstance(on, dt.date):
        raise InvalidInputError(f"on={on!r}: expected a date")
    if not plan.contiguous or not plan.locks_respected:
        raise InvalidInputError(t("plan_split", lang))
    if not plan.within_tolerance and not force:
        raise InvalidInputError(
            t("plan_tolerance", lang, dev=plan.max_deviation, tol=plan.tolerance)
        )
    rename = dict(new_workers or {})
    moves = plan.moves()
    moves["worker"] = moves["assistant"].map(lambda a: rename.get(a, a))
    grid_codes = moves["grid_code"].tolist()
    mine = Scope(area_code=viewer.area_code).grid_filter()
    foreign = session.scalars(
        select(Grid.code).where(Grid.code.in_(grid_codes), ~mine).order_by(Grid.code)
    ).all()
    if foreign:
        raise PermissionDeniedError(
            t("plan_outside_area", lang, area=viewer.area_code, codes=", ".join(foreign[:5]))
        )
    grid_ids = dict(
        session.execute(select(Grid.code, Grid.id).where(Grid.code.in_(grid_codes))).all()
    )
    missing = sorted(set(grid_codes) - set(grid_ids))
    if missing:
        raise NotFoundError(t("plan_no_grid", lang, codes=", ".join(missing[:5])))
    workers = {
        w.code: w
        for w in session.scalars(select(Worker).where(Worker.code.in_(set(moves["worker"]))))
    }
    unknown = sorted(set(moves["worker"]) - set(workers))
    if unknown:
        raise NotFoundError(t("plan_no_worker", lang, codes=", ".join(unknown[:5])))
    not_fit = sorted(
        c for c, w in workers.items() if not w.active or w.role != Role.grid_assistant.value
    )
    if not_fit:
        raise InvalidInputError(t("plan_not_assistant", lang, codes=", ".join(not_fit)))
    open_rows = session.execute(
        select(Assignment, Grid.code, Worker.code)
        .join(Grid, Grid.id == Assignment.grid_id)
        .join(Worker, Worker.id == Assignment.worker_id)
        .where(
            Assignment.grid_id.in_(list(grid_ids.values())),
            Assignment.role == Role.grid_assistant.value,
            Assignment.is_open(),
        )
    ).all()
    by_grid: dict[str, list[tuple[Assignment, str]]] = {}
    for row, gcode, wcode in open_rows:
        by_grid.setdefault(gcode, []).append((row, wcode))
    stale = [
        m.grid_code
        for m in moves.itertuples()
        if (
            m.previous is not None
            and m.previous not in {w for _, w in by_grid.get(m.grid_code, [])}
        )
        or (m.previous is None and by_grid.get(m.grid_code))
    ]
    if stale:
        raise InvalidInputError(t("plan_stale", lang, codes=", ".join(stale[:5])))
    early = sorted({g for g, rows in by_grid.items() for a, _ in rows if a.valid_from > on})
    if early:
        raise InvalidInputError(t("plan_early", lang, on=on, codes=", ".join(early[:5])))
    for m in moves.itertuples():
        for row, _ in by_grid.get(m.grid_code, []):
            row.valid_to = on
        session.add(
            Assignment(
                worker_id=workers[m.worker].id,
                grid_id=grid_ids[m.grid_code],
                role=Role.grid_assistant.value,
                valid_from=on,
            )
        )
    entry = AuditEntry(
        actor=viewer.name,
        action="rebalance_apply",
        entity="assignments",
        entity_id=None,
        details={
            "on": on.isoformat(),
            "moved": len(moves),
            "tolerance": plan.tolerance,
            "max_deviation": round(float(plan.max_deviation), 6),
            "within_tolerance": bool(plan.within_tolerance),
            "moves": [
                {"grid": m.grid_code, "from": m.previous, "to": m.worker}
                for m in moves.itertuples()
            ],
        },
    )
    session.add(entry)
    session.flush()
    return entry
