"""Concurrent writes and database errors (issue 8, classes 8 and 10), on both backends with
real separate connections: two status changes at once (one wins, the other is told), many
writers (no "database is locked"), a diary entry during a large import (stored), one file
imported twice at once (no duplicate, no traceback), and every database refusal as a clean
zh/en message that never holds the value — in the services, the CLI and the Cases page."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from grid_model import db
from grid_model.cli import main
from grid_model.db.bulk import insert_frame
from grid_model.errors import (
    BusyError,
    ConflictError,
    DatabaseError,
    InvalidInputError,
    RejectedValueError,
)
from grid_model.imports import import_needs
from grid_model.models import Need, Worker
from grid_model.needs.cases import NeedInput, change_status, record_need
from grid_model.scope import Viewer
from tests.factories import add_need, make_community

pytestmark = pytest.mark.db

ROOT = Path(__file__).resolve().parent.parent
ADMIN = Viewer(role="admin", name="admin")
D = dt.date
SECRET = "王秘密" * 30  # a resident's name far longer than the schema allows (50)


def only(backend: str):
    """Run a test on one backend only (what it checks does not exist on the other)."""
    return pytest.mark.parametrize("backend", [backend], indirect=True)


@pytest.fixture()
def community(committed_engine):
    with Session(committed_engine, expire_on_commit=False) as s, s.begin():
        c = make_community(s, n_grids=4)
    return c


def _count(engine, sql: str = "SELECT count(*) FROM needs") -> int:
    with engine.connect() as conn:
        return conn.exec_driver_sql(sql).scalar_one()


def _at_once(n: int, work) -> list:
    """Run ``work(i)`` in ``n`` threads released together; what each returned or raised."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - the test looks at what each thread got
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    return results


def _hold_write_lock(engine):
    """A connection in a write transaction (on SQLite it holds the one write lock)."""
    conn = db.writer(engine).connect()
    conn.exec_driver_sql("SELECT 1")  # BEGIN IMMEDIATE
    return conn


def _valid(status: str, outcome, closed_at) -> bool:
    """A stored status with what it implies: closed with outcome and date, open without."""
    if status == "closed":
        return outcome is not None and closed_at is not None
    return outcome is None and closed_at is None


# --- class 8: two status changes to one case at the same moment ------------------------------


@pytest.mark.parametrize("expected", ["recorded", None], ids=["form-saw-status", "no-expected"])
def test_two_status_changes_at_once_exactly_one_wins(committed_engine, community, expected):
    with Session(committed_engine) as s, s.begin():
        ids = [add_need(s, category="consultation").id for _ in range(8)]
    moves = [("closed", "resolved"), ("dispatched", None)]
    for need_id in ids:

        def change(i: int, need_id=need_id):
            to, outcome = moves[i]
            return db.run_write(
                committed_engine,
                lambda s: change_status(s, need_id, to, outcome=outcome, viewer=Viewer.local_admin(f"worker{i}"),
                                        on=D(2025, 3, 4), expected=expected, lang="en").status,
                lang="en",
            )  # fmt: skip

        results = _at_once(2, change)
        won = [r for r in results if isinstance(r, str)]
        lost = [r for r in results if not isinstance(r, str)]
        assert len(won) == 1 and len(lost) == 1, results
        # the loser is told what happened: a conflict naming the status now (or, having read
        # the winner's status, that this change is not allowed from it)
        allowed = (ConflictError,) if expected else (ConflictError, InvalidInputError)
        assert isinstance(lost[0], allowed), repr(lost[0])
        assert won[0] in str(lost[0])
        with committed_engine.connect() as conn:
            row = conn.execute(
                select(Need.status, Need.outcome, Need.closed_at).where(Need.id == need_id)
            ).one()
            changes = conn.exec_driver_sql(
                f"SELECT count(*) FROM audit_log WHERE action = 'change_status' "
                f"AND entity_id = '{need_id}'"
            ).scalar_one()
        assert row.status == won[0] and _valid(*row), row
        assert changes == 1  # one audit entry: the change that was stored


def test_conflict_message_in_both_languages(committed_engine, community):
    with Session(committed_engine) as s, s.begin():
        need_id = add_need(s).id
    db.run_write(committed_engine, lambda s: change_status(s, need_id, "dispatched", viewer=Viewer.local_admin("a"),
                                                           on=D(2025, 3, 4)))  # fmt: skip
    for lang, words in (("zh", "已被他人同时修改"), ("en", "changed by someone else meanwhile")):
        with pytest.raises(ConflictError) as err:
            db.run_write(
                committed_engine,
                lambda s, lang=lang: change_status(s, need_id, "closed", outcome="resolved",
                                                   viewer=Viewer.local_admin("b"), on=D(2025, 3, 4),
                                                   expected="recorded", lang=lang),
            )  # fmt: skip
        assert words in str(err.value) and "dispatched" in str(err.value)
        assert err.value.exit_code == 4


