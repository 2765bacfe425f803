"""The one table between Open311 / FixMyStreet statuses and the steps of the case loop
(:mod:`grid_model.cases.steps`).

An update (``POST requests/{id}/updates.json``) names a FixMyStreet status, or, as this API's
extension, a step of the loop itself (``step``). :data:`UPDATE_STEPS` says which steps a status
may mean — the first one allowed from the case's status now is taken — and the values the
status carries (``fixed`` handles with the outcome ``resolved``; ``closed`` verifies a handled
case as passed, or closes a recorded one on the spot). :data:`STATUS_OUT` says how a stored
status is shown: the GeoReport ``status`` (``open``/``closed``) and FixMyStreet's finer one.
When the case steps change, only this table changes.
"""

from __future__ import annotations

from grid_model.cases.steps import STEPS, allowed_steps

#: FixMyStreet update status → (steps it may mean, in order of preference; values it carries)
UPDATE_STEPS: dict[str, tuple[tuple[str, ...], dict]] = {
    "action_scheduled": (("dispatch",), {}),
    "investigating": (("accept",), {}),
    "in_progress": (("start", "resume"), {}),
    "on_hold": (("hold",), {}),
    "internal_referral": (("return",), {}),
    "fixed": (("handle", "close"), {"outcome": "resolved"}),
    "closed": (("verify", "close"), {"passed": True}),
    "no_further_action": (("close", "handle"), {"outcome": "rejected"}),
    "not_councils_responsibility": (("close", "handle"), {"outcome": "rejected"}),
    "reopen": (("verify",), {"passed": False}),
}

#: stored status → (GeoReport status, FixMyStreet status)
STATUS_OUT: dict[str, tuple[str, str]] = {
    "recorded": ("open", "open"),
    "dispatched": ("open", "action_scheduled"),
    "accepted": ("open", "investigating"),
    "returned": ("open", "internal_referral"),
    "in_progress": ("open", "in_progress"),
    "on_hold": ("open", "on_hold"),
    "handled": ("open", "fixed"),
    "closed": ("closed", "closed"),
}

#: FixMyStreet status shown for a closing outcome (closed needs)
OUTCOME_OUT: dict[str, str] = {
    "resolved": "fixed",
    "mediated": "fixed",
    "mediation_failed": "no_further_action",
    "referred": "internal_referral",
    "rejected": "no_further_action",
}

GEOREPORT_STATUSES = ("open", "closed")
#: update statuses and steps a client may send
UPDATE_CHOICES = tuple(UPDATE_STEPS) + tuple(f"step:{s}" for s in STEPS)


def step_for(status: str, current: str) -> tuple[str, dict] | None:
    """The step an update ``status`` means for a case now in ``current``, and the values it
    carries; None when ``status`` is no update status. A ``step:<name>`` status names the step
    itself. When none of its steps is allowed now, the first is returned (the step's own check
    then names the allowed ones)."""
    if status.startswith("step:") and status[5:] in STEPS:
        return status[5:], {}
    if status not in UPDATE_STEPS:
        return None
    candidates, values = UPDATE_STEPS[status]
    allowed = allowed_steps(current)
    step = next((s for s in candidates if s in allowed), candidates[0])
    known = set(STEPS[step].required) | set(STEPS[step].optional)
    return step, {k: v for k, v in values.items() if k in known}


def stored_statuses(georeport_status: str) -> tuple[str, ...]:
    """The stored statuses a GeoReport ``status`` filter (``open``/``closed``) means."""
    return tuple(s for s, (shown, _) in STATUS_OUT.items() if shown == georeport_status)


def shown_status(status: str, outcome: str | None) -> tuple[str, str]:
    """(GeoReport status, FixMyStreet status) of a stored status and outcome."""
    shown, detailed = STATUS_OUT.get(status, ("open", "open"))
    if status == "closed" and outcome in OUTCOME_OUT:
        detailed = OUTCOME_OUT[outcome]
    return shown, detailed


__all__ = ["GEOREPORT_STATUSES", "OUTCOME_OUT", "STATUS_OUT", "UPDATE_CHOICES", "UPDATE_STEPS",
           "shown_status", "step_for", "stored_statuses"]  # fmt: skip
