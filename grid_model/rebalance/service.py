"""What reads and writes the database: plan a rebalancing of an area's grid assistants from
stored workload and assignments, find who a new assistant can be, and store a plan as new
assignment periods with an audit entry. Services take a session and never commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

import geopandas as gpd
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from grid_model import audit, config
from grid_model.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from grid_model.measures.workload import grid_workload
from grid_model.messages import t
from grid_model.models import Assignment, AuditEntry, Grid, Role, Worker
from grid_model.queries import holders, load_grids
from grid_model.rebalance.inputs import (
    DEFAULT_TIME_LIMIT_S,
    DEFAULT_TOLERANCE,
    Assistant,
    resolve_assistants,
)
from grid_model.rebalance.plan import RebalancePlan
from grid_model.rebalance.search import plan_rebalance
from grid_model.scope import Scope, Viewer, grid_in_area, require

# --------------------------------------------------------------------------------------------
# Planning (read only)


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
    if not isinstance(scope, Scope):
        raise InvalidInputError(f"scope: expected a Scope, got {type(scope).__name__}")
    today = today or config.today()
    end = end or scope.end or today
    start = start or scope.start or (end - dt.timedelta(days=364))
    grids = _active_grids(session, scope, today)
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
    current, team = _current_and_team(session, scope, set(grids["code"]), k)
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


def _active_grids(session: Session, scope: Scope, today: dt.date) -> gpd.GeoDataFrame:
    """The scope's grids in force on ``today``; there must be some."""
    grids = load_grids(session, scope, on=today)
    if grids.empty:
        raise NotFoundError(f"scope.area_code={scope.area_code!r}: no active grids in this area")
    return grids


def _current_and_team(
    session: Session, scope: Scope, codes: set[str], k: int | None
) -> tuple[dict[str, str], list[Assistant]]:
    """Today's assistant of each of ``codes``, and who takes territories: today's active
    assistants with capacity, or ``k`` of them (:func:`resolve_assistants`)."""
    staff = holders(session, scope, None).rename(columns={"worker_code": "assistant"})
    staff = staff[staff["grid_code"].isin(codes)]
    current = dict(zip(staff["grid_code"], staff["assistant"], strict=True))
    staying = staff[staff["active"].astype(bool) & (staff["capacity"].fillna(0) > 0)]
    capacities = dict(zip(staying["assistant"], staying["capacity"].astype(float), strict=False))
    eligible = sorted(capacities)
    if k is not None:
        counts = staff["assistant"].value_counts().to_dict()
        return current, resolve_assistants(k, eligible, counts, capacities=capacities)
    if not eligible:
        raise InvalidInputError(
            f"k: no active grid assistant covers {scope.area_code!r} today; pass k"
        )
    return current, [Assistant(c, capacities[c]) for c in eligible]


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
            Worker.district_code.is_(None)
            | Worker.district_code.in_(select(Grid.district_code).where(grid_in_area(area_code)))
        )
    rows = session.execute(
        select(Worker.code, Worker.name, Worker.capacity).where(*conds).order_by(Worker.code)
    ).all()
    return pd.DataFrame(rows, columns=["code", "name", "capacity"])


# --------------------------------------------------------------------------------------------
# Applying a plan


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
    _check_plan(plan, on, force=force, lang=lang)
    moves = plan.moves()
    rename = dict(new_workers or {})
    moves["worker"] = moves["assistant"].map(lambda a: rename.get(a, a))
    grid_codes = moves["grid_code"].tolist()
    _check_in_area(session, viewer, grid_codes, lang)
    grid_ids = _grid_ids(session, grid_codes, lang)
    workers = _workers(session, set(moves["worker"]), lang)
    holding = _open_assignments(session, list(grid_ids.values()))
    _check_not_stale(moves, holding, on, lang)
    _close_and_open(session, moves, holding, workers, grid_ids, on)
    entry = audit.record(
        session, viewer, "rebalance_apply", "assignments", details=_audit_details(plan, moves, on)
    )
    session.flush()
    return entry


def _check_plan(plan: RebalancePlan, on: dt.date, *, force: bool, lang: str) -> None:
    """A date, a plan in one piece per territory with its locks, within tolerance or forced."""
    if not isinstance(on, dt.date):
        raise InvalidInputError(f"on={on!r}: expected a date")
    if not plan.contiguous or not plan.locks_respected:
        raise InvalidInputError(t("plan_split", lang))
    if not plan.within_tolerance and not force:
        raise InvalidInputError(
            t("plan_tolerance", lang, dev=plan.max_deviation, tol=plan.tolerance)
        )


