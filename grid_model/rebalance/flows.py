"""Step 2 of the search: flow rounds.

A linear programme on the territory adjacency graph finds the least total workload to pass
between neighbouring territories (possibly through intermediate ones) so that every territory
lands in its band; each flow is carried out by moving border grids from donor to receiver —
grids that go back to their original assistant first, then grids that were moved already,
heavier first, then the one that shortens the territories' common boundary — never a locked
grid nor a grid whose removal would split the donor (articulation point).
"""

from __future__ import annotations

from collections import deque

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

from grid_model.rebalance.state import SearchState


def _territory_edges(s: SearchState) -> list[tuple[int, int]]:
    pairs = set()
    for g in range(s.n):
        a = s.label[g]
        for h in s.nb[g]:
            b = s.label[h]
            if b != a:
                pairs.add((int(a), int(b)))
    return sorted(pairs)


def flow_round(s: SearchState, beta: float) -> bool:
    """Solve the least-transfer LP towards ``beta`` × tolerance and carry it out."""
    edges = _territory_edges(s)
    flows = _least_transfer(s, edges, beta) if edges else []
    if not flows:
        return False
    for (a, b), f in _topological(flows, s.k):
        _carry(s, a, b, f)
        if s.timed_out():
            break
    return True


def _least_transfer(
    s: SearchState, edges: list[tuple[int, int]], beta: float
) -> list[tuple[tuple[int, int], float]]:
    """Workload to pass along each territory edge, the least in total that brings every
    territory inside ``beta`` × its band (empty when there is no such flow or none is needed)."""
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
        return []
    scale = max(float(s.t_arr.max()), 1e-12)
    return [(edges[i], float(f)) for i, f in enumerate(res.x) if f > 1e-9 * scale]


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


def _carry(s: SearchState, a: int, b: int, amount: float) -> None:
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


def _best_single(s: SearchState, a: int, b: int, border: set[int], remaining: float) -> list[int]:
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


def _best_branch(s: SearchState, a: int, b: int, border: set[int], remaining: float) -> list[int]:
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
