"""Rebalance grid assistants' territories (DESIGN §6, Rebalancing).

Assign grids to ``k`` assistants so that every territory is contiguous, each assistant's
workload is within a tolerance of their capacity share, as few grids as possible change hands
from today's assignment, locked grids stay, and territories stay compact.

Modules, from the bottom up:

- :mod:`~grid_model.rebalance.inputs` — the assistants (:class:`Assistant`) and the checks of
  what a plan starts from (grids, today's assistants, the team, the locks).
- :mod:`~grid_model.rebalance.adjacency` — which grids are neighbours (rook or queen
  contiguity, bridges across gaps): :func:`grid_adjacency`, :class:`GridAdjacency`.
- :mod:`~grid_model.rebalance.state` — the search state: each grid's territory, loads, band
  excess and articulation points, kept up to date move by move.
- :mod:`~grid_model.rebalance.repair`, :mod:`~grid_model.rebalance.flows`,
  :mod:`~grid_model.rebalance.polish` — the steps of the search: repair today's assignment,
  flow rounds, polish and ejection chains, fewer moves.
- :mod:`~grid_model.rebalance.plan` — the result: :class:`RebalancePlan`, its check
  (:func:`validate_plan`, :class:`PlanCheck`) and its message.
- :mod:`~grid_model.rebalance.search` — :func:`plan_rebalance`: the search from start to plan.
- :mod:`~grid_model.rebalance.service` — the database: :func:`rebalance_community` (read),
  :func:`spare_assistants` (read), :func:`apply_plan` (write, with an audit entry).
"""

from grid_model.rebalance.adjacency import CONTIGUITY, GridAdjacency, grid_adjacency
from grid_model.rebalance.inputs import (
    DEFAULT_TIME_LIMIT_S,
    DEFAULT_TOLERANCE,
    NEW_PREFIX,
    Assistant,
)
from grid_model.rebalance.plan import PlanCheck, RebalancePlan, validate_plan
from grid_model.rebalance.search import plan_rebalance
from grid_model.rebalance.service import apply_plan, rebalance_community, spare_assistants

__all__ = [
    "CONTIGUITY",
    "DEFAULT_TIME_LIMIT_S",
    "DEFAULT_TOLERANCE",
    "NEW_PREFIX",
    "Assistant",
    "GridAdjacency",
    "PlanCheck",
    "RebalancePlan",
    "apply_plan",
    "grid_adjacency",
    "plan_rebalance",
    "rebalance_community",
    "spare_assistants",
    "validate_plan",
]
