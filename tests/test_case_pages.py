"""我的待办 / My cases, 督办 / Supervision and the Workload page's caseload under Streamlit's
AppTest, on a small committed community (SpatiaLite and PostGIS), in Chinese and English."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from grid_model.cases.workflow import apply_step
from grid_model.scope import Viewer
from tests.factories import add_need, make_community

pytestmark = pytest.mark.db

ROOT = Path(__file__).resolve().parent.parent
MY = "pages/10_我的待办_MyCases.py"
SUPERVISION = "pages/11_督办_Supervision.py"
WORKLOAD = "pages/3_工作量_Workload.py"
ADMIN = Viewer.local_admin("admin")
D = dt.date


@pytest.fixture()
def loop_db(committed_engine, monkeypatch):
    """Five cases of mediator M10601 as of 2025-04-01: #1 dispatched (to accept), #2 in
    progress and overdue (due 03-20), #3 handled by M10601 (for an assistant to verify), #4
    closed not visited, #5 recorded with a hostile description."""
    with Session(committed_engine, expire_on_commit=False) as s, s.begin():
        make_community(s, n_grids=2)
        ids = []
        for i, due in enumerate([D(2025, 4, 30), D(2025, 3, 20), D(2025, 4, 30), D(2025, 4, 30)]):
            need = add_need(s, category="mediation", reported_at=D(2025, 3, 3), due_date=due,
                            description=f"案件{i + 1}")  # fmt: skip
            ids.append(need.id)
            steps = [("dispatch", {"to": "M10601"}), ("accept", {}), ("start", {}),
                     ("handle", {"outcome": "mediated"}), ("verify", {"passed": True})]  # fmt: skip
            for n, (step, values) in enumerate(steps[: [1, 3, 4, 5][i]]):
                apply_step(s, need.id, step, ADMIN, at=f"2025-03-0{4 + n} 10:00", **values)
        ids.append(add_need(s, description="<img src=x onerror=alert(1)>**x**").id)
    monkeypatch.setenv(
        "GRIDLAW_DATABASE_URL", committed_engine.url.render_as_string(hide_password=False)
    )
    monkeypatch.setenv("GRIDLAW_TODAY", "2025-04-01")
    monkeypatch.delenv("GRIDLAW_LANG", raising=False)
    st.cache_data.clear()
    yield ids
    st.cache_data.clear()


def _run(path: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / path), default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _click(at: AppTest, label: str, index: int = 0) -> None:
    buttons = [b for b in at.button if b.label == label]
    buttons[index].click().run()
    assert not at.exception, [e.value for e in at.exception]


def _status(engine, need_id: int) -> str:
    with engine.connect() as conn:
        return conn.exec_driver_sql(f"SELECT status FROM needs WHERE id = {need_id}").scalar_one()


def test_my_cases_groups_and_one_click_accept(loop_db, committed_engine):
    at = _run(MY)
    assert [t.value for t in at.title] == ["我的待办"]
    assert at.info[0].value == "没有待办案件"  # no worker picked yet
    at.selectbox(key="mycases_worker").set_value("M10601").run()
    labels = [t.label for t in at.tabs]
    assert labels == ["待签收 (1)", "已逾期 (1)"]
    _click(at, "执行:签收")
    assert _status(committed_engine, loop_db[0]) == "accepted"
    assert any("签收 已保存" in s.value for s in at.success)
    at.sidebar.radio(key="lang").set_value("en").run()
    assert [t.label for t in at.tabs] == ["Overdue (1)", "In progress (1)"]


def test_an_assistant_verifies_and_visits_and_sees_the_timeline(loop_db, committed_engine):
    at = _run(MY)
    at.sidebar.selectbox(key="role").set_value("grid_assistant").run()
    at.selectbox(key="mycases_worker").set_value("A10601").run()
    assert [t.label for t in at.tabs] == ["待派遣 (1)", "待核查 (1)", "待回访 (1)"]
    _click(at, "执行:核查")
    assert _status(committed_engine, loop_db[2]) == "closed"
    at.selectbox(key="mycases_pick").set_value(loop_db[3]).run()
    timeline = at.dataframe[-1].value
    assert list(timeline.iloc[:, 1]) == ["派遣", "签收", "开始办理", "办结", "核查"]
    _click(at, "执行:回访", index=-1)
    with committed_engine.connect() as conn:
        visited = conn.exec_driver_sql(
            f"SELECT satisfaction FROM needs WHERE id = {loop_db[3]}"
        ).scalar_one()
    assert visited == "satisfied"


def test_a_refused_step_is_an_error_message_not_a_traceback(loop_db, committed_engine):
    at = _run(MY)
    at.sidebar.selectbox(key="role").set_value("lawyer").run()
    at.selectbox(key="mycases_worker").set_value("L10601").run()  # nothing dispatched to L1
    assert at.info[0].value == "没有待办案件"


def test_supervision_lists_the_overdue_case_and_supervises_it(loop_db, committed_engine):
    at = _run(SUPERVISION)
    assert [t.value for t in at.title] == ["督办"]
    overdue = at.dataframe[0].value
    # #5 (recorded, default due 03-10) then #2 (due 03-20), most overdue first
    assert list(overdue["超期天数"]) == [22, 12]
    at.selectbox(key="supervise_pick").set_value(loop_db[1]).run()
    deadline = dt.date.today() + dt.timedelta(days=10)  # steps on the page happen now
    at.date_input(key="sup_supervise_due").set_value(deadline)
    _click(at, "执行:督办")
    with committed_engine.connect() as conn:
        due = conn.exec_driver_sql(
            f"SELECT supervised_due FROM needs WHERE id = {loop_db[1]}"
        ).scalar_one()
    assert str(due)[:10] == deadline.isoformat(), [e.value for e in at.error]
    assert not at.metric  # computed when asked for
    at.toggle(key="loop_show").set_value(True).run()
    at.toggle(key="ranking_show").set_value(True).run()
    assert {m.label for m in at.metric} >= {"结案率", "及时签收率", "返工率", "满意率"}
    ranking = at.dataframe[-1].value
    assert len(ranking) == 1
    at.sidebar.radio(key="lang").set_value("en").run()
    assert not at.exception and [t.value for t in at.title] == ["Supervision"]


def test_workload_shows_the_caseload_of_every_role(loop_db):
    at = _run(WORKLOAD)
    frame = at.dataframe[0].value  # the caseload comes first
    assert list(frame.iloc[:, 0]) == ["M10601"]
    assert list(frame.iloc[0, 4:8]) == [1, 3, 1, 0]  # to accept, open, overdue, due soon
    at.selectbox(key="caseload_role").set_value("lawyer").run()
    assert any(i.value == "没有派遣的案件" for i in at.info)
