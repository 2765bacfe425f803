"""Benchmark: the Open311 API over HTTP against the same service called in-process.

On a demo database (Yude community) with one administrator key, ``--clients`` threads for
``--seconds`` each:

1. **write, in-process**: :func:`grid_model.open311.intake.submit` (what ``POST
   requests.json`` runs: validate, locate, record, audit, idempotency record);
2. **write, HTTP**: ``POST /open311/v2/requests.json`` with an ``Idempotency-Key``, each client
   its own ``httpx.Client`` over loopback to ``gridlaw serve-api`` (a separate process);
3. **read, in-process**: :func:`grid_model.open311.requests.list_requests` (a page of 50);
4. **read, HTTP**: ``GET /open311/v2/requests.json?page_size=50``.

Printed per run: operations, per second, p50 and p99 latency (ms), errors (must be 0), and for
the HTTP runs the ratio of their throughput to the in-process run's (the HTTP overhead).

    python bench/api.py --backend spatialite
    python bench/api.py --backend postgis --clients 8 --seconds 10
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import Engine, make_url, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grid_model import apikeys, db  # noqa: E402
from grid_model.accounts import hash_password  # noqa: E402
from grid_model.imports.seed import seed_demo  # noqa: E402
from grid_model.models import Account  # noqa: E402
from grid_model.open311 import intake  # noqa: E402
from grid_model.open311.requests import RequestInput, RequestQuery, list_requests  # noqa: E402
from grid_model.queries import load_grids  # noqa: E402
from grid_model.scope import Viewer  # noqa: E402

POSTGIS_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/gridlaw_bench_api"


@dataclass
class Run:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0

    def row(self, baseline: Run | None = None) -> str:
        n = len(self.latencies)
        ms = sorted(x * 1000 for x in self.latencies) or [0.0]
        p99 = ms[min(len(ms) - 1, int(0.99 * len(ms)))]
        rate = n / self.seconds if self.seconds else 0.0
        ratio = ""
        if baseline is not None and baseline.latencies:
            ratio = f"{rate / (len(baseline.latencies) / baseline.seconds):.2f}"
        return (f"| {self.name} | {n} | {rate:.1f} | {statistics.median(ms):.1f} | {p99:.1f} | "
                f"{self.errors} | {ratio} |")  # fmt: skip


def _engine(backend: str, folder: Path) -> tuple[Engine, str]:
    if backend == "spatialite":
        url = f"sqlite:///{folder / 'api.sqlite'}"
        return db.make_engine(url), url
    url = make_url(POSTGIS_URL)
    admin = db.make_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}"'))
        conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()
    return db.make_engine(url), url.render_as_string(hide_password=False)


def _prepare(engine: Engine) -> tuple[str, list[tuple[float, float]]]:
    """The demo, an administrator with a key; the key and a point inside each grid."""
    db.upgrade(engine)
    with db.writing(engine) as s:
        seed_demo(s, viewer=Viewer.local_admin("bench"), scale="community", seed=0)
        s.add(Account(username="bench", name="bench", role="admin", area_code=None,
                      password_hash=hash_password("unused-password", n=2**4, r=1, p=1),
                      active=True))  # fmt: skip
        s.flush()
        key, _ = apikeys.create_key(s, "bench", viewer=Viewer.local_admin("bench"))
        grids = load_grids(s)
    points = [(p.x, p.y) for p in grids.geometry.representative_point()]
    return key, points


def _form(points, i: int) -> dict:
    lon, lat = points[i % len(points)]
    return {
        "service_code": "consultation", "lat": f"{lat:.6f}", "long": f"{lon:.6f}",
        "description": f"bench {uuid.uuid4().hex}", "attribute[source]": "online",
        "first_name": "三", "last_name": "张", "phone": "13900000000",
    }  # fmt: skip


def _loop(run: Run, clients: int, seconds: float, op) -> Run:
    """``clients`` threads calling ``op(client_index, i)`` until ``seconds`` have passed."""
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker(c: int) -> None:
        i, mine, bad = 0, [], 0
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            try:
                ok = op(c, i)
            except Exception:
                ok = False
            if ok:
                mine.append(time.perf_counter() - t0)
            else:
                bad += 1
            i += 1
        with lock:
            run.latencies += mine
            run.errors += bad

    threads = [threading.Thread(target=worker, args=(c,)) for c in range(clients)]
    t0 = time.monotonic()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    run.seconds = time.monotonic() - t0
    return run


def _viewer(engine: Engine, key: str) -> Viewer:
    with db.reading(engine) as s:
        return apikeys.viewer_for_key(s, key)


def _in_process(engine, key, points, clients, seconds) -> tuple[Run, Run]:
    viewer = _viewer(engine, key)

    def write(c, i):
        f = _form(points, i * 97 + c)
        data = RequestInput(
            service_code=f["service_code"], lat=f["lat"], long=f["long"],
            description=f["description"], first_name=f["first_name"], last_name=f["last_name"],
            phone=f["phone"], attributes={"source": "online"},
        )  # fmt: skip
        done = intake.submit(engine, data, viewer=viewer, idempotency_key=uuid.uuid4().hex)
        return done.status_code == 201

    def read(c, i):
        with db.reading(engine) as s:
            return len(list_requests(s, RequestQuery(page_size=50), viewer=viewer)) == 50

    return (_loop(Run("write, in-process"), clients, seconds, write),
            _loop(Run("read 50, in-process"), clients, seconds / 2, read))  # fmt: skip


def _serve(url: str, port: int, folder: Path) -> subprocess.Popen:
    env = {**os.environ, "GRIDLAW_API_WRITES_PER_MINUTE": "100000000",
           "GRIDLAW_MEDIA_DIR": str(folder / "media"), "PYTHONPATH": str(ROOT)}  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "grid_model.cli", "--db", url, "serve-api", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/open311/v2/services.json", timeout=1)
            return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.terminate()
    raise SystemExit("serve-api did not start")


def _over_http(base, key, points, clients, seconds) -> tuple[Run, Run]:
    pool = [httpx.Client(base_url=base, timeout=30, headers={"X-API-Key": key})
            for _ in range(clients)]  # fmt: skip

    def write(c, i):
        r = pool[c].post("/open311/v2/requests.json", data=_form(points, i * 89 + c),
                         headers={"Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
        return r.status_code == 201

    def read(c, i):
        r = pool[c].get("/open311/v2/requests.json", params={"page_size": 50})
        return r.status_code == 200 and len(r.json()) == 50

    try:
        return (_loop(Run("write, HTTP"), clients, seconds, write),
                _loop(Run("read 50, HTTP"), clients, seconds / 2, read))  # fmt: skip
    finally:
        for client in pool:
            client.close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["spatialite", "postgis"], default="spatialite")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--port", type=int, default=18502)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.environ["GRIDLAW_MEDIA_DIR"] = str(folder / "media")
        engine, url = _engine(args.backend, folder)
        key, points = _prepare(engine)
        local_w, local_r = _in_process(engine, key, points, args.clients, args.seconds)
        proc = _serve(url, args.port, folder)
        try:
            http_w, http_r = _over_http(f"http://127.0.0.1:{args.port}", key, points,
                                        args.clients, args.seconds)  # fmt: skip
        finally:
            proc.terminate()
            proc.wait(10)
        engine.dispose()
    print(f"backend {args.backend}, {args.clients} clients, {args.seconds:g} s per write run")
    print("| run | ops | ops/s | p50 ms | p99 ms | errors | HTTP/in-process |")
    print("|---|---|---|---|---|---|---|")
    for run, base in ((local_w, None), (http_w, local_w), (local_r, None), (http_r, local_r)):
        print(run.row(base))
    return 0 if not any(r.errors for r in (local_w, http_w, local_r, http_r)) else 1


if __name__ == "__main__":
    sys.exit(main())
