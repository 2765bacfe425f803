"""Fast bulk inserts inside the caller's transaction.

ORM inserts cost ~200 µs a row here (1M needs: minutes). These go through the driver:
``executemany`` with ``MakePoint`` on SpatiaLite and ``COPY`` on PostGIS (about 30× faster
than row inserts). On PostGIS one COPY takes every chunk, its text made a column at a time
(:func:`_copy_lines`; points as hex EWKB, :func:`_points_hex`) and sent by a thread while the
next chunk is made. :func:`bulk_load` puts a big load's index (and, on PostgreSQL, foreign
key) upkeep after the rows. Nothing is committed: the caller's transaction decides.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import text
from sqlalchemy.orm import Session

from grid_model import db

CHUNK = 50_000


def _py(value):
    if value is None:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, np.generic):
        return value.item()
    return value


#: Values the drivers take as they are (a missing value is None by then).
_PLAIN = frozenset({str, int, float, bool, type(None)})


def _column_values(series: pd.Series, convert=_py) -> list:
    """One column as driver values: missing values (None, NaN, NaT) as None, the rest through
    ``convert`` — once per distinct value (dates repeat: a million needs have a few thousand
    days)."""
    values = series.astype(object).to_numpy(copy=True)
    values[pd.isna(values)] = None
    if set(map(type, values)) <= _PLAIN:
        return values.tolist()
    memo: dict = {}  # keyed by type too: a Timestamp equals the datetime it converts from
    return [v if type(v) in _PLAIN else _memo(memo, v, convert) for v in values]


def _memo(memo: dict, v, convert):
    key = (type(v), v)
    if key not in memo:
        memo[key] = convert(v)
    return memo[key]


def _rows(frame: pd.DataFrame, columns: Sequence[str], convert=_py) -> Iterator[tuple]:
    return zip(*(_column_values(frame[c], convert) for c in columns), strict=True)


def insert_frame(
    session: Session,
    table: str,
    frame: pd.DataFrame,
    columns: Sequence[str],
    *,
    point: tuple[str, str, str] | None = None,
    progress=None,
) -> int:
    """Insert ``frame[columns]`` into ``table``; ``point=(geom_column, lon_column, lat_column)``
    builds a WGS84 point geometry from two of the frame's columns (rows with a missing
    coordinate get a NULL geometry). ``progress`` is a tqdm bar updated per chunk."""
    if frame.empty:
        return 0
    cols = list(columns)
    raw = session.connection().connection.driver_connection
    parts = (frame.iloc[start : start + CHUNK] for start in range(0, len(frame), CHUNK))
    total = 0
    with contextlib.ExitStack() as stack:
        if not db.is_sqlite(session.get_bind()):
            copy = stack.enter_context(_copy_into(raw, table, cols, point))
        for part in parts:
            if db.is_sqlite(session.get_bind()):
                _insert_sqlite(raw, table, part, cols, point)
            else:
                _copy_postgres(copy, part, cols, point)
            total += len(part)
            if progress is not None:
                progress.update(len(part))
    return total


def _sqlite_value(v):
    """Dates and datetimes as the text SQLAlchemy's SQLite types read back."""
    if isinstance(v, dt.datetime):
        return v.isoformat(" ", "microseconds")
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


def _sqlite_cell(v):
    return _sqlite_value(_py(v))


def _insert_sqlite(raw, table, part, cols, point) -> None:
    names = [f'"{c}"' for c in cols]
    marks = ["?"] * len(cols)
    read = list(cols)
    if point:
        geom, lon, lat = point
        names.append(f'"{geom}"')
        marks.append("MakePoint(?, ?, 4326)")
        read += [lon, lat]
    sql = f'INSERT INTO "{table}" ({", ".join(names)}) VALUES ({", ".join(marks)})'
    cur = raw.cursor()
    cur.executemany(sql, _rows(part, read, _sqlite_cell))
    cur.close()


@contextlib.contextmanager
def _copy_into(raw, table: str, cols: list[str], point) -> Iterator:
    """One COPY for every chunk of a load: the server stores a chunk while the next is made
    (a thread sends what is queued)."""
    names = [f'"{c}"' for c in cols] + ([f'"{point[0]}"'] if point else [])
    sql = f'COPY "{table}" ({", ".join(names)}) FROM STDIN'
    with raw.cursor() as cur, cur.copy(sql, writer=QueuedLibpqWriter(cur)) as copy:
        yield copy


def _copy_postgres(copy, part, cols, point) -> None:
    """Write ``part`` into the open COPY ``copy``."""
    if point:
        geom, lon, lat = point
        x = part[lon].to_numpy(dtype=float)
        y = part[lat].to_numpy(dtype=float)
        part = part.assign(__geom=_points_hex(x, y))
        read = [*cols, "__geom"]
    else:
        read = list(cols)
    try:
        lines = _copy_lines(part, read)
    except TypeError:  # a value of a type the text form below does not know: psycopg's own
        for row in _rows(part, read):
            copy.write_row(row)
        return
    copy.write(lines.encode("utf-8"))


