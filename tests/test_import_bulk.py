"""The import's fast paths against the plain ones, on both backends (issue 14): the CSV read
by pandas' C reader, instants read in one go, the bulk load with its indexes, spatial index
and summary marks done once after the rows — each must store exactly what the plain path
stores, and a failure midway must leave nothing behind."""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from geodata.io import tables
from grid_model import db, fields
from grid_model.cases import import_columns
from grid_model.db import bulk
from grid_model.errors import ImportValidationError
from grid_model.imports import import_needs
from grid_model.scope import Viewer
from tests.factories import make_community

ADMIN = Viewer.local_admin("test")
N_ROWS = 260
CHUNK = 50  # the bulk load's chunk in these tests: the file spans six
#: bad cells, spread over the chunks: (row position, column, value)
BAD_CELLS = [(3, "lat", "north"), (77, "reported_at", "2025-02-30"), (140, "id", "N-00010"),
             (201, "accepted_at", "not a time"), (259, "category", "astrology")]  # fmt: skip


def _needs_csv(community, *, bad: bool = True, n: int = N_ROWS, seed: int = 0) -> bytes:
    """A needs file with every kind of column: loop instants, assignees, texts with commas,
    quotes and line breaks, points inside and outside the grids, closed and open needs."""
    rng = random.Random(seed)
    assistants = [w.code for w in community.workers.get("assistant", [])] or [None]
    rows = []
    for i in range(n):
        x, y = community.centre(rng.choice(community.grid_codes))
        if i % 17 == 0:
            x += 0.5  # outside every grid
        day = dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(500))
        closed = rng.random() < 0.8
        start = dt.datetime.combine(day, dt.time(rng.randrange(24), rng.randrange(60)))
        loop = [start + dt.timedelta(hours=h) for h in sorted(rng.sample(range(1, 90), 3))]
        rows.append(
            {
                "id": f"N-{i:05d}",
                "reported_at": start.isoformat(" ") if i % 3 else day.strftime("%Y/%m/%d"),
                "lon": f"{x + rng.uniform(-1e-4, 1e-4):.7f}",
                "lat": f"{y + rng.uniform(-1e-4, 1e-4):.7f}",
                "category": rng.choice(["人民调解", "法律咨询", "legal_aid", "矫正帮教"]),
                "description": rng.choice(["", "楼上漏水, 邻里", 'he said "no"', "two\nlines"]),
                "status": "已办结" if closed else rng.choice(["", "in_progress", "已登记"]),
                "outcome": rng.choice(["调解成功", "", "已解决"]) if closed else "",
                "closed_at": (day + dt.timedelta(days=rng.randrange(40))).isoformat()
                if closed
                else "",
                "assignee": rng.choice(assistants) if i % 4 else "",
                "dispatched_at": loop[0].strftime("%Y-%m-%d %H:%M") if i % 4 else "",
                "accepted_at": loop[1].strftime("%Y年%m月%d日 %H:%M") if i % 4 else "",
                "handled_at": loop[2].isoformat() + "+08:00" if i % 4 and closed else "",
                "source": rng.choice(["日记", "电话", ""]),
            }
        )
    frame = pd.DataFrame(rows)
    if bad:
        for pos, column, value in BAD_CELLS:
            frame.loc[pos, column] = value
    return frame.to_csv(index=False).encode("utf-8")


def _plain(monkeypatch) -> None:
    """Every fast path of the import off: what it stored before issue 14."""
    monkeypatch.setattr(bulk, "REBUILD_SHARE", float("inf"))
    monkeypatch.setattr(tables, "_csv_frame_fast", lambda data, encoding: None)
    monkeypatch.setattr(bulk, "_copy_lines", _no_copy_text)
    monkeypatch.setattr(bulk, "_points_hex", bulk._points_ewkt)
    monkeypatch.setattr(bulk, "_large", lambda session, table, rows: False)
    monkeypatch.setattr(
        import_columns,
        "parse_instant_texts",
        lambda raw: pd.Series(
            [None if v is None else import_columns.parse_instant_text(v) for v in raw],
            index=raw.index,
            dtype="datetime64[us]",
        ),
    )


