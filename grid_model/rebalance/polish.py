"""Steps 3 and 4 of the search: polish the balance, then move fewer grids.

*Polish*: single-grid border moves that reduce the squared excess over the band; then
*ejection chains*: short sequences of border moves (depth <= 4) in which each move fixes the
territory the previous one pushed out of band, for the cases no single move helps.

*Fewer moves*: grids that were moved go back to their original assistant when that keeps the
band, directly or with a short chain that leaves fewer grids moved overall.
"""

from __future__ import annotations

import heapq

from grid_model.rebalance.state import SearchState

# Ejection chains: moves per chain, moves tried per step, moves tried per search.
_CHAIN_DEPTH = 4
_CHAIN_BRANCHING = 6
_CHAIN_BUDGET = 2000


def polish(s: SearchState, max_steps: int = 100_000) -> None:
    """Best single-grid border moves that reduce the excess over the band."""
    for _ in range(max_steps):
        if s.timed_out():
            return
        bad = [a for a in range(s.k) if s.viol2[a] > 0]
        if not bad:
            return
        best = _best_border_move(s, bad)
        if best is None:
            return
        s.move(*best)


def _best_border_move(s: SearchState, bad: list[int]) -> tuple[int, int] | None:
    """The move ``(grid, to)`` on the border of an out-of-band territory that lowers the
    excess most (then moves fewest grids, then shortens borders most); None if none does."""
    best, best_key = None, None
    bad_set = set(bad)
    for g in _border_grids(s, bad):
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
    return best


def _border_grids(s: SearchState, territories: list[int]) -> set[int]:
    """Grids on either side of the borders of ``territories``."""
    candidates: set[int] = set()
    for a in territories:
        for g in s.members[a]:
            for h in s.nb[g]:
                if s.label[h] != a:
                    candidates.add(g)
                    candidates.add(h)
    return candidates


def chains(s: SearchState) -> None:
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


def _find_chain(
    s: SearchState,
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


def _chain_moves(s: SearchState, t: int, limit: int) -> list[tuple[int, int, int]]:
    """Up to ``limit`` moves ``(grid, from, to)`` that shrink territory ``t``'s excess over its
    band: border grids out of it when it is over, neighbouring grids into it when under.
    Ranked by what is left of the excess, then moved grids, then compactness."""
    if s.over(t):
        cands = _moves_out(s, t)
    elif s.under(t):
        cands = _moves_in(s, t)
    else:
        cands = []
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


_Candidate = tuple[float, int, int, int, int, int]  # excess left, moved, tie, grid, from, to


def _moves_out(s: SearchState, t: int) -> list[_Candidate]:
    """Unlocked grids of territory ``t`` to each neighbouring territory."""
    load, cands = s.load[t], []
    for g in s.members[t]:
        if s.locked[g]:
            continue
        left = s.viol(t, load - s.w[g])
        for b in {s.label[h] for h in s.nb[g]} - {t}:
            cands.append((left, s.moved_delta(g, b), s.tie[g], g, t, b))
    return cands


def _moves_in(s: SearchState, t: int) -> list[_Candidate]:
    """Unlocked grids next to territory ``t`` into it."""
    load, cands = s.load[t], []
    seen = set()
    for g in s.members[t]:
        for h in s.nb[g]:
            x = s.label[h]
            if x != t and h not in seen and not s.locked[h]:
                seen.add(h)
                cands.append((s.viol(t, load + s.w[h]), s.moved_delta(h, t), s.tie[h], h, x, t))
    return cands


def move_back(s: SearchState) -> None:
    """Return moved grids to their original territory where that costs no balance."""
    changed = True
    while changed and not s.timed_out():
        changed = False
        for g in _moved_grids(s):
            o = int(s.original[g])
            a = int(s.label[g])
            if not _may_go_back(s, g, o, a):
                continue
            if s.delta_phi(g, a, o) <= 1e-15:
                s.move(g, o)
                changed = True


def reduce_moves(s: SearchState) -> None:
    """Send moved grids back to their original territory when a short chain restores the band
    with fewer moved grids overall."""
    changed = True
    while changed and not s.timed_out():
        changed = False
        for g in _moved_grids(s):
            if s.timed_out():
                return
            o, a = int(s.original[g]), int(s.label[g])
            if _may_go_back(s, g, o, a) and _send_back(s, g, o, a):
                changed = True


def _moved_grids(s: SearchState) -> list[int]:
    """Grids that had a territory and are now in another (or none), by tie-break."""
    return sorted(
        (g for g in range(s.n) if s.original[g] >= 0 and s.label[g] != s.original[g]),
        key=lambda g: s.tie[g],
    )


def _may_go_back(s: SearchState, g: int, o: int, a: int) -> bool:
    """Grid ``g`` can move from ``a`` back to ``o``: it borders ``o`` and ``a`` stays whole."""
    return a != o and any(s.label[h] == o for h in s.nb[g]) and s.can_give(g)


def _send_back(s: SearchState, g: int, o: int, a: int) -> bool:
    """Move ``g`` from ``a`` back to ``o`` with a chain that fixes the band it breaks; kept
    (True) when the band is no worse and fewer grids are moved, else undone."""
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
            return True
        for h, x in reversed(applied):
            s.move(h, x)
    s.move(g, a)
    return False
