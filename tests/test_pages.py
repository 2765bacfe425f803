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
from grid_model.imports.seed import seed_demo
from grid_model.scope import Viewer
from tests.conftest import _postgis_engine
from tests.factories import add_need, add_service_event, make_community

pytestmark = pytest.mark.db
ADMIN = Viewer.local_admin("seed-demo")

ROOT = Path(__file__).resolve().parent.parent
DEMO_TODAY = "2025-12-31"  # the demo's data end that year
TIMEOUT = 120

#: page file → (zh title, en title); the file names are not ASCII on purpose.
PAGES = {
    "pages/1_总览_Overview.py": ("总览", "Overview"),
    "pages/2_地图_Map.py": ("网格地图", "Grid map"),
    "pages/3_工作量_Workload.py": ("网格助理员工作量", "Grid assistants' workload"),
    "pages/4_覆盖缺口_Gaps.py": ("覆盖缺口", "Coverage gaps"),
    "pages/5_案件_Cases.py": ("案件", "Cases"),
    "pages/6_数据_Data.py": ("数据导入与导出", "Import and export"),
    "pages/10_我的待办_MyCases.py": ("我的待办", "My cases"),
    "pages/11_督办_Supervision.py": ("督办", "Supervision"),
    "pages/12_报表_Reports.py": ("报表", "Reports"),
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
        engine = _postgis_engine("pages")
    db.upgrade(engine)
    with Session(engine) as s, s.begin():
        seed_demo(s, scale="community", seed=0, viewer=ADMIN)
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


def _count(engine, sql: str) -> int:
    with engine.connect() as conn:
        return conn.exec_driver_sql(sql).scalar_one()


def _submit(at: AppTest, label: str) -> None:
    (button,) = [b for b in at.button if b.label == label]
    button.click().run()
    assert not at.exception, [e.value for e in at.exception]


def test_workload_marks_unranked_assistants(hand_made, app_env):
    app_env(hand_made, today="2025-04-01")
    at = _run("pages/3_工作量_Workload.py")
    at.sidebar.selectbox(key="period").set_value("custom")
    at.run()
    at.sidebar.date_input(key="period_from").set_value(dt.date(2025, 3, 1))
    at.sidebar.date_input(key="period_to").set_value(dt.date(2025, 3, 31)).run()
    table = at.dataframe[0].value
    # each assistant has 3 new + 2 closed = 5 cases: ranked at the default minimum of 5
    assert list(table["排名说明"]) == ["参与排名"] * 2
    assert list(table["排名"].astype(int)) == [1, 1]  # both weigh 8 (3+1+1+3, 1+3+3+1): a tie
    at.number_input(key="min_cases").set_value(6).run()
    table = at.dataframe[0].value
    assert list(table["排名说明"]) == ["案件过少，未排名"] * 2
    assert table["排名"].isna().all()


def test_cases_status_change_and_diary_saved_once(hand_made, app_env, committed_engine):
    app_env(hand_made, today="2025-04-01")
    at = _run("pages/5_案件_Cases.py")
    found = at.dataframe[0].value
    assert len(found) == 6
    dispatched = int(found.loc[found["状态"] == "已派发", "序号"].iloc[0])
    at.selectbox(key="case_pick").set_value(dispatched).run()
    assert at.selectbox(key="case_new_status").options == ["办理中"]
    _submit(at, "保存状态")
    assert any("办理中" in s.value for s in at.success)
    assert _status(committed_engine, dispatched) == "in_progress"

    before = _count(committed_engine, "SELECT count(*) FROM needs")
    at.radio(key="diary_locate").set_value("grid").run()
    at.selectbox(key="diary_grid").set_value("440703006106002")
    at.selectbox(key="diary_category").set_value("mediation")
    at.selectbox(key="diary_dispute").set_value("邻里纠纷")
    at.text_area(key="diary_description").input("楼上漏水，邻里协商不成")
    _submit(at, "保存需求")
    assert any("440703006106002" in s.value for s in at.success), [e.value for e in at.error]
    _submit(at, "保存需求")  # the same form sent again
    assert any("未重复登记" in i.value for i in at.info)
    assert _count(committed_engine, "SELECT count(*) FROM needs") == before + 1


def _status(engine, need_id: int) -> str:
    with engine.connect() as conn:
        return conn.exec_driver_sql(f"SELECT status FROM needs WHERE id = {need_id}").scalar_one()


def test_cases_diary_by_typed_gcj02_coordinates(hand_made, app_env, committed_engine):
    app_env(hand_made, today="2025-04-01")
    at = _run("pages/5_案件_Cases.py")
    at.radio(key="diary_locate").set_value("coords").run()
    # the centre of grid 2 (WGS84 113.086, 22.602), as Amap would show it
    from geodata.crs import wgs84_to_gcj02

    lon, lat = wgs84_to_gcj02(113.086, 22.602)
    at.text_input(key="diary_lon").input(f"{lon:.6f}")
    at.text_input(key="diary_lat").input(f"{lat:.6f}")
    at.selectbox(key="diary_crs").set_value("gcj02")
    _submit(at, "保存需求")
    assert any("440703006106002" in s.value for s in at.success), (
        [s.value for s in at.success],
        [e.value for e in at.error],
    )
    # a latitude typed as longitude is refused with a message naming the field
    at.text_input(key="diary_lon").input("22.602")
    at.text_input(key="diary_lat").input("113.086")
    at.text_area(key="diary_description").input("另一条")
    _submit(at, "保存需求")
    assert at.error and "lon" in at.error[0].value


NEEDS_CSV = (
    "编号,登记日期,经度,纬度,类别,来源\n"
    "X1,2025-03-05,113.082,22.602,法律咨询,电话\n"
    "X2,2025-13-40,113.082,22.602,法律咨询,电话\n"
    "X3,2025-03-06,113.086,22.606,人民调解,网格日记\n"
)


def test_data_import_is_all_or_nothing_with_row_errors(hand_made, app_env, committed_engine):
    app_env(hand_made, today="2025-04-01")
    at = _run("pages/6_数据_Data.py")
    before = _count(committed_engine, "SELECT count(*) FROM needs")
    at.file_uploader(key="upload_needs").set_value(("needs.csv", NEEDS_CSV.encode(), "text/csv"))
    at.run()
    at.button(key="import_needs_btn").click().run()
    assert not at.exception
    assert at.error and "未保存任何数据" in at.error[0].value
    errors = next(d.value for d in at.dataframe if "行号" in d.value.columns)
    assert list(errors["行号"]) == [3] and list(errors["字段"]) == ["reported_at"]
    assert _count(committed_engine, "SELECT count(*) FROM needs") == before

    at.checkbox(key="needs_skip_invalid").check().run()
    at.button(key="import_needs_btn").click().run()
    assert at.success and "新增 2" in at.success[0].value
    assert _count(committed_engine, "SELECT count(*) FROM needs") == before + 2


def test_data_exports_for_the_viewer(hand_made, app_env):
    app_env(hand_made, today="2025-04-01")
    at = _run("pages/6_数据_Data.py")
    assert at.sidebar.selectbox(key="role").value == "admin"
    for kind, fmt in (("needs", "csv"), ("grids", "geojson"), ("workload", "xlsx")):
        at.selectbox(key="export_kind").set_value(kind).run()
        at.selectbox(key="export_format").set_value(fmt)
        at.button(key="export_prepare").click().run()
        assert not at.exception and not at.error
        assert at.get("download_button"), kind
    assert at.main.caption[-1].value == "2 行"  # the workload of the two assistants


def test_gaps_page_lists_every_kind_with_counts(demo_url, app_env):
    app_env(demo_url)
    at = _run("pages/4_覆盖缺口_Gaps.py")
    summary = at.dataframe[0].value
    assert len(summary) == 12 and summary["数量"].sum() > 0
    at.selectbox(key="gap_kind").set_value("needs_outside").run()
    assert not at.exception
    assert at.get("download_button")


def test_gaps_page_lists_a_cut_list_in_full_when_it_is_picked(demo_url, app_env, monkeypatch):
    from dashboard import maps

    app_env(demo_url)
    monkeypatch.setattr(maps, "MAX_MARKERS", 2)  # the page reads two needs per list first
    at = _run("pages/4_覆盖缺口_Gaps.py")
    summary = at.dataframe[0].value
    counts = dict(zip(summary["缺口"], summary["数量"], strict=True))
    overdue = counts["逾期未结案件"]
    assert overdue > 2
    at.selectbox(key="gap_kind").set_value("overdue").run()
    assert not at.exception
    items = at.dataframe[-1].value  # the list, below the summary
    assert len(items) == overdue and "数量" not in items.columns


def test_map_layers_read_in_parallel_equal_one_by_one(demo_url):
    from dashboard.layers import load_map_layers
    from grid_model.scope import Scope, Viewer

    engine = db.make_engine(demo_url)
    try:
        leader = Viewer(role="community_leader")
        args = (engine, Scope(area_code="440703006106"), leader)
        together = load_map_layers(*args, today=dt.date(2025, 12, 31))
        apart = load_map_layers(*args, today=dt.date(2025, 12, 31), parallel=False)
        district = load_map_layers(
            engine, Scope(area_code="440703"), leader, today=dt.date(2025, 12, 31)
        )
    finally:
        engine.dispose()
    for name in ("grids", "measures", "heat", "points", "outside"):
        a, b = getattr(together, name), getattr(apart, name)
        assert a.equals(b), name
    assert len(together.grids) == 11 and len(together.measures) == 11
    # every need of the community's grids is in a bin; the demo's needs outside every grid
    # belong to the district level (grid_model.scope), shown there only
    outside = district.outside
    assert together.outside.empty
    assert together.heat["weight"].sum() == 1200 - len(outside)
    assert len(outside) and (outside["quality"] == "outside").all()
    assert outside["grid_code"].isna().all()
    assert "resident_name" not in outside.columns  # redacted for the leader


# --- s13-places ---
EXPORT_311 = (
    "Unique Key,Created Date,Closed Date,Complaint Type,Status,Latitude,Longitude\n"
    "900001,2025-03-05T02:30:00Z,,Noise - Residential,Open,22.602,113.082\n"
    "900002,03/06/2025 11:15:00 PM,03/07/2025 09:00:00 AM,Illegal Parking,Closed,22.606,113.086\n"
    "900003,03/06/2025 10:00:00 AM,,Rodent,Assigned,22.606,113.086\n"
)
MAPPING_311 = """timezone = "America/New_York"
[columns]
id = "Unique Key"
reported_at = "Created Date"
closed_at = "Closed Date"
category = "Complaint Type"
[values.category]
"Noise - Residential" = "mediation"
"Illegal Parking" = "other"
[values.status]
Open = "recorded"
Closed = "closed"
Assigned = "dispatched"
"""


def test_data_page_maps_another_systems_export(hand_made, app_env, committed_engine):
    """A 311-shaped export through a saved mapping: the preview, the columns picked, the
    value codes shown, an unmapped value named, the good rows stored with their times."""
    app_env(hand_made, today="2025-04-01")
    at = _run("pages/6_数据_Data.py")
    at.sidebar.radio(key="lang").set_value("en").run()
    at.file_uploader(key="upload_needs").set_value(("311.csv", EXPORT_311.encode(), "text/csv"))
    at.run()
    at.file_uploader(key="needs_map_toml").set_value(
        ("311.toml", MAPPING_311.encode(), "application/toml")
    )
    at.run()
    assert not at.exception and not at.error
    assert at.selectbox(key="needs_map_en_col_id").value == "Unique Key"
    assert at.text_input(key="needs_map_en_tz").value == "America/New_York"
    preview = next(d.value for d in at.dataframe if "Unique Key" in d.value.columns)
    assert len(preview) == 3
    at.button(key="import_needs_btn").click().run()
    assert at.error and "Rodent" in at.dataframe[-1].value.to_string()
    at.checkbox(key="needs_skip_invalid").check().run()
    at.button(key="import_needs_btn").click().run()
    assert at.success and "2" in at.success[0].value
    with committed_engine.connect() as conn:
        rows = dict(conn.exec_driver_sql(
            "SELECT external_id, reported_at FROM needs WHERE external_id IN ('900001', '900002')"
        ).all())  # fmt: skip
    # 02:30 UTC is the evening before in New York; 11:15 PM stays that day
    assert {k: str(v)[:10] for k, v in rows.items()} == {
        "900001": "2025-03-04", "900002": "2025-03-06"
    }  # fmt: skip
