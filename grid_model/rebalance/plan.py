"""A rebalancing plan: what it holds, how it is checked, and what its message says.

:func:`validate_plan` checks any assignment (one piece per territory, locks kept, loads
against capacity shares) with networkx, not trusting the search; :func:`make_plan` turns the
result of a search into a :class:`RebalancePlan` checked that way, with a message that says
what was achieved or why the tolerance was missed.

>>> import geopandas as gpd
>>> from shapely.geometry import box
>>> row = gpd.GeoDataFrame({"code": list("abc"), "workload": [1.0, 1.0, 2.0]},
...                        geometry=[box(i, 0, i + 1, 1) for i in range(3)])
>>> check = validate_plan(row, {"a": "X", "b": "Y", "c": "X"})
>>> check.pieces, check.contiguous, check.loads["load"].tolist()
({'X': 2, 'Y': 1}, False, [3.0, 1.0])
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd

from grid_model.errors import InvalidInputError
from grid_model.rebalance.adjacency import GridAdjacency, grid_adjacency
from grid_model.rebalance.inputs import (
    DEFAULT_TOLERANCE,
    NEW_PREFIX,
    Assistant,
    Request,
    check_grids,
)
from grid_model.rebalance.state import REL_EPS, SearchState


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
    check_grids(grids, need_workload=True)
    mapping = _as_mapping(assignment)
    codes = grids["code"].astype(str).tolist()
    if adjacency is None:
        adjacency = grid_adjacency(grids, contiguity=contiguity)
    weights = pd.to_numeric(grids["workload"]).to_numpy(dtype=float)
    labels = [None if mapping.get(c) is None else str(mapping.get(c)) for c in codes]
    team = _team(assistants, labels)
    pieces, extra = _pieces(adjacency.to_networkx(), codes, labels, team)
    broken = _broken_locks(mapping, current, locked)
    unassigned = [c for c, lab in zip(codes, labels, strict=True) if lab is None]
    loads = _loads(weights, labels, team)
    dev = loads["deviation"].to_numpy()
    within = bool(np.all(np.abs(dev) <= tolerance + 1e-9)) and not extra and not unassigned
    return PlanCheck(
        contiguous=all(p <= 1 for p in pieces.values()),
        pieces=pieces,
        locks_respected=not broken,
        broken_locks=broken,
        unassigned=unassigned,
        loads=loads,
        max_deviation=float(np.abs(dev).max()) if len(dev) else 0.0,
        within_tolerance=within,
        moved=None if current is None else _moved(codes, labels, current),
    )


def _as_mapping(assignment: Mapping[str, str | None] | pd.DataFrame) -> dict[str, str | None]:
    if isinstance(assignment, pd.DataFrame):
        return dict(zip(assignment["grid_code"], assignment["assistant"], strict=True))
    return dict(assignment)


def _team(
    assistants: Sequence[Assistant | str] | None, labels: list[str | None]
) -> list[Assistant]:
    """The given assistants, else those of the plan with capacity 1."""
    if assistants is None:
        return [Assistant(a) for a in sorted({a for a in labels if a is not None})]
    return [Assistant(a) if isinstance(a, str) else a for a in assistants]


def _pieces(
    graph: nx.Graph, codes: list[str], labels: list[str | None], team: list[Assistant]
) -> tuple[dict[str, int], list[str]]:
    """Connected pieces of each territory (the team's, then others', which are returned)."""

    def count(code: str) -> int:
        nodes = [c for c, lab in zip(codes, labels, strict=True) if lab == code]
        return nx.number_connected_components(graph.subgraph(nodes)) if nodes else 0

    pieces = {a.code: count(a.code) for a in team}
    extra = sorted({lab for lab in labels if lab is not None} - {a.code for a in team})
    pieces.update({a: count(a) for a in extra})
    return pieces, extra


def _broken_locks(
    mapping: Mapping[str, str | None],
    current: Mapping[str, str | None] | None,
    locked: Iterable[str],
) -> list[str]:
    """Locked grids whose assistant differs from today's."""
    if current is not None:
        return [c for c in sorted({str(x) for x in locked}) if mapping.get(c) != current.get(c)]
    if list(locked):
        raise InvalidInputError("locked: checking locks needs current")
    return []


def _loads(weights: np.ndarray, labels: list[str | None], team: list[Assistant]) -> pd.DataFrame:
    """``assistant, capacity, grids, load, target, deviation`` per assistant of ``team``."""
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
    return loads


