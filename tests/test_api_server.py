"""The API on a real uvicorn server (loopback, a free port): a round trip over HTTP, and a
property-based run of schemathesis against its /openapi.json (bounded: no 5xx, every answer
as the schema says)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from tests.api_fixtures import build_world, form
from tests.api_server import serving

pytestmark = [pytest.mark.db, pytest.mark.slow]


@pytest.fixture()
def world(committed_engine, tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDLAW_MEDIA_DIR", str(tmp_path / "media"))
    monkeypatch.setenv("GRIDLAW_TODAY", "2025-03-10")
    monkeypatch.setenv("GRIDLAW_API_WRITES_PER_MINUTE", "100000")
    return build_world(committed_engine)


def test_round_trip_on_a_real_server(world):
    with serving(create_app(world.engine)) as base:
        headers = {"X-API-Key": world.keys["assist1"], "Idempotency-Key": "real-1"}
        with httpx.Client(base_url=base, timeout=10) as client:
            first = client.post("/open311/v2/requests.json", data=form(world), headers=headers)
            again = client.post("/open311/v2/requests.json", data=form(world), headers=headers)
            assert first.status_code == again.status_code == 201, first.text
            assert first.json() == again.json()
            listed = client.get("/open311/v2/requests.json",
                                headers={"X-API-Key": world.keys["assist1"]}).json()  # fmt: skip
            assert [n["service_request_id"] for n in listed] == [
                first.json()[0]["service_request_id"]
            ]
            public = client.get("/open311/v2/requests.json").json()
            assert "resident_name" not in public[0]
            bad = client.get("/open311/v2/requests.json", params={"page": "-1"},
                             headers={"Accept-Language": "en"})  # fmt: skip
            assert bad.status_code == 400 and "'page'" in bad.json()[0]["description"]
            assert client.get("/docs").status_code == 200
            assert client.get("/intake").status_code == 200


def _schemathesis() -> str:
    found = shutil.which("st") or str(Path(sys.executable).with_name("st"))
    if not Path(found).exists():
        pytest.fail("schemathesis (st) not installed: pip install -e '.[test]'")
    return found


def test_schemathesis_against_openapi(world, tmp_path):
    """Bounded examples per operation, a fixed seed: no 5xx, answers conform to the schema."""
    with serving(create_app(world.engine)) as base:
        result = subprocess.run(
            [_schemathesis(), "run", f"{base}/openapi.json", "--max-examples", "25",
             "--seed", "20261202", "--checks",
             "not_a_server_error,response_schema_conformance,status_code_conformance,"
             "content_type_conformance",
             "-H", f"X-API-Key: {world.keys['assist1']}", "--request-timeout", "20"],
            capture_output=True, text=True, timeout=240, cwd=tmp_path,
            env={**os.environ, "NO_COLOR": "1"},
        )  # fmt: skip
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert " passed" in result.stdout


def test_simultaneous_retries_with_one_idempotency_key_make_one_case(world):
    """A phone on a bad network sends the same request several times at once."""
    import threading

    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from grid_model.models import IdempotencyRecord, Need

    answers: list[tuple[int, list]] = []
    with serving(create_app(world.engine)) as base:
        barrier = threading.Barrier(4)
        headers = {"X-API-Key": world.keys["assist1"], "Idempotency-Key": "same-moment"}

        def send():
            with httpx.Client(base_url=base, timeout=30) as client:
                barrier.wait()
                r = client.post("/open311/v2/requests.json", data=form(world), headers=headers)
                answers.append((r.status_code, r.json()))

        threads = [threading.Thread(target=send) for _ in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(60)
    assert len(answers) == 4
    assert {code for code, _ in answers} == {201}, answers
    assert len({body[0]["service_request_id"] for _, body in answers}) == 1
    with Session(world.engine) as s:
        assert s.scalar(select(func.count()).select_from(Need)) == 1
        assert s.scalar(select(func.count()).select_from(IdempotencyRecord)) == 1


def test_chunked_body_over_the_limit_is_refused_while_it_arrives(world):
    def chunks():
        yield (b'--xyz\r\nContent-Disposition: form-data; name="media"; filename="a.jpg"\r\n'
               b"Content-Type: image/jpeg\r\n\r\n")  # fmt: skip
        for _ in range(12):
            yield b"\0" * (1024 * 1024)

    with serving(create_app(world.engine)) as base, httpx.Client(base_url=base) as client:
        r = client.post(
            "/open311/v2/requests.json", content=chunks(),
            headers={"X-API-Key": world.keys["assist1"], "Accept-Language": "en",
                     "Content-Type": "multipart/form-data; boundary=xyz"},
        )  # fmt: skip
    assert r.status_code == 413
    assert "too large" in r.json()[0]["description"]


def test_a_body_that_is_no_form_is_refused_in_the_callers_language(world):
    with serving(create_app(world.engine)) as base, httpx.Client(base_url=base) as client:
        r = client.post(
            "/open311/v2/requests.json", content=b"\0garbage",
            headers={"X-API-Key": world.keys["assist1"],
                     "Content-Type": "multipart/form-data; boundary=xyz"},
        )  # fmt: skip
    assert r.status_code == 400
    assert r.json() == [
        {
            "code": 400,
            "description": "请求内容无法解析:应为表单(multipart/form-data 或 application/x-www-form-urlencoded)",
        }
    ]
