"""API keys: a key acts as its account, with the role and area the account has now.

:func:`create_key` makes a key from 32 random bytes (``glk_`` + URL-safe base64) and stores
only its SHA-256 (a high-entropy key needs no slow hash: nobody can guess 256 bits, and a
fast hash keeps every request cheap). The key itself is shown once, by whoever created it.
:func:`viewer_for_key` finds the key by its hash and returns the account's viewer as stored
now (:func:`grid_model.accounts.current_viewer`): a disabled account or a revoked key is no
viewer, a changed role or area applies at the next request.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from grid_model import accounts, audit
from grid_model.errors import NotFoundError
from grid_model.messages import t
from grid_model.models import Account, ApiKey
from grid_model.scope import Viewer, require

KEY_PREFIX = "glk_"
_RANDOM_BYTES = 32
#: keys longer than this are no key of ours (and are not hashed)
MAX_KEY_CHARS = 100
_SHOWN_CHARS = 12


def key_hash(key: str) -> str:
    """The stored form of ``key``: its SHA-256 in hex."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def create_key(
    session: Session, username: str, *, viewer: Viewer, lang: str = "zh"
) -> tuple[str, ApiKey]:
    """A new key for the account ``username``: the key (to show once) and its stored row.
    ``viewer`` must be allowed to manage accounts; the audit entry names the key's prefix.

    Raises
    ------
    NotFoundError
        No such account.
    PermissionDeniedError
        ``viewer`` may not manage accounts.
    """
    viewer = require(session, viewer, "manage_accounts", lang=lang)
    account = session.scalar(select(Account).where(Account.username == username))
    if account is None:
        raise NotFoundError(t("account_unknown", lang, value=username))
    key = KEY_PREFIX + secrets.token_urlsafe(_RANDOM_BYTES)
    row = ApiKey(prefix=key[:_SHOWN_CHARS], key_hash=key_hash(key), username=username, active=True)
    session.add(row)
    audit.record(
        session, viewer, "api_key_create", "accounts", entity_id=username,
        details={"prefix": row.prefix},
    )  # fmt: skip
    session.flush()
    return key, row


def revoke_keys(session: Session, username: str, *, viewer: Viewer, lang: str = "zh") -> int:
    """Revoke every key of ``username``; how many were active."""
    viewer = require(session, viewer, "manage_accounts", lang=lang)
    rows = session.scalars(
        select(ApiKey).where((ApiKey.username == username) & ApiKey.active)
    ).all()
    for row in rows:
        row.active = False
    audit.record(session, viewer, "api_key_revoke", "accounts", entity_id=username,
                 details={"keys": len(rows)})  # fmt: skip
    session.flush()
    return len(rows)


def find_key(session: Session, key: str | None) -> ApiKey | None:
    """The active stored key ``key`` is, or None (no key, unknown, revoked)."""
    if not key or len(key) > MAX_KEY_CHARS or not key.startswith(KEY_PREFIX):
        return None
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == key_hash(key)))
    return row if row is not None and row.active else None


def viewer_for_key(session: Session, key: str | None) -> Viewer | None:
    """The viewer ``key`` acts as now: its account's role, area and name; None for no key, an
    unknown or revoked key, or a disabled account."""
    row = find_key(session, key)
    if row is None:
        return None
    return accounts.current_viewer(session, row.username)


__all__ = [
    "KEY_PREFIX",
    "MAX_KEY_CHARS",
    "create_key",
    "find_key",
    "key_hash",
    "revoke_keys",
    "viewer_for_key",
]
