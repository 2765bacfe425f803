"""Workload of grids and grid assistants (DESIGN §4).

Workload over a period ``[start, end]`` = Σ over categories of weight × (needs open at the end
of the period + needs new in the period). A need reported in the period and still open at its
end counts twice: once as inflow, once as backlog. Weights per category default to
:data:`DEFAULT_WEIGHTS` (mediation and legal aid weigh more than a consultation); a call may
override some or all of them.

The period is evaluated as of ``min(end, today)``: a report for a month not over yet does not
count the future. Counting runs in the database (``GROUP BY``); weights, sums over an
assistant's grids and ranks are applied to the small aggregated frames in pandas.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace

import pandas as pd
from sqlalchemy import ColumnElement, Select, Subquery, func, select
from sqlalchemy.orm import Session

from grid_model.errors import InvalidInputError
from grid_model.measures.definitions import (
    count_if,
    days_to_close_counts,
    diary_dates,
    medians_from_counts,
    need_aggregates,
    open_at,
    overdue_at,
    per_1000,
    summary_aggregates,
)
from grid_model.measures.need_stats import read_diary_dates, read_measures
from grid_model.measures.summary import days_to_close_histogram
from grid_model.models import Assignment, Category, Grid, Need, NeedMonthStat, Worker
from grid_model.queries import read_frame
from grid_model.scope import Scope
from grid_model.workdays import is_workday, working_days

#: Weight of one need of each category; override per call with ``weights=``.
DEFAULT_WEIGHTS: dict[str, float] = {
    "mediation": 3.0,
    "legal_aid": 3.0,
    "correction": 2.0,
    "consultation": 1.0,
    "publicity": 0.5,
    "other": 1.0,
}

ASSISTANT_COLUMNS = [
    "assistant_code",
    "assistant",
    "grids",
    "population",
    "open",
    "new",
    "closed",
    "mean_days",
    "median_days",
    "on_time_rate",
    "overdue",
    "diary_compliance",
    "workload",
    "workload_per_1000",
    "capacity",
    "ranked",
    "rank",
]


def resolve_weights(weights: dict[str, float] | None) -> dict[str, float]:
    """:data:`DEFAULT_WEIGHTS` updated with ``weights``; every key a category, every weight a
    finite number ≥ 0."""
    merged = dict(DEFAULT_WEIGHTS)
    for key, value in (weights or {}).items():
        if key not in DEFAULT_WEIGHTS:
            raise InvalidInputError(
                f"weights[{key!r}]: unknown category; expected one of "
                f"{', '.join(c.value for c in Category)}"
            )
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value < 0
        ):
            raise InvalidInputError(f"weights[{key!r}]={value!r}: expected a number ≥ 0")
        merged[key] = float(value)
    return merged


def _check_period(start: dt.date, end: dt.date, today: dt.date) -> dt.date:
    for name, value in (("start", start), ("end", end), ("today", today)):
        if not isinstance(value, dt.date):
            raise InvalidInputError(f"{name}={value!r}: expected a date")
    if end < start:
        raise InvalidInputError(f"end={end}: expected a date on or after start={start}")
    return min(end, today)


def _flow_counts(as_of: dt.date, start: dt.date) -> list:
    """Open at ``as_of``, new in ``[start, as_of]`` and overdue at ``as_of``."""
    return [
        count_if(open_at(as_of)).label("open"),
        count_if(Need.reported_at >= start).label("new"),
        count_if(overdue_at(as_of)).label("overdue"),
    ]


def _weighted(counts: pd.DataFrame, key: str, weights: dict[str, float]) -> pd.DataFrame:
    """Per ``key``: ``workload`` (weighted open + new), ``open``, ``new``, ``overdue``."""
    w = counts["category"].map(weights).fillna(weights["other"]).astype("float64")
    counts = counts.assign(workload=w * (counts["open"] + counts["new"]))
    return counts.groupby(key, as_index=False)[["workload", "open", "new", "overdue"]].sum()


def grid_workload(
    session: Session,
    scope: Scope,
    *,
    start: dt.date,
    end: dt.date,
    weights: dict[str, float] | None = None,
    today: dt.date,
) -> pd.DataFrame:
    """Weighted workload per grid in ``scope`` over ``[start, end]``.

    Returns ``grid_code, workload, open, new``, one row per grid (zeros for grids without
    needs), by grid code. ``open``: needs open at ``min(end, today)``; ``new``: needs reported
    in the period. The scope's own period is ignored; its area and categories apply.
    """
    as_of = _check_period(start, end, today)
    w = resolve_weights(weights)
    grids = read_frame(
        session, select(Grid.code.label("grid_code")).where(scope.grid_filter()).order_by(Grid.code)
    )
    counts = read_frame(
        session,
        select(Need.grid_code.label("grid_code"), Need.category, *_flow_counts(as_of, start))
        .where(
            scope.need_filter(period=False)
            & Need.grid_code.is_not(None)
            & (Need.reported_at <= as_of)
        )
        .group_by(Need.grid_code, Need.category),
    )
    per_grid = _weighted(counts, "grid_code", w)
    out = grids.merge(per_grid, on="grid_code", how="left")
    out["workload"] = out["workload"].fillna(0.0).astype("float64")
    out[["open", "new"]] = out[["open", "new"]].fillna(0).astype("int64")
    return out[["grid_code", "workload", "open", "new"]]


def _current_assistants(scope: Scope, end: dt.date) -> ColumnElement:
    """Assignments of grid assistants to grids in ``scope`` current at ``end``."""
    return (Assignment.role == "grid_assistant") & Assignment.in_force(end) & scope.grid_filter()


def _assistant_grids(scope: Scope, end: dt.date) -> Subquery:
    return (
        select(Worker.code.label("assistant_code"), Grid.code.label("grid_code"))
        .join(Assignment, Assignment.worker_id == Worker.id)
        .join(Grid, Grid.id == Assignment.grid_id)
        .where(_current_assistants(scope, end))
        .distinct()
        .subquery("assistant_grids")
    )


def _by_assistant(ag: Subquery, *columns, where: ColumnElement[bool]) -> Select:
    return (
        select(ag.c.assistant_code, *columns)
        .select_from(Need)
        .join(ag, ag.c.grid_code == Need.grid_code)
        .where(where)
    )


def assistant_workload(
    session: Session,
    scope: Scope,
    *,
    start: dt.date,
    end: dt.date,
    weights: dict[str, float] | None = None,
    min_cases: int = 5,
    today: dt.date,
    summary: bool = True,
) -> pd.DataFrame:
    """Workload and service figures per current grid assistant, ranked fairly.

    Closed needs of whole months are counted from the closed-needs summaries
    (:mod:`grid_model.measures.need_stats`), per grid, then summed over each assistant's
    grids; ``summary=False`` joins every need to its assistants instead (same figures).

    Assistants are workers with a ``grid_assistant`` assignment to a grid in ``scope`` that is
    current at ``end`` (``valid_from ≤ end`` and ``valid_to`` empty or after ``end``); an
    assistant without cases appears with zeros.

    Columns
    -------
    assistant_code, assistant, grids, population
        The worker, how many grids they cover and those grids' residents.
    open, overdue
        Needs in their grids open at ``as_of = min(end, today)``, and those past due.
    new
        Needs reported in ``[start, as_of]``.
    closed, mean_days, median_days, on_time_rate, diary_compliance
        The indicators of :mod:`grid_model.measures.summary` over the needs reported in the period,
        as of ``as_of``: closed, days to close, closed on time / due to close, distinct working
        days with a diary entry / working days in ``[start, as_of]``.
    workload, workload_per_1000
        Weighted open + new, and per 1,000 residents (NaN without population).
    capacity
        The worker's FTE.
    ranked, rank
        ``ranked`` is False when ``closed + new < min_cases`` (too few cases for a fair figure)
        or capacity is not positive; ranked assistants get ``rank`` 1, 2, … by workload per
        FTE (``workload / capacity``), highest first, ties sharing the lower rank.
    """
    as_of = _check_period(start, end, today)
    w = resolve_weights(weights)
    if isinstance(min_cases, bool) or not isinstance(min_cases, int) or min_cases < 0:
        raise InvalidInputError(f"min_cases={min_cases!r}: expected a whole number ≥ 0")
    staff = _assistant_staff(session, scope, end)
    ag = _assistant_grids(scope, end)
    area = scope.need_filter(period=False) & (Need.reported_at <= as_of)
    cohort = area & (Need.reported_at >= start)
    if summary:
        grids = read_frame(session, select(ag))
        per_grid = _GridFigures(session, scope, start, as_of)
        flows, service = per_grid.flows(grids, w), per_grid.service(grids)
        diary, medians = per_grid.diary_days(grids), per_grid.medians(grids)
    else:
        flows = _assistant_flows(session, ag, area, as_of, start, w)
        service = _assistant_service(session, ag, cohort, as_of)
        diary = _assistant_diary_days(session, ag, cohort, as_of)
        medians = _assistant_medians(session, ag, cohort, as_of)
    df = staff.merge(flows, **_BY_CODE).merge(service, **_BY_CODE).merge(diary, **_BY_CODE)
    df = _service_figures(df, medians, start, as_of)
    return _rank(df, min_cases)


_SERVICE = ("closed", "due_to_close", "on_time", "days_sum", "days_n")


class _GridFigures:
    """The figures of :func:`assistant_workload` per grid, read through the closed-needs
    summaries (:func:`~grid_model.measures.need_stats.read_measures`), then summed over each
    assistant's grids: the same as joining every need to its assistants."""

    def __init__(self, session: Session, scope: Scope, start: dt.date, as_of: dt.date) -> None:
        self.session, self.as_of = session, as_of
        self.area = replace(scope, start=None, end=None)  # every need up to as_of
        self.cohort = replace(scope, start=start, end=as_of)  # those reported in the period

    def _read(self, scope: Scope, names: tuple[str, ...], keys: list[str]) -> pd.DataFrame:
        key = [_NEED_KEYS[k] for k in keys]
        raw = select(*key, *need_aggregates(self.as_of, names)).group_by(*key)
        stat = [getattr(NeedMonthStat, k).label(k) for k in keys]
        stats = select(*stat, *summary_aggregates(names)).group_by(*stat)
        return read_measures(self.session, scope, self.as_of, raw, stats, names, keys)

    def flows(self, grids: pd.DataFrame, weights: dict[str, float]) -> pd.DataFrame:
        """Per assistant: weighted ``workload``, ``open``, ``new``, ``overdue``."""
        keys = ["grid_code", "category"]
        backlog = self._read(self.area, ("open", "overdue"), keys)
        inflow = self._read(self.cohort, ("needs",), keys).rename(columns={"needs": "new"})
        per_grid = backlog.merge(inflow, on=keys, how="outer")
        per_grid[["open", "overdue", "new"]] = per_grid[["open", "overdue", "new"]].fillna(0)
        return _weighted(grids.merge(per_grid, on="grid_code"), "assistant_code", weights)

    def service(self, grids: pd.DataFrame) -> pd.DataFrame:
        """Per assistant: the closing measures of the needs reported in the period."""
        per_grid = self._read(self.cohort, _SERVICE, ["grid_code"])
        by = grids.merge(per_grid, on="grid_code").groupby("assistant_code", as_index=False)
        return by[list(_SERVICE)].sum()

    def diary_days(self, grids: pd.DataFrame) -> pd.DataFrame:
        """Per assistant: ``diary_days``, distinct working days with a diary entry."""
        dated = read_diary_dates(self.session, self.cohort, self.as_of, ["grid_code"])
        mine = grids.merge(dated, on="grid_code")[["assistant_code", "diary_date"]]
        return _count_workdays(mine.drop_duplicates())

    def medians(self, grids: pd.DataFrame) -> dict[str, float | None]:
        """Median days to close per assistant, from the per-grid histograms."""
        hist = days_to_close_histogram(self.session, self.cohort, self.as_of, ["grid_code"])
        per_assistant = grids.merge(hist, on="grid_code")
        return medians_from_counts(per_assistant, "assistant_code").to_dict()