def _no_copy_text(part, columns):
    raise TypeError("psycopg's write_row, as before")


def _snapshot(session) -> dict:
    """Everything an import writes, keyed by external id (PostgreSQL's ids are a sequence a
    rollback does not give back)."""
    sqlite = db.is_sqlite(session.get_bind())
    geom = "AsText(location)" if sqlite else "ST_AsText(location)"
    needs = pd.read_sql(
        text(f"SELECT *, {geom} AS wkt FROM needs ORDER BY id"), session.connection()
    )
    # ids: PostgreSQL's sequence is not rolled back; created_at: the clock
    needs = needs.drop(columns=["id", "location", "created_at", "updated_at"], errors="ignore")
    events = pd.read_sql(
        text(
            "SELECT n.external_id, e.step, e.to_status, e.actor, e.worker_code, e.at, "
            "e.synthesised, e.district_code FROM case_events e JOIN needs n ON n.id = e.need_id "
            "ORDER BY n.external_id, e.step, e.at"
        ),
        session.connection(),
    )
    snap = {"needs": needs, "events": events}
    for table in ("need_month_stats", "need_stats_dirty"):
        snap[table] = pd.read_sql(
            text(f"SELECT * FROM {table} ORDER BY 1, 2, 3"), session.connection()
        )
    if sqlite:
        snap["schema"] = session.execute(
            text(
                "SELECT type, name, sql FROM sqlite_master "
                "WHERE tbl_name IN ('needs', 'case_events') ORDER BY 2"
            )
        ).all()
    else:
        snap["schema"] = session.execute(
            text(
                "SELECT indexname, indexdef FROM pg_indexes "
                "WHERE tablename IN ('needs', 'case_events') ORDER BY 1"
            )
        ).all()
        snap["constraints"] = session.execute(
            text(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), "
                "convalidated FROM pg_constraint WHERE conrelid IN "
                "('needs'::regclass, 'case_events'::regclass) ORDER BY 1, 2"
            )
        ).all()
    return snap


def _assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], pd.DataFrame):
            pd.testing.assert_frame_equal(a[key], b[key], obj=key)
        else:
            assert a[key] == b[key], key


def _imported(session, data: bytes, **options) -> tuple[dict, object]:
    """Import ``data`` in a savepoint; what it stored and its report, then roll it back."""
    savepoint = session.begin_nested()
    report = import_needs(
        session, data, filename="needs.csv", viewer=ADMIN, lang="en", skip_invalid=True, **options
    )
    snap = _snapshot(session)
    savepoint.rollback()
    return snap, report


@pytest.fixture()
def community(session):
    return make_community(session, n_grids=4)


@pytest.mark.db
def test_fast_import_stores_what_the_plain_import_stores(session, community, monkeypatch):
    monkeypatch.setattr(bulk, "CHUNK", CHUNK)
    data = _needs_csv(community)
    put_off = {}
    sqlite = db.is_sqlite(session.get_bind())
    name = "_put_off" if sqlite else "_put_off_postgres"
    real_put_off = getattr(bulk, name)
    monkeypatch.setattr(bulk, name, lambda s, t: put_off.setdefault(t, real_put_off(s, t)))
    fast, fast_report = _imported(session, data)
    assert sorted(put_off) == ["case_events", "needs"]
    if sqlite:  # the set-based upkeep really ran, all of it
        upkeep = put_off["needs"]
        names = sorted(sql.split()[2].strip('"') for sql in upkeep.triggers)
        assert names == ["ggi_needs_location", "need_stats_insert", "tmi_needs_location"]
        assert len(upkeep.indexes) >= 7
    else:  # the secondary indexes and the foreign keys dropped and made again
        assert len(put_off["needs"].indexes) >= 7 and len(put_off["case_events"].indexes) == 2
        assert ["fk_needs_grid_code_grids" in c for c in put_off["needs"].constraints] == [True]
        assert len(put_off["case_events"].constraints) == 1
    with monkeypatch.context() as plain:
        _plain(plain)
        slow, slow_report = _imported(session, data)
    _assert_same(fast, slow)
    assert fast_report.invalid == slow_report.invalid
    assert {e.row for e in fast_report.invalid} == {p + 2 for p, *_ in BAD_CELLS}
    assert fast_report.inserted == N_ROWS - len(BAD_CELLS) == len(fast["needs"])
    assert len(fast["events"]) > N_ROWS and len(fast["need_month_stats"]) > 10


