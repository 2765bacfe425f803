"""The closed-needs summary: per-grid measures read through it equal the plain GROUP BY over
every need, whatever the scope, the day and the writes since the last refresh — on both
backends."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

import pandas as pd
import pandas.testing as pdt
import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from grid_model import db, instants
from grid_model.measures import indicators, need_stats
from grid_model.measures.definitions import on_hold_at
from grid_model.measures.per_grid import grid_measures
from grid_model.models import (
    CaseEvent,
    Need,
    NeedCloseDays,
    NeedDiaryMonth,
    NeedMonthStat,
    NeedStatsDirty,
)
from grid_model.needs.cases import NeedInput, change_status, record_need
from grid_model.scope import Scope, Viewer
from tests.conftest import _postgis_engine, scratch_engine
from tests.factories import add_need, make_community

pytestmark = pytest.mark.db

CATEGORIES = tuple(indicators.DUE_DAYS)
STATUSES = ("recorded", "dispatched", "in_progress", "closed")
#: statuses of the closed loop only the case steps give (grid_model.cases), with holds
LOOP_STATUSES = ("accepted", "on_hold", "handled", "returned")
FIRST = dt.date(2024, 11, 1)


def _random_needs(session, grid_codes, n, rng: random.Random):
    """``n`` needs over ~14 months: mostly closed (some without a closing date, some closed
    late, a few closed "in the future"), diary entries, explicit due dates, needs outside
    every grid and needs without a district; and cases of the closed loop: statuses only its
    steps give, holds (缓办) before the day asked about or after it, resumed or not — closed
    needs among them — which ``due_to_close`` must leave out exactly while they last."""
    holds = random.Random(n)  # its own draws: the needs' stay what they were
    for _ in range(n):
        reported = FIRST + dt.timedelta(days=rng.randrange(420))
        status = rng.choices(STATUSES, weights=(1, 1, 1, 6))[0]
        closed_at = None
        if status == "closed" and rng.random() > 0.05:
            closed_at = reported + dt.timedelta(days=rng.randrange(0, 60))
        grid = rng.choice([*grid_codes, None]) if rng.random() < 0.1 else rng.choice(grid_codes)
        extra = {}
        if grid is None:
            extra = {"lon": 113.2, "lat": 22.7}
        need = add_need(
            session,
            grid_code=grid,
            reported_at=reported,
            category=rng.choice(CATEGORIES),
            status=status,
            closed_at=closed_at,
            outcome="resolved" if status == "closed" else None,
            due_date=reported + dt.timedelta(days=rng.randrange(1, 40))
            if rng.random() < 0.2
            else None,
            source=rng.choice(["diary", "diary", "walk_in", "hotline"]),
            district_code=None if rng.random() < 0.03 else (grid or "440703")[:6],
            **extra,
        )
        if holds.random() < 0.2:
            _random_hold(session, need, holds)


def _random_hold(session, need: Need, rng: random.Random) -> None:
    """A hold of ``need`` (maybe resumed), and maybe a status of the loop for an open one."""
    if need.status != "closed":
        need.status = rng.choice([need.status, *LOOP_STATUSES])
    held = need.reported_at + dt.timedelta(days=rng.randrange(0, 50), hours=rng.randrange(24))
    session.add(CaseEvent(need_id=need.id, step="hold", to_status="on_hold", actor="t",
                          at=instants.to_stored(held)))  # fmt: skip
    if rng.random() < 0.5:
        resumed = held + dt.timedelta(days=rng.randrange(0, 30), hours=rng.randrange(24))
        session.add(CaseEvent(need_id=need.id, step="resume", to_status="in_progress",
                              actor="t", at=instants.to_stored(resumed)))  # fmt: skip
    session.flush()


def _delete_needs(session, cond) -> None:
    """Delete the needs matching ``cond`` with their case steps."""
    ids = select(Need.id).where(cond)
    session.execute(delete(CaseEvent).where(CaseEvent.need_id.in_(ids)))
    session.execute(delete(Need).where(cond))


def _random_scope(rng: random.Random, grid_codes) -> Scope:
    area = rng.choice([None, None, "440703", "440703006", "440703006106", *grid_codes[:3], "4407"])
    start = end = None
    if rng.random() < 0.6:
        start = FIRST + dt.timedelta(days=rng.randrange(-40, 420))
        if rng.random() < 0.3:
            start = start.replace(day=1)
    if rng.random() < 0.6:
        end = FIRST + dt.timedelta(days=rng.randrange(0, 460))
        if rng.random() < 0.3:
            end = end.replace(day=28)
    categories = tuple(rng.sample(CATEGORIES, rng.randrange(1, 4))) if rng.random() < 0.3 else ()
    statuses = (
        tuple(rng.sample(STATUSES + LOOP_STATUSES, rng.randrange(1, 4)))
        if rng.random() < 0.3
        else ()
    )
    return Scope(area_code=area, start=start, end=end, categories=categories, statuses=statuses)


def _assert_same(session, scope: Scope, today: dt.date) -> None:
    """Per-grid measures, KPIs and the monthly trend read through the summary equal the
    plain aggregates over every need."""
    fast = grid_measures(session, scope, today=today)
    plain = grid_measures(session, scope, today=today, summary=False)
    pdt.assert_frame_equal(fast, plain, obj=f"grid_measures({scope}, today={today})")
    fast_kpis = indicators.compute_kpis(session, scope, today=today)
    plain_kpis = indicators.compute_kpis(session, scope, today=today, summary=False)
    for name, value in dataclasses.asdict(plain_kpis).items():
        got = getattr(fast_kpis, name)
        assert got == pytest.approx(value) if isinstance(value, float) else got == value, (
            f"compute_kpis({scope}, today={today}).{name}: {got!r} != {value!r}"
        )
    pdt.assert_frame_equal(
        indicators.monthly_trend(session, scope),
        indicators.monthly_trend(session, scope, summary=False),
        obj=f"monthly_trend({scope})",
    )


def _stats(session, table=NeedMonthStat) -> pd.DataFrame:
    rows = session.execute(select(table)).scalars().all()
    cols = [c.name for c in table.__table__.columns]
    key = [c.name for c in table.__table__.primary_key]
    frame = pd.DataFrame([{c: getattr(r, c) for c in cols} for r in rows], columns=cols)
    return frame.sort_values(key).reset_index(drop=True)


def _assert_histograms_sum_the_summary(session) -> None:
    """Per (grid, month, category, district) the days-to-close histogram holds as many needs
    and days as the summary's ``days_n`` and ``days_sum``."""
    h = _stats(session, NeedCloseDays)
    h["days_sum"] = h["days"] * h["needs"]
    key = ["grid_code", "month_start", "category", "district_code"]
    got = h.groupby(key, as_index=False)[["needs", "days_sum"]].sum()
    got = got.rename(columns={"needs": "days_n"}).astype({"days_n": "int64", "days_sum": "int64"})
    want = _stats(session)
    want = want.loc[want["days_n"] > 0, [*key, "days_n", "days_sum"]].reset_index(drop=True)
    pdt.assert_frame_equal(got[[*key, "days_n", "days_sum"]], want.astype(got.dtypes.to_dict()))


