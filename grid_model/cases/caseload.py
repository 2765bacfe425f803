"""Caseload of every worker a case was dispatched to (any role: assistants, mediators,
lawyers, information officers, volunteers) and the per-community ranking of every indicator
for the street office.

A rate from fewer than ``min_cases`` cases is shown but not ranked (DESIGN §4: rank fairly).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grid_model.cases.indicators import case_indicators
from grid_model.cases.limits import DUE_SOON_WORKING_DAYS, add_working_days
from grid_model.measures.definitions import count_if, due_date_expr, not_closed, overdue_at
from grid_model.models import Area, Need, Worker
from grid_model.queries import read_frame
from grid_model.scope import Scope, Viewer, check_viewer

CASELOAD_COLUMNS = ["worker_code", "worker", "role", "capacity", "to_accept", "open",
                    "overdue", "due_soon", "reworked", "open_per_fte"]  # fmt: skip
#: Indicators the ranking ranks (higher is better, but rework: lower is better).
RANKED = {"closure_rate": False, "on_time_rate": False, "timely_acceptance_rate": False,
          "rework_rate": True, "visit_rate": False, "satisfaction_rate": False,
          "mediation_success_rate": False}  # fmt: skip
_BASE = {"closure_rate": "due_to_close", "on_time_rate": "due_to_close",
         "timely_acceptance_rate": "dispatched", "rework_rate": "verified",
         "visit_rate": "closed", "satisfaction_rate": "visited",
         "mediation_success_rate": "mediation_closed"}  # fmt: skip
_OPEN = ("dispatched", "accepted", "in_progress", "on_hold", "handled")


def worker_caseload(
    session: Session, scope: Scope, viewer: Viewer, *, day: dt.date, role: str | None = None,
    lang: str = "zh",
) -> pd.DataFrame:  # fmt: skip
    """Per worker with open cases dispatched to them in ``scope`` (cut to the viewer's area),
    any role: cases to accept, open, overdue, due within :data:`DUE_SOON_WORKING_DAYS` working
    days, reworked (failed a verification) and open cases per FTE; ``role`` keeps one role.
    Columns :data:`CASELOAD_COLUMNS`, most open per FTE first.

    Only open cases are read (a few per cent of all, through the status index): the closed
    ones' figures are the indicators' (:mod:`grid_model.cases.indicators`)."""
    viewer = check_viewer(session, viewer, lang=lang)
    where = scope.restricted_to(viewer).need_filter() & Need.assignee_code.is_not(None)
    soon = add_working_days(day, DUE_SOON_WORKING_DAYS)
    due = due_date_expr()
    stmt = (
        select(
            Need.assignee_code.label("worker_code"),
            count_if(Need.status == "dispatched").label("to_accept"),
            func.count().label("open"),
            count_if(overdue_at(day)).label("overdue"),
            count_if((due >= day) & (due <= soon)).label("due_soon"),
            count_if(Need.rework_count > 0).label("reworked"),
        )
        .where(where & not_closed() & Need.status.in_(_OPEN) & (Need.reported_at <= day))
        .group_by(Need.assignee_code)
    )
    counts = read_frame(session, stmt)
    workers = read_frame(session, select(Worker.code.label("worker_code"), Worker.name.label(
        "worker"), Worker.role, Worker.capacity))  # fmt: skip
    out = counts.merge(workers, on="worker_code", how="left")
    if role:
        out = out[out["role"] == role]
    fte = pd.to_numeric(out["capacity"], errors="coerce").where(lambda c: c > 0)
    out["open_per_fte"] = out["open"] / fte
    out = out.sort_values(["open_per_fte", "worker_code"], ascending=[False, True])
    return out[CASELOAD_COLUMNS].reset_index(drop=True)


def community_ranking(
    session: Session, scope: Scope, viewer: Viewer, *, as_of: dt.date, min_cases: int = 5,
    lang: str = "zh",
) -> pd.DataFrame:  # fmt: skip
    """Every indicator of :func:`~grid_model.cases.indicators.case_indicators` per community of
    the scope's area, with ``rank_<indicator>`` (1 = best; none where the indicator rests on
    fewer than ``min_cases`` cases)."""
    viewer = check_viewer(session, viewer, lang=lang)
    area = scope.restricted_to(viewer).area_code or ""
    stmt = select(Area.code, Area.name).where((Area.level == "community")
                                              & Area.code.startswith(area)).order_by(Area.code)  # fmt: skip
    rows = []
    for code, name in session.execute(stmt):
        got = case_indicators(session, replace(scope, area_code=code), viewer, as_of=as_of,
                              lang=lang).as_dict()  # fmt: skip
        rows.append({"community_code": code, "community": name, **got})
    frame = pd.DataFrame(rows)
    for name, lower_better in RANKED.items():
        if frame.empty:
            frame[f"rank_{name}"] = []
            continue
        enough = frame[_BASE[name]] >= min_cases
        values = frame[name].astype("float64").where(enough)
        frame[f"rank_{name}"] = values.rank(ascending=lower_better, method="min").astype("Int64")
    return frame


__all__ = ["CASELOAD_COLUMNS", "RANKED", "community_ranking", "worker_caseload"]
