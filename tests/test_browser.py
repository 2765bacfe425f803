"""The dashboard in a real browser: ``streamlit run app.py`` on a seeded SpatiaLite demo, driven
by Playwright with Debian's Chromium. Each page opens without an exception, the map draws the
grid polygons (SVG paths in the folium iframe), a click on a grid opens its card. With hostile
names stored (script and markdown payloads), every map page is loaded, its features hovered
and clicked, and no script runs (no dialog) and no remote image is fetched.

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
from sqlalchemy import select
from sqlalchemy.orm import Session

from grid_model import db
from grid_model.accounts import add_account
from grid_model.imports.seed import seed_demo
from grid_model.models import Area, Grid, Need, ServicePoint, Worker
from grid_model.scope import Viewer

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
#: Script and markdown payloads planted in every name (tests/test_hostile_render.py checks the
#: rendered HTML of every map builder with the same ones).
PAYLOADS = (
    "<img src=x onerror=alert(1)>",
    "</script><script>alert(2)</script>",
    "`${alert(3)}`",
    "\"'><svg onload=alert(4)>",
    "[click](javascript:alert(5))",
    "![](http://beacon.invalid/x.png)",
)
BEACON = "beacon.invalid"
MAP_PAGES = ("map", "gaps", "hotspots", "rebalance", "access")


def _plant_payloads(s: Session) -> None:
    """Put a payload into the names of the demo's community, grids, workers and service
    points, and into the ids and descriptions of some needs (Chinese kept beside them)."""
    for i, area in enumerate(s.scalars(select(Area).where(Area.level == "community"))):
        area.name = f"育德社区{PAYLOADS[i % len(PAYLOADS)]}"
    for i, grid in enumerate(s.scalars(select(Grid).order_by(Grid.code))):
        grid.name = f"第{i + 1}网格{PAYLOADS[i % len(PAYLOADS)]}"
    for i, worker in enumerate(s.scalars(select(Worker).order_by(Worker.code))):
        worker.name = f"{PAYLOADS[i % len(PAYLOADS)]}{i}"[:50]
    for i, point in enumerate(s.scalars(select(ServicePoint).order_by(ServicePoint.code))):
        point.name = f"服务室{PAYLOADS[i % len(PAYLOADS)]}"
        point.opening_hours = PAYLOADS[(i + 1) % len(PAYLOADS)]
    needs = s.scalars(select(Need).order_by(Need.grid_code.is_(None).desc(), Need.id).limit(60))
    for i, need in enumerate(needs):
        need.external_id = f"{i}{PAYLOADS[i % len(PAYLOADS)]}"
        need.description = PAYLOADS[(i + 2) % len(PAYLOADS)]


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


def _first_visit(base: str, browser=None) -> None:
    """Open the home page once. A new server with a ``pages/`` folder only learns the pages of
    ``st.navigation`` when app.py first runs; until then a direct link to another page shows
    a "Page not found" notice (and then the page)."""
    if browser is not None:  # one Playwright at a time: use the running one
        pg = browser.new_page()
        pg.goto(base, wait_until="domcontentloaded")
        pg.get_by_role("heading", level=1).first.wait_for(timeout=60_000)
        pg.close()
        return
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        _first_visit(base, b)
        b.close()


@contextmanager
def _serve(
    tmp_path_factory,
    *,
    account: tuple[str, str, str] | None = None,
    hostile: bool = False,
    browser=None,
):
    """``streamlit run app.py`` on a fresh SpatiaLite demo database (with ``account``
    (username, password, role) stored when given, with :data:`PAYLOADS` in its names when
    ``hostile``), on a free port; yields its base URL."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    path = tmp_path_factory.mktemp("browser") / "demo.sqlite"
    url = f"sqlite:///{path}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    with Session(engine) as s, s.begin():
        seed_demo(s, scale="community", seed=0, viewer=ADMIN)
        if hostile:
            _plant_payloads(s)
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
            _first_visit(base, browser)
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
def hostile_server(tmp_path_factory, browser):
    """The demo with script and markdown payloads in its names."""
    with _serve(tmp_path_factory, hostile=True, browser=browser) as base:
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


def _hover_features(page, *, limit: int = 40) -> int:
    """Move the mouse over the features (polygons and markers) of every map on the page,
    tooltips opening as they go; returns how many were hovered."""
    hovered = 0
    frames = page.locator(FOLIUM_FRAME)
    for f in range(frames.count()):
        features = page.frame_locator(FOLIUM_FRAME).nth(f).locator("path.leaflet-interactive")
        features.first.wait_for(timeout=60_000)
        n = features.count()
        for i in sorted({*range(min(n, limit)), *range(max(0, n - 5), n)}):
            feature = features.nth(i)
            feature.scroll_into_view_if_needed()
            box = feature.bounding_box()
            if box is None or box["width"] == 0:
                continue
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.wait_for_timeout(60)
            hovered += 1
    return hovered


def _open_card(page, n: int) -> None:
    """Click grid ``n`` (1-based, in code order) on the Map page and wait for its card."""
    frame = page.frame_locator(FOLIUM_FRAME)
    feature = frame.locator("path.leaflet-interactive").nth(n - 1)
    feature.scroll_into_view_if_needed()
    box = feature.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    code = f"440703006106{n:03d}"
    page.locator(".st-key-grid_card").get_by_text(code).first.wait_for(timeout=60_000)
    _settle(page)


@pytest.mark.parametrize("path", MAP_PAGES)
def test_hostile_names_run_no_script_on_any_map_page(hostile_server, page, path):
    """Every map page with payloads in every name: hovering and clicking the features opens
    no dialog (no script ran) and fetches nothing from the beacon host; the names show as
    text."""
    dialogs: list[str] = []
    beacons: list[str] = []

    def on_dialog(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.context.on("request", lambda r: beacons.append(r.url) if BEACON in r.url else None)
    _open(page, hostile_server, path)
    if path == "rebalance":
        page.get_by_role("button", name="生成调配方案").click()
        _settle(page)
    hovered = _hover_features(page)
    assert hovered >= 11  # at least the grids of every map
    if path == "map":
        # the cards of grids 5 and 6, named with the markdown link and image payloads
        for n in (5, 6):
            _open_card(page, n)
            card = page.locator(".st-key-grid_card")
            shown = card.inner_text().replace("\u2060", "")  # the invisible word joiner
            assert PAYLOADS[(n - 1) % len(PAYLOADS)] in shown, shown
            # no markdown link or image (a header's own "#" anchor is Streamlit's)
            live = card.locator('a:not([href^="#"]), img').evaluate_all(
                "els => els.map(e => e.outerHTML)"
            )
            assert live == [], live
    page.wait_for_timeout(500)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert not dialogs, dialogs
    assert not beacons, beacons
    _shoot(page, f"hostile_{path}")