#: Group keys of needs, as :func:`_GridFigures._read` groups them. The grid on an expression,
#: not the bare column: SQLite would otherwise walk the (grid_code, reported_at) index to skip
#: the sort (see :mod:`grid_model.measures.per_grid`); needs without a grid match no assistant.
_NEED_KEYS = {
    "grid_code": func.coalesce(Need.grid_code, "").label("grid_code"),
    "category": Need.category.label("category"),
}


_BY_CODE = {"on": "assistant_code", "how": "left"}


def _assistant_staff(session: Session, scope: Scope, end: dt.date) -> pd.DataFrame:
    """Per current assistant: name, FTE, how many grids and their residents."""
    return read_frame(
        session,
        select(
            Worker.code.label("assistant_code"),
            Worker.name.label("assistant"),
            Worker.capacity.label("capacity"),
            func.count(func.distinct(Grid.id)).label("grids"),
            func.sum(Grid.population).label("population"),
        )
        .join(Assignment, Assignment.worker_id == Worker.id)
        .join(Grid, Grid.id == Assignment.grid_id)
        .where(_current_assistants(scope, end))
        .group_by(Worker.code, Worker.name, Worker.capacity)
        .order_by(Worker.code),
    )


def _assistant_flows(
    session: Session,
    ag: Subquery,
    area: ColumnElement[bool],
    as_of: dt.date,
    start: dt.date,
    weights: dict[str, float],
) -> pd.DataFrame:
    """Per assistant: weighted ``workload``, ``open``, ``new``, ``overdue``."""
    flows = read_frame(
        session,
        _by_assistant(ag, Need.category, *_flow_counts(as_of, start), where=area).group_by(
            ag.c.assistant_code, Need.category
        ),
    )
    return _weighted(flows, "assistant_code", weights)


