"""Benchmark: ``indicators.heat_bins`` (GROUP BY in the database) on SpatiaLite and PostGIS.

Fills a database of its own with ``--needs`` needs (default 1,000,000) spread over 100 square
grids around 113.08 E, 22.60 N (random points, denser in a few places), then times, per backend:

- ``heat_bins (map)``: ``heat_bins(session, Scope())``, the whole map;
- ``heat_bins (grid)``: the same scoped to one grid;
- ``baseline: count(*)``: ``SELECT count(*) FROM needs``, the least any full pass costs;
- ``baseline: ship points``: reading every need's lon/lat into pandas and binning there, what
  the page would do without binning in the database;
- for the rest of the map page, ``grid_measures (map)`` over all grids (one GROUP BY over
  needs, one over services).

The ratios are heat_bins (map) / count(*) and ship points / heat_bins (map). ``EXPLAIN`` of the
map query is printed. Each timing is the best of ``--repeat`` runs; the machine is shared.
The script exits 1 if the bins do not add up to the number of needs.

    python bench/heat_bins.py --needs 1000000 --backend spatialite --backend postgis
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, box
from sqlalchemy import make_url, text
from sqlalchemy.orm import Session

from grid_model import db
from grid_model.db.bulk import insert_frame
from grid_model.measures.definitions import DUE_DAYS
from grid_model.measures.heat import heat_bins
from grid_model.measures.per_grid import grid_measures
from grid_model.models import Area, Grid
from grid_model.scope import Scope

POSTGIS_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/gridlaw_bench"
COMMUNITY = "440703006106"
X0, Y0, SIDE, N_SIDE = 113.04, 22.56, 0.008, 10  # 10 × 10 grids of 0.008°


def _engine(backend: str, folder: Path, *, reuse: bool):
    if backend == "spatialite":
        path = folder / "bench.sqlite"
        if path.exists() and not reuse:
            path.unlink()
        return db.make_engine(f"sqlite:///{path}")
    url = make_url(POSTGIS_URL)
    admin = db.make_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": url.database}
        ).first()
        if exists and not reuse:
            conn.execute(text(f'DROP DATABASE "{url.database}"'))
        if not exists or not reuse:
            conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()
    return db.make_engine(url)


def _stored(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM needs")).scalar_one()


def _fill(engine, n: int, rng: np.random.Generator) -> None:
    with Session(engine) as s, s.begin():
        s.add_all(
            [
                Area(code="440703", name="蓬江区", level="district"),
                Area(code="440703006", name="环市街道", level="street", parent_code="440703"),
                Area(code=COMMUNITY, name="育德社区", level="community", parent_code="440703006"),
            ]
        )
        for i in range(N_SIDE * N_SIDE):
            r, c = divmod(i, N_SIDE)
            x, y = X0 + c * SIDE, Y0 + (N_SIDE - 1 - r) * SIDE
            s.add(
                Grid(
                    code=f"{COMMUNITY}{i + 1:03d}",
                    name=f"网格{i + 1}",
                    district_code="440703",
                    community_code=COMMUNITY,
                    boundary=from_shape(MultiPolygon([box(x, y, x + SIDE, y + SIDE)]), srid=4326),
                    population=1000,
                )
            )
    # 70 % uniform, 30 % around five centres
    k = int(n * 0.7)
    lon = np.concatenate(
        [rng.uniform(X0, X0 + N_SIDE * SIDE, k), rng.normal(113.08, 0.004, n - k)]
    ).clip(X0, X0 + N_SIDE * SIDE - 1e-9)
    lat = np.concatenate(
        [rng.uniform(Y0, Y0 + N_SIDE * SIDE, k), rng.normal(22.60, 0.004, n - k)]
    ).clip(Y0, Y0 + N_SIDE * SIDE - 1e-9)
    col = ((lon - X0) // SIDE).astype(int)
    row = N_SIDE - 1 - ((lat - Y0) // SIDE).astype(int)
    cats = np.array(["consultation", "mediation", "legal_aid", "publicity", "other"])
    category = cats[rng.integers(0, len(cats), n)]
    start = dt.date(2021, 1, 1)
    reported = np.datetime64(start) + rng.integers(0, 1800, n).astype("timedelta64[D]")
    # as the importer stores them: a due date always, most needs closed, a third from the diary
    due = reported + pd.Series(category).map(DUE_DAYS).to_numpy().astype("timedelta64[D]")
    closed = rng.random(n) < 0.85
    closed_at = reported + rng.integers(0, 45, n).astype("timedelta64[D]")
    outcomes = np.array(["resolved", "mediated", "mediation_failed", "referred"])

    def dates(a: np.ndarray) -> list:
        return pd.to_datetime(a).date.tolist()

    frame = pd.DataFrame(
        {
            "external_id": [f"B{i:08d}" for i in range(n)],
            "district_code": "440703",
            "reported_at": dates(reported),
            "lon": lon,
            "lat": lat,
            "grid_code": [f"{COMMUNITY}{g + 1:03d}" for g in row * N_SIDE + col],
            "quality": "inside",
            "category": category,
            "source": np.where(rng.random(n) < 0.35, "diary", "phone"),
            "status": np.where(closed, "closed", "in_progress"),
            "outcome": np.where(closed, outcomes[rng.integers(0, len(outcomes), n)], None),
            "due_date": dates(due),
            "closed_at": [d if c else None for d, c in zip(dates(closed_at), closed, strict=True)],
            "under_correction": False,
        }
    )
    with Session(engine) as s, s.begin():
        insert_frame(s, "needs", frame, list(frame.columns), point=("location", "lon", "lat"))
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))


def _best(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _explain(session: Session, sqlite: bool) -> str:
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.dialects import sqlite as sqlite_dialect

    from grid_model.measures.heat import _heat_bins_stmt

    stmt = _heat_bins_stmt(Scope(), 0.002)
    dialect = sqlite_dialect.dialect() if sqlite else postgresql.dialect()
    sql = str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN ANALYZE "
    rows = session.execute(text(prefix + sql)).all()
    return "\n".join("    " + " ".join(str(v) for v in r) for r in rows)


def run(backend: str, n: int, repeat: int, seed: int, keep: Path | None) -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        engine = _engine(backend, keep or Path(tmp), reuse=keep is not None)
        db.upgrade(engine)
        if _stored(engine) == n:
            print(f"\n[{backend}] reusing {n:,} needs in {keep}")
        else:
            if _stored(engine):
                raise SystemExit(f"{backend}: the kept database holds another number of needs")
            t0 = time.perf_counter()
            _fill(engine, n, np.random.default_rng(seed))
            print(f"\n[{backend}] {n:,} needs loaded in {time.perf_counter() - t0:.1f} s")
        sqlite = db.is_sqlite(engine)
        with Session(engine) as s:
            t_map, bins = _best(lambda: heat_bins(s, Scope()), repeat)
            grid = f"{COMMUNITY}045"
            t_grid, gbins = _best(lambda: heat_bins(s, Scope(area_code=grid)), repeat)
            t_count, count = _best(
                lambda: s.execute(text("SELECT count(*) FROM needs")).scalar_one(), repeat
            )

            def ship() -> pd.DataFrame:
                r = s.execute(text("SELECT lon, lat FROM needs"))
                df = pd.DataFrame(r.all(), columns=["lon", "lat"])
                return df.groupby([(df.lon // 0.002), (df.lat // 0.002)]).size()

            t_ship, _ = _best(ship, 1)
            today = dt.date(2026, 1, 1)
            t_measures, _ = _best(lambda: grid_measures(s, Scope(), today=today), repeat)
            plan = _explain(s, sqlite)
        engine.dispose()
    ok = int(bins["weight"].sum()) == count == n
    print(f"  heat_bins (map)        {t_map * 1000:8.0f} ms  {len(bins):,} bins, sum ok: {ok}")
    print(f"  heat_bins (grid)       {t_grid * 1000:8.0f} ms  {int(gbins['weight'].sum()):,} needs")
    print(f"  grid_measures (map)    {t_measures * 1000:8.0f} ms")
    print(f"  baseline: count(*)     {t_count * 1000:8.0f} ms")
    print(f"  baseline: ship points  {t_ship * 1000:8.0f} ms")
    print(f"  ratio heat_bins / count(*)      {t_map / t_count:6.1f}")
    print(f"  ratio ship points / heat_bins   {t_ship / t_map:6.1f}")
    print("  plan of the map query:\n" + plan)
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--needs", type=int, default=1_000_000)
    parser.add_argument("--backend", action="append", choices=["spatialite", "postgis"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--keep",
        type=Path,
        help="folder for the SpatiaLite file (and keep database gridlaw_bench) to reuse next run",
    )
    args = parser.parse_args(argv)
    ok = True
    for backend in args.backend or ["spatialite", "postgis"]:
        ok &= run(backend, args.needs, args.repeat, args.seed, args.keep)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
