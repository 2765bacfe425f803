"""Rebalance grid assistants' territories (DESIGN §6, Rebalancing)."""

from grid_model.rebalance.search import (
    Assistant,
    GridAdjacency,
    PlanCheck,
    RebalancePlan,
    apply_plan,
    grid_adjacency,
    plan_rebalance,
    rebalance_community,
    spare_assistants,
    validate_plan,
)

__all__ = [
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
