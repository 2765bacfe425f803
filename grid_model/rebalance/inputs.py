"""What a rebalancing starts from, checked: the grids, today's assistants, the team, the locks.

Every check raises :class:`~grid_model.errors.InvalidInputError` naming the argument, the
value and what was expected. An int ``k`` of assistants keeps today's assistants with most
grids and names added ones ``NEW-1``, ``NEW-2``…:

>>> [a.code for a in resolve_assistants(3, ["A", "B"], {"A": 4, "B": 2})]
['A', 'B', 'NEW-1']
>>> [a.code for a in resolve_assistants(1, ["A", "B"], {"A": 2, "B": 4})]
['B']
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from grid_model.errors import InvalidInputError

DEFAULT_TOLERANCE = 0.10
DEFAULT_TIME_LIMIT_S = 10.0
NEW_PREFIX = "NEW-"


@dataclass(frozen=True)
class Assistant:
    """An assistant who can take a territory; ``capacity`` in FTE (default 1.0)."""

    code: str
    capacity: float = 1.0


@dataclass(frozen=True)
class Request:
    """A checked request for a plan.

    Attributes
    ----------
    codes : list of str
        The grid codes, in the order of the grids.
    today : list of str or None
        Today's assistant of each grid (None: none).
    team : list of Assistant
        Who takes territories.
    locked : list of str
        Grids that stay with today's assistant, sorted.
    tolerance : float
    """

    codes: list[str]
    today: list[str | None]
    team: list[Assistant]
    locked: list[str]
    tolerance: float


def check_request(
    grids: gpd.GeoDataFrame,
    current: Mapping[str, str | None],
    assistants: Sequence[Assistant | str] | int,
    *,
    tolerance: float,
    locked: Iterable[str],
    time_limit_s: float,
) -> Request:
    """The arguments of :func:`~grid_model.rebalance.plan_rebalance`, checked in this order:
    grids, tolerance, time limit, today's assistants, the team, the locks."""
    check_grids(grids, need_workload=True)
    if not (isinstance(tolerance, int | float) and 0 <= tolerance < 1):
        raise InvalidInputError(f"tolerance: expected a number in [0, 1), got {tolerance!r}")
    if time_limit_s is None or time_limit_s <= 0:
        raise InvalidInputError(f"time_limit_s: expected a positive number, got {time_limit_s!r}")
    codes = grids["code"].astype(str).tolist()
    if not codes:
        raise InvalidInputError("grids: expected at least one grid")
    today = _today(codes, current)
    team = _team(assistants, today)
    return Request(codes, today, team, _locks(locked, codes, today, team), float(tolerance))


def check_grids(grids: gpd.GeoDataFrame, *, need_workload: bool) -> None:
    """A frame with ``code, geometry`` (and ``workload`` >= 0), unique codes, no empty shape."""
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
        _check_workload(grids, codes)


def _check_workload(grids: gpd.GeoDataFrame, codes: pd.Series) -> None:
    w = pd.to_numeric(grids["workload"], errors="coerce").to_numpy(dtype=float)
    badw = ~np.isfinite(w) | (w < 0)
    if badw.any():
        raise InvalidInputError(
            f"grids.workload: grid(s) {codes[badw].tolist()[:5]} have "
            f"{grids['workload'][badw].tolist()[:5]}; expected finite numbers >= 0"
        )


def _today(codes: list[str], current: Mapping[str, str | None]) -> list[str | None]:
    """Today's assistant of each grid of ``codes``; ``current`` names no other grid."""
    unknown = sorted(set(map(str, current)) - set(codes))
    if unknown:
        raise InvalidInputError(f"current: grid code(s) {unknown[:5]} are not among the grids")
    return [None if current.get(c) is None else str(current.get(c)) for c in codes]


def _team(assistants: Sequence[Assistant | str] | int, today: list[str | None]) -> list[Assistant]:
    """The assistants, at most one per grid; for an int, today's with most grids stay."""
    counts = Counter(a for a in today if a is not None)
    team = resolve_assistants(assistants, sorted(counts), counts)
    k, n = len(team), len(today)
    if k > n:
        raise InvalidInputError(f"assistants: {k} assistants but only {n} grids; expected k <= {n}")
    return team


def _locks(
    locked: Iterable[str], codes: list[str], today: list[str | None], team: list[Assistant]
) -> list[str]:
    """The locked grid codes, sorted: grids of ``codes`` whose assistant today stays."""
    index = {c: i for i, c in enumerate(codes)}
    staying = {a.code for a in team}
    locked_codes = sorted({str(c) for c in locked})
    bad_locks = [c for c in locked_codes if c not in index]
    if bad_locks:
        raise InvalidInputError(f"locked: grid code(s) {bad_locks[:5]} are not among the grids")
    orphan_locks = [c for c in locked_codes if today[index[c]] not in staying]
    if orphan_locks:
        raise InvalidInputError(
            f"locked: grid(s) {orphan_locks[:5]} are locked but today's assistant "
            f"({[today[index[c]] for c in orphan_locks[:5]]}) is not among the assistants"
        )
    return locked_codes


def resolve_assistants(
    assistants: Sequence[Assistant | str] | int,
    current_codes: list[str],
    counts: Mapping[str, int],
    *,
    capacities: Mapping[str, float] | None = None,
) -> list[Assistant]:
    """The assistants of the plan; for an int ``k`` keep today's codes where possible.

    ``current_codes`` are today's assistants who may stay, ``counts`` their grids today;
    ``capacities`` their FTE (default 1).
    """
    if isinstance(assistants, bool):
        raise InvalidInputError(f"assistants: expected an int or a list, got {assistants!r}")
    if isinstance(assistants, int | np.integer):
        assistants = _keep_and_add(int(assistants), current_codes, counts, capacities or {})
    out = [_checked(a) for a in assistants]
    if not out:
        raise InvalidInputError("assistants: expected at least one assistant")
    codes = [a.code for a in out]
    if len(set(codes)) != len(codes):
        raise InvalidInputError(f"assistants: duplicate codes in {codes}")
    return out


def _keep_and_add(
    k: int, current_codes: list[str], counts: Mapping[str, int], capacities: Mapping[str, float]
) -> list[Assistant]:
    """``k`` assistants: today's with most grids, then new ones ``NEW-1``… not taken."""
    if k < 1:
        raise InvalidInputError(f"assistants: expected k >= 1, got {k}")
    # Keep those with most grids: their grids need not move.
    keep = sorted(current_codes, key=lambda c: (-counts.get(c, 0), c))[:k]
    keep.sort()
    out = [Assistant(c, float(capacities.get(c, 1.0))) for c in keep]
    taken = set(current_codes) | set(counts)
    i = 1
    while len(out) < k:
        code = f"{NEW_PREFIX}{i}"
        i += 1
        if code not in taken:
            out.append(Assistant(code))
    return out


def _checked(a: Assistant | str) -> Assistant:
    if isinstance(a, str):
        a = Assistant(a)
    if not isinstance(a, Assistant):
        raise InvalidInputError(f"assistants: expected Assistant or str items, got {a!r}")
    if not (isinstance(a.capacity, int | float) and math.isfinite(a.capacity)) or (a.capacity <= 0):
        raise InvalidInputError(
            f"assistants: capacity of {a.code!r} is {a.capacity!r}; expected a number > 0"
        )
    return a
