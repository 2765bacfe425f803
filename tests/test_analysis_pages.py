"""The analysis pages (hot spots, rebalancing, access) under AppTest on the demo database, and
their pure map builders on small hand-made data."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from dashboard import maps
from dashboard.maps import map_html
from tests.test_pages import ADMIN, _run, app_env, demo_url  # noqa: F401  (fixtures)

PAGES = {
    "pages/7_热点_Hotspots.py": ("需求热点分析", "Hot spot analysis of needs"),
    "pages/8_调配_Rebalance.py": ("网格助理员调配", "Rebalance grid assistants"),
    "pages/9_可达性_Access.py": ("法律服务可达性", "Access to legal services"),
}


def _js(s: str) -> str:
    """``s`` as it appears inside the map's script (non-ASCII escaped)."""
    return json.dumps(s)[1:-1]


def _scripts(at) -> list[str]:
    return [json.loads(c.proto.json_args)["script"] for c in at.get("component_instance")]


# --- pages (database) ---------------------------------------------------------------------


@pytest.mark.db
@pytest.mark.parametrize("path", sorted(PAGES))
def test_analysis_page_runs_in_chinese_then_english(demo_url, app_env, path):  # noqa: F811
    app_env(demo_url)
    at = _run(path)
    zh, en = PAGES[path]
    assert [t.value for t in at.title] == [zh]
    assert not at.error, [e.value for e in at.error]
    at.sidebar.radio(key="lang").set_value("en").run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == [en]


@pytest.mark.db
def test_hotspot_page_grid_and_hexagons(demo_url, app_env):  # noqa: F811
    app_env(demo_url)
    at = _run("pages/7_热点_Hotspots.py")
    at.number_input(key="hs_permutations").set_value(99).run()
    assert not at.exception
    assert "热力图" in at.info[0].value and "统计检验" in at.info[0].value
    table = at.dataframe[0].value
    assert len(table) == 11 and set(table["类别"]) <= {
        "热点（99% 置信度）",
        "热点（95% 置信度）",
        "热点（90% 置信度）",
        "不显著",
        "冷点（90% 置信度）",
        "冷点（95% 置信度）",
        "冷点（99% 置信度）",
    }
    hs_map, em_map = _scripts(at)
    assert "440703006106001" in hs_map and _js("热点分析（Gi*，FDR 校正）") in hs_map
    assert _js("时空热点类型") in em_map
    at.radio(key="hs_unit").set_value("hex").run()
    assert not at.exception, [e.value for e in at.exception]
    assert "六边形编号" in at.dataframe[0].value.columns


@pytest.mark.db
def test_access_page_counts_needs_beyond_distance_and_suggests_points(demo_url, app_env):  # noqa: F811
    app_env(demo_url)
    at = _run("pages/9_可达性_Access.py")
    tiles = {m.label: m.value for m in at.metric}
    total = int(tiles["需求总数"].replace(",", ""))
    beyond_1km = int(tiles["超出步行距离的需求"].replace(",", ""))
    at.number_input(key="acc_walk_m").set_value(300).run()
    assert not at.exception, [e.value for e in at.exception]
    tiles = {m.label: m.value for m in at.metric}
    beyond_300 = int(tiles["超出步行距离的需求"].replace(",", ""))
    assert total > 0 and beyond_1km <= beyond_300 <= total and beyond_300 > 0
    at.number_input(key="acc_p").set_value(2).run()
    sites = at.dataframe[0].value
    assert 1 <= len(sites) <= 2 and (sites["可覆盖需求"] > 0).all()
    (script,) = _scripts(at)
    assert "建议点 1：可覆盖" in script  # the tooltip of the first suggestion
    assert maps.UNCOVERED_COLOR in script and maps.SUGGESTION_COLOR in script


@pytest.mark.db
def test_rebalance_page_defaults_to_todays_assistants(demo_url, app_env):  # noqa: F811
    app_env(demo_url)
    at = _run("pages/8_调配_Rebalance.py")
    k = at.number_input(key="rb_k")
    assert k.value >= 1 and str(k.value) in k.help
    assert at.button(key="rb_apply").disabled and at.button(key="rb_undo").disabled
    (script,) = _scripts(at)  # today's territories
    assert _js("网格助理员") in script and "440703006106001" in script


@pytest.mark.db
def test_app_lists_the_analysis_pages(demo_url, app_env):  # noqa: F811
    app_env(demo_url)
    at = _run("app.py")
    assert not at.exception


# --- map builders (pure) ------------------------------------------------------------------


def _grids(n: int = 3) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": [f"g{i}" for i in range(n)], "name": [f"网格{i}" for i in range(n)]},
        geometry=[box(113.08 + 0.002 * i, 22.60, 113.082 + 0.002 * i, 22.602) for i in range(n)],
        crs="EPSG:4326",
    )


