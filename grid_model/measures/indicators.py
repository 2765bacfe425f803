"""The indicators of DESIGN §4 under their historical name: a facade re-exporting the public
names of :mod:`~grid_model.measures.definitions`, :mod:`~grid_model.measures.summary`,
:mod:`~grid_model.measures.per_grid`, :mod:`~grid_model.measures.heat` and
:mod:`~grid_model.measures.grid_card`, so ``indicators.compute_kpis(...)`` keeps working.
New code imports from those modules (or from :mod:`grid_model.measures`).

>>> from grid_model.measures import summary
>>> compute_kpis is summary.compute_kpis
True
"""

from __future__ import annotations

from grid_model.measures.definitions import (
    DUE_DAYS,
    GRID_MEASURE_COLUMNS,
    GRID_MEASURES,
    MEASURES,
    Measure,
    closed_by,
    closed_on_time,
    count_if,
    days_to_close_counts,
    diary_dates,
    diary_period,
    due_date_expr,
    due_to_close,
    median_from_counts,
    need_aggregates,
    need_measures,
    not_closed,
    open_at,
    overdue_at,
    per_1000,
    rate,
)
from grid_model.measures.grid_card import STAFF_ROLES, GridCard, grid_card
from grid_model.measures.heat import HEAT_BASE_CELL_DEG, heat_bins
from grid_model.measures.per_grid import grid_measures
from grid_model.measures.summary import Kpis, compute_kpis, monthly_trend
from grid_model.workdays import working_days

__all__ = [
    "DUE_DAYS",
    "GRID_MEASURES",
    "GRID_MEASURE_COLUMNS",
    "HEAT_BASE_CELL_DEG",
    "MEASURES",
    "STAFF_ROLES",
    "GridCard",
    "Kpis",
    "Measure",
    "closed_by",
    "closed_on_time",
    "compute_kpis",
    "count_if",
    "days_to_close_counts",
    "diary_dates",
    "diary_period",
    "due_date_expr",
    "due_to_close",
    "grid_card",
    "grid_measures",
    "heat_bins",
    "median_from_counts",
    "monthly_trend",
    "need_aggregates",
    "need_measures",
    "not_closed",
    "open_at",
    "overdue_at",
    "per_1000",
    "rate",
    "working_days",
]
