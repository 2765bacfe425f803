"""Benchmark: the Map page's server side at street scale, on SpatiaLite or PostGIS.

Seeds (or reuses) a database holding the street-scale demo with ``--needs`` needs
(``seed_demo(scale="street", needs=N)``; cached under ``bench/_cache/`` for SpatiaLite and in the
PostgreSQL database ``gridlaw_bench_dashboard_<N>`` for PostGIS, keyed by N), then runs what
the Map page runs on its first, uncached, visit with its default widgets (all areas, all time,
needs per 1,000 residents, natural breaks, no base map, heat layer, service points and needs
outside every grid on):

- ``read layers``: ``dashboard.layers.load_map_layers``, the page's five reads side by side,
  each in its own session: ``queries.load_grids``, ``indicators.grid_measures`` (GROUP BY over
  the needs), ``indicators.heat_bins`` (0.002° cells, GROUP BY in the database),
  ``queries.load_service_points``, ``queries.load_needs(quality="outside", limit=501)``; each
  read is also timed alone, and the five one by one, for comparison;
  ``indicators.grid_measures`` reads closed needs of whole months from the summary table
  ``need_month_stats`` (``grid_model.measures.need_stats``); the same call with ``summary=False`` (one
  GROUP BY over every need, what it did before) is timed beside it as a baseline;
- ``build map``: ``dashboard.maps.build_grid_map``;
- (beside the map) the Overview page's reads, ``compute_kpis`` and ``monthly_trend``, with and
  without the summary;
- ``render``: the page's HTML (``map_html``) and the st_folium payload (leaflet script).

``page_s`` is the sum of those steps, nothing cached: the first visit to a scope. The
dashboard caches the layers (``st.cache_data``, keyed by database, scope, viewer and day), so a
later visit to the same scope costs only the map steps; that is printed as "warm".
``map_bytes`` is the size of the rendered map page. The best of ``--repeat`` runs is reported
(the machine is shared).

Baseline, in the same run: a folium ``HeatMap`` of raw points (one per need), what a page
without binning in the database would send. It is measured on up to ``--baseline-sample``
needs and extrapolated linearly to N when N is larger (said so in the output).

The last line is ``needs=N page_s=SECONDS map_bytes=BYTES``.

    python bench/map_page.py --needs 1000000 --backend spatialite
    python bench/map_page.py --needs 1000000 --backend postgis
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
import time
from pathlib import Path

# Streamlit, imported by streamlit_folium, warns that it runs outside ``streamlit run``:
# expected here.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
logging.getLogger("streamlit").setLevel(logging.ERROR)

import folium  # noqa: E402
from folium.plugins import HeatMap  # noqa: E402
from sqlalchemy import func, make_url, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402
from streamlit_folium import _get_map_string  # noqa: E402

from dashboard import maps  # noqa: E402
from dashboard.layers import HEAT_CELL_DEG, OUTSIDE_LIMIT, load_map_layers  # noqa: E402
from grid_model import db, queries  # noqa: E402
from grid_model.measures import indicators  # noqa: E402
from grid_model.models import Grid, Need  # noqa: E402
from grid_model.scope import Scope, Viewer  # noqa: E402

CACHE = Path(__file__).resolve().parent / "_cache"
POSTGIS_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TODAY = dt.date(2025, 12, 31)  # the demo's data end that day


def _engine(backend: str, needs: int, *, label: str = "dashboard"):
    """The benchmark database ``label`` of ``needs`` needs (a file under ``bench/_cache/`` or
    the PostgreSQL database ``gridlaw_bench_<label>_<needs>``, created when missing)."""
    if backend == "spatialite":
        CACHE.mkdir(exist_ok=True)
        return db.make_engine(f"sqlite:///{CACHE / f'{label}_street_{needs}.sqlite'}")
    name = f"gridlaw_bench_{label}_{needs}"
    admin = db.make_engine(POSTGIS_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": name}
        ).first():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return db.make_engine(make_url(POSTGIS_URL).set(database=name))


def _ensure_seeded(engine, needs: int) -> float | None:
    """Seed the demo unless the database already holds it with ``needs`` needs; return the
    seeding time (None when reused)."""
    db.upgrade(engine)
    with Session(engine) as s:
        have = s.scalar(select(func.count()).select_from(Need))
        grids = s.scalar(select(func.count()).select_from(Grid))
    if have == needs and grids:
        db.vacuum(engine, Need.__tablename__)  # what autovacuum does (it is off on this machine)
        return None
    from grid_model.imports.seed import seed_demo

    t0 = time.perf_counter()
    with Session(engine) as s, s.begin():  # it also refreshes the summary and ANALYZEs
        seed_demo(
            s,
            viewer=Viewer.local_admin("bench"),
            scale="street",
            needs=needs,
            seed=0,
            replace=True,
        )
    db.vacuum(engine, Need.__tablename__)  # as autovacuum would, before any visitor
    return time.perf_counter() - t0


def run_map_page(
    engine, *, parallel: bool = True, area: str | None = None
) -> tuple[dict[str, float], str, str]:
    """One uncached run of the Map page's server side; step timings, HTML, st_folium script."""
    scope, viewer = Scope(area_code=area), Viewer(role="community_leader")
    steps: dict[str, float] = {}

    def timed(name, fn):
        t0 = time.perf_counter()
        out = fn()
        steps[name] = time.perf_counter() - t0
        return out

    layers = timed(
        "read layers" + (" (parallel)" if parallel else " (one by one)"),
        lambda: load_map_layers(engine, scope, viewer, today=TODAY, parallel=parallel),
    )
    m = timed(
        "build map",
        lambda: maps.build_grid_map(
            layers.grids,
            layers.measures,
            measure="per_1000",
            scheme="NaturalBreaks",
            k=5,
            heat=layers.heat,
            points=layers.points,
            outside=layers.outside,
            basemap="none",
        ),
    )
    html = timed("render html", lambda: maps.map_html(m))
    script = timed("st_folium payload", lambda: _get_map_string(m))
    steps["_bins"] = len(layers.heat)
    steps["_grids"] = len(layers.grids)
    return steps, html, script


