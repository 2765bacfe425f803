"""The application: :func:`create_app` builds it on an engine (default: the configured
database, ``GRIDLAW_DATABASE_URL``, the same as the dashboard's).

- GeoReport v2 under ``/open311/v2/`` (:mod:`api.open311`), the intake page at ``/intake``
  (:mod:`api.intake`), its files under ``/static``;
- OpenAPI at ``/openapi.json``, Swagger UI at ``/docs`` and ReDoc at ``/redoc`` from the files
  the ``fastapi-offline`` package ships (no CDN: the machines have no internet);
- requests larger than :data:`MAX_BODY_BYTES` are refused (413) before they are read whole;
- writes limited per key (:class:`grid_model.ratelimit.WriteLimiter`).
"""

from __future__ import annotations

import secrets

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from sqlalchemy import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from api import errors, intake, open311
from api.errors import request_lang
from geodata.media import MAX_PHOTO_BYTES
from grid_model import config, db
from grid_model.messages import t
from grid_model.ratelimit import WriteLimiter

#: a photo and the form around it
MAX_BODY_BYTES = MAX_PHOTO_BYTES + 512 * 1024
DESCRIPTION = (
    "GridLaw 网格法治地图 — Open311 GeoReport v2 for legal needs. Keys: `api_key` or "
    "`X-API-Key`; without one, public reads only (no personal data, grid-level coordinates). "
    "Errors: a list of `{code, description}`, zh or en by `Accept-Language`. Extensions: "
    "`coord_system=wgs84|gcj02|bd09`, `grid`, `area`, `page`, `page_size`, `Idempotency-Key`."
)


class _TooLarge(StarletteHTTPException):
    """A body over the limit, found while it arrives; an HTTPException so that FastAPI's body
    parsing lets it through to the error handlers (a 413 in the GeoReport form)."""

    def __init__(self, scope, limit: int) -> None:
        from starlette.requests import Request

        lang = request_lang(Request(scope))
        super().__init__(413, t("o311.too_large", lang, limit=limit // 2**20))


class BodyLimit:
    """ASGI middleware: 413 for a body over ``limit`` bytes (by Content-Length, or counted
    while it arrives)."""

    def __init__(self, app, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            return await self._refuse(scope, send)
        seen, started = 0, False

        async def counted():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _TooLarge(scope, self.limit)
            return message

        async def tracked(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except _TooLarge:
            if not started:
                await self._refuse(scope, send)

    async def _refuse(self, scope, send):
        from starlette.requests import Request

        response = errors.error_response(
            413, [t("o311.too_large", request_lang(Request(scope)), limit=self.limit // 2**20)]
        )
        await response(scope, None, send)


def create_app(engine: Engine | None = None) -> FastAPI:
    """The API on ``engine`` (default: the configured database, migrated on first use)."""
    if engine is None:
        engine = db.make_engine(config.database_url())
        db.upgrade(engine)
    app = FastAPIOffline(
        title="GridLaw Open311 API",
        version="2",
        description=DESCRIPTION,
        static_url="/static-docs",
        swagger_ui_parameters={"validatorUrl": None},  # no badge from the validator's site
    )
    app.state.engine = engine
    app.state.limiter = WriteLimiter(config.api_writes_per_minute())
    errors.install(app)
    app.include_router(open311.router)
    app.include_router(intake.router)
    app.mount("/static", StaticFiles(directory=intake.STATIC), name="static")
    app.add_middleware(
        SessionMiddleware,
        secret_key=config.api_secret() or secrets.token_urlsafe(32),
        session_cookie="gridlaw_intake",
        same_site="strict",
        max_age=12 * 3600,
    )
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    return app
