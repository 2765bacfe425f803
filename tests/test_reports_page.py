"""The Reports page under Streamlit's AppTest on a hand-made community (both backends):
generate, preview and download each report; the role's rights apply."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from tests.test_reports import _data

pytestmark = pytest.mark.db
ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages" / "12_报表_Reports.py")


@pytest.fixture()
def page_db(committed_engine, monkeypatch):
    with Session(committed_engine) as s, s.begin():
        _, cases = _data(s)
        case_id = cases[0].id
    monkeypatch.setenv("GRIDLAW_DATABASE_URL", committed_engine.url.render_as_string(False))
    monkeypatch.setenv("GRIDLAW_TODAY", "2025-12-15")
    monkeypatch.delenv("GRIDLAW_LANG", raising=False)
    st.cache_data.clear()
    yield case_id
    st.cache_data.clear()


def _run() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_reports_page_generates_each_report(page_db):
    at = _run()
    assert [t.value for t in at.title] == ["报表"]
    assert at.text_input(key="report_month").value == "2025-11"
    at.button(key="report_generate").click().run()
    assert not at.exception and not at.error
    headline = at.dataframe[0].value
    assert "法律需求" in list(headline.iloc[:, 0])
    assert any("新增热点" in t.value for t in at.text)
    assert at.get("download_button")
    at.radio(key="report_kind").set_value("mediation").run()
    at.button(key="report_generate").click().run()
    assert not at.exception and not at.error
    form = at.dataframe[0].value
    assert form.loc["合计", "受理纠纷数"] == 5
    at.sidebar.radio(key="lang").set_value("en").run()
    assert [t.value for t in at.title] == ["Reports"]


def test_reports_page_agreement_follows_the_role(page_db):
    at = _run()
    at.radio(key="report_kind").set_value("agreement").run()
    at.number_input(key="report_case").set_value(page_db).run()
    at.sidebar.selectbox(key="role").set_value("community_leader").run()
    at.button(key="report_generate").click().run()
    assert not at.exception
    assert at.error and "无权查看个人信息" in at.error[0].value
    assert not at.get("download_button")
    at.sidebar.selectbox(key="role").set_value("mediator").run()
    at.button(key="report_generate").click().run()
    assert not at.exception and not at.error
    assert at.get("download_button")


def test_cases_page_offers_the_agreement_to_roles_with_personal_data(page_db):
    at = AppTest.from_file(str(ROOT / "pages" / "5_案件_Cases.py"), default_timeout=120)
    at.run()
    assert not at.exception
    at.sidebar.selectbox(key="role").set_value("community_leader").run()
    at.selectbox(key="case_pick").set_value(page_db).run()
    assert not at.exception
    assert not at.get("download_button")  # a role that may not see personal data
    at.sidebar.selectbox(key="role").set_value("mediator").run()
    at.selectbox(key="case_pick").set_value(page_db).run()
    assert not at.exception and not at.error
    assert len(at.get("download_button")) == 1
