"""One case through the whole loop in a real browser: ``streamlit run app.py`` on a small
SpatiaLite community, driven by Playwright with Debian's Chromium on the 我的待办 page —
dispatched by the grid assistant, accepted, started and handled by the mediator, verified and
visited by the assistant — and the database holds every step.

Screenshots go to ``artifacts/screenshots/`` (not committed).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from grid_model import db
from grid_model.models import CaseEvent, Need
from grid_model.needs.cases import NeedInput, record_need
from grid_model.scope import Viewer
from tests.factories import make_community
from tests.test_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SHOTS,
    _first_visit,
    _free_port,
    _wait_healthy,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ROOT = Path(__file__).resolve().parent.parent
WAIT = 60_000


@pytest.fixture()
def served(tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    url = f"sqlite:///{tmp_path / 'loop.sqlite'}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    with Session(engine, expire_on_commit=False) as s, s.begin():
        make_community(s, n_grids=2)
        need, _ = record_need(s, NeedInput(lon=113.082, lat=22.606, category="consultation",
                                           reported_at=dt.date(2025, 3, 3), source="diary",
                                           description="咨询劳动合同"),
                              viewer=Viewer.local_admin("test"))  # fmt: skip
    port = _free_port()
    env = dict(os.environ, GRIDLAW_DATABASE_URL=url, GRIDLAW_TODAY="2025-04-01", GRIDLAW_LANG="zh",
               STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")  # fmt: skip
    log = (tmp_path / "streamlit.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless",
         "true", "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.enableStaticServing", "true", "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, proc)
        _first_visit(base)
        yield base, engine, need.id, need.external_id
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        log.close()
        engine.dispose()


def _choose(pg, container: str, label: str, option: str) -> None:
    """Pick ``option`` in the selectbox labelled ``label`` (in the sidebar or the main area)."""
    box = pg.locator(f'[data-testid="{container}"] [data-testid="stSelectbox"]').filter(
        has_text=label
    )
    box.first.click()
    pg.get_by_role("option", name=re.compile(re.escape(option))).first.click()
    pg.wait_for_timeout(1500)
    pg.get_by_role("heading", level=1).first.wait_for(timeout=WAIT)


def _as(pg, role: str, worker: str) -> None:
    _choose(pg, "stSidebar", "查看身份", role)
    _choose(pg, "stMain", "工作人员", worker)


def _step(pg, tab: str, external_id: str, step: str) -> None:
    """Open ``tab``, unfold the case and take ``step``; wait for the saved message."""
    pg.get_by_role("tab", name=re.compile(tab)).first.click()
    pg.get_by_text(re.compile(re.escape(external_id) + " · ")).first.click()
    pg.get_by_role("button", name=f"执行:{step}").first.click()
    pg.get_by_text(re.compile(f"{step} 已保存")).first.wait_for(timeout=WAIT)


def test_one_case_from_recorded_to_visited_in_the_browser(served):
    from playwright.sync_api import sync_playwright

    base, engine, need_id, external_id = served
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        pg = browser.new_page(viewport={"width": 1400, "height": 1400})
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto(f"{base}/mycases")
        pg.get_by_role("heading", name="我的待办").wait_for(timeout=WAIT)
        _as(pg, "网格助理员", "A10601")
        pg.get_by_role("tab", name=re.compile("待派遣")).first.click()
        pg.get_by_text(re.compile(re.escape(external_id) + " · ")).first.click()
        _choose(pg, "stMain", "派遣给", "M10601")
        pg.get_by_role("button", name="执行:派遣").first.click()
        pg.get_by_text(re.compile("派遣 已保存")).first.wait_for(timeout=WAIT)
        _as(pg, "人民调解员", "M10601")
        _step(pg, "待签收", external_id, "签收")
        _step(pg, "已逾期", external_id, "开始办理")  # due 03-10: overdue on 04-01
        _step(pg, "已逾期", external_id, "办结")
        _as(pg, "网格助理员", "A10601")
        _step(pg, "待核查", external_id, "核查")
        _step(pg, "待回访", external_id, "回访")
        pg.screenshot(path=str(SHOTS / "10_mycases_loop.png"), full_page=True)
        browser.close()
    assert errors == []
    with Session(engine) as s:
        need = s.get(Need, need_id)
        steps = s.scalars(select(CaseEvent.step).where(CaseEvent.need_id == need_id)
                          .order_by(CaseEvent.at, CaseEvent.id)).all()  # fmt: skip
    assert (need.status, need.outcome, need.satisfaction) == ("closed", "resolved", "satisfied")
    assert need.assignee_code == "M10601"
    assert steps == ["record", "dispatch", "accept", "start", "handle", "verify", "visit"]
