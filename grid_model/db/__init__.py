"""The database: engines, transactions, bulk loading and the SQL both backends share.

- :mod:`~grid_model.db.engine` — engines for SpatiaLite and PostGIS, sessions, migrations;
- :mod:`~grid_model.db.transactions` — every write goes through :func:`run_write` or
  :func:`writing`, reads through :func:`reading`; :func:`translate_error` turns what a driver
  raises into a message a user can read;
- :mod:`~grid_model.db.bulk` — fast inserts of whole frames;
- :mod:`~grid_model.db.sqldates` — date arithmetic written once for both backends;
- :mod:`~grid_model.db.sqlhints` — planner hints (an index not to use).

Callers write ``from grid_model import db`` and ``db.run_write(engine, work)``.
"""

from grid_model.db.engine import (
    MIGRATIONS_DIR,
    WRITE_OPTION,
    analyze,
    current_revision,
    downgrade,
    ensure_postgis,
    get_engine,
    is_sqlite,
    make_engine,
    session_factory,
    upgrade,
    vacuum,
    writer,
)
from grid_model.db.transactions import (
    ATTEMPTS,
    is_database_error,
    reading,
    run_write,
    translate_error,
    writing,
)

__all__ = [
    "ATTEMPTS",
    "MIGRATIONS_DIR",
    "WRITE_OPTION",
    "analyze",
    "current_revision",
    "downgrade",
    "ensure_postgis",
    "get_engine",
    "is_database_error",
    "is_sqlite",
    "make_engine",
    "reading",
    "run_write",
    "session_factory",
    "translate_error",
    "upgrade",
    "vacuum",
    "writer",
    "writing",
]
