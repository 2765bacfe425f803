"""The open needs' reads start from the open needs, not from every need: on PostgreSQL by an
index-only scan of ``ix_needs_open`` (migration 0012), on SQLite through ``ix_needs_status``
— on both backends, with the same answers as a plain scan."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from grid_model import db
from grid_model.measures.definitions import not_closed, overdue_at
from grid_model.models import Need
from grid_model.queries import need_list_columns
from tests.factories import add_need, make_community

pytestmark = pytest.mark.db

DAY = dt.date(2025, 6, 30)


def _plan(session: Session, stmt) -> str:
    sql = stmt.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
    db.analyze(session, "needs")  # as an import leaves it
    if session.get_bind().dialect.name == "sqlite":
        rows = session.execute(text(f"EXPLAIN QUERY PLAN {sql}")).all()
        return "\n".join(str(r[-1]) for r in rows)
    # a test table is tiny, and its statistics depend on the tests before: with neither a scan
    # of the table nor a bitmap of the status index, what remains is whether the open needs'
    # index serves the query at all (on a million needs, bench/pages.py, it is chosen)
    session.execute(text("SET LOCAL enable_seqscan = off"))
    session.execute(text("SET LOCAL enable_bitmapscan = off"))
    return "\n".join(r[0] for r in session.execute(text(f"EXPLAIN {sql}")))


def test_open_needs_are_read_from_their_own_index(session):
    c = make_community(session, n_grids=2)
    for i in range(300):  # a few per cent open, as in a real database
        status = "closed" if i % 30 else "in_progress"
        add_need(
            session,
            grid_code=c.grid_codes[i % 2],
            reported_at=DAY - dt.timedelta(days=i % 200),
            status=status,
            closed_at=DAY if status == "closed" else None,
        )
    session.flush()
    stmt = (
        select(*need_list_columns(Need.worker_code, Need.due_date))
        .where(not_closed(), overdue_at(DAY + dt.timedelta(days=60)))
        .order_by(Need.id)
    )
    # spelt with the literal: a prepared statement's generic plan (psycopg prepares a query
    # run five times) cannot use a partial index for a bound parameter
    assert "needs.status < 'closed' OR needs.status > 'closed'" in str(
        stmt.compile(session.get_bind())
    )
    plan = _plan(session, stmt)
    if session.get_bind().dialect.name == "sqlite":
        assert "ix_needs_status" in plan, plan
    else:
        # an index-only scan once VACUUM has set the visibility map (it cannot run here, in
        # the test's transaction); the index is the point
        assert "using ix_needs_open" in plan, plan
    got = session.execute(stmt).all()
    plain = session.execute(
        select(*need_list_columns(Need.worker_code, Need.due_date))
        .where(Need.status != "closed", overdue_at(DAY + dt.timedelta(days=60)))
        .order_by(Need.id)
    ).all()
    assert got == plain and len(got) == 10
    open_count = session.scalar(select(func.count()).select_from(Need).where(not_closed()))
    assert open_count == 10
