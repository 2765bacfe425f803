"""The /intake page in a real Chromium at a phone's size, with the position granted: one need
sent online, one queued offline and sent when the network comes back — exactly two cases."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.app import create_app
from grid_model.models import Grid, Need
from tests.api_fixtures import PASSWORD, build_world, jpeg_with_gps
from tests.api_server import serving

pytestmark = [pytest.mark.db, pytest.mark.browser, pytest.mark.slow]
ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]  # fmt: skip
PHONE = {"width": 390, "height": 844}


HOSTILE = '<img src=x onerror="document.title=1">网格</script>'


@pytest.fixture()
def world(committed_engine, tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDLAW_MEDIA_DIR", str(tmp_path / "media"))
    monkeypatch.setenv("GRIDLAW_TODAY", "2025-03-10")
    built = build_world(committed_engine)
    with Session(committed_engine) as s, s.begin():  # a grid name that is markup
        s.get(Grid, built.community.grids[0].id).name = HOSTILE
    return built


def _needs(engine) -> list[str]:
    with Session(engine) as s:
        return list(s.scalars(select(Need.description).order_by(Need.id)))


def _fill(page, description: str) -> None:
    page.fill("#description", description)
    page.fill("input[name=last_name]", "李")
    page.fill("input[name=first_name]", "四")
    page.fill("input[name=phone]", "13700000000")


def _wait_for_worker(page, seconds: float = 15) -> None:
    """Until the service worker controls the page (polled from here: the page's CSP forbids
    the eval that wait_for_function needs)."""
    deadline = time.monotonic() + seconds
    while not page.evaluate("navigator.serviceWorker.controller !== null"):
        assert time.monotonic() < deadline, "the service worker did not take the page"
        page.wait_for_timeout(100)


def test_submit_online_then_offline_then_online(world, backend, tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    photo = tmp_path / "IMG_2025.jpg"
    photo.write_bytes(jpeg_with_gps())
    lon, lat = world.inside(0)
    with serving(create_app(world.engine)) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        context = browser.new_context(
            viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
            geolocation={"longitude": lon, "latitude": lat, "accuracy": 8},
            permissions=["geolocation"], locale="zh-CN",
        )  # fmt: skip
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(base + "/intake")
        page.fill("input[name=username]", "assist1")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        expect(page.locator("#intake")).to_be_visible()
        expect(page.locator("#lat")).to_have_value(f"{lat:.6f}", timeout=15000)
        expect(page.locator("#map polygon")).to_have_count(4)
        expect(page.locator("#map text").first).to_have_text(HOSTILE)  # shown as text
        assert page.locator("#map img").count() == 0
        assert page.title().startswith("网格法律需求采集")  # no handler of the name ran
        _fill(page, "在线提交的咨询")
        page.screenshot(path=str(SHOTS / f"intake_form_{backend}.png"), full_page=True)
        page.click("#submit")
        expect(page.locator("#status")).to_contain_text("已提交", timeout=15000)
        assert _needs(world.engine) == ["在线提交的咨询"]

        # the service worker keeps the page: it opens again without a network
        _wait_for_worker(page)
        page.reload()  # now through the worker, which keeps copies of what the page reads
        expect(page.locator("#map polygon")).to_have_count(4)
        context.set_offline(True)
        page.reload()
        expect(page.locator("#intake")).to_be_visible()
        expect(page.locator("#map polygon")).to_have_count(4)
        expect(page.locator("#lat")).to_have_value(f"{lat:.6f}", timeout=15000)
        page.click("#map", position={"x": 120, "y": 60})  # a tap on the map sets the position
        _fill(page, "离线排队的咨询")
        page.set_input_files("#photo", str(photo))  # kept in IndexedDB while offline
        page.click("#submit")
        expect(page.locator("#queue")).to_contain_text("1", timeout=10000)
        expect(page.locator("#status")).to_contain_text("离线", timeout=10000)
        page.screenshot(path=str(SHOTS / f"intake_offline_{backend}.png"), full_page=True)
        assert _needs(world.engine) == ["在线提交的咨询"]

        context.set_offline(False)
        page.evaluate("window.dispatchEvent(new Event('online'))")
        expect(page.locator("#queue")).to_have_text("", timeout=20000)
        expect(page.locator("#status")).to_contain_text("已提交")
        page.screenshot(path=str(SHOTS / f"intake_back_online_{backend}.png"), full_page=True)
        assert _needs(world.engine) == ["在线提交的咨询", "离线排队的咨询"]
        [stored] = list((tmp_path / "media").iterdir())
        assert not Image.open(stored).getexif()  # the GPS position did not reach the disk
        page.reload()
        expect(page.locator("#intake")).to_be_visible()
        page.wait_for_timeout(500)
        assert len(_needs(world.engine)) == 2
        assert not errors, errors
        browser.close()