def _assistant_service(
    session: Session, ag: Subquery, cohort: ColumnElement[bool], as_of: dt.date
) -> pd.DataFrame:
    """Per assistant: the closing measures of the needs reported in the period."""
    measures = ("closed", "due_to_close", "on_time", "days_sum", "days_n")
    return read_frame(
        session,
        _by_assistant(ag, *need_aggregates(as_of, measures), where=cohort).group_by(
            ag.c.assistant_code
        ),
    )


def _assistant_diary_days(
    session: Session, ag: Subquery, cohort: ColumnElement[bool], as_of: dt.date
) -> pd.DataFrame:
    """Per assistant: ``diary_days``, distinct working days with a diary entry."""
    diary, diary_cond = diary_dates(as_of)
    dated = read_frame(
        session, _by_assistant(ag, diary, where=cohort & diary_cond).distinct()
    )  # one row per assistant and diary day
    return _count_workdays(dated)


def _count_workdays(dated: pd.DataFrame) -> pd.DataFrame:
    """``assistant_code, diary_days`` of distinct ``assistant_code, diary_date`` rows: the
    working days among them."""
    workdays = {d: is_workday(d) for d in dated["diary_date"].unique()}  # a day once
    worked = dated.loc[dated["diary_date"].map(workdays).to_numpy(dtype=bool)]
    return worked.groupby("assistant_code").size().rename("diary_days").reset_index()


