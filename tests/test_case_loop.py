"""The case closed loop (grid_model.cases): the transition table exhaustively, the role rules,
the values of each step, the one writer (events and the need agree), on both backends."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from grid_model import db, instants
from grid_model.cases.steps import STEP_ORDER, STEPS, allowed_steps
from grid_model.cases.workflow import apply_step
from grid_model.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from grid_model.models import Account, AuditEntry, CaseEvent, Need, Status
from grid_model.needs.cases import NeedInput, change_status, record_need
from grid_model.scope import Scope, Viewer
from tests.conftest import head_revision, scratch_engine
from tests.factories import add_need, make_community

pytestmark = pytest.mark.db

D = dt.date
ADMIN = Viewer.local_admin("admin")
STATUSES = [s.value for s in Status]
# values that make each step valid wherever the table allows it
VALUES = {
    "dispatch": {"to": "M10601"},
    "return": {"reason": "不属于本人职责"},
    "hold": {"reason": "等待当事人返乡"},
    "handle": {"outcome": "resolved"},
    "verify": {"passed": True, "outcome": "resolved"},
    "close": {"outcome": "resolved"},
    "visit": {"satisfaction": "满意"},
    "supervise": {"due": dt.date.today() + dt.timedelta(days=10)},
}


@pytest.fixture()
def community(session):
    return make_community(session, n_grids=4)


def _need(session, status: str, **kw) -> Need:
    closed = status == "closed"
    values = {
        "status": status,
        "reported_at": D(2025, 3, 3),
        "assignee_code": None if status in ("recorded", "returned") else "M10601",
        "outcome": "resolved" if closed else None,
        "closed_at": D(2025, 3, 5) if closed else None,
    }
    values.update(kw)
    return add_need(session, **values)


def _events(session, need: Need) -> list[CaseEvent]:
    return session.scalars(
        select(CaseEvent).where(CaseEvent.need_id == need.id).order_by(CaseEvent.id)
    ).all()


def _worker_viewer(session, code: str, role: str) -> Viewer:
    """A signed-in worker: an account named by the worker's code."""
    if session.scalar(select(Account).where(Account.username == code)) is None:
        session.add(Account(username=code, name=code, role=role, area_code="440703006106",
                            password_hash="x", active=True))  # fmt: skip
        session.flush()
    return Viewer(role=role, area_code="440703006106", name=code, username=code)


# --- the table -----------------------------------------------------------------------------


def test_table_names_every_status_and_step():
    assert set(STEP_ORDER) == {
        "dispatch", "accept", "return", "start", "hold", "resume", "handle", "verify", "close",
        "visit", "supervise",
    }  # fmt: skip
    for step in STEPS.values():
        assert step.sources <= set(STATUSES)
        assert step.target(status="in_progress", passed=True) in STATUSES
    assert allowed_steps("closed") == ("visit",)
    assert allowed_steps("recorded") == ("dispatch", "close", "supervise")
    # every status but closed can be left by some step that changes it
    for status in STATUSES:
        leaving = [s for s in allowed_steps(status) if STEPS[s].target(status=status) != status]
        assert bool(leaving) == (status != "closed"), status


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("step", STEP_ORDER)
def test_every_step_from_every_status(session, community, status, step):
    """A step is stored exactly when the table allows it from the status; otherwise the
    refusal names the allowed steps and nothing is written."""
    need = _need(session, status, reported_at=D(2025, 1, 2))
    allowed = status in STEPS[step].sources
    if allowed:
        event = apply_step(session, need.id, step, ADMIN, **VALUES.get(step, {}))
        expected = STEPS[step].target(status=status, passed=True)
        assert (need.status, event.from_status, event.to_status) == (expected, status, expected)
        assert need.case_version == 1 and len(_events(session, need)) == 1
    else:
        with pytest.raises(InvalidInputError) as err:
            apply_step(session, need.id, step, ADMIN, lang="en", **VALUES.get(step, {}))
        names = ", ".join(allowed_steps(status)) or "none (the case is closed)"
        assert str(err.value) == (
            f"case {need.id} is '{status}': step '{step}' is not allowed; allowed: {names}"
        )
        assert need.status == status and _events(session, need) == []


