"""Benchmark: concurrent writers on one database, through the services and
:func:`grid_model.db.run_write`, as the dashboard and the CLI write.

``--threads`` threads for ``--seconds`` each loop: record a need from the diary form
(:func:`grid_model.needs.cases.record_need`), then move a case one step along its status flow
(:func:`grid_model.needs.cases.change_status` with the status it read, as the Cases page's form
does). Threads go in pairs over the same cases in the same order and meet (a barrier) after
reading a case, so the two of a pair change the same case at the same moment. Then the same run with one thread, as the baseline.

Printed per run: writes done (needs recorded + status changes stored) and per second,
conflicts refused cleanly (ConflictError: the case was changed meanwhile; InvalidInputError:
the step is no longer allowed from the status now), busy refusals (BusyError after the
retries), other errors (must be 0), lost writes (a write reported done but not in the
database; must be 0) and invalid states (a closed case without outcome or closing date, an
open one with them, or an audit trail whose steps do not chain: two changes applied from one
status; must be 0). The ratio is the run's writes per second over the one-thread baseline.

    python bench/contention.py --backend spatialite
    python bench/contention.py --backend postgis --seconds 10 --threads 8
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, make_url, select, text

from grid_model import db
from grid_model.errors import BusyError, ConflictError, InvalidInputError
from grid_model.imports import import_needs
from grid_model.imports.seed import seed_demo
from grid_model.models import AuditEntry, Need
from grid_model.needs.cases import TRANSITIONS, NeedInput, change_status, record_need
from grid_model.scope import Viewer

POSTGIS_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/gridlaw_bench_contention"
ADMIN = Viewer(role="admin", name="bench")
CASES_PER_PAIR = 3_000
ON = dt.date(2025, 12, 31)


def _engine(backend: str, folder: Path) -> Engine:
    if backend == "spatialite":
        return db.make_engine(f"sqlite:///{folder / 'contention.sqlite'}")
    url = make_url(POSTGIS_URL)
    admin = db.make_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}"'))
        conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()
    return db.make_engine(url)


def _prepare(engine: Engine, folder: Path, pairs: int) -> tuple[list[list[int]], tuple]:
    """The demo community plus ``CASES_PER_PAIR`` recorded cases per pair of threads; the
    cases of each pair (ids, in order) and a point inside a grid for the diary form."""
    db.upgrade(engine)
    db.run_write(
        engine, lambda s: seed_demo(s, scale="community", seed=0, replace=True, viewer=ADMIN)
    )
    with db.reading(engine) as s:
        lon, lat = s.execute(
            select(Need.lon, Need.lat).where(Need.quality == "inside").limit(1)
        ).one()
    n = CASES_PER_PAIR * pairs
    path = folder / "cases.csv"
    pd.DataFrame(
        {
            "编号": [f"C{i:07d}" for i in range(n)],
            "登记日期": "2025-06-02",
            "经度": lon,
            "纬度": lat,
            "类别": "consultation",
            "来源": "diary",
        }
    ).to_csv(path, index=False)
    db.run_write(engine, lambda s: import_needs(s, path, viewer=Viewer.local_admin("bench-setup")))
    with db.reading(engine) as s:
        ids = s.scalars(select(Need.id).where(Need.external_id.like("C%")).order_by(Need.id)).all()
    return [list(ids[p::pairs]) for p in range(pairs)], (lon, lat)


@dataclass
class Tally:
    recorded: list[str] = field(default_factory=list)  # external ids reported stored
    changes: Counter = field(default_factory=Counter)  # need id → changes reported stored
    conflicts: int = 0
    busy: int = 0
    errors: Counter = field(default_factory=Counter)


def _worker(engine, me: int, cases: list[int], point, deadline: float, tally: Tally, run: str,
            pair: threading.Barrier):  # fmt: skip
    rng = random.Random(me)
    k = n = 0
    while time.monotonic() < deadline and k < len(cases):
        n += 1
        form = NeedInput(lon=point[0], lat=point[1], category="consultation",
                         reported_at=ON, source="diary", description=f"{run} {me} {n}",
                         external_id=f"{run}-{me}-{n}")  # fmt: skip
        try:
            need, created = db.run_write(engine, lambda s, f=form: record_need(s, f, viewer=ADMIN))
            if created:
                tally.recorded.append(need.external_id)
        except BusyError:
            tally.busy += 1
        except Exception as exc:  # noqa: BLE001 - counted: must be none
            tally.errors[type(exc).__name__] += 1
        need_id = cases[k]
        with db.reading(engine) as s:  # the form shows the case as it is now
            seen = s.scalar(select(Need.status).where(Need.id == need_id))
        try:  # the two of a pair change the case they both saw at the same moment
            pair.wait(timeout=30)
        except threading.BrokenBarrierError:
            break
        if seen == "closed":
            k += 1
            continue
        to = rng.choice(sorted(TRANSITIONS[seen]))
        outcome = "resolved" if to == "closed" else None
        try:
            db.run_write(engine, lambda s, i=need_id, to=to, o=outcome, e=seen: change_status(
                s, i, to, outcome=o, viewer=Viewer.local_admin(f"{run}-{me}"), on=ON, expected=e))  # fmt: skip
            tally.changes[need_id] += 1
        except (ConflictError, InvalidInputError):
            tally.conflicts += 1
        except BusyError:
            tally.busy += 1
        except Exception as exc:  # noqa: BLE001 - counted: must be none
            tally.errors[type(exc).__name__] += 1
    pair.abort()  # the partner stops too, not waiting for this one


def _check(engine, run: str, tallies: list[Tally]) -> tuple[int, int]:
    """Lost writes and invalid states after run ``run``."""
    recorded = {e for t in tallies for e in t.recorded}
    changes: Counter = Counter()
    for t in tallies:
        changes.update(t.changes)
    with db.reading(engine) as s:
        stored = set(s.scalars(select(Need.external_id).where(Need.external_id.like(f"{run}-%"))))
        trail = defaultdict(list)
        for entry in s.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "change_status", AuditEntry.actor.like(f"{run}-%"))
            .order_by(AuditEntry.id)
        ):
            trail[int(entry.entity_id)].append((entry.details["from"], entry.details["to"]))
        ids = list(changes)
        rows = {
            r.id: r
            for r in s.execute(
                select(Need.id, Need.status, Need.outcome, Need.closed_at).where(Need.id.in_(ids))
            )
        } if ids else {}  # fmt: skip
    lost = len(recorded - stored)
    lost += sum(max(0, n - len(trail[i])) for i, n in changes.items())
    invalid = 0
    for i, steps in trail.items():
        chain = all(a[1] == b[0] for a, b in zip(steps, steps[1:], strict=False))
        row = rows.get(i)
        final = row is not None and steps[-1][1] == row.status
        closed_ok = row is not None and (
            (row.status == "closed") == (row.outcome is not None and row.closed_at is not None)
        )
        invalid += not (chain and final and closed_ok and steps[0][0] == "recorded")
    return lost, invalid


def run(engine, cases: list[list[int]], point, threads: int, seconds: float, name: str) -> dict:
    tallies = [Tally() for _ in range(threads)]
    deadline = time.monotonic() + seconds
    pairs = [threading.Barrier(min(2, threads - 2 * p)) for p in range((threads + 1) // 2)]
    workers = [
        threading.Thread(
            target=_worker,
            args=(engine, me, cases[me // 2], point, deadline, tallies[me], name, pairs[me // 2]),
        )
        for me in range(threads)
    ]
    start = time.monotonic()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    wall = time.monotonic() - start
    lost, invalid = _check(engine, name, tallies)
    writes = sum(len(t.recorded) + sum(t.changes.values()) for t in tallies)
    errors: Counter = Counter()
    for t in tallies:
        errors.update(t.errors)
    return {
        "threads": threads,
        "writes": writes,
        "per_s": writes / wall,
        "conflicts": sum(t.conflicts for t in tallies),
        "busy": sum(t.busy for t in tallies),
        "errors": dict(errors),
        "lost": lost,
        "invalid": invalid,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("spatialite", "postgis"), default="spatialite")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    pairs = (args.threads + 1) // 2
    with tempfile.TemporaryDirectory(prefix="gridlaw_contention_") as tmp:
        engine = _engine(args.backend, Path(tmp))
        cases, point = _prepare(engine, Path(tmp), pairs)
        base = run(engine, cases[:1], point, 1, args.seconds, "base")
        # the baseline used the first cases of pair 0: the pairs start after them
        cases = [c[len(cases[0]) // 2 :] for c in cases]
        many = run(engine, cases, point, args.threads, args.seconds, "many")
        engine.dispose()
    print(f"backend={args.backend} seconds={args.seconds:g}")
    head = f"{'threads':>7} {'writes':>7} {'/s':>7} {'conflicts':>9} {'busy':>5} "
    print(head + f"{'errors':>7} {'lost':>5} {'invalid':>7} {'ratio':>6}")
    for r in (base, many):
        print(
            f"{r['threads']:>7} {r['writes']:>7} {r['per_s']:>7.1f} {r['conflicts']:>9} "
            f"{r['busy']:>5} {sum(r['errors'].values()):>7} {r['lost']:>5} {r['invalid']:>7} "
            f"{r['per_s'] / base['per_s']:>6.2f}"
        )
    for r in (base, many):
        if r["errors"]:
            print(f"errors with {r['threads']} thread(s): {r['errors']}")


if __name__ == "__main__":
    main()
