"""Who holds a grid on day d: one named query (``Assignment.in_force``, ``queries.holders``).

Periods are half-open: an assignment ending on ``d`` no longer holds on ``d``. The Rebalance
page's "today's assistant" once counted it on ``d`` too (``valid_to >= d``), so a grid whose
assistant left without a successor still showed them on their last, already ended, day.
"""

from __future__ import annotations

import datetime as dt

import pytest

from grid_model.models import Assignment
from grid_model.queries import holders
from grid_model.scope import Scope
from tests.factories import add_worker, assign, make_community

D = dt.date
END = D(2025, 6, 30)


def _build(session):
    block = make_community(session, 2, staff=False)
    leaver, stayer, successor = (add_worker(session, code=c) for c in ("LEAVER", "STAYER", "NEXT"))
    first, second = block.grids
    # first grid: the leaver's assignment ends on END, nobody follows
    assign(session, leaver, first, valid_from=D(2024, 1, 1), valid_to=END)
    # second grid: the stayer hands over to a successor on END
    assign(session, stayer, second, valid_from=D(2024, 1, 1), valid_to=END)
    assign(session, successor, second, valid_from=END)
    return block


@pytest.fixture()
def community(session):
    return _build(session)


def _held(session, block, day):
    frame = holders(session, Scope(area_code=block.code), day)
    return dict(zip(frame["grid_code"], frame["worker_code"], strict=True))


@pytest.mark.db
def test_an_assignment_ending_without_successor_holds_until_the_day_before(session, community):
    first, second = community.grid_codes
    assert _held(session, community, END - dt.timedelta(days=1)) == {
        first: "LEAVER",
        second: "STAYER",
    }
    assert _held(session, community, END) == {second: "NEXT"}
    assert _held(session, community, END + dt.timedelta(days=30)) == {second: "NEXT"}


@pytest.mark.db
def test_before_any_assignment_nobody_holds(session, community):
    assert _held(session, community, D(2023, 12, 31)) == {}


@pytest.mark.db
def test_the_standing_arrangement_is_the_open_rows(session, community):
    later = add_worker(session, code="LATER")
    first, _ = community.grids
    assign(session, later, first, valid_from=D(2026, 1, 1))  # scheduled, not yet in force
    _, second = community.grid_codes
    assert _held(session, community, None) == {first.code: "LATER", second: "NEXT"}
    assert _held(session, community, D(2025, 12, 31)) == {second: "NEXT"}


@pytest.mark.db
def test_in_force_is_the_predicate_every_reader_uses(session, community):
    from sqlalchemy import select

    on = lambda day: sorted(  # noqa: E731
        session.scalars(select(Assignment.valid_from).where(Assignment.in_force(day))).all()
    )
    assert on(END) == [END]
    assert on(END - dt.timedelta(days=1)) == [D(2024, 1, 1), D(2024, 1, 1)]


@pytest.mark.db
def test_rebalance_page_reads_todays_assistant_half_open(committed_engine):
    """The dashboard's reader (once its own SQL with ``valid_to >= day``) goes through the
    named query: on the leaver's end day the first grid has no assistant."""
    from sqlalchemy.orm import Session

    from dashboard import analysis_state
    from dashboard.cache import key_of, keys

    with Session(committed_engine, expire_on_commit=False) as s, s.begin():
        block = _build(s)
    url = committed_engine.url.render_as_string(hide_password=False)
    read = analysis_state._current_assignment.read.__wrapped__
    first, second = block.grid_codes
    area = keys(Scope(area_code=block.code))
    before = read(url, area, day=key_of(END - dt.timedelta(days=1)))
    assert dict(zip(before["grid_code"], before["assistant"], strict=True)) == {
        first: "LEAVER",
        second: "STAYER",
    }
    on_end = read(url, area, day=key_of(END))
    assert dict(zip(on_end["grid_code"], on_end["assistant"], strict=True)) == {second: "NEXT"}
