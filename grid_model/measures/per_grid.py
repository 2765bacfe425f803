"""Measures per grid (:func:`grid_measures`): the map's choropleth and the grid table, one row
per grid with the columns of :data:`~grid_model.measures.definitions.GRID_MEASURES`."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grid_model.measures.definitions import (
    GRID_MEASURE_COLUMNS,
    need_aggregates,
    per_1000,
    rates,
    summary_aggregates,
)
from grid_model.measures.need_stats import read_measures
from grid_model.measures.summary import event_filter
from grid_model.models import Grid, Need, NeedMonthStat, ServiceEvent
from grid_model.queries import read_frame
from grid_model.scope import Scope

_GRID_NEED_COUNTS = ("needs", "open", "overdue", "closed", "due_to_close", "on_time", "last_diary")


def _grid_need_counts(
    session: Session, scope: Scope, today: dt.date, *, summary: bool = True
) -> pd.DataFrame:
    """Per grid code: the need counts of :func:`grid_measures` and ``last_diary``.

    Closed needs of whole months come from the summary of :mod:`grid_model.measures.need_stats`; the
    rest (open needs, months at the period's edges, buckets marked out of date) from
    ``needs``. Same figures as one GROUP BY over ``needs``, an order of magnitude faster on a
    million needs.
    """
    # Grouped on an expression, not the bare column: SQLite would otherwise walk the
    # (grid_code, reported_at) index to skip the sort and fetch every row at random, 2-3x
    # slower on a million needs than a scan and a sort. Needs without a grid drop out later.
    grid_key = func.coalesce(Need.grid_code, "").label("grid_code")
    counts = select(grid_key, *need_aggregates(today, _GRID_NEED_COUNTS)).group_by(grid_key)
    s = NeedMonthStat
    stats = select(s.grid_code, *summary_aggregates(_GRID_NEED_COUNTS)).group_by(s.grid_code)
    return read_measures(
        session, scope, today, counts, stats, _GRID_NEED_COUNTS, ["grid_code"], summary=summary
    )


def _grids(session: Session, scope: Scope) -> pd.DataFrame:
    return read_frame(
        session,
        select(
            Grid.code.label("grid_code"),
            Grid.name.label("grid_name"),
            Grid.community_code,
            Grid.population,
        )
        .where(scope.grid_filter())
        .order_by(Grid.code),
    )


def _grid_services(session: Session, scope: Scope, today: dt.date) -> pd.DataFrame:
    return read_frame(
        session,
        select(ServiceEvent.grid_code.label("grid_code"), func.count().label("services"))
        .where(event_filter(scope, today) & ServiceEvent.grid_code.is_not(None))
        .group_by(ServiceEvent.grid_code),
    )


def _derive(df: pd.DataFrame) -> pd.DataFrame:
    """Zeros for grids without needs or events, then the rates."""
    counts = ["needs", "open", "overdue", "closed", "due_to_close", "on_time", "services"]
    df[counts] = df[counts].fillna(0).astype("int64")
    df["population"] = df["population"].astype("Int64")
    df["per_1000"] = per_1000(df["needs"], df["population"])
    df["on_time_rate"] = rates(df["on_time"], df["due_to_close"])
    df["closure_rate"] = rates(df["closed"], df["due_to_close"])
    df["last_diary"] = df["last_diary"].astype(object).where(df["last_diary"].notna(), None)
    return df[GRID_MEASURE_COLUMNS]


def grid_measures(
    session: Session, scope: Scope, *, today: dt.date, summary: bool = True
) -> pd.DataFrame:
    """One row per grid in ``scope``, grids without needs included with zeros.

    Columns: ``grid_code, grid_name, community_code, population, needs, per_1000`` (needs per
    1,000 residents, NaN without population), ``open, overdue, closed, on_time_rate,
    closure_rate`` (as in :class:`~grid_model.measures.summary.Kpis`, NaN when nothing is
    due), ``services`` (events held in the grid in the period), ``last_diary`` (latest diary
    entry among the needs in scope, or None). Ordered by grid code.

    Closed needs of whole months are read from the summary of :mod:`grid_model.measures.need_stats`
    (same figures, an order of magnitude faster on a million needs); ``summary=False`` reads
    every need instead (the reference the tests and ``bench/map_page.py`` compare with).
    """
    grids = _grids(session, scope)
    needs = _grid_need_counts(session, scope, today, summary=summary)
    events = _grid_services(session, scope, today)
    df = grids.merge(needs, on="grid_code", how="left").merge(events, on="grid_code", how="left")
    return _derive(df)