def test_refusal_in_chinese_names_the_allowed_steps(session, community):
    need = _need(session, "handled")
    with pytest.raises(InvalidInputError, match="不能执行“accept”;可执行:verify, supervise"):
        apply_step(session, need.id, "accept", ADMIN)
    with pytest.raises(InvalidInputError, match="未知的办案步骤“<b>x</b>”"):
        apply_step(session, need.id, "<b>x</b>", ADMIN)


# --- the whole loop with the role rules -----------------------------------------------------


def test_recorded_to_visited_by_the_people_who_do_it(session, community):
    assistant = _worker_viewer(session, "A10601", "grid_assistant")
    mediator = _worker_viewer(session, "M10601", "mediator")
    leader = Viewer(role="community_leader", area_code="440703006106", name="社区书记")
    session.add(Account(username="leader", name="社区书记", role="community_leader",
                        area_code="440703006106", password_hash="x", active=True))  # fmt: skip
    leader = Viewer(role="community_leader", area_code="440703006106", username="leader")
    need, _ = record_need(
        session,
        NeedInput(lon=113.082, lat=22.606, category="mediation", reported_at=D(2025, 3, 3),
                  source="diary", dispute_type="婚姻家庭纠纷", description="邻里纠纷"),
        viewer=assistant,
    )  # fmt: skip
    at = dt.datetime(2025, 3, 3, 9, 0)  # Shanghai time
    steps = [
        (leader, "dispatch", {"to": "M10601", "priority": "紧急"}),
        (mediator, "accept", {}),
        (mediator, "start", {}),
        (mediator, "hold", {"reason": "当事人外出"}),
        (mediator, "resume", {}),
        (mediator, "handle", {"outcome": "mediated"}),
        (assistant, "verify", {"passed": False}),
        (mediator, "handle", {"outcome": "mediated"}),
        (leader, "verify", {"passed": "通过"}),
        (assistant, "visit", {"satisfaction": "基本满意", "performing": "是"}),
    ]
    for i, (who, step, values) in enumerate(steps):
        apply_step(session, need.id, step, who, at=at + dt.timedelta(hours=i), **values)
    assert need.status == "closed" and need.outcome == "mediated"
    assert need.closed_at == D(2025, 3, 3) and need.rework_count == 1
    assert need.satisfaction == "basically_satisfied" and need.priority == "urgent"
    assert need.assignee_code == "M10601"
    assert need.dispatched_at == dt.datetime(2025, 3, 3, 1, 0)  # 09:00 +08:00 stored as UTC
    assert need.accepted_at == dt.datetime(2025, 3, 3, 2, 0)
    assert need.due_date == D(2025, 4, 2)  # the record's own due date is kept
    events = _events(session, need)
    assert [e.step for e in events] == ["record"] + [s for _, s, _ in steps]
    assert [e.to_status for e in events][-4:] == ["in_progress", "handled", "closed", "closed"]
    assert events[2].worker_code == "M10601" and events[2].actor_role == "mediator"
    assert events[4].details == {"reason": "当事人外出"}
    audit = session.scalars(
        select(AuditEntry.details).where(
            (AuditEntry.entity_id == str(need.id)) & (AuditEntry.action == "case_step")
        )
    ).all()
    assert [a["step"] for a in audit] == [s for _, s, _ in steps]
    assert audit[0]["at"] == "2025-03-03T09:00:00+08:00"


@pytest.mark.parametrize(
    ("who", "status", "step", "values", "match"),
    [
        (("L10601", "lawyer"), "recorded", "dispatch", {"to": "M10601"}, "role 'lawyer' may not"),
        (("M10602", "mediator"), "dispatched", "accept", {}, r"only the worker .*\(M10601\)"),
        (("A10601", "grid_assistant"), "dispatched", "accept", {}, r"only the worker"),
        (("M10601", "mediator"), "handled", "verify", {"passed": True}, "role 'mediator' may"),
        (("M10601", "mediator"), "recorded", "supervise", {"due": "2099-01-01"}, "may not"),
    ],
)
def test_role_rules(session, community, who, status, step, values, match):
    need = _need(session, status, reported_at=D(2025, 1, 2))
    viewer = _worker_viewer(session, *who)
    with pytest.raises(PermissionDeniedError, match=match):
        apply_step(session, need.id, step, viewer, lang="en", **values)
    assert _events(session, need) == []


def test_worker_who_handled_may_not_verify(session, community):
    need = _need(session, "handled", assignee_code="A10601")
    with pytest.raises(PermissionDeniedError, match=r"办理人\(A10601\)不能核查"):
        apply_step(session, need.id, "verify", _worker_viewer(session, "A10601", "grid_assistant"),
                   passed=True)  # fmt: skip


