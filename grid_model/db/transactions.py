"""Write and read transactions, and what a database error tells the user.

Writes
------
Every change goes through :func:`run_write` (the unit of work as a function, run again when
the database was busy) or :func:`writing` (a ``with`` block, run once). On SQLite a write
transaction starts with ``BEGIN IMMEDIATE``: it takes the one write lock at its start, waiting
up to the busy timeout (:func:`grid_model.config.busy_timeout_s`) for another writer, so it
never fails half-way because a reader-turned-writer lost a race; readers (plain ``BEGIN``, WAL)
never wait. SQLAlchemy emits the BEGIN itself (the driver's own transaction handling is off),
as its SQLite dialect documents. On PostgreSQL a write waits as long for a row lock
(``lock_timeout``). A busy database, a deadlock, or (PostgreSQL) a key another transaction
inserted meanwhile runs the unit again, up to :data:`ATTEMPTS` times, then
:class:`~grid_model.errors.BusyError`: "the database is busy, try again".

Errors
------
:func:`translate_error` maps what a driver raises (locked, integrity, connection lost, disk
full, value too long, NUL in a text) to :mod:`grid_model.errors` classes with a zh/en message
that names the constraint or limit but never a value or the SQL parameters. The write helpers,
:func:`reading`, the CLI and the dashboard all go through it. Services may still catch
``sqlalchemy.exc.IntegrityError`` themselves: translation happens where the unit ends.
"""

from __future__ import annotations

import random
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session

from grid_model.db.engine import writer
from grid_model.errors import (
    BusyError,
    DatabaseError,
    GridLawError,
    RejectedValueError,
)
from grid_model.messages import t

T = TypeVar("T")

#: Times a unit of work is tried while the database is busy.
ATTEMPTS = 3


# --- write transactions ------------------------------------------------------------------


def _pause(attempt: int) -> None:
    # jittered, so writers that collided do not collide again in step
    time.sleep(min(0.05 * 2**attempt, 1.0) * random.uniform(0.5, 1.5))


def _open_write(engine: Engine, lang: str) -> Session:
    """A session whose transaction already holds the write lock (SQLite), or BusyError."""
    for attempt in range(1, ATTEMPTS + 1):
        session = Session(writer(engine), expire_on_commit=False)
        try:
            session.connection()  # BEGIN (IMMEDIATE) now, before any work
            return session
        except DBAPIError as exc:
            session.close()
            if attempt == ATTEMPTS or _kind(exc) != "busy":
                raise translate_error(exc, lang) from exc
            _pause(attempt)
    raise AssertionError("unreachable")


def run_write(
    engine: Engine, work: Callable[[Session], T], *, lang: str = "zh", attempts: int = ATTEMPTS
) -> T:
    """Run ``work(session)`` in one write transaction and commit; return what it returned.

    While the database is busy (another writer, a deadlock, a key inserted meanwhile by
    another transaction) the transaction is rolled back and ``work`` runs again, up to
    ``attempts`` times: it must be safe to repeat (read its input anew each time).

    Raises
    ------
    BusyError
        Still busy after the last attempt.
    GridLawError
        What ``work`` raised, or a database error as :func:`translate_error` says.
    """
    for attempt in range(1, attempts + 1):
        session = _open_write(engine, lang)
        try:
            result = work(session)
            session.commit()
            return result
        except Exception as exc:
            session.rollback()
            kind = _kind(exc)
            if kind is None:
                raise
            if attempt < attempts and kind in ("busy", "duplicate_concurrent"):
                _pause(attempt)
                continue
            raise translate_error(exc, lang) from exc
        finally:
            session.close()
    raise AssertionError("unreachable")


@contextmanager
def writing(engine: Engine, *, lang: str = "zh") -> Iterator[Session]:
    """A write transaction for a ``with`` block, committed at its end. The write lock is
    taken on entry (waiting while busy, see :func:`run_write`); the block runs once, and a
    database error in it leaves as :func:`translate_error` says."""
    session = _open_write(engine, lang)
    try:
        yield session
        session.commit()
    except Exception as exc:
        session.rollback()
        if _kind(exc) is None:
            raise
        raise translate_error(exc, lang) from exc
    finally:
        session.close()


@contextmanager
def reading(engine: Engine, *, lang: str = "zh") -> Iterator[Session]:
    """A read transaction (never waits for writers on SQLite's WAL); database errors leave
    as :func:`translate_error` says."""
    try:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            yield session
    except Exception as exc:
        if _kind(exc) is None:
            raise
        raise translate_error(exc, lang) from exc


# --- database errors as users read them -----------------------------------------------------

# SQLite result codes (the low byte of the extended code)
_SQLITE_KINDS = {5: "busy", 6: "busy", 8: "read_only", 13: "disk_full", 18: "too_long",
                 20: "bad_value", 10: "connection", 11: "connection", 14: "connection",
                 26: "connection"}  # fmt: skip