@pytest.fixture()
def community(session):
    return make_community(session, n_grids=6)


def test_random_scopes_and_days_match_the_plain_group_by(session, community):
    rng = random.Random(7)
    _random_needs(session, community.grid_codes, 400, rng)
    need_stats.refresh(session)
    assert session.scalar(select(func.count()).select_from(NeedStatsDirty)) == 0
    assert session.scalar(select(func.count()).select_from(NeedMonthStat)) > 50
    _assert_histograms_sum_the_summary(session)
    used = 0
    for _ in range(60):
        scope = _random_scope(rng, community.grid_codes)
        today = FIRST + dt.timedelta(days=rng.randrange(0, 480))
        used += need_stats.summary_window(session, scope, today) is not None
        _assert_same(session, scope, today)
    assert used > 20  # the summary was actually read in many of them
    held = [session.scalar(select(func.count()).select_from(Need).where(on_hold_at(FIRST + dt.timedelta(days=d)))) for d in range(0, 480, 40)]  # fmt: skip
    assert min(held) < max(held) and max(held) > 3  # holds came and went over the days asked


def test_writes_since_the_refresh_are_read_from_needs_until_refreshed(session, community):
    rng = random.Random(11)
    _random_needs(session, community.grid_codes, 200, rng)
    need_stats.refresh(session)
    today = dt.date(2026, 1, 31)
    scopes = [Scope(), Scope(area_code=community.grid_codes[1]), Scope(start=dt.date(2025, 2, 1))]
    g0, g1 = community.grid_codes[:2]
    first = session.scalars(select(Need).where(Need.status == "closed").order_by(Need.id)).first()
    writes = [
        # a new closed need, an old one reopened, moved to another grid, another month
        lambda: add_need(
            session,
            grid_code=g0,
            status="closed",
            closed_at=dt.date(2025, 4, 2),
            reported_at=dt.date(2025, 4, 1),
            source="diary",
        ),
        lambda: session.execute(
            update(Need).where(Need.id == first.id).values(status="in_progress", closed_at=None)
        ),
        lambda: session.execute(
            update(Need)
            .where((Need.grid_code == g0) & (Need.status == "closed"))
            .values(grid_code=g1)
        ),
        lambda: session.execute(
            update(Need)
            .where((Need.grid_code == g1) & (Need.category == "mediation"))
            .values(reported_at=dt.date(2025, 9, 9))
        ),
        lambda: _delete_needs(session, Need.grid_code == community.grid_codes[2]),
    ]
    for write in writes:
        write()
        session.flush()
        assert session.scalar(select(func.count()).select_from(NeedStatsDirty)) > 0
        for scope in scopes:
            _assert_same(session, scope, today)
        need_stats.refresh(session)
        assert session.scalar(select(func.count()).select_from(NeedStatsDirty)) == 0
        for scope in scopes:
            _assert_same(session, scope, today)
    incremental = {m.table: _stats(session, m.table) for m in need_stats.SUMMARIES}
    _assert_histograms_sum_the_summary(session)
    assert need_stats.refresh(session, full=True) == len(incremental[NeedMonthStat])
    for table, frame in incremental.items():
        pdt.assert_frame_equal(_stats(session, table), frame, obj=table.__tablename__)


