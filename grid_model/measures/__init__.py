"""Measures of the needs and the work on them (DESIGN §4).

Modules
-------
definitions
    The one measures table: due days, predicates (open, overdue, closed on time, …), the
    aggregate :data:`~grid_model.measures.definitions.MEASURES` and the per-grid columns.
need_stats
    The closed-needs summary: what it holds, when readers may use it, how it is refreshed.
summary
    Headline indicators (:func:`compute_kpis`) and the monthly trend.
per_grid
    Measures per grid (:func:`grid_measures`).
heat
    Needs on a lon/lat lattice for the heatmap (:func:`heat_bins`).
grid_card
    One grid's card (:func:`~grid_model.measures.grid_card.grid_card`; not re-exported
    here, so ``grid_model.measures.grid_card`` stays the module).
workload
    Workload of grids and grid assistants.
indicators
    A facade re-exporting the names above under the module's historical name.
"""

from grid_model.measures.definitions import DUE_DAYS, GRID_MEASURE_COLUMNS
from grid_model.measures.heat import heat_bins
from grid_model.measures.per_grid import grid_measures
from grid_model.measures.summary import Kpis, compute_kpis, monthly_trend

__all__ = [
    "DUE_DAYS",
    "GRID_MEASURE_COLUMNS",
    "Kpis",
    "compute_kpis",
    "grid_measures",
    "heat_bins",
    "monthly_trend",
]
