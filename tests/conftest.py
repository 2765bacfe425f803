"""Shared fixtures. Every database test runs once per backend (SpatiaLite and PostGIS).

The PostGIS database comes from ``GRIDLAW_TEST_POSTGIS_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/gridlaw_test``). Where it cannot be reached
the PostGIS tests are skipped locally, but in CI (``CI=true``) that is a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import Engine, make_url, text
from sqlalchemy.orm import Session

from grid_model import db
from grid_model.imports.seed import clear_all

POSTGIS_URL = os.environ.get(
    "GRIDLAW_TEST_POSTGIS_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/gridlaw_test"
)
SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
BACKENDS = ["spatialite", "postgis"]


def _unavailable(reason: str):
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"backend required in CI but unavailable: {reason}", pytrace=False)
    pytest.skip(reason)


def _postgis_engine(suffix: str | None = None) -> Engine:
    """An engine on an empty ``public`` schema of the test database (or of the database named
    after it with ``_<suffix>``, created beside it when missing: runs on different test
    databases never share one)."""
    url = make_url(POSTGIS_URL)
    database = f"{url.database}_{suffix}" if suffix else url.database
    if database:
        try:
            admin = db.make_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                if not conn.execute(
                    text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": database}
                ).first():
                    conn.execute(text(f'CREATE DATABASE "{database}"'))
            admin.dispose()
        except Exception as exc:
            _unavailable(f"PostgreSQL at {url.host}:{url.port} unavailable: {exc}")
        url = url.set(database=database)
    engine = db.make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    except Exception as exc:  # the server or database is not there
        engine.dispose()
        _unavailable(f"PostGIS test database {POSTGIS_URL} unavailable: {exc}")
    return engine


def head_revision() -> str:
    """The head of the migrations (other branches add revisions: never hard-code it)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(db.MIGRATIONS_DIR))
    return ScriptDirectory.from_config(cfg).get_current_head()


def scratch_engine(backend: str, tmp_path: Path) -> Engine:
    """An empty database of its own on ``backend`` (no schema yet), for migration tests."""
    if backend == "spatialite":
        return db.make_engine(f"sqlite:///{tmp_path / 'scratch.sqlite'}")
    return _postgis_engine("migrations")


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def engine(backend, tmp_path_factory) -> Engine:
    """A migrated, empty database of the backend under test (one per session)."""
    if backend == "spatialite":
        path = tmp_path_factory.mktemp("spatialite") / "test.sqlite"
        eng = db.make_engine(f"sqlite:///{path}")
    else:
        eng = _postgis_engine()
    try:
        db.upgrade(eng)
    except Exception as exc:
        if backend == "postgis" and "postgis" in str(exc).lower():
            _unavailable(f"PostGIS extension unavailable: {exc}")
        raise
    yield eng
    eng.dispose()


@pytest.fixture()
def session(engine) -> Session:
    """A session inside a transaction that is rolled back after the test."""
    conn = engine.connect()
    trans = conn.begin()
    sess = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    yield sess
    sess.close()
    trans.rollback()
    conn.close()


def _truncate_all(eng: Engine) -> None:
    with Session(eng) as sess, sess.begin():
        clear_all(sess)


@pytest.fixture()
def committed_engine(engine) -> Engine:
    """The backend's engine for tests that commit (CLI, importers); emptied afterwards."""
    _truncate_all(engine)
    yield engine
    _truncate_all(engine)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"shared data folder missing: {SHARED_DATA}")
    return SHARED_DATA


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_sessionfinish(session, exitstatus):
    """In CI a skipped test means a backend or the browser was missing: fail the run."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if _in_ci() and skipped and exitstatus == 0:
        reporter.write_line(
            f"CI: {len(skipped)} test(s) skipped; every test must run in CI", red=True
        )
        session.exitstatus = 1
