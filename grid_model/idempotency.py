"""Idempotency keys: a write sent again with the same ``Idempotency-Key`` is answered as the
first time, and never written twice.

The service that writes calls :func:`replay` first, in its write transaction: a stored answer
for the same owner and key comes back (and nothing is written); the same key with another
request body is a :class:`~grid_model.errors.ConflictError`. After the write it calls
:func:`save` in the same transaction, so the answer exists exactly when the write does. Two
retries at the same moment: the unique index on (owner, key) lets one commit; the other's
transaction fails as a concurrent duplicate and, run again (:func:`grid_model.db.run_write`),
finds the answer.

Keys are what a client makes up (a UUID, typically): 1 to :data:`MAX_KEY_CHARS` printable
ASCII characters without spaces. Records older than :data:`KEEP` are forgotten by
:func:`forget_old`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from grid_model.errors import ConflictError, InvalidInputError
from grid_model.messages import t
from grid_model.models import IdempotencyRecord

MAX_KEY_CHARS = 100
KEEP = dt.timedelta(days=7)


@dataclass(frozen=True)
class Answer:
    """What was answered the first time."""

    status_code: int
    body: dict | list | None


def check_key(key: str, lang: str = "zh") -> str:
    """``key`` when it is one (see the module docstring), else InvalidInputError naming the
    header."""
    if not (0 < len(key) <= MAX_KEY_CHARS) or not all("!" <= ch <= "~" for ch in key):
        raise InvalidInputError(
            t("invalid_field", lang, field="Idempotency-Key", value=key[:40],
              expected=t("expected_idempotency_key", lang, n=MAX_KEY_CHARS))
        )  # fmt: skip
    return key


def request_hash(payload: object) -> str:
    """SHA-256 of a request's content (any JSON-able value; keys in order)."""
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def replay(
    session: Session, owner: str, key: str, digest: str, *, lang: str = "zh"
) -> Answer | None:
    """The answer stored for ``owner`` and ``key``, or None; ConflictError when the key was
    used with another request (``digest`` differs)."""
    row = session.scalar(
        select(IdempotencyRecord).where(
            (IdempotencyRecord.owner == owner) & (IdempotencyRecord.key == key)
        )
    )
    if row is None:
        return None
    if row.request_hash != digest:
        raise ConflictError(t("idempotency_key_reused", lang, key=key[:40]))
    return Answer(row.status_code, row.response)


def save(session: Session, owner: str, key: str, digest: str, answer: Answer) -> IdempotencyRecord:
    """Store ``answer`` for ``owner`` and ``key`` in the session's transaction."""
    row = IdempotencyRecord(
        owner=owner,
        key=key,
        request_hash=digest,
        status_code=answer.status_code,
        response=answer.body,
    )
    session.add(row)
    session.flush()
    return row


def forget_old(session: Session, now: dt.datetime) -> int:
    """Delete records older than :data:`KEEP` at ``now`` (naive UTC); how many."""
    result = session.execute(
        delete(IdempotencyRecord)
        .where(IdempotencyRecord.created_at < now - KEEP)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


__all__ = ["KEEP", "MAX_KEY_CHARS", "Answer", "check_key", "forget_old", "replay", "request_hash",
           "save"]  # fmt: skip