def _geojson_props(m) -> dict[str, dict]:
    props = {}
    for child in m._children.values():
        data = getattr(child, "data", None)
        if isinstance(data, dict) and "features" in data:
            for f in data["features"]:
                p = f["properties"]
                props[p.get("unit") or p.get("code")] = p
    return props


def test_hotspot_map_colours_hot_red_cold_blue_with_legend():
    result = pd.DataFrame(
        {
            "grid_code": ["g0", "g1", "g2"],
            "count": [30, 5, 0],
            "z": [3.1, 0.2, -2.2],
            "p_fdr": [0.004, 0.8, 0.03],
            "class": ["hot_99", "not_significant", "cold_95"],
        }
    )
    m = maps.build_hotspot_map(result, _grids(), lang="en")
    props = _geojson_props(m)
    assert props["g0"]["fill"] == maps.HOTSPOT_COLORS["hot_99"] == "#d62f27"
    assert props["g1"]["fill"] == maps.HOTSPOT_COLORS["not_significant"]
    assert props["g2"]["fill"] == maps.HOTSPOT_COLORS["cold_95"]
    html = map_html(m)
    assert "Hot spot analysis (Gi*, FDR)" in html
    assert "Hot spot, 99% confidence (1)" in html and "Cold spot, 90% confidence (0)" in html
    zh = map_html(maps.build_hotspot_map(result, _grids(), lang="zh"))
    assert _js("热点（99% 置信度） (1)") in zh


def test_hotspot_map_refuses_an_unknown_class():
    result = pd.DataFrame({"grid_code": ["g0"], "count": [1], "z": [0.0], "p_fdr": [1.0],
                           "class": ["warm"]})  # fmt: skip
    with pytest.raises(ValueError, match="warm"):
        maps.build_hotspot_map(result, _grids(1))


def test_emerging_map_legend_lists_present_categories():
    result = pd.DataFrame(
        {"grid_code": ["g0", "g1", "g2"], "category": ["new_hot", "no_pattern", "new_hot"]}
    )
    m = maps.build_emerging_map(_grids(), result, lang="en")
    props = _geojson_props(m)
    assert props["g0"]["fill"] == maps.EMERGING_COLORS["new_hot"]
    html = map_html(m)
    assert "New hot spot (2)" in html and "No pattern (1)" in html
    assert "Persistent hot spot" not in html


def test_territory_map_colours_per_assistant_and_outlines_moves():
    grids = _grids()
    before = {"g0": "A", "g1": "A", "g2": "B"}
    after = {"g0": "A", "g1": "B", "g2": "B"}
    colors = maps.territory_colors([*before.values(), *after.values()])
    m = maps.build_territory_map(grids, after, colors=colors, moved=["g1"], lang="en")
    props = _geojson_props(m)
    assert props["g1"]["fill"] == props["g2"]["fill"] == colors["B"] != colors["A"]
    assert props["g1"]["moved"] and not props["g0"]["moved"]
    html = map_html(m)
    assert "A (1)" in html and "B (2)" in html and "Moved grid" in html


def test_access_map_draws_uncovered_area_and_suggestions():
    grids = _grids()
    uncovered = gpd.GeoDataFrame(
        {"grid_code": ["g2"], "grid_name": ["网格2"], "uncovered_share": [0.5]},
        geometry=[box(113.085, 22.60, 113.086, 22.602)],
        crs="EPSG:4326",
    )
    sites = gpd.GeoDataFrame(
        {"candidate": ["g2"], "grid_code": ["g2"], "needs_covered": [7],
         "needs_covered_alone": [7]},
        geometry=[Point(113.085, 22.601)],
        crs="EPSG:4326",
    )  # fmt: skip
    m = maps.build_access_map(grids, uncovered, suggestions=sites, walk_m=800, lang="en")
    props = _geojson_props(m)
    assert props["g2"]["fill"] == maps.UNCOVERED_COLOR
    html = map_html(m)
    assert "Suggestion 1: covers 7 unmet needs" in html
    assert '"radius": 800.0' in html
    assert "Area beyond walking distance" in html