def test_only_an_administrator_acts_for_another_worker(session, community):
    need = _need(session, "dispatched")
    assistant = _worker_viewer(session, "A10601", "grid_assistant")
    with pytest.raises(PermissionDeniedError, match="only an administrator"):
        apply_step(session, need.id, "accept", assistant, acting_for="M10601", lang="en")
    event = apply_step(session, need.id, "accept", ADMIN, acting_for="M10601")
    assert (event.actor, event.worker_code, event.actor_role) == ("M10601", "M10601", "mediator")
    with pytest.raises(InvalidInputError, match="'as'"):
        apply_step(session, need.id, "start", ADMIN, acting_for="NOBODY", lang="en")


def test_viewer_of_another_area_does_not_find_the_case(session, community):
    need = _need(session, "dispatched")
    other = Viewer(role="street_office", area_code="440703007")
    with pytest.raises(NotFoundError):
        apply_step(session, need.id, "supervise", other, due="2099-01-01")
    with pytest.raises(NotFoundError):
        apply_step(session, "1 OR 1=1", "accept", ADMIN)


# --- the values of a step -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "step", "values", "match"),
    [
        ("recorded", "dispatch", {}, "'to' has '', expected a value"),
        ("recorded", "dispatch", {"to": "NOBODY"}, "'to' has 'NOBODY', expected the code of"),
        ("recorded", "dispatch", {"to": "M10601", "priority": "asap"}, "a priority, one of"),
        ("recorded", "dispatch", {"to": "M10601", "reason": "x"}, "takes no field"),
        ("dispatched", "return", {"reason": "   "}, "expected a reason"),
        ("dispatched", "return", {"reason": "a\x00b"}, "expected a reason"),
        ("dispatched", "return", {"reason": "长" * 501}, "expected a reason"),
        ("in_progress", "handle", {"outcome": "mediated"}, "mediation outcomes are for"),
        ("in_progress", "handle", {"outcome": "=cmd()"}, "an outcome when closing"),
        ("handled", "verify", {"passed": "maybe"}, "expected yes or no"),
        ("closed", "visit", {"satisfaction": "ok"}, "a satisfaction, one of"),
        ("recorded", "supervise", {"due": "2020-01-01"}, "a supervision deadline"),
        ("recorded", "supervise", {"due": "not a day"}, "a supervision deadline"),
    ],
)
def test_bad_values_name_the_field(session, community, status, step, values, match):
    need = _need(session, status, reported_at=D(2025, 1, 2))
    with pytest.raises(InvalidInputError, match=match):
        apply_step(session, need.id, step, ADMIN, lang="en", **values)
    assert need.case_version == 0 and _events(session, need) == []


def test_moments_not_before_the_previous_step_nor_in_the_future(session, community):
    need = _need(session, "recorded")
    apply_step(session, need.id, "dispatch", ADMIN, at="2025-03-04 10:00", to="M10601")
    for bad in ("2025-03-04 09:59", "2999-01-01T00:00+08:00", "yesterday", 12):
        with pytest.raises(InvalidInputError, match="'at'"):
            apply_step(session, need.id, "accept", ADMIN, at=bad, lang="en")
    event = apply_step(session, need.id, "accept", ADMIN, at="2025-03-04T03:00:00+00:00")
    assert event.at == dt.datetime(2025, 3, 4, 3, 0)
    assert instants.iso(event.at) == "2025-03-04T11:00:00+08:00"


def test_supervise_only_an_overdue_case_and_visit_once(session, community):
    today = instants.local_day(instants.now_stored())  # the area's day, not the machine's
    fresh = _need(session, "in_progress", reported_at=today)
    with pytest.raises(InvalidInputError, match="not overdue"):
        apply_step(session, fresh.id, "supervise", ADMIN, due=today, lang="en")
    late = _need(session, "in_progress", reported_at=D(2025, 1, 2))
    apply_step(session, late.id, "supervise", ADMIN, due=today, note="请本周内办结")
    assert late.supervised_due == today and late.status == "in_progress"
    closed = _need(session, "closed")
    apply_step(session, closed.id, "visit", ADMIN, satisfaction="dissatisfied")
    with pytest.raises(InvalidInputError, match="already visited"):
        apply_step(session, closed.id, "visit", ADMIN, satisfaction="satisfied", lang="en")


