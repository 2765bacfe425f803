"""Benchmark: every dashboard page's server side on the street-scale demo with N needs.

Reuses (or seeds) the database of ``bench/map_page.py`` for ``--needs`` and ``--backend``, then
runs each page under ``streamlit.testing.v1.AppTest`` the way a first visitor does (nothing
cached: ``first``) and once more (``again``: what ``st.cache_data`` leaves to do). Beforehand
the bench does what a running server has done before its first visitor, so no page pays for
it (the time is printed; ``--no-warmup`` skips it): ``dashboard.preload.import_all`` (the
dashboard's modules, the libraries its pages and services use, then ``gc.freeze``), which
``app.py`` runs in the background when the server starts; discover the installed Streamlit
components (a server does that once at start; AppTest would redo it, about 0.3 s, in every
new AppTest's first run, so every page shares one registry); run one light page.

The baseline of issue 14, measured in the same run (best of ``--repeat``, before and after the
pages): one plain scan aggregate of the needs table, ``SELECT grid_code, category, status,
count(*) FROM needs GROUP BY 1, 2, 3``. The last line is ``pages_max_s=… scan_s=… ratio=…``
(the slowest first visit over that scan); ``--pages`` picks pages by a part of their file name.

Other baselines measured in the same run, for the reads that dominate the slow pages:

- Access and Coverage gaps: ``access_coverage.need_access`` (ids and coordinates of every
  need, details of those beyond walking distance) against ``access_table`` (every need in
  full, what both pages read before);
- Overview: ``compute_kpis`` + ``monthly_trend`` through the closed-needs summary against
  ``summary=False``.

    python bench/pages.py --needs 1000000 [--backend postgis] [--pages Workload,Access]
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sys
import time
from pathlib import Path

_HERE = Path(__file__).resolve().parent
ROOT = _HERE.parent
sys.path.insert(0, str(ROOT))
logging.getLogger("streamlit").setLevel(logging.ERROR)

import map_page  # noqa: E402  (bench/map_page.py: this folder is first on sys.path)
from sqlalchemy import text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from dashboard import preload  # noqa: E402
from grid_model.gaps import access as access_coverage  # noqa: E402
from grid_model.measures import indicators  # noqa: E402
from grid_model.scope import Scope, Viewer  # noqa: E402

TODAY = dt.date(2025, 12, 31)


def _best(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


SCAN = "SELECT grid_code, category, status, count(*) FROM needs GROUP BY 1, 2, 3"


def _page_number(path: Path) -> int:
    return int(path.stem.split("_", 1)[0])


def _warm_up(pages: list[Path]) -> tuple[float, object]:
    """What a server has done before its first visitor: the imports, the component registry
    (returned, for every AppTest to share), one light page (Data). Returns its seconds."""
    t0 = time.perf_counter()
    preload.import_all()  # what app.py's preload.start() does in the background at start
    light = next(p for p in pages if p.stem.endswith("_Data"))
    at = AppTest.from_file(str(light), default_timeout=600)
    at.run()
    return time.perf_counter() - t0, at._bidi_component_manager


def time_pages(
    url: str, warmup: bool, only: list[str] | None = None
) -> list[tuple[str, float, float, int]]:
    os.environ["GRIDLAW_DATABASE_URL"] = url
    pages = sorted((ROOT / "pages").glob("*.py"), key=_page_number)
    registry = None
    if warmup:
        seconds, registry = _warm_up(pages)
        print(f"  warm-up (imports, component registry, Data page): {seconds:.2f} s")
    if only:
        pages = [p for p in pages if any(part.lower() in p.stem.lower() for part in only)]
    out = []
    for page in pages:
        at = AppTest.from_file(str(page), default_timeout=600)
        if registry is not None:  # one registry per server, as streamlit.runtime keeps it
            at._bidi_component_manager = registry
        t0 = time.perf_counter()
        at.run()
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        at.run()
        again = time.perf_counter() - t0
        out.append((page.stem, first, again, len(at.exception)))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--needs", type=int, default=100_000)
    parser.add_argument("--backend", choices=("spatialite", "postgis"), default="spatialite")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--no-warmup", action="store_true")
    parser.add_argument("--pages", help="comma-separated parts of page file names (default all)")
    parser.add_argument("--label", default="dashboard", help="benchmark database label")
    args = parser.parse_args(argv)

    engine = map_page._engine(args.backend, args.needs, label=args.label)
    seeded = map_page._ensure_seeded(engine, args.needs)
    url = engine.url.render_as_string(hide_password=False)
    print(f"backend={args.backend} needs={args.needs:,}")
    print(f"seeded in {seeded:.1f} s" if seeded is not None else "reused the seeded database")

    def scan() -> None:
        with engine.connect() as conn:
            conn.execute(text(SCAN)).fetchall()

    scan_s = _best(scan, args.repeat)
    print("pages (AppTest, server side):")
    failed, firsts = 0, []
    only = args.pages.split(",") if args.pages else None
    for name, first, again, errors in time_pages(url, warmup=not args.no_warmup, only=only):
        failed += errors
        firsts.append(first)
        flag = f"  EXCEPTIONS: {errors}" if errors else ""
        print(f"  {name:<22} first {first:6.2f} s   again {again:6.2f} s{flag}")

    scope, viewer = Scope(), Viewer.local_admin("bench")
    with Session(engine) as s:
        lean = _best(lambda: access_coverage.need_access(s, scope, viewer), args.repeat)
        full = _best(lambda: access_coverage.access_table(s, scope, viewer), args.repeat)
        print(
            f"access: need_access {lean:.2f} s vs access_table (baseline, every need in full) "
            f"{full:.2f} s: {full / lean:.1f}x"
        )

        def overview(summary: bool):
            indicators.compute_kpis(s, scope, today=TODAY, summary=summary)
            indicators.monthly_trend(s, scope, summary=summary)

        fast = _best(lambda: overview(True), args.repeat)
        plain = _best(lambda: overview(False), args.repeat)
        print(
            f"overview reads: summary {fast:.2f} s vs every need (baseline) {plain:.2f} s: "
            f"{plain / fast:.1f}x"
        )
    scan_s = min(scan_s, _best(scan, args.repeat))
    print(f"plain scan (baseline): {SCAN}: {scan_s:.3f} s")
    pages_max = max(firsts)
    print(f"pages_max_s={pages_max:.3f} scan_s={scan_s:.3f} ratio={pages_max / scan_s:.2f}")
    engine.dispose()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
