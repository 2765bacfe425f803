"""The mediation case file on the case page (我的待办 / My cases) under Streamlit's AppTest, on
both backends: the file shown as tables, not raw JSON; a session filled in through the form is
stored; hostile text stays text; the forms are offered only to roles that may fill the file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy import select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from grid_model.cases import mediation
from grid_model.cases.mediation import Party
from grid_model.cases.workflow import apply_step
from grid_model.models import MediationSession
from grid_model.scope import Viewer
from tests.factories import add_need, make_community

pytestmark = pytest.mark.db

ROOT = Path(__file__).resolve().parent.parent
MY = "pages/10_我的待办_MyCases.py"
ADMIN = Viewer.local_admin("admin")
HOSTILE = "<img src=x onerror=alert(1)>**粗体**"


@pytest.fixture()
def file_db(committed_engine, monkeypatch):
    """One mediation case dispatched to and accepted by M10601, its file opened."""
    with Session(committed_engine, expire_on_commit=False) as s, s.begin():
        make_community(s, n_grids=2)
        need = add_need(s, category="mediation", dispute_type="邻里纠纷",
                        reported_at=dt.date(2025, 3, 3), due_date=dt.date(2025, 4, 30))  # fmt: skip
        apply_step(s, need.id, "dispatch", ADMIN, at="2025-03-04 10:00", to="M10601")
        apply_step(s, need.id, "accept", ADMIN, at="2025-03-04 11:00")
        mediation.open_case_file(s, need.id, ADMIN, accepted_on="2025-03-04",
                                 parties=[Party("applicant", "张三", "13912345678"),
                                          Party("respondent", HOSTILE)],
                                 mediators=["M10601"])  # fmt: skip
    monkeypatch.setenv(
        "GRIDLAW_DATABASE_URL", committed_engine.url.render_as_string(hide_password=False)
    )
    monkeypatch.setenv("GRIDLAW_TODAY", "2025-04-01")
    monkeypatch.delenv("GRIDLAW_LANG", raising=False)
    st.cache_data.clear()
    yield need.id
    st.cache_data.clear()


def _case_page(need_id: int, role: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / MY), default_timeout=120)
    at.run()
    if role:
        at.sidebar.selectbox(key="role").set_value(role).run()
    at.selectbox(key="mycases_worker").set_value("M10601").run()
    at.selectbox(key="mycases_pick").set_value(need_id).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _frame(at: AppTest, column: str):
    """The first table on the page with ``column``."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_a_session_filled_through_the_form_is_stored(file_db, committed_engine):
    at = _case_page(file_db)
    assert not at.json  # no raw JSON any more
    parties = _frame(at, "身份证号")
    assert list(parties["姓名"]) == ["张三", HOSTILE]  # a cell: text, never markup
    assert list(parties["身份"]) == ["申请人", "被申请人"]
    assert "2025-04-04" in list(_frame(at, "项目")["内容"])  # one month
    at.date_input(key="mycase_cf_held_on").set_value(dt.date(2025, 3, 6))
    at.text_input(key="mycase_cf_place").set_value("调解室")
    at.text_area(key="mycase_cf_summary").set_value(HOSTILE)
    [b for b in at.button if b.label == "记录调解"][0].click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    with Session(committed_engine) as s:
        stored = s.execute(select(MediationSession.held_on, MediationSession.place,
                                  MediationSession.summary)).all()  # fmt: skip
    assert [(str(d)[:10], p, t) for d, p, t in stored] == [("2025-03-06", "调解室", HOSTILE)]
    assert any("记录调解 已保存" in s.value for s in at.success)
    sessions = _frame(at, "地点")
    assert list(sessions["地点"]) == ["调解室"]
    at.sidebar.radio(key="lang").set_value("en").run()
    assert "Add a session" in [b.label for b in at.button]


def test_a_bad_value_is_an_error_naming_the_field(file_db):
    at = _case_page(file_db)
    at.date_input(key="mycase_cf_agreement_on").set_value(dt.date(2025, 3, 6))
    [b for b in at.button if b.label == "记录协议"][0].click().run()  # written, no text
    assert not at.exception
    assert any("“text”" in e.value for e in at.error), [e.value for e in at.error]


def test_a_lawyer_sees_the_file_but_no_forms(file_db):
    at = _case_page(file_db, role="lawyer")
    labels = [b.label for b in at.button]
    assert "记录调解" not in labels and "延长期限" not in labels
    assert list(_frame(at, "身份证号")["姓名"]) == ["张三", HOSTILE]


def test_a_role_without_personal_data_rights_sees_sides_only(file_db):
    at = _case_page(file_db, role="community_leader")
    assert list(_frame(at, "身份").columns) == ["身份"]
    assert "记录调解" not in [b.label for b in at.button]