@pytest.mark.db
def test_fast_import_into_a_full_table_adds_what_the_plain_one_adds(
    session, community, monkeypatch
):
    """A second file, small next to the needs stored: loaded into the live indexes."""
    monkeypatch.setattr(bulk, "CHUNK", CHUNK)
    import_needs(session, _needs_csv(community, bad=False), filename="a.csv", viewer=ADMIN)
    more = _needs_csv(community, bad=False, n=40, seed=1).replace(b"N-", b"M-")
    fast, _ = _imported(session, more)
    with monkeypatch.context() as plain:
        _plain(plain)
        slow, _ = _imported(session, more)
    _assert_same(fast, slow)


@pytest.mark.db
def test_errors_in_several_chunks_store_nothing(session, community, monkeypatch):
    monkeypatch.setattr(bulk, "CHUNK", CHUNK)
    before = _snapshot(session)
    with pytest.raises(ImportValidationError) as caught:
        import_needs(session, _needs_csv(community), filename="n.csv", viewer=ADMIN, lang="en")
    assert sorted({e.row for e in caught.value.errors}) == [p + 2 for p, *_ in BAD_CELLS]
    _assert_same(_snapshot(session), before)


@pytest.mark.db
def test_a_failure_in_the_last_chunk_leaves_everything_as_it_was(committed_engine, monkeypatch):
    """Rows of five chunks written, the sixth fails: the rollback takes back the rows, the
    dropped indexes and triggers come back, the summary is untouched."""
    engine = committed_engine
    community = db.run_write(engine, lambda s: make_community(s, n_grids=4))
    db.run_write(
        engine,
        lambda s: import_needs(
            s,
            _needs_csv(community, bad=False, n=30, seed=2).replace(b"N-", b"M-"),
            filename="a.csv",
            viewer=ADMIN,
        ),
    )
    with db.session_factory(engine)() as s:
        before = _snapshot(s)
    monkeypatch.setattr(bulk, "CHUNK", CHUNK)
    name = "_insert_sqlite" if db.is_sqlite(engine) else "_copy_postgres"
    real, calls = getattr(bulk, name), []

    def failing(*args):  # (raw, table, part, cols, point) or (copy, part, cols, point)
        calls.append(len(args[-3]))
        if len(calls) == 6:
            raise RuntimeError("disk full")
        real(*args)

    monkeypatch.setattr(bulk, name, failing)
    data = _needs_csv(community, bad=False)
    with pytest.raises(RuntimeError, match="disk full"):
        db.run_write(
            engine,
            lambda s: import_needs(s, data, filename="n.csv", viewer=ADMIN),
            attempts=1,
        )
    assert calls == [CHUNK] * 5 + [N_ROWS - 5 * CHUNK]
    with db.session_factory(engine)() as s:
        _assert_same(_snapshot(s), before)
        assert s.execute(text("SELECT count(*) FROM needs")).scalar_one() == 30


# --- the pieces, value by value --------------------------------------------------------------

