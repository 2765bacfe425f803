"""Benchmark: the monthly report of a street with ``--needs`` needs (default 100,000).

Seeds (or reuses, cached under ``bench/_cache/``) a SpatiaLite database with the street-scale
demo (``seed_demo(scale="street", needs=N)``), or uses ``--db URL`` as it is, then, in one run:

- ``dashboard``: the same figures computed through the services the dashboard's pages call,
  one by one, as a user collecting them page by page would: ``compute_kpis`` of the month, the
  month before and a year before (Overview), ``compute_kpis`` per community, ``monthly_trend``,
  ``grid_measures`` (Map), ``hotspot_table`` of this month and the month before and
  ``emerging_table`` (Hotspots), ``find_coverage_gaps`` (Gaps), ``assistant_workload``
  (Workload);
- ``figures``: :func:`grid_model.reports.monthly.monthly_report` (the same services, plus the
  overdue list, dispute types and publicity);
- ``xlsx`` and ``pdf``: rendering the figures (images included) with :mod:`reporting`.

The best of ``--repeat`` runs is reported. The last line is
``needs=N to_xlsx_s=S to_pdf_s=S dashboard_s=S``.

    python bench/reports.py --needs 100000
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from geodata.demo import END  # noqa: E402
from grid_model import db  # noqa: E402
from grid_model.analysis.emerging import emerging_table  # noqa: E402
from grid_model.analysis.hotspots import hotspot_table  # noqa: E402
from grid_model.gaps.coverage import find_coverage_gaps  # noqa: E402
from grid_model.imports.seed import seed_demo  # noqa: E402
from grid_model.measures.per_grid import grid_measures  # noqa: E402
from grid_model.measures.summary import compute_kpis, monthly_trend  # noqa: E402
from grid_model.measures.workload import assistant_workload  # noqa: E402
from grid_model.reports.monthly import monthly_report  # noqa: E402
from grid_model.reports.period import ReportMonth  # noqa: E402
from grid_model.scope import Scope, Viewer  # noqa: E402
from reporting.files import monthly_images  # noqa: E402
from reporting.pdf import monthly_pdf  # noqa: E402
from reporting.xlsx import monthly_xlsx  # noqa: E402

CACHE = Path(__file__).resolve().parent / "_cache"
STREET = "440703006"
ADMIN = Viewer.local_admin("bench")


def _database(needs: int, url: str | None) -> str:
    if url:
        return url
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"reports_street_{needs}.sqlite"
    if not path.exists():
        engine = db.make_engine(f"sqlite:///{path}")
        db.upgrade(engine)
        with db.writing(engine) as s:
            seed_demo(s, scale="street", needs=needs, seed=0, viewer=ADMIN)
        engine.dispose()
    return f"sqlite:///{path}"


def _dashboard(s, month: ReportMonth, today) -> None:
    """The figures of the report, service by service, as the pages get them."""
    area = Scope(area_code=STREET)
    for m in (month, month.previous(), month.last_year()):
        compute_kpis(s, dataclasses.replace(area, start=m.start, end=m.end), today=m.end)
    scope = dataclasses.replace(area, start=month.start, end=month.end)
    communities = {g[:12] for g in grid_measures(s, scope, today=month.end)["grid_code"]}
    for code in sorted(communities):
        compute_kpis(s, Scope(area_code=code, start=month.start, end=month.end), today=month.end)
    monthly_trend(s, dataclasses.replace(area, start=month.shifted(-11).start, end=month.end))
    for m in (month, month.previous()):
        hotspot_table(
            s, dataclasses.replace(area, start=m.start, end=m.end), ADMIN, permutations=99
        )
    emerging_table(
        s,
        dataclasses.replace(area, start=month.shifted(-11).start, end=month.end),
        ADMIN,
        permutations=0,
    )
    find_coverage_gaps(s, scope, today=month.end, viewer=ADMIN)
    assistant_workload(s, area, start=month.start, end=month.end, today=today)


def _best(fn, repeat: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--needs", type=int, default=100_000)
    parser.add_argument("--db", help="database URL to use as it is (default: a cached demo)")
    parser.add_argument("--month", default="2025-11")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    engine = db.make_engine(_database(args.needs, args.db))
    db.upgrade(engine)  # a cached database from an older schema is brought up to date
    month = ReportMonth.parse(args.month)
    with db.reading(engine) as s:
        dash_s, _ = _best(lambda: _dashboard(s, month, END), args.repeat)
        fig_s, report = _best(
            lambda: monthly_report(s, month=month, area_code=STREET, viewer=ADMIN, today=END),
            args.repeat,
        )
    img_s, images = _best(lambda: monthly_images(report), args.repeat)
    xlsx_s, xlsx = _best(lambda: monthly_xlsx(report, images), args.repeat)
    pdf_s, pdf = _best(lambda: monthly_pdf(report, images), args.repeat)
    print(f"dashboard services, one by one: {dash_s:.2f} s")
    print(f"report figures (monthly_report): {fig_s:.2f} s")
    print(f"images (map, trend):             {img_s:.2f} s")
    print(f"XLSX rendering:                  {xlsx_s:.2f} s ({len(xlsx) / 1e3:.0f} kB)")
    print(f"PDF rendering:                   {pdf_s:.2f} s ({len(pdf) / 1e3:.0f} kB)")
    to_xlsx, to_pdf = fig_s + img_s + xlsx_s, fig_s + img_s + pdf_s
    print(
        f"needs={args.needs} to_xlsx_s={to_xlsx:.2f} to_pdf_s={to_pdf:.2f} dashboard_s={dash_s:.2f}"
    )
    engine.dispose()


if __name__ == "__main__":
    main()