# PostgreSQL SQLSTATEs, then their classes
_PG_KINDS = {"40001": "busy", "40P01": "busy", "55P03": "busy", "22001": "too_long",
             "22021": "nul", "22P05": "nul", "53100": "disk_full", "25006": "read_only",
             "57P01": "connection", "57P02": "connection", "57P03": "connection"}  # fmt: skip
_PG_CLASSES = {"08": "connection", "22": "bad_value", "23": "constraint", "53": "disk_full",
               "3F": "schema", "42": "schema"}  # fmt: skip


def _driver_error(exc: BaseException) -> BaseException | None:
    """The driver's exception inside ``exc`` (SQLAlchemy wraps it; raw-connection code such as
    :mod:`grid_model.db.bulk` raises it bare), or None when ``exc`` is not a database error."""
    if isinstance(exc, DBAPIError):
        return exc.orig if exc.orig is not None else exc
    for name in ("sqlean", "psycopg"):
        module = sys.modules.get(name)  # a driver not loaded raised nothing
        if module is not None and isinstance(exc, module.Error):
            return exc
    return None


def is_database_error(exc: BaseException) -> bool:
    """True when ``exc`` came from the database or its driver (see :func:`translate_error`)."""
    return _kind(exc) is not None


def _kind(exc: BaseException) -> str | None:
    """What went wrong, as one word; None when ``exc`` is no database error."""
    orig = _driver_error(exc)
    if orig is None:
        return "refused" if isinstance(exc, SQLAlchemyError) else None
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return "connection"
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None:
        if code & 0xFF == 19:  # SQLITE_CONSTRAINT (the driver gives no extended codes)
            unique = str(orig).startswith(("UNIQUE", "PRIMARY KEY"))
            return "duplicate" if unique else "constraint"
        if code == 1 and str(orig).startswith("no such"):
            return "schema"
        return _SQLITE_KINDS.get(code & 0xFF, "refused")
    state = getattr(orig, "sqlstate", None)
    if state == "23505":
        # under READ COMMITTED another transaction may have inserted the key meanwhile:
        # the unit run again sees it
        return "duplicate_concurrent"
    if state:
        return _PG_KINDS.get(state) or _PG_CLASSES.get(state[:2], "refused")
    if "NUL (0x00)" in str(orig):  # psycopg refuses it before sending anything
        return "nul"
    if type(orig).__name__ in ("OperationalError", "InterfaceError"):
        return "connection"
    return "refused"


def _what(orig: BaseException) -> str:
    """The constraint, table or column a refusal names (never a value)."""
    diag = getattr(orig, "diag", None)
    if diag is not None:
        names = [diag.constraint_name, diag.column_name, diag.table_name]
        return next((n for n in names if n), "?")
    # SQLite: "UNIQUE constraint failed: needs.external_id" names columns, not values
    match = re.search(r"constraint failed: ([\w.,\s]+)$", str(orig))
    return match.group(1).strip() if match else "?"


def translate_error(exc: BaseException, lang: str = "zh") -> GridLawError:
    """A :mod:`grid_model.errors` error for a database error ``exc``, with a message in
    ``lang`` that never holds a stored value or the SQL parameters (raise it ``from exc``).

    ============================================  ===================================  ====
    what happened                                 error                                exit
    ============================================  ===================================  ====
    locked / busy, deadlock, lock timeout         :class:`BusyError`                   4
    duplicate key, other constraint               :class:`RejectedValueError`          3
    value too long, NUL in a text, other value    :class:`RejectedValueError`          3
    disk full, read-only, connection lost, other  :class:`DatabaseError`               1
    missing tables or columns (the schema)        :class:`DatabaseError`               1
    ============================================  ===================================  ====
    """
    if isinstance(exc, GridLawError):
        return exc
    kind = _kind(exc) or "refused"
    orig = _driver_error(exc) or exc
    if kind == "busy":
        return BusyError(t("db_busy", lang))
    if kind in ("duplicate", "duplicate_concurrent"):
        return RejectedValueError(t("db_duplicate", lang, what=_what(orig)))
    if kind == "constraint":
        return RejectedValueError(t("db_constraint", lang, what=_what(orig)))
    if kind == "too_long":
        match = re.search(r"character varying\((\d+)\)", str(orig))
        limit = t("db_too_long_limit", lang, n=match.group(1)) if match else ""
        return RejectedValueError(t("db_too_long", lang, limit=limit))
    if kind == "nul":
        return RejectedValueError(t("db_nul", lang))
    if kind == "bad_value":
        return RejectedValueError(t("db_bad_value", lang, what=type(orig).__name__))
    if kind == "schema":
        # "no such table: areas", 'relation "areas" does not exist': names, never values
        diag = getattr(orig, "diag", None)
        detail = diag.message_primary if diag is not None else str(orig)
        return DatabaseError(t("db_schema", lang, detail=detail))
    if kind in ("disk_full", "connection", "read_only"):
        return DatabaseError(t(f"db_{kind}", lang))
    return DatabaseError(t("db_refused", lang, kind=type(orig).__name__))
