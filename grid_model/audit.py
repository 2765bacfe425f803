"""The audit log (``audit_log``): who changed what, when. Every service that changes stored
data writes its entry through :func:`record`, in the same transaction as the change, so an
entry exists exactly when the change does.

>>> from grid_model.scope import Viewer
>>> _entry(Viewer.local_admin("li"), "account_add", "accounts", "wang", {"role": "lawyer"}).actor
'li'
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from grid_model.models import AuditEntry
from grid_model.scope import Viewer


def record(
    session: Session,
    actor: Viewer | str,
    action: str,
    entity: str,
    *,
    entity_id: object = None,
    details: dict | None = None,
) -> AuditEntry:
    """Add the audit entry of ``action`` on ``entity`` (``entity_id`` when it is one row) by
    ``actor`` (a viewer, recorded by name, or a name) to the session's transaction."""
    entry = _entry(actor, action, entity, entity_id, details)
    session.add(entry)
    return entry


def _entry(
    actor: Viewer | str, action: str, entity: str, entity_id: object, details: dict | None
) -> AuditEntry:
    return AuditEntry(
        actor=actor.name if isinstance(actor, Viewer) else str(actor),
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        details=details,
    )