def _moved(codes: list[str], labels: list[str | None], current: Mapping[str, str | None]) -> int:
    return sum(
        (None if current.get(c) is None else str(current.get(c))) != lab
        for c, lab in zip(codes, labels, strict=True)
    )


def make_plan(
    grids: gpd.GeoDataFrame,
    adj: GridAdjacency,
    s: SearchState,
    request: Request,
    notes: list[str],
    started: float,
) -> RebalancePlan:
    """The plan of search state ``s`` for ``request``, checked by :func:`validate_plan`."""
    codes, today, team, tolerance = adj.codes, request.today, request.team, request.tolerance
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
        locked=request.locked,
        adjacency=adj,
    )
    reasons = _reasons(s, team, codes) if not check.within_tolerance else []
    bridges = [(codes[i], codes[j]) for i, j in adj.bridges]
    return RebalancePlan(
        assignment=assignment,
        loads=check.loads,
        max_deviation=check.max_deviation,
        moved=int(check.moved or 0),
        contiguous=check.contiguous,
        locks_respected=check.locks_respected,
        within_tolerance=check.within_tolerance,
        tolerance=tolerance,
        message=_message(check, tolerance, reasons, bridges, notes),
        bridges=bridges,
        elapsed_s=time.perf_counter() - started,
    )


def _message(
    check: PlanCheck,
    tolerance: float,
    reasons: list[str],
    bridges: list[tuple[str, str]],
    notes: list[str],
) -> str:
    """What the plan achieves, or why it misses the tolerance; then what a planner should see."""
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
    if bridges:
        head += f" Grids linked across gaps (no shared edge): {bridges}."
    if notes:
        head += " " + "; ".join(notes) + "."
    return head.strip()


def _reasons(s: SearchState, team: list[Assistant], codes: list[str]) -> list[str]:
    """Why the band cannot be met (or was not)."""
    names = [a.code for a in team]
    out = [*_heavy_grid(s, codes), *_heavy_locks(s, names)]
    for a in range(s.k):
        if s.viol2[a] == 0:
            continue
        if s.over(a) and any(s.locked[g] for g in s.members[a]):
            out.extend(_held_by_locks(s, a, names, codes))
        elif s.under(a):
            out.extend(_enclosed(s, a, names))
    if not out:
        band = float((np.array(s.hi) - np.array(s.lo)).min())
        out.append(
            f"No contiguous plan within tolerance was found (band width {band:g}, "
            f"heaviest grid {s.w_arr.max():g}); tolerance, locks or grid sizes may not allow one."
        )
    return out


def _heavy_grid(s: SearchState, codes: list[str]) -> list[str]:
    """The heaviest grid, when it alone is above every upper bound."""
    w, hi = s.w_arr, np.array(s.hi)
    heaviest = int(np.argmax(w))
    if w[heaviest] > hi.max() * (1 + REL_EPS):
        return [
            f"Grid {codes[heaviest]} alone has workload {w[heaviest]:g}, above the largest "
            f"upper bound {hi.max():g}."
        ]
    return []


def _heavy_locks(s: SearchState, names: list[str]) -> list[str]:
    """Assistants whose locked grids alone are above their upper bound."""
    locked, original = np.array(s.locked), np.array(s.original)
    out = []
    for a in range(s.k):
        lock_load = float(s.w_arr[locked & (original == a)].sum())
        if lock_load > s.hi[a] * (1 + REL_EPS):
            out.append(
                f"Locked grids of {names[a]} weigh {lock_load:g}, above its upper bound "
                f"{s.hi[a]:g}."
            )
    return out


def _held_by_locks(s: SearchState, a: int, names: list[str], codes: list[str]) -> list[str]:
    """Territory ``a`` over its band cannot give a grid: all hold its locked grids together."""
    if any(s.can_give(g) for g in s.members[a]):
        return []
    return [
        f"{names[a]} cannot shed workload: its locked grids "
        f"{sorted(codes[g] for g in s.members[a] if s.locked[g])[:5]} must stay "
        f"connected and the grids joining them weigh {s.load[a]:g} > upper bound "
        f"{s.hi[a]:g}."
    ]


def _enclosed(s: SearchState, a: int, names: list[str]) -> list[str]:
    """Territory ``a`` under its band cannot grow: every grid around it is locked elsewhere."""
    outside = {h for g in s.members[a] for h in s.nb[g] if s.label[h] != a}
    if outside and all(s.locked[h] for h in outside):
        return [f"{names[a]} is enclosed by locked grids of other assistants."]
    return []