# --- class 8: many writers, a diary entry during a large import -----------------------------


def _form(i: int, **kw) -> NeedInput:
    values = {"lon": 113.082, "lat": 22.606, "category": "consultation",
              "reported_at": D(2025, 3, 3), "source": "diary", "description": f"来访 {i}",
              "external_id": f"W{i:05d}"}  # fmt: skip
    values.update(kw)
    return NeedInput(**values)


def test_many_writers_get_no_database_is_locked(committed_engine, community):
    per_thread, threads = 15, 8
    with Session(committed_engine) as s, s.begin():
        ids = [add_need(s).id for _ in range(threads)]

    def writer(i: int) -> int:
        for j in range(per_thread):
            k = i * per_thread + j
            db.run_write(committed_engine,
                         lambda s, k=k: record_need(s, _form(k), viewer=ADMIN))  # fmt: skip
            if j == 0:  # and one status change each, on its own case
                db.run_write(committed_engine,
                             lambda s: change_status(s, ids[i], "dispatched", viewer=Viewer.local_admin("w"),
                                                     on=D(2025, 3, 4)))  # fmt: skip
        return per_thread

    results = _at_once(threads, writer)
    assert results == [per_thread] * threads, [repr(r) for r in results]
    assert _count(committed_engine, "SELECT count(*) FROM needs WHERE external_id LIKE 'W%%'") == (
        per_thread * threads
    )


def _needs_csv(path: Path, n: int, *, prefix: str = "BIG") -> Path:
    frame = pd.DataFrame(
        {
            "编号": [f"{prefix}{i:07d}" for i in range(n)],
            "登记日期": "2025-03-05",
            "经度": [113.0805 + (i % 97) * 0.00015 for i in range(n)],
            "纬度": [22.6005 + (i % 89) * 0.00015 for i in range(n)],
            "类别": "法律咨询",
            "来源": "电话",
        }
    )
    frame.to_csv(path, index=False)
    return path


def test_diary_entry_during_a_large_import_is_stored(committed_engine, community, tmp_path):
    path = _needs_csv(tmp_path / "big.csv", 60_000)
    started = threading.Event()

    def big_import(session):
        started.set()
        return import_needs(session, path, lang="en", viewer=Viewer.local_admin("import"))

    importer = threading.Thread(target=lambda: db.run_write(committed_engine, big_import))
    importer.start()
    started.wait(30)
    time.sleep(0.5)  # the import is reading, locating and inserting now
    need, created = db.run_write(committed_engine,
                                 lambda s: record_need(s, _form(1), viewer=ADMIN))  # fmt: skip
    importer.join(120)
    assert created
    assert _count(committed_engine, "SELECT count(*) FROM needs WHERE external_id = 'W00001'") == 1
    assert _count(
        committed_engine, "SELECT count(*) FROM needs WHERE external_id LIKE 'BIG%%'"
    ) == (60_000)


# --- the same file imported twice at once ---------------------------------------------------


def test_same_file_imported_twice_at_once_in_threads(committed_engine, community, tmp_path):
    path = _needs_csv(tmp_path / "needs.csv", 3_000)
    results = _at_once(
        2,
        lambda i: db.run_write(
            committed_engine, lambda s: import_needs(s, path, lang="en", viewer=ADMIN)
        ),
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(r.inserted for r in results) == [0, 3_000]
    assert _count(committed_engine) == 3_000


def test_same_file_imported_twice_at_once_by_the_cli(committed_engine, community, tmp_path):
    path = _needs_csv(tmp_path / "needs.csv", 3_000)
    url = committed_engine.url.render_as_string(hide_password=False)
    cmd = [sys.executable, "-m", "grid_model.cli", "--db", url, "--lang", "en", "-q",
           "import-needs", str(path)]  # fmt: skip
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              cwd=ROOT) for _ in range(2)]  # fmt: skip
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outs, strict=True):
        assert "Traceback" not in err and "IntegrityError" not in err, err
        assert p.returncode == 0, (out, err)
    assert _count(committed_engine) == 3_000


# --- class 10: what the database refuses becomes a clean message -----------------------------


def _worker(**kw) -> Worker:
    values = {"code": "W-X", "name": "某人", "role": "grid_assistant", "capacity": 1.0,
              "active": True}  # fmt: skip
    values.update(kw)
    return Worker(**values)