#: A WGS84 point as EWKB: little endian, type 1 with the SRID flag, SRID, x, y (25 bytes).
_EWKB_POINT = np.dtype([("order", "u1"), ("type", "<u4"), ("srid", "<u4"), ("x", "<f8"),
                        ("y", "<f8")])  # fmt: skip


def _points_hex(x: np.ndarray, y: np.ndarray) -> list[str | None]:
    """WGS84 points as hex EWKB, None where a coordinate is missing: the bytes of all of them
    made and hexed at once (the exact doubles, no text to print and parse again)."""
    points = np.empty(len(x), dtype=_EWKB_POINT)
    points["order"], points["type"], points["srid"] = 1, 0x20000001, 4326
    points["x"], points["y"] = x, y
    width = 2 * _EWKB_POINT.itemsize
    hexed = points.tobytes().hex()
    out = [hexed[i : i + width] for i in range(0, len(hexed), width)]
    for i in np.flatnonzero(np.isnan(x) | np.isnan(y)):
        out[i] = None
    return out


def _points_ewkt(x: np.ndarray, y: np.ndarray) -> list[str | None]:
    """:func:`_points_hex` as EWKT text (what the import sent before)."""
    return [
        None if (np.isnan(a) or np.isnan(b)) else f"SRID=4326;POINT({a!r} {b!r})"
        for a, b in zip(x.tolist(), y.tolist(), strict=True)
    ]


#: Characters COPY's text format escapes (NUL never gets this far: the readers refuse it).
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_lines(part: pd.DataFrame, columns: Sequence[str]) -> str:
    """``part[columns]`` in COPY's text format, built column by column (psycopg's
    ``write_row`` costs ~25 µs a row of 30 columns; this a few)."""
    cells = [_copy_column(part[c]) for c in columns]
    return "\n".join(map("\t".join, zip(*cells, strict=True))) + "\n"


def _copy_column(series: pd.Series) -> list[str]:
    """A column as COPY text: NULL as ``\\N``; numbers and flags of a numpy column in one go;
    text escaped; other values through :func:`_copy_cell`, once per distinct value."""
    kind = series.dtype.kind if isinstance(series.dtype, np.dtype) else "O"
    if kind in "fiub":
        numbers = series.to_numpy()
        if kind == "b":
            return np.where(numbers, "t", "f").tolist()
        if kind in "iu":
            return list(map(str, numbers.tolist()))
        if np.isfinite(numbers).all():
            return list(map(float.__repr__, numbers.tolist()))
    values = series.to_numpy(dtype=object)
    given = ~pd.isna(values)
    present = values[given]
    kinds = set(map(type, present))
    if kinds <= {str}:
        if any(ch in "".join(present) for ch in "\\\t\n\r"):
            present = [v.translate(_COPY_ESCAPES) for v in present]
    elif len(kinds) == 1 and kinds <= {dt.date, dt.datetime}:  # days repeat: once each
        codes, uniques = pd.factorize(present)
        present = np.array([v.isoformat() for v in uniques], dtype=object)[codes]
    else:
        return _copy_values(_column_values(series))
    out = np.full(len(values), r"\N", dtype=object)
    out[given] = present
    return out.tolist()


def _copy_values(values: list) -> list[str]:
    if set(map(type, values)) <= {float, int, bytes, type(None)}:  # coordinates, blobs
        return [_copy_cell(v) for v in values]
    memo: dict = {}
    return [_memo(memo, v, _copy_cell) for v in values]


def _copy_cell(value) -> str:
    """One driver value as COPY text, as the server reads what psycopg sends for it."""
    if value is None:
        return r"\N"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else _NON_FINITE[repr(value)]
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return "\\\\x" + value.hex()  # bytea's hex form, its backslash escaped
    raise TypeError(f"no COPY text for {type(value).__name__}")


_NON_FINITE = {"inf": "Infinity", "-inf": "-Infinity"}


# --- a load large relative to its table: its upkeep done once, after the rows ----------------

#: A load of at least this share of the rows already stored builds the table's indexes anew
#: afterwards instead of inserting into them row by row (a sorted build is several times
#: cheaper than a million random inserts; for a small load into a big table it is not).
REBUILD_SHARE = 0.5

#: ``maintenance_work_mem`` of the index builds after a PostgreSQL bulk load (the default
#: 64 MB sorts a million keys on disk).
PG_LOAD_MEMORY = "256MB"

