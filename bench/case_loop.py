"""Benchmark: the Overview and Workload pages' reads with the closed loop's measures, old vs new
code path in the same run, on the street-scale demo with N needs (which runs the whole loop).

- Overview: ``compute_kpis`` + ``monthly_trend`` (through the closed-needs summary) with the
  old ``due_to_close`` (no on-hold rule) against the new one (cases on hold at the end of the
  day left out: a correlated EXISTS over ``case_events``), then with the loop's indicators
  added (``case_indicators``, what the Supervision page and ``gridlaw indicators`` read);
- Workload: ``assistant_workload`` (the page before) against it plus ``worker_caseload`` (the
  caseload of every role the page shows now);
- both pages under AppTest (server side, nothing cached) with the new code.

Uses (or seeds) ``bench/_cache/case_loop_street_N.sqlite`` (SpatiaLite; PostGIS with
``--backend postgis`` in a database of its own, ``gridlaw_bench_case_loop_N``).

    python bench/case_loop.py --needs 1000000
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
logging.getLogger("streamlit").setLevel(logging.ERROR)

import map_page  # noqa: E402  (bench/map_page.py: this folder is on sys.path)
from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from grid_model import db  # noqa: E402
from grid_model.cases.caseload import worker_caseload  # noqa: E402
from grid_model.cases.indicators import case_indicators  # noqa: E402
from grid_model.measures import definitions, indicators  # noqa: E402
from grid_model.measures.workload import assistant_workload  # noqa: E402
from grid_model.models import CaseEvent, Need  # noqa: E402
from grid_model.scope import Scope, Viewer  # noqa: E402

TODAY = dt.date(2025, 12, 31)
VIEWER = Viewer.local_admin("bench")


def _ensure_seeded(engine, needs: int) -> float | None:
    db.upgrade(engine)
    with Session(engine) as s:
        have = s.scalar(select(func.count()).select_from(Need))
    if have == needs:
        return None
    from grid_model.imports.seed import seed_demo

    t0 = time.perf_counter()
    with Session(engine) as s, s.begin():
        seed_demo(s, viewer=VIEWER, scale="street", needs=needs, seed=0, replace=True)
    return time.perf_counter() - t0


def _best(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _old_due_to_close(day):
    """``due_to_close`` as it was before the loop (no on-hold rule)."""
    return definitions.closed_by(day) | definitions._due(day, definitions.operator.le)


def time_reads(engine, repeat: int) -> dict[str, float]:
    scope = Scope()
    out: dict[str, float] = {}
    new_due = definitions.due_to_close
    with Session(engine) as s:

        def overview():
            indicators.compute_kpis(s, scope, today=TODAY)
            indicators.monthly_trend(s, scope)

        definitions.due_to_close = _old_due_to_close
        try:
            out["overview, old due_to_close"] = _best(overview, repeat)
        finally:
            definitions.due_to_close = new_due
        out["overview, new due_to_close (on-hold rule)"] = _best(overview, repeat)
        out["overview + every loop indicator"] = _best(
            lambda: (overview(), case_indicators(s, scope, VIEWER, as_of=TODAY)), repeat
        )
        start = dt.date(2025, 1, 1)
        out["workload, assistants only (before)"] = _best(
            lambda: assistant_workload(s, scope, start=start, end=TODAY, today=TODAY), repeat
        )
        out["workload + caseload of every role"] = _best(
            lambda: (assistant_workload(s, scope, start=start, end=TODAY, today=TODAY),
                     worker_caseload(s, scope, VIEWER, day=TODAY)), repeat
        )  # fmt: skip
    return out


def time_pages(url: str) -> dict[str, float]:
    from streamlit.testing.v1 import AppTest

    os.environ["GRIDLAW_DATABASE_URL"] = url
    os.environ["GRIDLAW_TODAY"] = TODAY.isoformat()
    out = {}
    AppTest.from_file(str(ROOT / "pages/6_数据_Data.py"), default_timeout=900).run()  # warm up
    for page in ("1_总览_Overview", "3_工作量_Workload", "11_督办_Supervision"):
        at = AppTest.from_file(str(ROOT / f"pages/{page}.py"), default_timeout=900)
        t0 = time.perf_counter()
        at.run()
        out[page] = time.perf_counter() - t0
        if at.exception:
            out[page + " EXCEPTION"] = float("nan")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--needs", type=int, default=100_000)
    parser.add_argument("--backend", choices=("spatialite", "postgis"), default="spatialite")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    engine = map_page._engine(args.backend, args.needs, label="case_loop")
    seeded = _ensure_seeded(engine, args.needs)
    with Session(engine) as s:
        events = s.scalar(select(func.count()).select_from(CaseEvent))
    print(f"backend={args.backend} needs={args.needs:,} case_events={events:,}")
    print(f"seeded in {seeded:.1f} s" if seeded is not None else "reused the seeded database")
    for name, seconds in time_reads(engine, args.repeat).items():
        print(f"  {name:<45} {seconds:7.3f} s")
    print("pages (AppTest, first visit, new code):")
    for name, seconds in time_pages(engine.url.render_as_string(hide_password=False)).items():
        print(f"  {name:<45} {seconds:7.2f} s")
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