def test_expected_status_is_checked(session, community):
    need = _need(session, "dispatched")
    with pytest.raises(ConflictError, match="now 'dispatched'"):
        apply_step(session, need.id, "accept", ADMIN, expected_status="recorded", lang="en")


def test_old_status_changes_are_steps_too(session, community):
    need = add_need(session, category="consultation", worker_code="A10601")
    change_status(session, need.id, "dispatched", viewer=ADMIN, on=D(2025, 3, 4))
    change_status(session, need.id, "in_progress", viewer=ADMIN, on=D(2025, 3, 4))
    change_status(session, need.id, "closed", outcome="resolved", viewer=ADMIN, on=D(2025, 3, 6))
    assert [(e.step, e.to_status) for e in _events(session, need)] == [
        ("dispatch", "dispatched"), ("accept", "accepted"), ("start", "in_progress"),
        ("handle", "handled"), ("verify", "closed"),
    ]  # fmt: skip
    assert (need.assignee_code, need.outcome, need.closed_at) == (
        "A10601",
        "resolved",
        D(2025, 3, 6),
    )
    assert need.verified_at == instants.to_stored(D(2025, 3, 6))


# --- two people at once (real connections, committed) ---------------------------------------


@pytest.fixture()
def committed_community(committed_engine):
    with Session(committed_engine, expire_on_commit=False) as s, s.begin():
        c = make_community(s, n_grids=4)
    return c


def _at_once(n: int, work) -> list:
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


@pytest.mark.parametrize(
    ("status", "moves"),
    [
        ("in_progress", [("hold", {"reason": "等待鉴定"}), ("handle", {"outcome": "resolved"})]),
        ("closed", [("visit", {"satisfaction": "满意"}), ("visit", {"satisfaction": "不满意"})]),
        (
            "handled",
            [("verify", {"passed": True, "outcome": "resolved"}), ("verify", {"passed": False})],
        ),
    ],
)
def test_two_steps_at_once_exactly_one_wins(committed_engine, committed_community, status, moves):
    with Session(committed_engine) as s, s.begin():
        ids = [_need(s, status, reported_at=D(2025, 1, 2)).id for _ in range(5)]
    for need_id in ids:

        def step(i: int, need_id=need_id):
            name, values = moves[i]
            return db.run_write(
                committed_engine,
                lambda s: apply_step(s, need_id, name, Viewer.local_admin(f"worker{i}"),
                                     lang="en", **values).to_status,
                lang="en",
            )  # fmt: skip

        results = _at_once(2, step)
        won = [r for r in results if isinstance(r, str)]
        lost = [r for r in results if not isinstance(r, str)]
        assert len(won) == 1 and len(lost) == 1, results
        assert isinstance(lost[0], ConflictError | InvalidInputError), repr(lost[0])
        message = str(lost[0])
        assert (
            "changed by someone else meanwhile" in message
            or "allowed" in message
            or ("already visited" in message)
        ), message
        with committed_engine.connect() as conn:
            events = (
                conn.execute(select(CaseEvent.step).where(CaseEvent.need_id == need_id))
                .scalars()
                .all()
            )
            version, now = conn.execute(
                select(Need.case_version, Need.status).where(Need.id == need_id)
            ).one()
        assert len(events) == 1 and version == 1 and now == won[0]


# --- the migration on a database made by 0004 -----------------------------------------------


