"""Every dashboard page under Streamlit's AppTest, on the demo database (SpatiaLite and PostGIS),
and the Overview's KPIs on a small hand-made community whose figures are worked out by hand."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from grid_model import db
from grid_model.seed import seed_demo
from tests.conftest import _postgis_engine
from tests.factories import add_need, add_service_event, make_community

pytestmark = pytest.mark.db

ROOT = Path(__file__).resolve().parent.parent
DEMO_TODAY = "2025-12-31"  # the demo's data end that year
TIMEOUT = 120

#: page file → (zh title, en title); the file names are not ASCII on purpose.
PAGES = {
    "pages/1_总览_Overview.py": ("总览", "Overview"),
    "pages/2_地图_Map.py": ("网格地图", "Grid map"),
}


def _url(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def demo_url(backend, tmp_path_factory) -> str:
    """A database of the backend under test holding the community-scale demo."""
    if backend == "spatialite":
        path = tmp_path_factory.mktemp("pages") / "demo.sqlite"
        engine = db.make_engine(f"sqlite:///{path}")
    else:
        engine = _postgis_engine("gridlaw_test_pages")
    db.upgrade(engine)
    with Session(engine) as s, s.begin():
        seed_demo(s, scale="community", seed=0)
    url = _url(engine)
    engine.dispose()
    yield url
    db.get_engine(url).dispose()


@pytest.fixture()
def app_env(monkeypatch):
    """Point the dashboard at a database; fresh caches; no language preset."""

    def use(url: str, today: str = DEMO_TODAY) -> None:
        monkeypatch.setenv("GRIDLAW_DATABASE_URL", url)
        monkeypatch.setenv("GRIDLAW_TODAY", today)

    monkeypatch.delenv("GRIDLAW_LANG", raising=False)
    st.cache_data.clear()
    yield use
    st.cache_data.clear()


def _run(path: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / path), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.mark.parametrize("path", sorted(PAGES))
def test_page_runs_in_chinese_then_english(demo_url, app_env, path):
    app_env(demo_url)
    at = _run(path)
    zh, en = PAGES[path]
    assert [t.value for t in at.title] == [zh]
    assert not at.error
    assert at.sidebar.radio(key="lang").value == "zh"
    at.sidebar.radio(key="lang").set_value("en").run()
    assert not at.exception
    assert [t.value for t in at.title] == [en]
    assert at.sidebar.selectbox(key="role").label == "Viewing as"


def test_app_opens_on_the_overview(demo_url, app_env):
    app_env(demo_url)
    at = _run("app.py")
    assert [t.value for t in at.title] == ["总览"]
    assert _metrics(at)["法律需求"] == "1,200"


def test_overview_follows_the_area_filter(demo_url, app_env):
    app_env(demo_url)
    at = _run("pages/1_总览_Overview.py")
    total = int(_metrics(at)["法律需求"].replace(",", ""))
    # AppTest's select_index passes the formatted label: set the codes themselves
    at.sidebar.selectbox(key="street").set_value("440703006").run()
    at.sidebar.selectbox(key="community").set_value("440703006106").run()
    at.sidebar.selectbox(key="grid").set_value("440703006106001").run()
    assert not at.exception
    one_grid = int(_metrics(at)["法律需求"].replace(",", ""))
    assert 0 < one_grid < total
    assert "第1网格" in at.caption[0].value


def test_map_page_widgets_and_grid_card(demo_url, app_env):
    app_env(demo_url)
    at = _run("pages/2_地图_Map.py")
    (component,) = at.get("component_instance")
    args = json.loads(component.proto.json_args)
    assert "440703006106001" in args["script"]  # the grids are on the map
    assert "HeatLayer" in args["script"] or "heatLayer" in args["script"]

    at.selectbox(key="map_measure").set_value("overdue")
    at.selectbox(key="map_scheme").set_value("Quantiles")
    at.selectbox(key="map_basemap").set_value("amap")
    at.toggle(key="map_heat").set_value(False).run()
    assert not at.exception
    (component,) = at.get("component_instance")
    script = json.loads(component.proto.json_args)["script"]
    assert "autonavi" in script and "heatLayer" not in script

    picker = at.selectbox(key="map_grid")
    picker.set_value("440703006106003").run()
    assert not at.exception
    card = _metrics(at)
    assert set(card) >= {"法律需求", "超期未结", "结案率", "按期结案率"}
    assert any("440703006106003" in s.value for s in at.subheader)
    # the selection is outlined through the feature group passed to st_folium
    (component,) = at.get("component_instance")
    assert "440703006106003" in json.loads(component.proto.json_args)["feature_group"]


def test_map_page_default_role_never_shows_personal_data(demo_url, app_env):
    app_env(demo_url)
    at = _run("pages/2_地图_Map.py")
    assert at.sidebar.selectbox(key="role").value == "community_leader"
    at.selectbox(key="map_grid").set_value("440703006106001").run()
    tables = [d.value for d in at.dataframe]
    assert any("编号" in t.columns for t in tables)  # the card's latest cases
    for table in tables:
        assert "居民姓名" not in table.columns and "resident_name" not in table.columns


@pytest.fixture()
def hand_made(committed_engine):
    """Two grids, six needs and two service events; as of 2025-04-01:

    ==  ====  ============  ==========  ======================  ==========  ====
    #   grid  category      reported    closed (outcome)        due         days
    ==  ====  ============  ==========  ======================  ==========  ====
    1   1     consultation  03-03       03-05 resolved          03-10 (7)   2
    2   1     consultation  03-03       03-20 resolved, late    03-10 (7)   17
    3   2     mediation     03-04       03-14 mediated          04-03 (30)  10
    4   2     mediation     03-10       03-25 mediation_failed  04-09 (30)  15
    5   1     legal_aid     03-20       open, not yet due       04-19 (30)
    6   2     consultation  03-15       open, overdue           03-22 (7)
    ==  ====  ============  ==========  ======================  ==========  ====

    needs 6, services 2, mediated 1, overdue 1; due to close = 4 closed + #6 = 5:
    closure rate 4/5 = 80.0 %, on time (#1, #3, #4) 3/5 = 60.0 %, mediation success 1/2 =
    50.0 %, median days to close of 2, 10, 15, 17 = 12.5.
    """
    D = dt.date
    with Session(committed_engine) as s, s.begin():
        c = make_community(s, n_grids=2)
        g1, g2 = c.grid_codes

        def closed(**kw):
            add_need(s, status="closed", **kw)

        closed(grid_code=g1, reported_at=D(2025, 3, 3), closed_at=D(2025, 3, 5), outcome="resolved")
        closed(
            grid_code=g1, reported_at=D(2025, 3, 3), closed_at=D(2025, 3, 20), outcome="resolved"
        )
        closed(grid_code=g2, category="mediation", reported_at=D(2025, 3, 4),
               closed_at=D(2025, 3, 14), outcome="mediated")  # fmt: skip
        closed(grid_code=g2, category="mediation", reported_at=D(2025, 3, 10),
               closed_at=D(2025, 3, 25), outcome="mediation_failed")  # fmt: skip
        add_need(s, grid_code=g1, category="legal_aid", reported_at=D(2025, 3, 20))
        add_need(s, grid_code=g2, reported_at=D(2025, 3, 15), status="dispatched")
        add_service_event(s, grid_code=g1, held_on=D(2025, 3, 10))
        add_service_event(s, grid_code=g1, held_on=D(2025, 3, 12))
    yield _url(committed_engine)


def test_overview_kpis_on_hand_made_community(hand_made, app_env):
    app_env(hand_made, today="2025-04-01")
    at = _run("pages/1_总览_Overview.py")
    assert _metrics(at) == {
        "法律需求": "6",
        "法律服务": "2",
        "调解成功": "1",
        "超期未结": "1",
        "结案率": "80.0%",
        "按期结案率": "60.0%",
        "调解成功率": "50.0%",
        "办结天数中位数": "12.5",
    }
    at.sidebar.radio(key="lang").set_value("en").run()
    assert _metrics(at)["Closure rate"] == "80.0%"
    # as of an earlier day, need 6 (due 03-22) was not overdue yet
    at.sidebar.date_input(key="as_of").set_value(dt.date(2025, 3, 21)).run()
    assert _metrics(at)["Overdue cases"] == "0"
