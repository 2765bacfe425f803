"""The dashboard in a real browser: ``streamlit run app.py`` on a seeded SpatiaLite demo, driven
by Playwright with Debian's Chromium. Each page opens without an exception, the map draws the
grid polygons (SVG paths in the folium iframe), a click on a grid opens its card.

Screenshots go to ``artifacts/screenshots/`` (not committed).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from grid_model import db
from grid_model.accounts import add_account
from grid_model.scope import Viewer
from grid_model.seed import seed_demo

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ADMIN = Viewer.local_admin("test")

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
#: url path → (file name of the screenshot, the page title in Chinese, its link in the menu)
PAGES = {
    "overview": ("1_overview", "总览", "总览"),
    "map": ("2_map", "网格地图", "地图"),
    "workload": ("3_workload", "网格助理员工作量", "工作量"),
    "gaps": ("4_gaps", "覆盖缺口", "覆盖缺口"),
    "cases": ("5_cases", "案件", "案件"),
    "data": ("6_data", "数据导入与导出", "数据"),
    "hotspots": ("7_hotspots", "需求热点分析", "热点"),
    "rebalance": ("8_rebalance", "网格助理员调配", "调配"),
    "access": ("9_access", "法律服务可达性", "可达性"),
}
FOLIUM_FRAME = 'iframe[title="streamlit_folium.st_folium"]'


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.read().strip() == b"ok":
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"streamlit did not answer at {url} in {timeout} s")


def _first_visit(base: str) -> None:
    """Open the home page once. A new server with a ``pages/`` folder only learns the pages of
    ``st.navigation`` when app.py first runs; until then a direct link to another page shows
    a "Page not found" notice (and then the page)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        pg = b.new_page()
        pg.goto(base, wait_until="domcontentloaded")
        pg.get_by_role("heading", level=1).first.wait_for(timeout=60_000)
        b.close()


@contextmanager
def _serve(tmp_path_factory, *, account: tuple[str, str, str] | None = None):
    """``streamlit run app.py`` on a fresh SpatiaLite demo database (with ``account``
    (username, password, role) stored when given), on a free port; yields its base URL."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    path = tmp_path_factory.mktemp("browser") / "demo.sqlite"
    url = f"sqlite:///{path}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    with Session(engine) as s, s.begin():
        seed_demo(s, scale="community", seed=0, viewer=ADMIN)
        if account:
            username, password, role = account
            add_account(s, username, password, role=role, name="李主任", viewer=ADMIN)
    engine.dispose()
    port = _free_port()
    env = dict(
        os.environ,
        GRIDLAW_DATABASE_URL=url,
        GRIDLAW_TODAY="2025-12-31",
        GRIDLAW_LANG="zh",
        STREAMLIT_BROWSER_GATHER_USAGE_STATS="false",
    )
    log = (path.parent / "streamlit.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / "app.py"),
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.enableStaticServing",
            "true",
            # other people may edit the work tree meanwhile: no "source file changed" prompts
            "--server.fileWatcherType",
            "none",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, proc)
        if account is None:
            _first_visit(base)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The demo in demo mode (no account)."""
    with _serve(tmp_path_factory) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    pg = context.new_page()
    yield pg
    context.close()


def _open(page, base: str, path: str) -> None:
    """Open the app and go to ``path`` through the menu, as a user does. (A direct link to a
    page other than the home page makes Streamlit show a "Page not found" notice over the
    right page in a new browser session: ``st.navigation`` beside a ``pages/`` folder.)"""
    _, title, link = PAGES[path]
    page.goto(base, wait_until="domcontentloaded")
    page.get_by_role("heading", name="总览", level=1).wait_for(timeout=60_000)
    _settle(page)
    if path != "overview":
        page.get_by_role("link", name=link, exact=True).click()
        page.get_by_role("heading", name=title, level=1).wait_for(timeout=60_000)
        _settle(page)


def _settle(page) -> None:
    """Wait until Streamlit has run the script and drawn its output: no "running" status and
    no placeholder skeletons, twice in a row half a second apart."""
    idle = (
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " && !document.querySelector('[data-testid=\"stSkeleton\"]')"
    )
    for _ in range(2):
        page.wait_for_timeout(500)
        page.wait_for_function(idle, timeout=60_000)


def _shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


@pytest.mark.parametrize("path", list(PAGES))
def test_page_opens_without_exception(server, page, path):
    name = PAGES[path][0]
    _open(page, server, path)
    if path in ("map", "gaps", "hotspots", "rebalance", "access"):
        page.frame_locator(FOLIUM_FRAME).first.locator("path.leaflet-interactive").first.wait_for(
            timeout=60_000
        )
    _shoot(page, name)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0


def test_map_shows_grids_and_a_click_opens_the_card(server, page):
    _open(page, server, "map")
    frame = page.frame_locator(FOLIUM_FRAME)
    grids = frame.locator("path.leaflet-interactive")
    grids.first.wait_for(timeout=60_000)
    assert grids.count() >= 11  # Yude's 11 grids (service points and other marks add more)
    card = page.get_by_role("heading", name=re.compile("^网格卡片："))
    assert card.count() == 0
    # click the middle of the fifth grid's outline box, as a user would
    box = grids.nth(4).bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    card.first.wait_for(timeout=60_000)
    _settle(page)
    assert "440703006106" in card.first.inner_text()
    page.mouse.move(5, 5)  # let the tooltip go before the screenshot
    assert page.locator('[data-testid="stException"]').count() == 0
    _shoot(page, "2_map_card")


def test_language_switch_keeps_the_filters(server, page):
    _open(page, server, "overview")
    page.get_by_text("English", exact=True).click()
    page.get_by_role("heading", name="Overview", level=1).wait_for(timeout=60_000)
    _settle(page)
    assert page.get_by_text("Legal needs").count() >= 1
    assert page.locator('[data-testid="stException"]').count() == 0
    _shoot(page, "1_overview_en")


def test_sign_in_then_the_account_decides_the_role(tmp_path_factory, page):
    """With an account stored, the app opens on the sign-in form; a wrong password is
    refused, the right one opens the Overview with the account's role and no role to pick."""
    with _serve(tmp_path_factory, account=("leader1", "long enough", "community_leader")) as base:
        page.goto(base, wait_until="domcontentloaded")
        page.get_by_role("heading", name="登录").wait_for(timeout=60_000)
        _settle(page)
        assert page.get_by_text("法律需求").count() == 0  # no figures before signing in
        page.get_by_label("用户名").fill("leader1")
        page.get_by_label("密码").fill("wrong password")
        page.get_by_role("button", name="登录").click()
        page.get_by_text("用户名或密码不正确").wait_for(timeout=60_000)
        page.get_by_label("密码").fill("long enough")
        page.get_by_role("button", name="登录").click()
        page.get_by_text("已登录：李主任").wait_for(timeout=60_000)
        _settle(page)
        assert page.get_by_text("法律需求").count() >= 1
        assert page.get_by_text("查看身份").count() == 0  # the account decides the role
        assert page.locator('[data-testid="stException"]').count() == 0
        _shoot(page, "0_signed_in")