#: Page cache of a SQLite bulk load, in KiB (the default 2 MB makes every index insert past
#: the first few thousand rows a read).
SQLITE_LOAD_CACHE_KIB = 256 * 1024

#: Row triggers on insert done once per load instead: the trigger as SQLite stores it
#: (``{table}``/``{column}`` filled in, whitespace aside) → the statements doing for every row
#: with ``rowid > :after`` what it does for one. A trigger whose text differs (another
#: SpatiaLite, a new migration) is left to run row by row.
_SET_BASED_TRIGGERS: dict[str, tuple[str, list[str]]] = {
    "ggi_{table}_{column}": (
        """CREATE TRIGGER "ggi_{table}_{column}" BEFORE INSERT ON "{table}"
        FOR EACH ROW BEGIN
        SELECT RAISE(ROLLBACK, '{table}.{column} violates Geometry constraint [geom-type or SRID
        not allowed]')
        WHERE (SELECT geometry_type FROM geometry_columns
        WHERE Lower(f_table_name) = Lower('{table}') AND Lower(f_geometry_column) =
        Lower('{column}') AND GeometryConstraints(NEW."{column}", geometry_type, srid) = 1)
        IS NULL; END""",
        [
            """SELECT count(*) FROM "{table}" AS n WHERE n.rowid > :after AND
            (SELECT geometry_type FROM geometry_columns WHERE Lower(f_table_name) =
            Lower('{table}') AND Lower(f_geometry_column) = Lower('{column}') AND
            GeometryConstraints(n."{column}", geometry_type, srid) = 1) IS NULL"""
        ],
    ),
    "tmi_{table}_{column}": (
        """CREATE TRIGGER "tmi_{table}_{column}" AFTER INSERT ON "{table}"
        FOR EACH ROW BEGIN
        UPDATE geometry_columns_time SET last_insert = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
        WHERE Lower(f_table_name) = Lower('{table}') AND Lower(f_geometry_column) =
        Lower('{column}'); END""",
        [
            """UPDATE geometry_columns_time SET last_insert = strftime('%Y-%m-%dT%H:%M:%fZ',
            'now') WHERE Lower(f_table_name) = Lower('{table}') AND Lower(f_geometry_column) =
            Lower('{column}') AND EXISTS (SELECT 1 FROM "{table}" WHERE rowid > :after)"""
        ],
    ),
    "need_stats_insert": (  # migration 0003: the closed-needs summary's marks
        """CREATE TRIGGER need_stats_insert AFTER INSERT ON needs WHEN NEW.status = 'closed'
        AND NEW.grid_code IS NOT NULL BEGIN INSERT OR IGNORE INTO need_stats_dirty
        (grid_code, month_start, month_end) SELECT NEW.grid_code, date(NEW.reported_at,
        'start of month'), date(NEW.reported_at, 'start of month', '+1 month') WHERE
        NEW.status = 'closed' AND NEW.grid_code IS NOT NULL; END""",
        [
            """INSERT OR IGNORE INTO need_stats_dirty (grid_code, month_start, month_end)
            SELECT DISTINCT grid_code, date(reported_at, 'start of month'),
            date(reported_at, 'start of month', '+1 month') FROM needs
            WHERE rowid > :after AND status = 'closed' AND grid_code IS NOT NULL"""
        ],
    ),
}


def _squeezed(sql: str) -> str:
    return "".join(sql.split())


@dataclass
class _Upkeep:
    """What a bulk load put off: index, trigger and constraint DDL, and the set-based trigger
    work."""

    indexes: list[str] = field(default_factory=list)
    triggers: list[str] = field(default_factory=list)
    statements: list[str] = field(default_factory=list)
    checks: list[tuple[str, str]] = field(default_factory=list)  # (statement, message)
    constraints: list[str] = field(default_factory=list)  # PostgreSQL's foreign keys