def _check_in_area(session: Session, viewer: Viewer, grid_codes: list[str], lang: str) -> None:
    """Every grid of ``grid_codes`` that exists lies in the viewer's area."""
    mine = Scope(area_code=viewer.area_code).grid_filter()
    foreign = session.scalars(
        select(Grid.code).where(Grid.code.in_(grid_codes), ~mine).order_by(Grid.code)
    ).all()
    if foreign:
        raise PermissionDeniedError(
            t("plan_outside_area", lang, area=viewer.area_code, codes=", ".join(foreign[:5]))
        )


def _grid_ids(session: Session, grid_codes: list[str], lang: str) -> dict[str, int]:
    """grid code → id of each of ``grid_codes``; all must exist."""
    grid_ids = dict(
        session.execute(select(Grid.code, Grid.id).where(Grid.code.in_(grid_codes))).all()
    )
    missing = sorted(set(grid_codes) - set(grid_ids))
    if missing:
        raise NotFoundError(t("plan_no_grid", lang, codes=", ".join(missing[:5])))
    return grid_ids


def _workers(session: Session, codes: set[str], lang: str) -> dict[str, Worker]:
    """worker code → worker of each of ``codes``; all must exist and be active assistants."""
    workers = {w.code: w for w in session.scalars(select(Worker).where(Worker.code.in_(codes)))}
    unknown = sorted(codes - set(workers))
    if unknown:
        raise NotFoundError(t("plan_no_worker", lang, codes=", ".join(unknown[:5])))
    not_fit = sorted(
        c for c, w in workers.items() if not w.active or w.role != Role.grid_assistant.value
    )
    if not_fit:
        raise InvalidInputError(t("plan_not_assistant", lang, codes=", ".join(not_fit)))
    return workers


def _open_assignments(
    session: Session, grid_ids: list[int]
) -> dict[str, list[tuple[Assignment, str]]]:
    """grid code → its open grid-assistant assignments, each with the worker's code."""
    rows = session.execute(
        select(Assignment, Grid.code, Worker.code)
        .join(Grid, Grid.id == Assignment.grid_id)
        .join(Worker, Worker.id == Assignment.worker_id)
        .where(
            Assignment.grid_id.in_(grid_ids),
            Assignment.role == Role.grid_assistant.value,
            Assignment.is_open(),
        )
    ).all()
    by_grid: dict[str, list[tuple[Assignment, str]]] = {}
    for row, gcode, wcode in rows:
        by_grid.setdefault(gcode, []).append((row, wcode))
    return by_grid


def _check_not_stale(
    moves: pd.DataFrame,
    holding: Mapping[str, list[tuple[Assignment, str]]],
    on: dt.date,
    lang: str,
) -> None:
    """Each moved grid is still held by the plan's ``previous`` assistant (or by nobody when
    it had none), and no assignment to close starts after ``on``."""
    stale = [
        m.grid_code
        for m in moves.itertuples()
        if (
            m.previous is not None
            and m.previous not in {w for _, w in holding.get(m.grid_code, [])}
        )
        or (m.previous is None and holding.get(m.grid_code))
    ]
    if stale:
        raise InvalidInputError(t("plan_stale", lang, codes=", ".join(stale[:5])))
    early = sorted({g for g, rows in holding.items() for a, _ in rows if a.valid_from > on})
    if early:
        raise InvalidInputError(t("plan_early", lang, on=on, codes=", ".join(early[:5])))


def _close_and_open(
    session: Session,
    moves: pd.DataFrame,
    holding: Mapping[str, list[tuple[Assignment, str]]],
    workers: Mapping[str, Worker],
    grid_ids: Mapping[str, int],
    on: dt.date,
) -> None:
    """End each moved grid's open assignments on ``on`` and open the new assistant's from
    ``on``: history is kept, never overwritten."""
    for m in moves.itertuples():
        for row, _ in holding.get(m.grid_code, []):
            row.valid_to = on
        session.add(
            Assignment(
                worker_id=workers[m.worker].id,
                grid_id=grid_ids[m.grid_code],
                role=Role.grid_assistant.value,
                valid_from=on,
            )
        )


def _audit_details(plan: RebalancePlan, moves: pd.DataFrame, on: dt.date) -> dict:
    return {
        "on": on.isoformat(),
        "moved": len(moves),
        "tolerance": plan.tolerance,
        "max_deviation": round(float(plan.max_deviation), 6),
        "within_tolerance": bool(plan.within_tolerance),
        "moves": [
            {"grid": m.grid_code, "from": m.previous, "to": m.worker} for m in moves.itertuples()
        ],
    }