def _store(engine, obj, lang: str = "en"):
    def work(s):
        s.add(obj)
        s.flush()

    return db.run_write(engine, work, lang=lang)


@only("postgis")  # SQLite does not enforce VARCHAR lengths: the validators do (class 10)
def test_value_too_long_gives_a_clean_message_without_the_value(committed_engine, backend):
    for lang in ("zh", "en"):
        with pytest.raises(RejectedValueError) as err:
            _store(committed_engine, _worker(name=SECRET), lang)
        assert SECRET[:3] not in str(err.value) and "50" in str(err.value)
        assert err.value.exit_code == 3
    assert "longer than the database allows" in str(err.value)
    # the bulk path (COPY on the raw connection) says the same
    frame = pd.DataFrame({"code": ["W-Y"], "name": [SECRET], "role": ["mediator"]})
    with pytest.raises(RejectedValueError) as err:
        db.run_write(committed_engine,
                     lambda s: insert_frame(s, "workers", frame, ["code", "name", "role"]),
                     lang="en")  # fmt: skip
    assert SECRET[:3] not in str(err.value)
    assert _count(committed_engine, "SELECT count(*) FROM workers") == 0


@only("postgis")  # SQLite stores NUL characters: the validators refuse them (class 10)
def test_nul_in_a_text_gives_a_clean_message(committed_engine, backend, community):
    value = "张三\x00" + SECRET[:10]
    with pytest.raises(RejectedValueError) as err:
        _store(committed_engine, _worker(name=value))
    assert "NUL" in str(err.value) and "张三" not in str(err.value)
    # and a search for it is refused before the database, with a clear message
    from grid_model.errors import InvalidInputError
    from grid_model.needs.cases import search_needs
    from grid_model.scope import Scope

    with pytest.raises(InvalidInputError), db.reading(committed_engine, lang="en") as s:
        search_needs(s, Scope(), ADMIN, text="a\x00b")


def test_constraint_and_duplicate_name_the_column_not_the_value(committed_engine, backend):
    _store(committed_engine, _worker(code="DUP", name="李四"))
    with pytest.raises(RejectedValueError) as err:
        _store(committed_engine, _worker(code="DUP", name="李四"))
    assert "duplicates a stored record" in str(err.value) and "DUP" not in str(err.value)
    with pytest.raises(RejectedValueError) as err:
        _store(committed_engine, _worker(code="NONAME", name=None))
    assert "refused a value" in str(err.value) and "name" in str(err.value)


@only("postgis")  # the server ends the connection in the middle of a unit of work
def test_connection_lost_is_a_clean_database_error(committed_engine, backend):
    def work(s):
        pid = s.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with committed_engine.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        s.add(_worker(code="LOST", name="张三"))
        s.flush()

    with pytest.raises(DatabaseError) as err:
        db.run_write(committed_engine, work, lang="en")
    assert "connection to the database failed or was lost" in str(err.value)
    assert "张三" not in str(err.value) and err.value.exit_code == 1
    assert _count(committed_engine, "SELECT count(*) FROM workers WHERE code = 'LOST'") == 0


