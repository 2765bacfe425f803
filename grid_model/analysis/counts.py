"""Need counts per grid and per grid-month, what the hot spot statistics are computed from.

Closed needs of whole months are read from the closed-needs summary of
:mod:`grid_model.measures.need_stats` (kept exact by its triggers and refresh), the rest —
open needs, the months at the period's edges, buckets marked out of date — from ``needs``
(:func:`~grid_model.measures.need_stats.read_measures`). ``summary=False`` counts every need
with one ``GROUP BY``, the reference the tests compare with.

The Hot spots page needs the counts three times over one scope: per grid for Gi*, and per
grid-month up to this month's end and last month's for the emerging hot spots. One read per
grid-month (:func:`read_need_months`) holds all three: a :class:`NeedMonths` knows the scope
it was read for and answers only what follows from it exactly (:meth:`NeedMonths.serves`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import geopandas as gpd
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grid_model.db.sqldates import month_start
from grid_model.errors import InvalidInputError
from grid_model.measures.need_stats import read_measures
from grid_model.models import Need, NeedMonthStat
from grid_model.scope import Scope


def grid_need_counts(
    session: Session, scope: Scope, *, by_month: bool = False, summary: bool = True
) -> pd.DataFrame:
    """Needs of ``scope`` (area, period, categories, statuses) per grid, and per report month
    with ``by_month``: ``grid_code, [month,] count``; needs outside every grid are left out.
    ``month`` is the first day of the month (a date, or ISO text on SQLite's raw rows)."""
    # Grouped on an expression (see grid_model.measures.per_grid): SQLite would otherwise walk
    # the (grid_code, reported_at) index and fetch every row at random.
    grid_key = func.coalesce(Need.grid_code, "").label("grid_code")
    s = NeedMonthStat
    raw_keys, stat_keys = [grid_key], [s.grid_code]
    if by_month:
        raw_keys.append(month_start(Need.reported_at).label("month"))
        stat_keys.append(s.month_start.label("month"))
    raw = select(*raw_keys, func.count(Need.id).label("needs")).group_by(*raw_keys)
    stats = select(*stat_keys, func.sum(s.needs).label("needs")).group_by(*stat_keys)
    keys = ["grid_code", "month"] if by_month else ["grid_code"]
    frame = read_measures(
        session, scope, None, raw, stats, ["needs"], keys, summary=summary, in_database=True
    )
    frame = frame[frame["grid_code"] != ""].rename(columns={"needs": "count"})
    frame["count"] = frame["count"].astype("int64")
    return frame.reset_index(drop=True)


@dataclass(frozen=True)
class NeedMonths:
    """Needs of ``scope`` per grid and report month, as :func:`grid_need_counts` with
    ``by_month`` reads them (``months``: ``grid_code, month, count``, month the first day of
    the month as a timestamp), and the scope's grids when they were read along (``grids``, as the
    statistics load them)."""

    scope: Scope
    months: pd.DataFrame
    grids: gpd.GeoDataFrame | None = None

    def per_grid(self) -> pd.DataFrame:
        """``grid_need_counts(session, scope)``: ``grid_code, count`` (grids with needs)."""
        total = self.months.groupby("grid_code", as_index=False, sort=True)["count"].sum()
        total["count"] = total["count"].astype("int64")
        return total.reset_index(drop=True)

    def serves(self, scope: Scope) -> bool:
        """Whether ``grid_need_counts(session, scope, by_month=True)`` follows from these
        months: the same area and filters, and the same start and end or whole months inside
        them (a later start on the first of a month, an earlier end on the last day of one)."""
        me = self.scope
        if replace(scope, start=me.start, end=me.end) != me:
            return False
        start_ok = scope.start == me.start or (
            scope.start is not None
            and scope.start.day == 1
            and (me.start is None or me.start <= scope.start)
        )
        end_ok = scope.end == me.end or (
            scope.end is not None
            and (scope.end + dt.timedelta(days=1)).day == 1
            and (me.end is None or scope.end <= me.end)
        )
        return start_ok and end_ok

    def of(self, scope: Scope) -> pd.DataFrame:
        """``grid_need_counts(session, scope, by_month=True)`` for a scope these months
        :meth:`serve`."""
        if not self.serves(scope):
            raise InvalidInputError(f"the months of {self.scope} do not hold those of {scope}")
        month = self.months["month"]
        keep = pd.Series(True, index=month.index)
        if scope.start != self.scope.start:
            keep &= month >= pd.Timestamp(scope.start)
        if scope.end != self.scope.end:
            keep &= month <= pd.Timestamp(scope.end)
        return self.months[keep.to_numpy()].reset_index(drop=True)


def read_need_months(
    session: Session,
    scope: Scope,
    *,
    summary: bool = True,
    grids: gpd.GeoDataFrame | None = None,
) -> NeedMonths:
    """The needs of ``scope`` per grid and report month (see :class:`NeedMonths`); ``scope``
    as the statistics read it (already cut to the viewer's area)."""
    frame = grid_need_counts(session, scope, by_month=True, summary=summary)
    frame["month"] = pd.to_datetime(frame["month"])
    return NeedMonths(scope, frame, grids)
