"""The one table between Open311 / FixMyStreet statuses and the case steps.

An update (``POST requests/{id}/updates.json``) names a FixMyStreet status;
:data:`UPDATE_STEPS` says which case step it moves the need to, with the outcome it closes
with (None: the update must name one in ``outcome``). :data:`STATUS_OUT` says how a stored
status is shown: the GeoReport ``status`` (``open``/``closed``) and FixMyStreet's finer one.
Today's steps are those of :data:`grid_model.needs.cases.TRANSITIONS`; when the case steps
change, only this table changes.
"""

from __future__ import annotations

#: FixMyStreet update status → (case step, outcome it closes with; None: given by the update)
UPDATE_STEPS: dict[str, tuple[str, str | None]] = {
    "action_scheduled": ("dispatched", None),
    "investigating": ("dispatched", None),
    "in_progress": ("in_progress", None),
    "fixed": ("closed", "resolved"),
    "internal_referral": ("closed", "referred"),
    "no_further_action": ("closed", "rejected"),
    "not_councils_responsibility": ("closed", "rejected"),
    "closed": ("closed", None),
}

#: stored status → (GeoReport status, FixMyStreet status)
STATUS_OUT: dict[str, tuple[str, str]] = {
    "recorded": ("open", "open"),
    "dispatched": ("open", "action_scheduled"),
    "in_progress": ("open", "in_progress"),
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


def stored_statuses(georeport_status: str) -> tuple[str, ...]:
    """The stored statuses a GeoReport ``status`` filter (``open``/``closed``) means."""
    return tuple(s for s, (shown, _) in STATUS_OUT.items() if shown == georeport_status)


def shown_status(status: str, outcome: str | None) -> tuple[str, str]:
    """(GeoReport status, FixMyStreet status) of a stored status and outcome."""
    shown, detailed = STATUS_OUT.get(status, ("open", "open"))
    if status == "closed" and outcome in OUTCOME_OUT:
        detailed = OUTCOME_OUT[outcome]
    return shown, detailed


__all__ = ["GEOREPORT_STATUSES", "OUTCOME_OUT", "STATUS_OUT", "UPDATE_STEPS", "shown_status",
           "stored_statuses"]  # fmt: skip