@only("spatialite")  # a full disk simulated with SQLite's max_page_count
def test_disk_full_is_a_clean_database_error(committed_engine, backend, community):
    engine = db.make_engine(committed_engine.url)  # its own connections: the limit stays here
    try:

        def fill(s):
            pages, free, size = (
                s.execute(text(f"PRAGMA {p}")).scalar_one()
                for p in ("page_count", "freelist_count", "page_size")
            )
            s.execute(text(f"PRAGMA max_page_count = {pages}"))
            for i in range((free + 20) * size // 1000 + 10):  # more than the free pages hold
                s.add(_worker(code=f"F{i}", name="某" * 1000))
            s.flush()

        with pytest.raises(DatabaseError) as err:
            db.run_write(engine, fill, lang="en")
        assert "disk is full" in str(err.value) and "某某" not in str(err.value)
        assert _count(engine, "SELECT count(*) FROM workers WHERE code LIKE 'F%'") == 0
        assert err.value.exit_code == 1
    finally:
        engine.dispose()


def test_busy_database_says_so_after_retrying(committed_engine, backend, community, monkeypatch):
    monkeypatch.setenv("GRIDLAW_DB_BUSY_TIMEOUT", "0.2")
    engine = db.make_engine(committed_engine.url)
    with Session(committed_engine) as s, s.begin():
        need_id = add_need(s).id
    holder = _hold_write_lock(committed_engine)
    try:
        if backend == "postgis":
            holder.exec_driver_sql(f"SELECT 1 FROM needs WHERE id = {need_id} FOR UPDATE")
        start = time.monotonic()
        with pytest.raises(BusyError) as err:
            db.run_write(engine, lambda s: change_status(s, need_id, "dispatched", viewer=Viewer.local_admin("x"),
                                                         on=D(2025, 3, 4), lang="en"),
                         lang="en")  # fmt: skip
        assert time.monotonic() - start >= 0.2 * db.ATTEMPTS  # it waited, then tried again
        assert "The database is busy" in str(err.value) and err.value.exit_code == 4
    finally:
        holder.rollback()
        holder.close()
        engine.dispose()
    # the lock released, the same change goes through
    db.run_write(engine, lambda s: change_status(s, need_id, "dispatched", viewer=Viewer.local_admin("x"),
                                                 on=D(2025, 3, 4)))  # fmt: skip
    engine.dispose()


# --- the CLI: clean message, the right exit status -------------------------------------------


@only("spatialite")  # an import on PostgreSQL waits for no lock another reader holds
def test_cli_busy_exit_4_without_traceback(committed_engine, backend, community, tmp_path,
                                           monkeypatch, capsys):  # fmt: skip
    monkeypatch.setenv("GRIDLAW_DB_BUSY_TIMEOUT", "0.2")
    path = _needs_csv(tmp_path / "needs.csv", 10)
    url = committed_engine.url.render_as_string(hide_password=False)
    holder = _hold_write_lock(committed_engine)
    try:
        code = main(["--db", url, "--lang", "en", "-q", "import-needs", str(path)])
    finally:
        holder.rollback()
        holder.close()
    err = capsys.readouterr().err
    assert code == 4 and "The database is busy" in err and "Traceback" not in err
    assert _count(committed_engine) == 0


def test_cli_cannot_connect_exit_1_without_traceback(capsys):
    code = main(["--db", "postgresql+psycopg://nobody@127.0.0.1:1/none", "--lang", "en", "stats"])
    err = capsys.readouterr().err
    assert code == 1 and "connection to the database failed" in err, err
    assert "OperationalError" not in err and "Traceback" not in err


@only("postgis")  # on SQLite the length validation (class 10, importing) refuses it
def test_cli_value_too_long_exit_3_without_the_value(committed_engine, backend, community,
                                                     tmp_path, capsys):  # fmt: skip
    path = tmp_path / "needs.csv"
    path.write_text(
        "编号,登记日期,经度,纬度,类别,来源,姓名\n"
        f"L1,2025-03-05,113.082,22.606,法律咨询,电话,{SECRET}\n",
        encoding="utf-8",
    )
    url = committed_engine.url.render_as_string(hide_password=False)
    code = main(["--db", url, "--lang", "en", "-q", "import-needs", str(path)])
    out = capsys.readouterr()
    assert code == 3, out
    assert SECRET[:3] not in out.err + out.out and "Traceback" not in out.err
    assert _count(committed_engine) == 0


# --- the Cases page: the diary form is never lost silently -----------------------------------


@only("spatialite")  # recording a need on PostgreSQL waits for no other writer
def test_diary_form_on_a_busy_database_keeps_the_entry(committed_engine, backend, community,
                                                       monkeypatch):  # fmt: skip
    import streamlit as st

    url = committed_engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("GRIDLAW_DATABASE_URL", url)
    monkeypatch.setenv("GRIDLAW_TODAY", "2025-04-01")
    monkeypatch.setenv("GRIDLAW_DB_BUSY_TIMEOUT", "0.2")
    db.get_engine(url).dispose()  # the page's connections read the timeout anew
    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "pages/5_案件_Cases.py"), default_timeout=120)
    at.run()
    assert not at.exception
    at.radio(key="diary_locate").set_value("grid").run()
    at.selectbox(key="diary_grid").set_value(community.grid_codes[1])
    at.text_area(key="diary_description").input("楼上漏水,邻里协商不成")
    at.text_input(key="diary_resident").input("赵六")

    holder = _hold_write_lock(committed_engine)
    try:
        _submit(at, "保存需求")
    finally:
        holder.rollback()
        holder.close()
    assert not at.exception, [e.value for e in at.exception]
    assert any("数据库正忙" in e.value for e in at.error), [e.value for e in at.error]
    assert at.text_area(key="diary_description").value == "楼上漏水,邻里协商不成"
    assert at.text_input(key="diary_resident").value == "赵六"
    assert _count(committed_engine) == 0
    _submit(at, "保存需求")  # the same entry, sent again once the database is free
    assert any(community.grid_codes[1] in s.value for s in at.success), [e.value for e in at.error]
    assert _count(committed_engine) == 1
    db.get_engine(url).dispose()
    st.cache_data.clear()


def _submit(at: AppTest, label: str) -> None:
    next(b for b in at.button if b.label == label).click().run()
