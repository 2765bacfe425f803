"""The territory search behind :func:`plan_rebalance`.

Assign grids to ``k`` assistants so that every territory is contiguous, each assistant's
workload is within a tolerance of their capacity share, as few grids as possible change hands
from today's assignment, locked grids stay, and territories stay compact.

Algorithm (deterministic for a ``seed``):

1. *Repair* today's assignment (:mod:`~grid_model.rebalance.repair`): a territory keeps its
   largest connected piece; detached pieces, grids without an assistant and grids of
   assistants who leave become unassigned; new assistants are seeded; unassigned grids are
   grown into the neighbouring territory with the lowest relative load.
2. *Flow rounds* (:mod:`~grid_model.rebalance.flows`): a linear programme on the territory
   adjacency graph finds the least total workload to pass between neighbouring territories so
   that every territory lands in its band; border grids carry it out, never a locked grid nor
   one whose removal would split the donor.
3. *Polish* (:mod:`~grid_model.rebalance.polish`): single-grid border moves, then ejection
   chains (depth <= 4). A territory that cannot shed workload because its unlocked grids all
   hold its locked grids together gets, once, a lighter connection (shortest node-weighted
   paths between its locked grids); the rest of it is regrown as in step 1.
4. *Fewer moves* (:mod:`~grid_model.rebalance.polish`): grids that were moved go back to their
   original assistant when that keeps the band, directly or with a short chain that leaves
   fewer grids moved overall.

Steps 2–4 run for two schedules of how far inside the band the flows aim (a small portfolio:
neither wins on every case measured), each from the repaired start; the plan with the least
excess over the band, then the fewest moved grids, wins. Rounds stop as soon as every territory
is within tolerance, or when ``time_limit_s`` runs out (then the best plan found is returned).

Contiguity, locks and deviations of the result are checked afterwards with networkx
(:func:`~grid_model.rebalance.plan.validate_plan`), not assumed.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from grid_model.errors import InvalidInputError
from grid_model.rebalance.adjacency import GridAdjacency, grid_adjacency
from grid_model.rebalance.flows import flow_round
from grid_model.rebalance.inputs import (
    DEFAULT_TIME_LIMIT_S,
    DEFAULT_TOLERANCE,
    Assistant,
    Request,
    check_request,
)
from grid_model.rebalance.plan import RebalancePlan, make_plan
from grid_model.rebalance.polish import chains, move_back, polish, reduce_moves
from grid_model.rebalance.repair import repair, reroute_locked, stuck_by_locks
from grid_model.rebalance.state import SearchState

# Share of the tolerance band the flow rounds aim for, round after round: aiming inside the band
# leaves room for grid granularity; later rounds only move what is still out of band.
# Schedules tried one after the other from the same start (the best plan wins): neither is
# better on every case measured.
_PORTFOLIO = ((0.8, 0.5, 0.25, 0.0), (0.6, 0.3, 0.0))
_ROUNDS_PER_BAND = 4


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
    request = check_request(
        grids,
        current,
        assistants,
        tolerance=tolerance,
        locked=locked,
        time_limit_s=time_limit_s,
    )
    if adjacency is None:
        adjacency = grid_adjacency(grids, contiguity=contiguity)
    elif adjacency.codes != request.codes:
        raise InvalidInputError("adjacency: computed for other grids (codes differ)")
    s = _start(grids, adjacency, request, seed=seed, deadline=started + time_limit_s)
    notes = _search(s)
    return make_plan(grids, adjacency, s, request, notes, started)


def _start(
    grids: gpd.GeoDataFrame,
    adjacency: GridAdjacency,
    request: Request,
    *,
    seed: int,
    deadline: float,
) -> SearchState:
    """The search state at today's assignment: targets by capacity share, locks marked."""
    team, today = request.team, request.today
    weights = pd.to_numeric(grids["workload"]).to_numpy(dtype=float)
    capacity = np.array([a.capacity for a in team], dtype=float)
    total = float(weights.sum())
    targets = total * capacity / capacity.sum()
    team_index = {a.code: i for i, a in enumerate(team)}
    original = np.array([team_index.get(a, -1) if a is not None else -1 for a in today])
    index = {c: i for i, c in enumerate(request.codes)}
    locked_mask = np.zeros(len(today), dtype=bool)
    locked_mask[[index[c] for c in request.locked]] = True
    rng = np.random.default_rng(seed)
    s = SearchState(
        adjacency, weights, targets, request.tolerance, original, locked_mask, rng, deadline
    )
    s.set_labels(original)
    return s


def _search(s: SearchState) -> list[str]:
    """Repair, then each band schedule of the portfolio from the repaired start; the best
    result (least excess, then fewest moved grids) wins. Returns notes for the message."""
    notes: list[str] = []
    repair(s)
    start = s.snapshot()
    best, best_score = None, None
    for i, schedule in enumerate(_PORTFOLIO):
        if i and s.timed_out():
            break
        s.set_labels(start)
        start_in_band = s.in_band()
        if not start_in_band:
            _balance(s, schedule)
        move_back(s)
        reduce_moves(s)
        score = s.score()
        if best_score is None or score < best_score:
            best, best_score = s.snapshot(), score
        if start_in_band:  # the schedules only differ in balancing
            break
    if s.timed_out():
        notes.append("time limit reached")
    s.set_labels(best)
    return notes


@dataclass
class _Best:
    """The best labels seen so far and their score."""

    labels: np.ndarray
    score: tuple[float, int]


def _balance(s: SearchState, schedule: tuple[float, ...]) -> None:
    """Flow rounds, polish and chains until in band; leaves the best state found. When a
    territory cannot shed workload because its locked grids must stay connected, the
    connection is rerouted through lighter grids once and the rounds run again."""
    best = _Best(s.snapshot(), s.score())
    _run_schedule(s, schedule, best)
    if not (s.in_band() or s.timed_out()):
        s.set_labels(best.labels)
        rerouted = [a for a in stuck_by_locks(s) if reroute_locked(s, a)]
        if rerouted:
            repair(s)
            _run_schedule(s, schedule, best)
    s.set_labels(best.labels)


def _run_schedule(s: SearchState, schedule: tuple[float, ...], best: _Best) -> None:
    """Rounds aiming at each band share of ``schedule`` in turn, until in band."""
    for beta in schedule:
        _rounds(s, beta, best)
        if s.in_band() or s.timed_out():
            return


def _rounds(s: SearchState, beta: float, best: _Best) -> None:
    """Up to :data:`_ROUNDS_PER_BAND` rounds of flows, polish and chains aiming at ``beta`` ×
    the band, while they lower the excess; ``best`` keeps the best state seen."""
    for _ in range(_ROUNDS_PER_BAND):
        if s.timed_out():
            return
        # Flows first, again while they help (carried flows change the borders),
        # then single-grid polish and chains.
        before = s.phi()
        while flow_round(s, beta) and s.phi() < 0.5 * before and not s.timed_out():
            before = s.phi()
        polish(s)
        chains(s)
        score = s.score()
        improved = score[0] < best.score[0] - 1e-12
        if score < best.score:
            best.labels, best.score = s.snapshot(), score
        if s.in_band() or not improved:
            return