def test_too_many_marked_buckets_fall_back_to_needs(session, community, monkeypatch):
    _random_needs(session, community.grid_codes, 120, random.Random(3))
    assert session.scalar(select(func.count()).select_from(NeedStatsDirty)) > 2
    monkeypatch.setattr(need_stats, "MAX_MARKED", 2)
    assert need_stats.summary_window(session, Scope(), dt.date(2026, 1, 1)) is None
    _assert_same(session, Scope(), dt.date(2026, 1, 1))


def test_services_that_write_needs_leave_nothing_marked(session, community):
    viewer = Viewer(role="grid_assistant", name="A1")
    lon, lat = community.centre(community.grid_codes[0])
    need, _ = record_need(
        session,
        NeedInput(
            reported_at=dt.date(2025, 5, 6),
            lon=lon,
            lat=lat,
            category="consultation",
            description="租房合同咨询",
            source="diary",
        ),
        viewer=viewer,
    )
    change_status(session, need.id, "dispatched", viewer=viewer, on=dt.date(2025, 5, 6))
    change_status(session, need.id, "in_progress", viewer=viewer, on=dt.date(2025, 5, 7))
    change_status(
        session, need.id, "closed", viewer=viewer, on=dt.date(2025, 5, 8), outcome="resolved"
    )
    assert session.scalar(select(func.count()).select_from(NeedStatsDirty)) == 0
    row = session.execute(select(NeedMonthStat)).scalar_one()
    assert (row.grid_code, row.month_start, row.needs, row.on_time) == (
        community.grid_codes[0],
        dt.date(2025, 5, 1),
        1,
        1,
    )
    assert row.last_diary == dt.date(2025, 5, 6) and row.max_closed_at == dt.date(2025, 5, 8)
    _assert_same(session, Scope(), dt.date(2025, 12, 31))


def test_a_need_closed_after_today_still_counts_as_open(session, community):
    g = community.grid_codes[0]
    add_need(session, grid_code=g, reported_at=dt.date(2025, 3, 3), status="closed",
             closed_at=dt.date(2025, 3, 20))  # fmt: skip
    add_need(session, grid_code=g, reported_at=dt.date(2025, 4, 3), status="closed",
             closed_at=dt.date(2025, 6, 20))  # fmt: skip
    need_stats.refresh(session)
    window = need_stats.summary_window(session, Scope(), dt.date(2025, 5, 31))
    assert window is not None and window.end == dt.date(2025, 4, 1)  # April closes in June
    row = grid_measures(session, Scope(area_code=g), today=dt.date(2025, 5, 31)).iloc[0]
    assert (row["needs"], row["open"], row["closed"]) == (2, 1, 1)
    _assert_same(session, Scope(), dt.date(2025, 5, 31))


def test_statuses_without_closed_do_not_read_the_summary(session):
    assert need_stats.summary_window(session, Scope(statuses=("recorded",)), FIRST) is None
    scope = Scope(start=dt.date(2025, 3, 15), end=dt.date(2025, 4, 10))
    assert need_stats.summary_window(session, scope, dt.date(2025, 12, 31)) is None


@pytest.mark.parametrize(
    ("start", "end", "today", "window"),
    [
        (None, None, dt.date(2025, 12, 31), (None, dt.date(2026, 1, 1))),
        (None, None, dt.date(2025, 12, 30), (None, dt.date(2025, 12, 1))),
        (dt.date(2025, 2, 1), dt.date(2025, 6, 30), dt.date(2026, 1, 1), (dt.date(2025, 2, 1), dt.date(2025, 7, 1))),
        (dt.date(2025, 2, 2), dt.date(2025, 6, 29), dt.date(2026, 1, 1), (dt.date(2025, 3, 1), dt.date(2025, 6, 1))),
        (dt.date(2024, 12, 31), None, dt.date(2025, 2, 28), (dt.date(2025, 1, 1), dt.date(2025, 3, 1))),
    ],
)  # fmt: skip
def test_window_months(session, start, end, today, window):
    got = need_stats.summary_window(session, Scope(start=start, end=end), today)
    assert (got.start, got.end) == window