def time_reads(engine, area: str | None = None) -> dict[str, float]:
    """Each of the page's reads alone (what the parallel read waits for at most)."""
    scope, viewer = Scope(area_code=area), Viewer(role="community_leader")
    reads = {
        "grids": lambda s: queries.load_grids(s, scope),
        "grid measures": lambda s: indicators.grid_measures(s, scope, today=TODAY),
        "grid measures, every need (baseline)": lambda s: indicators.grid_measures(
            s, scope, today=TODAY, summary=False
        ),
        "heat bins": lambda s: indicators.heat_bins(s, scope, cell_deg=HEAT_CELL_DEG),
        "service points": lambda s: queries.load_service_points(s, scope),
        "outside needs": lambda s: queries.load_needs(
            s, scope, viewer, limit=OUTSIDE_LIMIT + 1, quality="outside"
        ),
    }
    out = {}
    for name, fn in reads.items():
        with Session(engine) as s:
            t0 = time.perf_counter()
            fn(s)
            out[name] = time.perf_counter() - t0
    return out


def time_overview(engine, area: str | None, repeat: int) -> tuple[float, float]:
    """Seconds (best of ``repeat``) of the Overview page's two reads — KPIs and the monthly
    trend — through the closed-needs summary and, as the baseline, over every need."""
    scope = Scope(area_code=area)

    def run(summary: bool) -> float:
        best = float("inf")
        for _ in range(max(1, repeat)):
            with Session(engine) as s:
                t0 = time.perf_counter()
                indicators.compute_kpis(s, scope, today=TODAY, summary=summary)
                indicators.monthly_trend(s, scope, summary=summary)
                best = min(best, time.perf_counter() - t0)
        return best

    return run(True), run(False)