def _assistant_medians(
    session: Session, ag: Subquery, cohort: ColumnElement[bool], as_of: dt.date
) -> dict[str, float | None]:
    """Median days to close per assistant, from per-assistant histograms."""
    days, closed_cond = days_to_close_counts(as_of)
    hist = read_frame(
        session,
        _by_assistant(ag, days, func.count().label("n"), where=cohort & closed_cond).group_by(
            ag.c.assistant_code, days
        ),
    )
    return medians_from_counts(hist, "assistant_code").to_dict()


def _service_figures(
    df: pd.DataFrame, medians: dict, start: dt.date, as_of: dt.date
) -> pd.DataFrame:
    """Zeros for assistants without cases, then days to close, rates and workload per 1,000."""
    counts = ["open", "new", "overdue", "closed", "due_to_close", "on_time", "days_n", "diary_days"]
    df[counts] = df[counts].fillna(0).astype("int64")
    df["workload"] = df["workload"].fillna(0.0).astype("float64")
    df["population"] = pd.to_numeric(df["population"]).astype("Int64")
    df["capacity"] = df["capacity"].astype("float64")
    df["days_sum"] = pd.to_numeric(df["days_sum"]).fillna(0).astype("float64")
    df["mean_days"] = (df["days_sum"] / df["days_n"]).where(df["days_n"] > 0)
    df["median_days"] = df["assistant_code"].map(medians).astype("float64")
    df["on_time_rate"] = (df["on_time"] / df["due_to_close"]).where(df["due_to_close"] > 0)
    wd = working_days(start, as_of)
    df["diary_compliance"] = df["diary_days"] / wd if wd else float("nan")
    df["workload_per_1000"] = per_1000(df["workload"], df["population"])
    return df


def _rank(df: pd.DataFrame, min_cases: int) -> pd.DataFrame:
    """``ranked`` and ``rank`` (by workload per FTE, highest first), sorted by rank."""
    df["ranked"] = ((df["closed"] + df["new"]) >= min_cases) & (df["capacity"] > 0)
    load = (df["workload"] / df["capacity"]).where(df["ranked"])
    df["rank"] = load.rank(method="min", ascending=False).astype("Int64")
    df = df.sort_values(["rank", "assistant_code"], na_position="last", kind="stable")
    return df[ASSISTANT_COLUMNS].reset_index(drop=True)
