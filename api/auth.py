"""Who asks: an API key (``api_key`` parameter or ``X-API-Key`` header), else the intake
page's signed-in session (a signed cookie holding the username), else the public.

A key that is given but unknown, revoked or of a disabled account is refused (403), never read
as the public. The account behind a key or session is read anew on every request
(:func:`grid_model.apikeys.viewer_for_key`, :func:`grid_model.accounts.current_viewer`), so a
disabled account or a changed role applies at once. Writes need a key or a session; writes
with a session also need the ``X-GridLaw-Intake`` header, which a page of another site cannot
send (with the SameSite=Strict cookie, no cross-site form can write), and are rate-limited per
account like writes with a key.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from api.errors import ApiError, request_lang
from grid_model import accounts, apikeys, db
from grid_model.messages import t
from grid_model.open311.requests import PUBLIC
from grid_model.scope import Viewer

INTAKE_HEADER = "X-GridLaw-Intake"
SESSION_USER = "username"


@dataclass(frozen=True)
class Caller:
    """The viewer a request acts as, and how it was known (``key``, ``session``, ``public``)."""

    viewer: Viewer
    via: str


def _key_of(request: Request, given: str | None) -> str | None:
    return given or request.headers.get("x-api-key") or request.query_params.get("api_key")


def caller(request: Request, api_key: str | None = None) -> Caller:
    """The caller of ``request`` (``api_key``: the key a form field carried)."""
    lang = request_lang(request)
    key = _key_of(request, api_key)
    engine = request.app.state.engine
    if key:
        with db.reading(engine, lang=lang) as session:
            viewer = apikeys.viewer_for_key(session, key)
        if viewer is None:
            raise ApiError(403, t("o311.key_invalid", lang))
        return Caller(viewer, "key")
    username = request.session.get(SESSION_USER) if "session" in request.scope else None
    if username:
        with db.reading(engine, lang=lang) as session:
            viewer = accounts.current_viewer(session, username)
        if viewer is not None:
            return Caller(viewer, "session")
        request.session.clear()
    return Caller(PUBLIC, "public")


def writer(request: Request, api_key: str | None = None) -> Viewer:
    """The viewer of a write: a key's or a session's (with its header), within the rate
    limit; 403 or 429 otherwise."""
    lang = request_lang(request)
    who = caller(request, api_key)
    if who.via == "public":
        raise ApiError(403, t("o311.key_required", lang))
    if who.via == "session" and request.headers.get(INTAKE_HEADER) != "1":
        raise ApiError(403, t("o311.cookie_header", lang))
    limiter = request.app.state.limiter
    wait = limiter.check(who.viewer.username or who.viewer.name)
    if wait is not None:
        raise ApiError(429, t("o311.rate_limited", lang, limit=limiter.limit, seconds=wait),
                       {"Retry-After": str(wait)})  # fmt: skip
    return who.viewer