def raw_heatmap_baseline(engine, needs: int, sample: int) -> tuple[float, int, bool]:
    """Seconds and bytes of a folium HeatMap of raw need points (read, build, render); measured
    on ``min(needs, sample)`` points and scaled to ``needs`` when sampled."""
    n = min(needs, sample)
    t0 = time.perf_counter()
    with Session(engine) as s:
        rows = s.execute(select(Need.lat, Need.lon).order_by(Need.id).limit(n)).all()
    m = folium.Map(location=maps.DEFAULT_CENTER, zoom_start=14, tiles=None)
    HeatMap([[lat, lon] for lat, lon in rows]).add_to(m)
    size = len(m.get_root().render().encode())
    seconds = time.perf_counter() - t0
    scale = needs / n if n else 1.0
    return seconds * scale, int(size * scale), n < needs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--needs", type=int, default=10_000)
    parser.add_argument("--backend", choices=("spatialite", "postgis"), default="spatialite")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline-sample", type=int, default=100_000)
    parser.add_argument(
        "--area",
        help="area code the page is scoped to (default: all areas), e.g. 440703006 for the "
        "street office's view",
    )
    args = parser.parse_args(argv)

    engine = _engine(args.backend, args.needs)
    seeded = _ensure_seeded(engine, args.needs)
    print(
        f"backend={args.backend} needs={args.needs:,} area={args.area or 'all'} database="
        f"{engine.url.render_as_string(hide_password=True)}"
    )
    print(f"seeded in {seeded:.1f} s" if seeded is not None else "reused the seeded database")

    best: dict[str, float] | None = None
    html = script = ""
    for _ in range(max(1, args.repeat)):
        steps, html, script = run_map_page(engine, area=args.area)
        total = sum(v for k, v in steps.items() if not k.startswith("_"))
        if best is None or total < best["_total"]:
            best = {**steps, "_total": total}
    assert best is not None
    page_s = best["_total"]
    map_bytes = len(html.encode())
    print(f"map page, best of {args.repeat} (grids={best['_grids']}, heat bins={best['_bins']}):")
    for name, seconds in best.items():
        if not name.startswith("_"):
            print(f"  {name:<24} {seconds:8.3f} s")
    print(f"  {'total':<24} {page_s:8.3f} s")
    print(f"  map html {map_bytes:,} bytes; st_folium script {len(script.encode()):,} bytes")

    serial, _, _ = run_map_page(engine, parallel=False, area=args.area)
    print(f"  (the five reads one by one: {serial['read layers (one by one)']:.3f} s; alone:")
    reads = time_reads(engine, args.area)
    for name, seconds in reads.items():
        print(f"     {name:<36} {seconds:8.3f} s")
    print("  )")
    plain, fast = reads["grid measures, every need (baseline)"], reads["grid measures"]
    print(
        f"grid measures: closed-needs summary {fast:.3f} s vs GROUP BY over every need "
        f"{plain:.3f} s: {plain / fast:.1f}x"
    )
    fast, plain = time_overview(engine, args.area, args.repeat)
    print(
        f"overview page (KPIs + monthly trend): summary {fast:.3f} s vs every need "
        f"{plain:.3f} s: {plain / fast:.1f}x"
    )
    warm = sum(best[k] for k in ("build map", "render html", "st_folium payload"))
    print(
        f"  warm (service results already cached by st.cache_data, as on a second visit "
        f"to the same scope): {warm:.3f} s"
    )

    base_s, base_bytes, extrapolated = raw_heatmap_baseline(
        engine, args.needs, args.baseline_sample
    )
    how = (
        f"extrapolated linearly from {args.baseline_sample:,} points"
        if extrapolated
        else "measured on every need"
    )
    print(f"baseline: folium HeatMap of raw points ({how}): {base_s:.2f} s, {base_bytes:,} bytes")
    print(f"ratio baseline/page: time {base_s / page_s:.1f}x, bytes {base_bytes / map_bytes:.1f}x")
    engine.dispose()
    print(f"needs={args.needs} page_s={page_s:.3f} map_bytes={map_bytes}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
