"""The mobile intake page (``/intake``) and its sign-in.

The page is static (``api/static/intake.*``): it signs in here with a username and password
(:func:`grid_model.accounts.sign_in`, throttled as on the dashboard) and gets a signed,
HttpOnly, SameSite=Strict session cookie; it then posts to the GeoReport routes with the
``X-GridLaw-Intake`` header (:mod:`api.auth`). A service worker (``/intake-sw.js``) keeps the
page and what it reads, so it opens again without a network (browsers allow service workers in
a secure context only: https, or the machine itself); submissions wait in IndexedDB.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel

from api.auth import SESSION_USER, caller
from api.errors import ERROR_RESPONSES, ApiError, request_lang
from grid_model import accounts, db
from grid_model.messages import t

STATIC = Path(__file__).resolve().parent / "static"
router = APIRouter(tags=["intake page"], responses=ERROR_RESPONSES)

_PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


class Me(BaseModel):
    username: str
    name: str
    role: str
    area_code: str | None
    sees_personal_data: bool
    may_record: bool


@router.get("/intake", response_class=FileResponse, include_in_schema=False)
def intake_page():
    return FileResponse(STATIC / "intake.html", media_type="text/html", headers=_PAGE_HEADERS)


@router.get("/intake-sw.js", response_class=FileResponse, include_in_schema=False)
def intake_worker():
    """The page's service worker, served from the root so that it may serve ``/intake``."""
    headers = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
    return FileResponse(STATIC / "intake-sw.js", media_type="text/javascript", headers=headers)


def _me(viewer) -> dict:
    return {
        "username": viewer.username or viewer.name,
        "name": viewer.name,
        "role": viewer.role,
        "area_code": viewer.area_code,
        "sees_personal_data": viewer.sees_personal_data,
        "may_record": viewer.may("record_need"),
    }


@router.post("/intake/session", response_model=Me, summary="sign in (session cookie)")
def sign_in(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=accounts.MAX_PASSWORD)],
):
    lang = request_lang(request)
    origin = request.client.host if request.client else None
    with db.writing(request.app.state.engine, lang=lang) as session:
        result = accounts.sign_in(session, username, password, origin=origin)
    if result.viewer is None:
        time.sleep(result.delay)
        headers = {}
        if result.retry_after is not None:
            headers["Retry-After"] = str(int(result.retry_after.total_seconds()) + 1)
        raise ApiError(429 if result.retry_after else 403, result.message(lang), headers)
    request.session.clear()
    request.session[SESSION_USER] = result.viewer.username
    return _me(result.viewer)


@router.get("/intake/session", response_model=Me, summary="who is signed in")
def who_am_i(request: Request):
    who = caller(request)
    if who.via == "public":
        raise ApiError(403, t("o311.key_required", request_lang(request)))
    return _me(who.viewer)


@router.delete("/intake/session", summary="sign out")
def sign_out(request: Request):
    request.session.clear()
    return JSONResponse(
        {"signed_out": True, "message": t("o311.signed_out", request_lang(request))}
    )
