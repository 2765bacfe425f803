"""Engines and sessions for SpatiaLite (embedded default) and PostGIS, and migrations.

The stdlib ``sqlite3`` of these machines cannot load extensions, so SQLite URLs use the
``sqlean`` driver, which can, and load ``mod_spatialite`` on every new connection.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from sqlalchemy import URL, Engine, create_engine, event, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from grid_model import config
from grid_model.errors import (
    ConfigError,
    DatabaseError,
)

#: Execution option marking a write transaction (``BEGIN IMMEDIATE`` on SQLite).
WRITE_OPTION = "gridlaw_write"

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def is_sqlite(bind) -> bool:
    """True for a SQLite engine, connection or URL."""
    dialect = getattr(bind, "dialect", None)
    if dialect is not None:
        return dialect.name == "sqlite"
    return make_url(bind).get_backend_name() == "sqlite"


def analyze(session: Session, table: str) -> None:
    """Refresh the planner's statistics of ``table`` (``ANALYZE``), in the session's
    transaction.

    After a bulk load the planners otherwise guess: SQLite (built with STAT4 here) walks the
    grid-code index for a street holding most needs and fetches them at random — the street's
    heat bins took 2.3 s on a million needs without statistics, 0.13 s with them."""
    session.execute(text(f'ANALYZE "{table}"'))


def vacuum(engine: Engine, table: str) -> None:
    """PostgreSQL: ``VACUUM (ANALYZE)`` of ``table`` after a bulk load has committed (it cannot
    run in a transaction). It sets the visibility map, without which an index-only scan — the
    open needs' read from ``ix_needs_open`` (migration 0012) — visits the table anyway.
    Autovacuum does the same a little later where it runs; on SQLite nothing is done."""
    if is_sqlite(engine):
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'VACUUM (ANALYZE) "{table}"'))


def _load_spatialite(dbapi_conn, _record) -> None:
    dbapi_conn.enable_load_extension(True)
    dbapi_conn.load_extension(config.spatialite_library())
    dbapi_conn.enable_load_extension(False)
    cur = dbapi_conn.cursor()
    # SpatiaLite's metadata tables; InitSpatialMetaData is a no-op once they exist.
    cur.execute("SELECT count(*) FROM sqlite_master WHERE name = 'spatial_ref_sys'")
    if cur.fetchone()[0] == 0:
        cur.execute("SELECT InitSpatialMetaData(1)")
    cur.execute("PRAGMA foreign_keys = ON")
    cur.execute("PRAGMA journal_mode = WAL")
    cur.execute("PRAGMA synchronous = NORMAL")
    cur.close()
    # SQLAlchemy emits BEGIN itself (_begin_sqlite): the driver's own BEGIN comes only before
    # the first INSERT/UPDATE, so a transaction that read first took the write lock late.
    dbapi_conn.isolation_level = None


def _set_busy_timeout(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout = {int(config.busy_timeout_s() * 1000)}")
    cur.close()


def _begin_sqlite(conn) -> None:
    write = conn.get_execution_options().get(WRITE_OPTION)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def make_engine(url: str | URL | None = None, **kwargs) -> Engine:
    """Create an engine for ``url`` (default from ``GRIDLAW_DATABASE_URL``)."""
    url = url or config.database_url()
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy.exc.ArgumentError and friends
        raise ConfigError(f"not a database URL: {url!r}") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        import sqlean

        engine = create_engine(parsed, module=sqlean, **kwargs)
        event.listen(engine, "connect", _load_spatialite)
        event.listen(engine, "connect", _set_busy_timeout)
        event.listen(engine, "begin", _begin_sqlite)
        return engine
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        connect_args = dict(kwargs.pop("connect_args", {}))
        # a writer waits this long for a row another transaction holds, then tries again
        options = f"-c lock_timeout={int(config.busy_timeout_s() * 1000)}"
        connect_args["options"] = f"{connect_args.get('options', '')} {options}".strip()
        return create_engine(parsed, pool_pre_ping=True, connect_args=connect_args, **kwargs)
    raise ConfigError(f"unsupported database {backend!r}: use sqlite:/// or postgresql+psycopg://")


@lru_cache(maxsize=8)
def _cached_engine(url: str) -> Engine:
    return make_engine(url)


def get_engine(url: str | None = None) -> Engine:
    """The process-wide engine for ``url`` (created once)."""
    return _cached_engine(url or config.database_url())


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def writer(engine: Engine) -> Engine:
    """``engine`` marked for writing: its transactions take the write lock at their start."""
    return engine.execution_options(**{WRITE_OPTION: True})


def _alembic_config(engine: Engine):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # migrations write: two processes upgrading at once take turns (SQLite)
    cfg.attributes["engine"] = writer(engine)
    return cfg


def ensure_postgis(engine: Engine) -> None:
    """Create the ``postgis`` extension when missing (needs the right to do so)."""
    if is_sqlite(engine):
        return
    with engine.begin() as conn:
        have = conn.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'postgis'")).first()
        if have:
            return
        try:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
        except Exception as exc:
            raise DatabaseError(
                "PostGIS is not available in this database and could not be created: "
                "install postgresql-15-postgis-3 or ask an administrator to run "
                "CREATE EXTENSION postgis"
            ) from exc


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Create or update the schema with the Alembic migrations."""
    from alembic import command

    ensure_postgis(engine)
    command.upgrade(_alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    from alembic import command

    command.downgrade(_alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