@contextlib.contextmanager
def bulk_load(session: Session, table: str, *, rows: int, after_id: int) -> Iterator[None]:
    """Around a load of ``rows`` new rows (an upper bound will do), all with
    ``rowid > after_id``, into ``table``.

    When ``rows`` is at least :data:`REBUILD_SHARE` of the rows stored, the table's secondary
    indexes are dropped and built again after the rows. On SQLite, also a bigger page cache,
    and the insert triggers of :data:`_SET_BASED_TRIGGERS` replaced by one statement each over
    the new rows (the geometry check, the summary marks); on PostgreSQL the table's foreign keys
    dropped and added again (one join checks them all, instead of a lookup and a row lock per
    row), with a bigger ``maintenance_work_mem`` for the builds. Everything happens in the
    caller's transaction: if the load fails, the rollback puts back every index, trigger and
    constraint. What ends up stored — rows, indexes, marks — is what the row-by-row
    load stores. On PostgreSQL the dropped indexes and constraints hold ``table`` (and the
    tables its keys refer to) exclusively until the commit: readers wait for a big load.
    """
    if not db.is_sqlite(session.get_bind()):
        upkeep = _put_off_postgres(session, table) if _large(session, table, rows) else _Upkeep()
        yield
        if upkeep.indexes or upkeep.constraints:
            session.execute(text(f"SET LOCAL maintenance_work_mem = '{PG_LOAD_MEMORY}'"))
        for ddl in upkeep.indexes + upkeep.constraints:
            session.execute(text(ddl))
        return
    cache = session.execute(text("PRAGMA cache_size")).scalar_one()
    session.execute(text(f"PRAGMA cache_size = -{SQLITE_LOAD_CACHE_KIB}"))
    restore = text(f"PRAGMA cache_size = {int(cache)}")
    try:
        upkeep = _put_off(session, table) if _large(session, table, rows) else _Upkeep()
        yield
        _catch_up(session, upkeep, after_id)
    except BaseException:
        with contextlib.suppress(Exception):  # the rollback to come matters, not the cache
            session.execute(restore)
        raise
    session.execute(restore)


def _large(session: Session, table: str, rows: int) -> bool:
    """Whether ``rows`` new rows are at least :data:`REBUILD_SHARE` of those stored (counted
    only as far as that decides it)."""
    if rows <= 0:
        return False
    enough = int(rows / REBUILD_SHARE) + 1
    stored = session.execute(
        text(f'SELECT count(*) FROM (SELECT 1 FROM "{table}" LIMIT :n) AS t'), {"n": enough}
    ).scalar_one()
    return rows >= REBUILD_SHARE * stored


def _put_off_postgres(session: Session, table: str) -> _Upkeep:
    """Drop ``table``'s secondary indexes on plain columns and its foreign keys; the DDL that
    makes them again. Kept: the indexes of its primary key and unique constraints, and the
    partial and expression indexes (their text, read back, is not always the one they were made
    with; they are small or rare)."""
    upkeep = _Upkeep()
    indexes = session.execute(
        text(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid = CAST(:t AS regclass) AND NOT i.indisprimary "
            "AND i.indpred IS NULL AND i.indexprs IS NULL AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1"
        ),
        {"t": table},
    ).all()
    keys = session.execute(
        text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = CAST(:t AS regclass) AND contype = 'f' ORDER BY 1"
        ),
        {"t": table},
    ).all()
    for name, ddl in indexes:
        upkeep.indexes.append(ddl)
        session.execute(text(f"DROP INDEX {name}"))
    for name, definition in keys:
        upkeep.constraints.append(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
        session.execute(text(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"'))
    return upkeep


def _catch_up(session: Session, upkeep: _Upkeep, after_id: int) -> None:
    """Do for the new rows what the dropped triggers would have; build the indexes again."""
    for statement, message in upkeep.checks:
        if session.execute(text(statement), {"after": after_id}).scalar_one():
            raise ValueError(message)
    for statement in upkeep.statements:
        session.execute(text(statement), {"after": after_id})
    for ddl in upkeep.indexes + upkeep.triggers:
        session.execute(text(ddl))


def _put_off(session: Session, table: str) -> _Upkeep:
    """Drop ``table``'s secondary indexes and set-based insert triggers; their DDL and work."""
    upkeep = _Upkeep()
    schema = session.execute(
        text(
            "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = :t "
            "AND type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY type, name"
        ),
        {"t": table},
    ).all()
    geometry = dict(
        session.execute(
            text(
                "SELECT f_geometry_column, spatial_index_enabled FROM geometry_columns "
                "WHERE Lower(f_table_name) = Lower(:t)"
            ),
            {"t": table},
        ).all()
    )
    for kind, name, sql in schema:
        if kind == "index":
            upkeep.indexes.append(sql)
            session.execute(text(f'DROP INDEX "{name}"'))
            continue
        work = _set_based(name, sql, table, geometry)
        if work is None:
            continue
        upkeep.triggers.append(sql)
        session.execute(text(f'DROP TRIGGER "{name}"'))
        if name.startswith("ggi_"):
            upkeep.checks.append((work[0], f"{table}: a geometry violates its column's constraint"))
        else:
            upkeep.statements.extend(work)
    return upkeep


def _set_based(name: str, sql: str, table: str, geometry: dict[str, int]) -> list[str] | None:
    """The statements replacing trigger ``name`` (stored as ``sql``), or None."""
    for pattern, (expected, statements) in _SET_BASED_TRIGGERS.items():
        for column in geometry if "{column}" in pattern else [""]:
            names = {"table": table, "column": column}
            if pattern.format(**names) != name:
                continue
            if _squeezed(expected.format(**names)) != _squeezed(sql):
                return None
            return [s.format(**names) for s in statements]
    return None