@pytest.mark.db
def test_rebalance_page_plans_applies_and_undoes(committed_engine, app_env):  # noqa: F811
    """Plan for fewer assistants, apply (new assignment periods + audit entry, history kept),
    then undo by applying the previous plan — on a demo database of its own."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from grid_model.imports.seed import seed_demo
    from grid_model.models import Assignment, AuditEntry

    with Session(committed_engine) as s, s.begin():
        seed_demo(s, scale="community", seed=0, viewer=ADMIN)

    def open_assistants() -> int:
        with Session(committed_engine) as s:
            return s.scalar(
                select(func.count(func.distinct(Assignment.worker_id))).where(
                    Assignment.role == "grid_assistant", Assignment.valid_to.is_(None)
                )
            )

    def rows() -> int:
        with Session(committed_engine) as s:
            return s.scalar(select(func.count()).select_from(Assignment))

    assert open_assistants() == 11
    before_rows = rows()
    app_env(committed_engine.url.render_as_string(hide_password=False))
    at = _run("pages/8_调配_Rebalance.py")
    at.number_input(key="rb_k").set_value(4).run()
    at.number_input(key="rb_tolerance").set_value(30).run()
    at.button(key="rb_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert any("是" in i.value for i in at.info)  # within tolerance: yes
    loads = at.dataframe[0].value  # load per assistant (AppTest does not expose its key)
    assert len(loads) == 4
    at.button(key="rb_apply").click().run()
    assert not at.error, [e.value for e in at.error]
    assert open_assistants() == 4
    assert len(at.success) == 1 and not at.button(key="rb_undo").disabled
    assert rows() > before_rows  # new periods opened, old ones closed, none rewritten
    with Session(committed_engine) as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "rebalance_apply")
            )
            == 1
        )
    at.button(key="rb_undo").click().run()
    assert not at.error, [e.value for e in at.error]
    assert open_assistants() == 11


@pytest.mark.db
def test_rebalance_page_names_new_assistants_before_applying(committed_engine, app_env):  # noqa: F811
    """A plan for more assistants than stay asks who each new one is (active grid assistants
    covering no grid), applies with them, and undoes. Yude has 11 grids and 11 assistants; 5 of
    them leave (inactive), so a plan for 8 keeps 6 and adds NEW-1 and NEW-2."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from grid_model.imports.seed import seed_demo
    from grid_model.models import Assignment, Worker
    from tests.factories import add_worker

    with Session(committed_engine) as s, s.begin():
        seed_demo(s, scale="community", seed=0, viewer=ADMIN)
        add_worker(s, code="A-HIRED-1", name="新助理一", role="grid_assistant")
        add_worker(s, code="A-HIRED-2", name="新助理二", role="grid_assistant")
        add_worker(s, code="A-LEFT", name="已离岗", role="grid_assistant", active=False)
        leaving = s.scalars(
            select(Worker).where(Worker.role == "grid_assistant", Worker.id.in_(
                select(Assignment.worker_id).where(Assignment.valid_to.is_(None))
            )).order_by(Worker.code).limit(5)
        ).all()  # fmt: skip
        for w in leaving:
            w.active = False

    def grids_of(code: str) -> int:
        with Session(committed_engine) as s:
            return s.scalar(
                select(func.count())
                .select_from(Assignment)
                .join(Worker, Worker.id == Assignment.worker_id)
                .where(Worker.code == code, Assignment.valid_to.is_(None))
            )

    app_env(committed_engine.url.render_as_string(hide_password=False))
    at = _run("pages/8_调配_Rebalance.py")
    at.number_input(key="rb_k").set_value(9).run()
    at.number_input(key="rb_tolerance").set_value(40).run()
    at.button(key="rb_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("只有 2 位" in w.value for w in at.warning)  # 3 new, 2 who could be
    assert at.button(key="rb_apply").disabled

    at.number_input(key="rb_k").set_value(8).run()
    at.button(key="rb_run").click().run()
    who = at.selectbox(key="rb_new_NEW-1")
    assert who.options == ["新助理一 · A-HIRED-1", "新助理二 · A-HIRED-2"]
    who.set_value("A-HIRED-2").run()  # NEW-2 defaults to the same person now
    assert any("同一人" in w.value for w in at.warning) and at.button(key="rb_apply").disabled
    at.selectbox(key="rb_new_NEW-2").set_value("A-HIRED-1").run()
    assert not at.warning
    assert at.button(key="rb_apply").disabled  # out of tolerance (94 %): only on purpose
    at.checkbox(key="rb_force").check().run()
    assert not at.button(key="rb_apply").disabled
    at.button(key="rb_apply").click().run()
    assert not at.error, [e.value for e in at.error]
    assert grids_of("A-HIRED-2") >= 1 and grids_of("A-HIRED-1") >= 1
    # Undo would give grids back to the five who left: refused, in Chinese, nothing changed.
    at.button(key="rb_undo").click().run()
    assert [e.value for e in at.error] == [
        "错误：" + ", ".join(f"W440703006106A0{i}" for i in range(1, 6)) + " 不是在岗的网格助理员"
    ]
    assert grids_of("A-HIRED-2") >= 1 and grids_of("A-HIRED-1") >= 1
