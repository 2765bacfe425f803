"""A request as the API receives it: photo, idempotency key and need in one go.

:func:`submit` stores the photo file first (:func:`geodata.media.store_photo`: checked,
stripped of metadata), then in ONE write transaction looks up the idempotency key, records the
need with its photo row and stores the answer under the key; when the transaction fails, or
the answer was already given, the new file is deleted again. A retry over a bad network thus
never makes a second case, nor a second file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import Engine

from geodata import media
from grid_model import config, db, idempotency
from grid_model.open311.requests import RequestInput, record_request
from grid_model.open311.updates import UpdateInput, post_update
from grid_model.scope import Viewer


@dataclass(frozen=True)
class Submitted:
    """What :func:`submit` answered: HTTP status, body, and whether it was replayed."""

    status_code: int
    body: list | dict
    replayed: bool


def _owner(viewer: Viewer) -> str:
    return viewer.username or viewer.name


def submit(
    engine: Engine,
    data: RequestInput,
    *,
    viewer: Viewer,
    photo: bytes | None = None,
    idempotency_key: str | None = None,
    lang: str = "zh",
) -> Submitted:
    """Record ``data`` (see the module docstring); the GeoReport answer, a list of one."""
    key = idempotency.check_key(idempotency_key, lang) if idempotency_key is not None else None
    payload = data.as_payload()
    if photo is not None:
        payload["photo_sha256"] = hashlib.sha256(photo).hexdigest()
    digest = idempotency.request_hash(payload)
    stored = media.store_photo(photo, config.media_dir()) if photo is not None else None

    def work(session) -> Submitted:
        if key is not None:
            previous = idempotency.replay(session, _owner(viewer), key, digest, lang=lang)
            if previous is not None:
                return Submitted(previous.status_code, previous.body, True)
        answer, created = record_request(session, data, viewer=viewer, photo=stored, lang=lang)
        result = Submitted(201 if created else 200, [answer], not created)
        if key is not None:
            idempotency.save(session, _owner(viewer), key, digest,
                             idempotency.Answer(result.status_code, result.body))  # fmt: skip
        return result

    try:
        result = db.run_write(engine, work, lang=lang)
    except BaseException:
        if stored is not None:
            media.delete_photo(config.media_dir(), stored.filename)
        raise
    if stored is not None and result.replayed:
        media.delete_photo(config.media_dir(), stored.filename)
    return result


def submit_update(
    engine: Engine,
    need_id: int,
    data: UpdateInput,
    *,
    viewer: Viewer,
    idempotency_key: str | None = None,
    lang: str = "zh",
) -> Submitted:
    """Apply a status update in one write transaction with its idempotency key (the same
    rules as :func:`submit`); the answer is a list of one update."""
    key = idempotency.check_key(idempotency_key, lang) if idempotency_key is not None else None
    digest = idempotency.request_hash({"need": need_id, **data.as_payload()})

    def work(session) -> Submitted:
        if key is not None:
            previous = idempotency.replay(session, _owner(viewer), key, digest, lang=lang)
            if previous is not None:
                return Submitted(previous.status_code, previous.body, True)
        update = post_update(session, need_id, data, viewer=viewer, lang=lang)
        result = Submitted(201, [update], False)
        if key is not None:
            idempotency.save(session, _owner(viewer), key, digest,
                             idempotency.Answer(result.status_code, result.body))  # fmt: skip
        return result

    return db.run_write(engine, work, lang=lang)


__all__ = ["Submitted", "submit", "submit_update"]
