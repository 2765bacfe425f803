"""``gridlaw account key create|revoke USER`` and ``gridlaw serve-api`` on both backends."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from grid_model import apikeys
from grid_model.cli import main
from grid_model.models import ApiKey, AuditEntry
from tests.api_fixtures import build_world
from tests.api_server import free_port

pytestmark = pytest.mark.db


@pytest.fixture()
def url(committed_engine) -> str:
    return committed_engine.url.render_as_string(hide_password=False)


def test_key_create_prints_once_and_stores_only_a_hash(url, committed_engine, capsys):
    build_world(committed_engine)
    assert main(["--db", url, "--lang", "en", "account", "key", "create", "leader1"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    key = out[-1]
    assert key.startswith("glk_") and len(key) > 40 and "shown only this once" in out[0]
    with Session(committed_engine) as s:
        rows = s.scalars(select(ApiKey).where(ApiKey.username == "leader1")).all()
        assert all(key not in (r.key_hash, r.prefix) for r in rows)
        assert any(r.key_hash == apikeys.key_hash(key) for r in rows)
        viewer = apikeys.viewer_for_key(s, key)
        assert (viewer.role, viewer.area_code) == ("community_leader", "440703006106")
        details = s.scalars(select(AuditEntry.details).where(AuditEntry.action == "api_key_create"))
        assert all(key not in str(d) for d in details)
    assert main(["--db", url, "account", "key", "revoke", "leader1"]) == 0
    with Session(committed_engine) as s:
        assert apikeys.viewer_for_key(s, key) is None


def test_key_create_for_no_account_or_bad_action(url, committed_engine, capsys):
    build_world(committed_engine)
    assert main(["--db", url, "--lang", "en", "account", "key", "create", "ghost"]) != 0
    assert "ghost" in capsys.readouterr().err
    assert main(["--db", url, "--lang", "en", "account", "key", "steal", "admin1"]) == 3
    assert main(["--db", url, "account", "key", "create"]) == 3


def test_serve_api_command_serves(url, committed_engine, tmp_path):
    build_world(committed_engine)
    port = free_port()
    env = {**os.environ, "GRIDLAW_MEDIA_DIR": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "grid_model.cli", "--db", url, "serve-api", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/open311/v2/services.json", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and proc.poll() is None, "serve-api not up"
                time.sleep(0.2)
        assert r.status_code == 200 and len(r.json()) == 6
    finally:
        proc.terminate()
        proc.wait(10)