TRICKY_CSVS = [
    b'a,b,c\n1,2\n\n  ,"x"y, "q"\n"multi\r\nline",,\n',
    b"\xef\xbb\xbfid,name,,\n1,x,,\n2,,,\n,,,\n\n",
    '编号,描述\nN1,楼上漏水\nN2,"a,b"\n'.encode("gbk"),
    b"id,name\r\n1,a\r\n2,b",
    b"id,name\n1,a,,,\n2,b\n",  # trailing commas past the header: trimmed
    b"id,name,\n1,a,x\n",  # a value beyond the header's columns
    b"id,id\n1,2\n",  # a repeated header
    b'id,"unclosed\n1,2\n',
    b"id,name\n1," + b"x" * 40_000 + b"\n",  # a cell past the limit
    b"id,name\n1,a\x00b\n",
    b",,\n1,2,3\n",
    b"\xef\xbb\xbf\xef\xbb\xbfid\n1\n",  # two BOMs: the second is text
    b"id\n\xef\xbb\xbf1\n",  # a BOM inside
    b"\xef\xbb\xbf",  # a BOM alone
]


@pytest.mark.parametrize("data", TRICKY_CSVS)
def test_csv_fast_reader_reads_what_the_record_reader_reads(data, monkeypatch):
    def read():
        try:
            return tables.read_table(data, filename="t.csv")
        except Exception as exc:  # the same error, word for word
            return f"{type(exc).__name__}: {exc}"

    fast = read()
    monkeypatch.setattr(tables, "_csv_frame_fast", lambda data, encoding: None)
    slow = read()
    if isinstance(slow, str):
        assert fast == slow
    else:
        pd.testing.assert_frame_equal(fast, slow)
        assert [type(v) for v in fast.to_numpy().ravel()] == [
            type(v) for v in slow.to_numpy().ravel()
        ]


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/New_York"])
def test_instants_read_in_one_go_as_cell_by_cell(zone, monkeypatch):
    monkeypatch.setenv("GRIDLAW_TIMEZONE", zone)
    rng = random.Random(0)
    cells = ["2025-03-04 09:30", "2025-03-04T09:30:05", "2025-03-04 09:30:05.123", "2025-03-04",
             None, "2025-02-30 10:00", "2025-03-04 24:00", "2025年3月4日 9:30",
             "2025-03-04T09:30:00+08:00", "2025-03-09 02:30", "2025-11-02 01:30",
             "2025-03-04 9:30", "x", "2300-01-01 00:00", "1986-05-04 02:30", "1986-09-14 01:30",
             "2025-03-04 09:30:05.1234567"]  # fmt: skip
    cells += [
        f"{rng.randint(1985, 2030)}-{rng.randint(1, 12):02d}-{rng.randint(1, 31):02d} "
        f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"
        for _ in range(3000)
    ]
    got = import_columns.parse_instant_texts(pd.Series(cells, dtype=object))
    expected = [None if c is None else import_columns.parse_instant_text(c) for c in cells]
    assert [None if pd.isna(v) else v.to_pydatetime() for v in got] == expected


def test_driver_values_column_by_column_as_value_by_value():
    frame = pd.DataFrame(
        {
            "text": ["a", None, np.nan, "b"],
            "num": [1.5, np.nan, 2.0, 3.0],
            "flag": [True, False, True, False],
            "day": [dt.date(2025, 1, 2), None, dt.date(2025, 1, 2), pd.NaT],
            "moment": [dt.datetime(2025, 1, 2, 3, 4, 5, 6), None, None, dt.datetime(2025, 1, 2)],
            "stamp": [pd.Timestamp("2025-01-02 03:04"), None, None, dt.datetime(2025, 1, 2, 3, 4)],
            "count": pd.array([1, None, 3, 4], dtype="Int64"),
        }
    )
    for convert in (bulk._py, bulk._sqlite_cell):
        for column in frame:
            values = frame[column].astype(object).to_numpy()
            expected = [convert(None if v is pd.NA else v) for v in values]
            got = bulk._column_values(frame[column], convert)
            assert got == expected and list(map(type, got)) == list(map(type, expected)), column


def test_stripped_in_one_go_as_cell_by_cell():
    cells = [" a ", "", None, "  ", "b", "\u3000x\u3000", "\xa0", "a\nb ", "  多 行\n"]
    got = fields.stripped(pd.Series(cells, dtype=object))
    assert got.tolist() == [fields.clean_cell(v) for v in cells] and got.dtype == object
