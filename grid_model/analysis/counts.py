"""Need counts per grid and per grid-month, what the hot spot statistics are computed from.

Closed needs of whole months are read from the closed-needs summary of
:mod:`grid_model.measures.need_stats` (kept exact by its triggers and refresh), the rest —
open needs, the months at the period's edges, buckets marked out of date — from ``needs``
(:func:`~grid_model.measures.need_stats.read_measures`). ``summary=False`` counts every need
with one ``GROUP BY``, the reference the tests compare with.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grid_model.db.sqldates import month_start
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
    frame = read_measures(session, scope, None, raw, stats, ["needs"], keys, summary=summary)
    frame = frame[frame["grid_code"] != ""].rename(columns={"needs": "count"})
    frame["count"] = frame["count"].astype("int64")
    return frame.reset_index(drop=True)
