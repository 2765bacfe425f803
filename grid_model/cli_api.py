"""``gridlaw serve-api`` and ``gridlaw account key create USER`` (registered by
:mod:`grid_model.cli`)."""

from __future__ import annotations

from grid_model import config, db
from grid_model.errors import InvalidInputError
from grid_model.messages import t
from grid_model.scope import Viewer

EXIT_OK = 0
KEY_ACTIONS = ("create", "revoke")


def cmd_serve_api(args) -> int:
    import uvicorn

    from api.app import create_app
    from grid_model import idempotency, instants

    engine = db.make_engine(args.db or config.database_url())
    db.upgrade(engine)
    db.run_write(engine, lambda s: idempotency.forget_old(s, instants.now_stored()))
    print(t("api_serving", args.lang, host=args.host, port=args.port))
    uvicorn.run(create_app(engine), host=args.host, port=args.port, log_level="info")
    return EXIT_OK


def cmd_account_key(args) -> int:
    """``account key create USER`` prints a new key once; ``account key revoke USER``."""
    from grid_model import apikeys

    action, username = args.username, args.key_user
    if action not in KEY_ACTIONS or not username:
        raise InvalidInputError(
            t("invalid_field", args.lang, field="account key", value=action or "",
              expected=t("expected_one_of", args.lang, choices="create USER, revoke USER"))
        )  # fmt: skip
    engine = db.make_engine(args.db or config.database_url())
    try:
        db.upgrade(engine)
        with db.writing(engine, lang=args.lang) as session:
            viewer = Viewer.local_admin()
            if action == "revoke":
                n = apikeys.revoke_keys(session, username, viewer=viewer, lang=args.lang)
                print(n)
                return EXIT_OK
            key, _ = apikeys.create_key(session, username, viewer=viewer, lang=args.lang)
    finally:
        engine.dispose()
    print(t("api_key_created", args.lang, username=username))
    print(key)
    return EXIT_OK


def add_parsers(add) -> None:
    """serve-api."""
    p = add("serve-api", cmd_serve_api, "serve the Open311 GeoReport v2 API and the /intake page")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8502)