def test_migration_fills_the_summary_like_a_full_refresh(backend, tmp_path):
    eng = scratch_engine(backend, tmp_path)
    try:
        # the rows are written by today's models, then the schema is taken back to before the
        # summary existed: the upgrade through 0003 must fill it from them
        db.upgrade(eng)
        with Session(eng) as s, s.begin():
            c = make_community(s, n_grids=4)
            _random_needs(s, c.grid_codes, 150, random.Random(5))
        db.downgrade(eng, "0002")
        db.upgrade(eng)
        with Session(eng) as s, s.begin():
            filled = {m.table: _stats(s, m.table) for m in need_stats.SUMMARIES}
            assert len(filled[NeedMonthStat]) > 20
            assert len(filled[NeedCloseDays]) > len(filled[NeedMonthStat])
            assert len(filled[NeedDiaryMonth]) > 10
            assert s.scalar(select(func.count()).select_from(NeedStatsDirty)) == 0
            _assert_histograms_sum_the_summary(s)
            need_stats.refresh(s, full=True)
            for table, frame in filled.items():
                pdt.assert_frame_equal(_stats(s, table), frame, obj=table.__tablename__)
            _assert_same(s, Scope(), dt.date(2026, 6, 30))
    finally:
        db.downgrade(eng)
        eng.dispose()


def test_two_writers_at_once_on_postgresql_neither_waits_nor_loses_a_month():
    """PostgreSQL only: SQLite has one writer at a time (the second waits for the database
    lock), so this race cannot happen there. Two transactions each close a need, so each holds
    its lock on the mark table; refreshing in either must not wait for the other (it would
    deadlock), and the months both marked must stay marked until a later refresh."""
    eng = _postgis_engine("concurrency")
    try:
        db.upgrade(eng)
        with Session(eng) as s, s.begin():
            codes = make_community(s, n_grids=2).grid_codes
        one, two = Session(eng), Session(eng)
        for sess in (one, two):  # a regression to a blocking lock fails here, not hangs
            sess.execute(text("SET lock_timeout = '5s'"))
        for sess, grid, day in ((one, codes[0], 3), (two, codes[1], 4)):
            add_need(sess, grid_code=grid, reported_at=dt.date(2025, 5, day), status="closed",
                     closed_at=dt.date(2025, 5, 20), outcome="resolved")  # fmt: skip
        assert need_stats.refresh(one) == 0  # the other writer holds the table: skipped
        assert need_stats.refresh(two) == 0
        one.commit()
        two.commit()
        one.close()
        two.close()
        with Session(eng) as s, s.begin():
            assert s.scalar(select(func.count()).select_from(NeedStatsDirty)) == 2
            _assert_same(s, Scope(), dt.date(2025, 12, 31))
            assert need_stats.refresh(s, wait=True) == 2
            assert s.scalar(select(func.count()).select_from(NeedStatsDirty)) == 0
            _assert_same(s, Scope(), dt.date(2025, 12, 31))
    finally:
        eng.dispose()


def test_a_big_rebuild_refreshes_the_summaries_planner_statistics(session, monkeypatch):
    # PostgreSQL guessed 300 rows of need_close_days for 100k without them (0.15 s against
    # 0.07 s a read at 1M needs)
    from sqlalchemy import event

    c = make_community(session, n_grids=2)
    for i in range(6):
        add_need(session, grid_code=c.grid_codes[i % 2], status="closed",
                 reported_at=FIRST + dt.timedelta(days=40 * i), closed_at=FIRST + dt.timedelta(days=40 * i))  # fmt: skip
    session.flush()
    issued: list[str] = []
    bind = session.connection()
    spy = lambda conn, cursor, statement, *a: issued.append(statement)  # noqa: E731
    event.listen(bind, "before_cursor_execute", spy)
    try:
        need_stats.refresh(session, full=True)  # 6 buckets: not worth it
        assert not [s for s in issued if s.startswith("ANALYZE")]
        monkeypatch.setattr(need_stats, "ANALYZE_AFTER_BUCKETS", 6)
        need_stats.refresh(session, full=True)
        analyzed = {s.split('"')[1] for s in issued if s.startswith("ANALYZE")}
    finally:
        event.remove(bind, "before_cursor_execute", spy)
    assert analyzed == {
        "need_month_stats", "need_close_days", "need_diary_months", "need_access_stats"
    }  # fmt: skip
