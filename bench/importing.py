"""Benchmark: importing a needs CSV, against a raw bulk load of the same rows (issue 14).

Writes (or reuses) ``bench/_cache/import_needs_<N>.csv``: the street-scale demo's needs in the
import format (``build_demo(scale="street", needs=N)``, header names of
``grid_model.imports.rows.NEED_COLUMNS``). Then, in a fresh database holding the demo's grids,
areas and workers but no needs, measures in the same run, each in its own child process (so the
memory peak is that step's own):

- ``raw``: the baseline — the file's plain columns loaded into a plain table in one
  transaction: on SpatiaLite ``csv.reader`` + prepared ``executemany`` inserts; on PostGIS
  ``COPY … FROM STDIN`` of the file;
- ``import``: ``grid_model.imports.import_needs`` — read, validate, geolocate, store (with the
  point geometry, the indexes and the summary triggers), refresh the closed-needs summary — the
  way ``gridlaw import-needs FILE`` does.

The last line is ``needs=N import_s=… raw_s=… ratio=… import_peak_mb=… raw_peak_mb=…``.

    python bench/importing.py --needs 1000000 [--backend postgis]
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import make_url, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from grid_model import db  # noqa: E402
from grid_model.scope import Viewer  # noqa: E402

CACHE = ROOT / "bench" / "_cache"
POSTGIS_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _csv_path(needs: int) -> Path:
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"import_needs_{needs}.csv"
    if not path.exists():
        from geodata import demo

        frame = demo.build_demo(scale="street", needs=needs, seed=0).needs
        frame.to_csv(path.with_suffix(".tmp"), index=False)
        path.with_suffix(".tmp").rename(path)
    return path


def _target_url(backend: str, label: str, needs: int) -> str:
    if backend == "spatialite":
        path = CACHE / f"import_target_{label}_{needs}.sqlite"
        path.unlink(missing_ok=True)
        return f"sqlite:///{path}"
    target = f"gridlaw_bench_{label}_import_{needs}"
    admin = db.make_engine(POSTGIS_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{target}"'))
    admin.dispose()
    return make_url(POSTGIS_ADMIN).set(database=target).render_as_string(hide_password=False)


def _prepare(url: str) -> None:
    """The demo's grids, areas and workers, no needs."""
    from grid_model.imports.seed import seed_demo

    engine = db.make_engine(url)
    db.upgrade(engine)
    with Session(engine) as s, s.begin():
        seed_demo(s, viewer=Viewer.local_admin("bench"), scale="street", needs=100, seed=0)
        for table in (
            "geolocation_changes", "case_events", "mediation_cases", "need_media", "needs",
            "need_month_stats", "need_stats_dirty",
        ):  # fmt: skip
            s.execute(text(f"DELETE FROM {table}"))
    engine.dispose()


def _phase_raw(url: str, path: Path) -> int:
    engine = db.make_engine(url)
    with open(path, encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh))
    cols = ", ".join(f'"{c}"' for c in header)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS raw_needs"))
        conn.execute(text(f"CREATE TABLE raw_needs ({', '.join(f'{c} TEXT' for c in header)})"))
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        with open(path, encoding="utf-8", newline="") as fh:
            if db.is_sqlite(engine):
                reader = csv.reader(fh)
                next(reader)
                marks = ", ".join("?" for _ in header)
                cur.executemany(f"INSERT INTO raw_needs ({cols}) VALUES ({marks})", reader)
            else:
                with cur.copy(
                    f"COPY raw_needs ({cols}) FROM STDIN WITH (FORMAT csv, HEADER)"
                ) as cp:
                    while chunk := fh.read(1 << 20):
                        cp.write(chunk)
        raw.commit()
        cur.execute("SELECT count(*) FROM raw_needs")
        return cur.fetchone()[0]
    finally:
        raw.close()
        engine.dispose()


def _phase_import(url: str, path: Path) -> int:
    from geodata.io import limits
    from grid_model.imports import import_needs

    # 1M needs with the closed loop's columns are ~310 MB, past the 200 MB upload limit: what
    # `gridlaw import-needs` allows
    limits.MAX_FILE_BYTES = max(limits.MAX_FILE_BYTES, limits.CLI_MAX_FILE_BYTES)

    engine = db.make_engine(url)
    report = db.run_write(
        engine,
        lambda s: import_needs(s, path, viewer=Viewer.local_admin("bench"), lang="en"),
    )
    engine.dispose()
    return report.inserted


def _child(phase: str, url: str, path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--phase", phase, "--url", url, "--csv", str(path)],
        capture_output=True,
        text=True,
    )
    if out.returncode:
        sys.exit(f"the {phase} step failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--needs", type=int, default=100_000)
    ap.add_argument("--backend", choices=("spatialite", "postgis"), default="spatialite")
    ap.add_argument("--label", default="import", help="names the target database")
    ap.add_argument("--phase", choices=("raw", "import"), help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    ap.add_argument("--csv", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.phase:
        t0 = time.perf_counter()
        run = _phase_raw if args.phase == "raw" else _phase_import
        rows = run(args.url, Path(args.csv))
        seconds = time.perf_counter() - t0
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"rows": rows, "seconds": seconds, "peak_mb": peak_mb}))
        return

    path = _csv_path(args.needs)
    print(f"file: {path.name}, {path.stat().st_size / 1e6:.0f} MB, {args.needs:,} needs")
    url = _target_url(args.backend, args.label, args.needs)
    _prepare(url)
    raw = _child("raw", url, path)
    imp = _child("import", url, path)
    assert raw["rows"] == imp["rows"] == args.needs, (raw, imp)
    ratio = imp["seconds"] / raw["seconds"]
    print(f"raw bulk load ({args.backend}): {raw['seconds']:.1f} s, peak {raw['peak_mb']:.0f} MB")
    print(f"import_needs  ({args.backend}): {imp['seconds']:.1f} s, peak {imp['peak_mb']:.0f} MB")
    print(
        f"needs={args.needs} import_s={imp['seconds']:.2f} raw_s={raw['seconds']:.2f} "
        f"ratio={ratio:.2f} import_peak_mb={imp['peak_mb']:.0f} raw_peak_mb={raw['peak_mb']:.0f}"
    )


if __name__ == "__main__":
    main()
