"""Errors as GeoReport v2 writes them: a JSON list of ``{"code": n, "description": "…"}``, one
per problem, the field named, in the language ``Accept-Language`` asks for (Chinese unless it
prefers English). No traceback ever reaches a client: anything unexpected is logged here and
answered with a 500 that says only that.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from geodata.errors import GeodataError
from geodata.media import MediaError
from grid_model import db
from grid_model.errors import (
    ConflictError,
    DatabaseError,
    GridLawError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from grid_model.messages import geodata_message, t

log = logging.getLogger("gridlaw.api")


class GeoReportError(BaseModel):
    """One problem: an HTTP-like code and what is wrong, naming the field."""

    code: int
    description: str


#: the error body every route may answer, for the OpenAPI document
ERROR_RESPONSES = {
    status: {"model": list[GeoReportError], "description": what}
    for status, what in [
        (400, "invalid input, each field named"),
        (403, "wrong API key, or not allowed"),
        (404, "not found (or not the caller's)"),
        (409, "changed meanwhile, or an idempotency key reused"),
        (413, "too large"),
        (415, "not a JPEG, PNG or WebP photo"),
        (429, "too many writes; see Retry-After"),
        (500, "internal error (no detail)"),
    ]
}


class ApiError(Exception):
    """An answer other than 200 decided by a route: status, message, headers."""

    def __init__(self, status: int, description: str, headers: dict | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.headers = status, description, headers or {}


def request_lang(request: Request) -> str:
    """``en`` when Accept-Language ranks English above Chinese (by q-value, then order), else
    ``zh``."""
    best: tuple[float, int, str] | None = None
    for order, part in enumerate(request.headers.get("accept-language", "").split(",")[:20]):
        tag, _, params = part.strip().lower().partition(";")
        lang = "en" if tag.startswith("en") else "zh" if tag.startswith("zh") else None
        if lang is None:
            continue
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if best is None or (q, -order) > (best[0], best[1]):
            best = (q, -order, lang)
    return best[2] if best is not None and best[0] > 0 else "zh"


def error_response(status: int, descriptions: list[str], headers: dict | None = None):
    body = [{"code": status, "description": d} for d in descriptions] or [
        {"code": status, "description": str(status)}
    ]
    return JSONResponse(body, status_code=status, headers=headers)


def _descriptions(exc: Exception) -> list[str]:
    fields = getattr(exc, "fields", None)
    if fields:
        return [line for _, line in fields]
    return [str(exc)]


_STATUS = [
    (NotFoundError, 404),
    (PermissionDeniedError, 403),
    (ConflictError, 409),
    (InvalidInputError, 400),
    (DatabaseError, 503),
]


def _domain(request: Request, exc: GridLawError):
    status = next((code for kind, code in _STATUS if isinstance(exc, kind)), 500)
    if status == 500:
        log.error("unexpected domain error on %s", request.url.path, exc_info=exc)
        return error_response(500, [t("o311.internal", request_lang(request))])
    headers = {"Retry-After": "1"} if status == 503 else None
    return error_response(status, _descriptions(exc), headers)


def _media(request: Request, exc: MediaError):
    status = {"media_too_large": 413, "media_bad_type": 415}.get(exc.key, 400)
    lang = request_lang(request)
    line = t("invalid_field", lang, field="media", value="", expected=geodata_message(exc, lang))
    return error_response(status, [line])


#: pydantic error type → message key of what was expected
_EXPECTED = {
    "missing": "expected_required",
    "int_parsing": "expected_integer",
    "int_type": "expected_integer",
    "int_from_float": "expected_integer",
    "float_parsing": "expected_number",
    "float_type": "expected_number",
    "finite_number": "expected_number",
    "string_type": "expected_text",
    "string_too_long": "expected_text",
    "value_error": "expected_text",
}


def _validation_line(error: dict, lang: str) -> str:
    field = next((str(p) for p in reversed(error.get("loc", ())) if isinstance(p, str)), "?")
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        expected = t("expected_one_of", lang, choices=f"{kind.replace('_', ' ')} "
                     f"{next(iter(ctx.values()), '')}")  # fmt: skip
    elif kind in ("literal_error", "enum"):
        expected = t("expected_one_of", lang, choices=str(ctx.get("expected", "")))
    elif kind == "string_too_long":
        expected = t("expected_max_length", lang, n=ctx.get("max_length"),
                     length=len(str(error.get("input", ""))))  # fmt: skip
    else:
        expected = t(_EXPECTED.get(kind, "expected_text"), lang)
    value = error.get("input")
    shown = "" if value is None or isinstance(value, dict) else str(value)[:60]
    return t("invalid_field", lang, field=field, value=shown, expected=expected)


def _validation(request: Request, exc: RequestValidationError):
    lang = request_lang(request)
    return error_response(400, [_validation_line(e, lang) for e in exc.errors()])


def _http(request: Request, exc: StarletteHTTPException):
    lang = request_lang(request)
    # the framework's own 400s are all bodies its parsers could not read
    key = {400: "o311.bad_body", 404: "o311.not_found", 405: "o311.method"}.get(exc.status_code)
    text = t(key, lang) if key else str(exc.detail)
    return error_response(exc.status_code, [text], getattr(exc, "headers", None))


def _api(request: Request, exc: ApiError):
    return error_response(exc.status, [exc.description], exc.headers)


def _unexpected(request: Request, exc: Exception):
    lang = request_lang(request)
    if db.is_database_error(exc):
        return _domain(request, db.translate_error(exc, lang))
    if isinstance(exc, GeodataError):
        return error_response(400, [geodata_message(exc, lang)])
    log.error("unexpected error on %s", request.url.path, exc_info=exc)
    return error_response(500, [t("o311.internal", lang)])


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(ApiError, _api)
    app.add_exception_handler(MediaError, _media)
    app.add_exception_handler(GridLawError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