def test_migration_from_0004_synthesises_events_without_loss(backend, tmp_path):
    eng = scratch_engine(backend, tmp_path)
    geom = "ST_GeomFromText('POINT(113.08 22.6)', 4326)"
    rows = [  # external id, status, outcome, reported, closed
        ("OLD1", "closed", "resolved", "2025-03-03", "2025-03-05"),
        ("OLD2", "closed", "mediated", "2025-10-01", None),
        ("OLD3", "in_progress", None, "2025-06-30", None),
        ("OLD4", "recorded", None, "2025-12-31", None),
    ]
    try:
        db.upgrade(eng, "0004")
        with eng.begin() as conn:
            for ext, status, outcome, reported, closed in rows:
                conn.execute(
                    text(
                        "INSERT INTO needs (external_id, district_code, reported_at, location, "
                        "lon, lat, quality, category, status, outcome, closed_at, "
                        f"under_correction) VALUES (:e, '440703', :r, {geom}, 113.08, 22.6, "
                        "'outside', 'mediation', :s, :o, :c, :u)"
                    ),
                    {"e": ext, "r": dt.date.fromisoformat(reported), "s": status, "o": outcome,
                     "c": closed and dt.date.fromisoformat(closed), "u": False},
                )  # fmt: skip
        db.upgrade(eng)
        with Session(eng) as s:
            needs = {n.external_id: n for n in s.scalars(select(Need))}
            assert {k: (n.status, n.outcome) for k, n in needs.items()} == {
                r[0]: (r[1], r[2]) for r in rows
            }
            assert all(n.priority == "normal" and n.case_version == 0 for n in needs.values())
            events = s.execute(
                select(Need.external_id, CaseEvent.step, CaseEvent.to_status, CaseEvent.at,
                       CaseEvent.details, CaseEvent.synthesised, CaseEvent.actor)
                .join(Need, Need.id == CaseEvent.need_id)
                .order_by(Need.external_id, CaseEvent.at, CaseEvent.id)
            ).all()  # fmt: skip
        got = [(e[0], e[1], e[2], e[3]) for e in events]
        assert got == [
            ("OLD1", "record", "recorded", dt.datetime(2025, 3, 2, 16)),  # local midnight
            ("OLD1", "close", "closed", dt.datetime(2025, 3, 4, 16)),
            ("OLD2", "record", "recorded", dt.datetime(2025, 9, 30, 16)),
            ("OLD2", "close", "closed", dt.datetime(2025, 9, 30, 16)),  # no closing day
            ("OLD3", "record", "recorded", dt.datetime(2025, 6, 29, 16)),
            ("OLD3", "start", "in_progress", dt.datetime(2025, 6, 29, 16)),
            ("OLD4", "record", "recorded", dt.datetime(2025, 12, 30, 16)),
        ]
        assert all(e.synthesised and e.actor == "migration" for e in events)
        assert [e.details for e in events if e.step == "close"] == [
            {"outcome": "resolved"}, {"outcome": "mediated"}
        ]  # fmt: skip
        # the migrated open case goes on through the loop
        with Session(eng) as s, s.begin():
            old3 = s.scalar(select(Need.id).where(Need.external_id == "OLD3"))
            apply_step(s, old3, "handle", ADMIN, outcome="mediated")
        db.downgrade(eng, "0005")
        assert "case_events" not in inspect(eng).get_table_names()
        assert "priority" not in {c["name"] for c in inspect(eng).get_columns("needs")}
        with eng.connect() as conn:
            kept = conn.execute(text("SELECT external_id, status FROM needs ORDER BY 1")).all()
        assert [tuple(r) for r in kept] == [
            ("OLD1", "closed"), ("OLD2", "closed"), ("OLD3", "in_progress"), ("OLD4", "recorded")
        ]  # fmt: skip
        db.upgrade(eng)
        assert db.current_revision(eng) == head_revision()
    finally:
        db.downgrade(eng)
        eng.dispose()


# --- who sees what in the lists ---------------------------------------------------------------


def test_lists_keep_personal_data_and_people_under_correction_from_other_roles(session, community):
    from grid_model.cases.views import case_detail, my_cases, supervision_list

    _need(session, "dispatched", resident_name="王五", resident_phone="13900000000",
          reported_at=D(2025, 1, 2))  # fmt: skip
    _need(session, "dispatched", category="correction", under_correction=True,
          reported_at=D(2025, 1, 2))  # fmt: skip
    public = Viewer(role="public")
    listed = supervision_list(session, Scope(), public, today=D(2025, 6, 1))
    assert len(listed) == 1 and "resident_name" not in listed.columns
    assert "王五" not in listed.to_string()
    leader = Viewer(role="community_leader", area_code="440703006106")  # demo mode: no accounts
    assert len(my_cases(session, leader, worker_code="M10601", today=D(2025, 6, 1))) == 1
    mediator = _worker_viewer(session, "M10601", "mediator")
    mine = my_cases(session, mediator, today=D(2025, 6, 1))
    assert len(mine) == 2 and set(mine["resident_name"].dropna()) == {"王五"}
    corrected = mine.loc[mine["category"] == "correction", "id"].item()
    session.add(Account(username="leader", name="leader", role="community_leader",
                        area_code="440703006106", password_hash="x", active=True))  # fmt: skip
    with pytest.raises(NotFoundError):
        case_detail(session, int(corrected), Viewer(role="community_leader", username="leader"))
