"""The gridlaw command line against real databases (both backends): exit codes, reports,
exports that round-trip, nothing stored on bad input."""

from __future__ import annotations

import datetime as dt
import json

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geodata import io as gio
from grid_model.cli import main
from grid_model.models import Need, NeedMonthStat, NeedStatsDirty
from tests.factories import add_need, make_community

pytestmark = pytest.mark.db


@pytest.fixture()
def url(committed_engine) -> str:
    return committed_engine.url.render_as_string(hide_password=False)


@pytest.fixture()
def community(committed_engine):
    with Session(committed_engine) as s, s.begin():
        c = make_community(s, n_grids=4)
        add_need(
            s,
            external_id="P-1",
            grid_code=c.grid_codes[0],
            resident_name="李四",
            resident_phone="13800000001",
        )
        add_need(
            s,
            external_id="P-2",
            grid_code=c.grid_codes[1],
            category="correction",
            under_correction=True,
            resident_name="张三",
        )
        centres = {code: c.centre(code) for code in c.grid_codes}
    return centres


def _needs(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(Need))


def test_init_and_stats(url, capsys):
    assert main(["--db", url, "--lang", "en", "init"]) == 0
    assert main(["--db", url, "stats", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert stats["grids"] == 0


def test_bad_needs_file_exit_3_and_nothing_stored(
    url, committed_engine, community, tmp_path, capsys
):
    (x, y) = next(iter(community.values()))
    path = tmp_path / "needs.csv"
    path.write_bytes(
        f"编号,登记日期,经度,纬度,类别\nA,2025-03-01,{x},{y},法律咨询\nB,2025-02-30,{x},{y},法律咨询\n".encode(
            "gbk"
        )
    )
    before = _needs(committed_engine)
    assert main(["--db", url, "--lang", "zh", "-q", "import-needs", str(path)]) == 3
    err = capsys.readouterr().err
    assert "第 3 行" in err and "B" in err and "reported_at" in err
    assert _needs(committed_engine) == before
    # --skip-invalid alone stores the good rows and prints the bad ones
    assert main(["--db", url, "-q", "import-needs", str(path), "--skip-invalid"]) == 0
    err = capsys.readouterr().err
    assert "第 3 行" in err and "reported_at" in err
    assert _needs(committed_engine) == before + 1
    out = tmp_path / "bad.csv"
    assert (
        main(
            [
                "--db",
                url,
                "-q",
                "import-needs",
                str(path),
                "--skip-invalid",
                "--errors-out",
                str(out),
            ]
        )
        == 0
    )
    assert _needs(committed_engine) == before + 1
    assert list(pd.read_csv(out, dtype=str)["编号"]) == ["B"]


def test_bad_snap_setting_is_a_clear_error_and_nothing_stored(
    url, committed_engine, community, tmp_path, capsys, monkeypatch
):
    """GRIDLAW_SNAP_M is every geolocating service's default: a value that is no distance is
    an error naming the setting, from the command that needs it (``--help`` still works)."""
    (x, y) = next(iter(community.values()))
    path = tmp_path / "needs.csv"
    path.write_text(f"编号,登记日期,经度,纬度,类别\nA,2025-03-01,{x},{y},法律咨询\n")
    before = _needs(committed_engine)
    monkeypatch.setenv("GRIDLAW_SNAP_M", "thirty")
    with pytest.raises(SystemExit) as help_exit:
        main(["--help"])
    assert help_exit.value.code == 0
    assert main(["--db", url, "--lang", "en", "-q", "import-needs", str(path)]) == 1
    assert "GRIDLAW_SNAP_M='thirty'" in capsys.readouterr().err
    assert _needs(committed_engine) == before
    # an explicit --snap-m needs no setting
    assert main(["--db", url, "-q", "import-needs", str(path), "--snap-m", "30"]) == 0
    assert _needs(committed_engine) == before + 1


@pytest.mark.parametrize("ext", [".geojson", ".gpkg", ".csv", ".xlsx"])
def test_export_needs_round_trip(url, community, tmp_path, ext):
    path = tmp_path / f"needs{ext}"
    assert main(["--db", url, "-q", "export", "needs", str(path)]) == 0
    frame = gio.read_vector(path) if ext in (".geojson", ".gpkg") else gio.read_table(path)
    assert {"id", "grid_code", "quality", "lon", "lat", "category", "status"} <= set(frame.columns)
    assert sorted(frame["id"]) == ["P-1", "P-2"]
    row = frame[frame["id"] == "P-1"].iloc[0]
    x, y = next(iter(community.values()))
    assert float(row["lon"]) == pytest.approx(x) and float(row["lat"]) == pytest.approx(y)
    assert row["resident_name"] == "李四"


def test_export_redacts_for_community_leader(url, community, tmp_path):
    path = tmp_path / "needs.csv"
    assert (
        main(["--db", url, "-q", "export", "needs", str(path), "--role", "community_leader"]) == 0
    )
    frame = gio.read_table(path)
    assert "resident_name" not in frame.columns and "resident_phone" not in frame.columns
    assert list(frame["id"]) == ["P-1"]  # the person under community correction is not exported


def test_export_grids_round_trip(url, community, tmp_path):
    path = tmp_path / "grids.gpkg"
    assert main(["--db", url, "-q", "export", "grids", str(path)]) == 0
    grids = gio.read_vector(path)
    assert sorted(grids["code"]) == sorted(community)
    assert {"code", "name", "community"} <= set(grids.columns)
    assert grids.geometry.is_valid.all()


def test_check_grids_reports_overlap_and_json(url, tmp_path, capsys):
    frame = gpd.GeoDataFrame(
        {"code": ["440703006199001", "440703006199002", "440703006199002"]},
        geometry=[
            box(113.10, 22.60, 113.11, 22.61),
            box(113.105, 22.60, 113.12, 22.61),
            box(113.2, 22.6, 113.21, 22.61),
        ],
        crs="EPSG:4326",
    )
    path = tmp_path / "g.geojson"
    frame.to_file(path, driver="GeoJSON", engine="pyogrio")
    assert main(["--db", url, "check-grids", str(path), "--json"]) == 3
    report = json.loads(capsys.readouterr().out)
    kinds = sorted(p["kind"] for p in report["problems"])
    assert kinds == ["duplicate_code", "overlap"]
    overlap = next(p for p in report["problems"] if p["kind"] == "overlap")
    assert overlap["area_m2"] == pytest.approx(0.005 * 0.01 * 111_320 * 110_760 * 0.923, rel=0.02)


def test_import_grids_then_relocate(url, committed_engine, tmp_path, capsys):
    frame = gpd.GeoDataFrame(
        {"网格编码": ["440703006199001"], "社区": ["新社区"]},
        geometry=[box(113.10, 22.60, 113.11, 22.61)],
        crs="EPSG:4326",
    )
    path = tmp_path / "g.geojson"
    frame.to_file(path, driver="GeoJSON", engine="pyogrio")
    assert main(["--db", url, "--lang", "en", "import-grids", str(path)]) == 0
    assert "1 new" in capsys.readouterr().out
    assert main(["--db", url, "--lang", "en", "relocate"]) == 0
    assert "Relocated 0 needs" in capsys.readouterr().out


def test_refresh_summary_after_needs_written_by_another_tool(url, committed_engine, capsys):
    with Session(committed_engine) as s, s.begin():
        c = make_community(s, n_grids=2)
        for day in (3, 4):
            add_need(s, grid_code=c.grid_codes[0], reported_at=dt.date(2025, 3, day),
                     status="closed", closed_at=dt.date(2025, 3, 9))  # fmt: skip
    with Session(committed_engine) as s:
        assert s.scalar(select(func.count()).select_from(NeedStatsDirty)) == 1
    assert main(["--db", url, "stats", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert (stats["summary_rows"], stats["summary_marked"]) == (0, 1)
    assert main(["--db", url, "--lang", "en", "refresh-summary"]) == 0
    assert "1 (grid, month) buckets recomputed" in capsys.readouterr().out
    assert main(["--db", url, "stats", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert (stats["summary_rows"], stats["summary_marked"], stats["accounts"]) == (1, 0, 0)
    with Session(committed_engine) as s:
        assert s.scalar(select(func.count()).select_from(NeedStatsDirty)) == 0
        assert s.scalar(select(NeedMonthStat.needs)) == 2
    assert main(["--db", url, "refresh-summary", "--full"]) == 0
    assert "重算 1 个" in capsys.readouterr().out


def test_unknown_crs_is_a_clear_error(url, tmp_path, capsys):
    path = tmp_path / "n.csv"
    path.write_text("id,reported_at,lon,lat,category\nA,2025-01-01,113,22.6,consultation\n")
    assert (
        main(["--db", url, "--lang", "en", "-q", "import-needs", str(path), "--crs", "mars"]) == 3
    )
    assert "mars" in capsys.readouterr().err


def test_hotspots_json(url, community, capsys):
    assert main(["--db", url, "hotspots", "--json", "--permutations", "99"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert sorted(r["grid_code"] for r in rows) == sorted(community)
    assert {"grid_code", "count", "z", "p", "class"} <= set(rows[0])
    counts = {r["grid_code"]: r["count"] for r in rows}
    assert sum(counts.values()) == 2 and all(isinstance(c, int) for c in counts.values())


def test_rebalance_plan_and_apply(url, committed_engine, community, tmp_path, capsys):
    from grid_model.models import Assignment, AuditEntry

    out = tmp_path / "plan.csv"
    code = main(
        [
            "--db",
            url,
            "rebalance",
            "--assistants",
            "2",
            "--tolerance",
            "0.5",
            "--out",
            str(out),
            "--apply",
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    plan = pd.read_csv(out, dtype=str, encoding="utf-8-sig")
    assert list(plan.columns) == ["grid_code", "assistant", "workload"]
    assert sorted(plan["grid_code"]) == sorted(community) and plan["assistant"].nunique() == 2
    with Session(committed_engine) as s:
        open_rows = s.execute(
            select(Assignment.worker_id).where(
                Assignment.role == "grid_assistant", Assignment.valid_to.is_(None)
            )
        ).all()
        assert len({r[0] for r in open_rows}) == 2
        assert (
            s.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "rebalance_apply")
            )
            == 1
        )


def test_import_needs_vacuums_what_it_loaded_on_postgresql(
    url, community, committed_engine, tmp_path
):
    # the open needs' index-only scans (migration 0012) need the visibility map VACUUM sets;
    # autovacuum may be off or late
    from sqlalchemy import text

    x, y = community[next(iter(community))]
    path = tmp_path / "needs.csv"
    path.write_text(f"编号,登记日期,经度,纬度,类别\nV-1,2025-03-01,{x},{y},法律咨询\n")
    assert main(["--db", url, "-q", "import-needs", str(path)]) == 0
    if committed_engine.dialect.name == "sqlite":
        return  # nothing to vacuum: SQLite reads rows by their rowid
    with committed_engine.connect() as conn:
        done = conn.execute(
            text(
                "SELECT relname, last_vacuum IS NOT NULL FROM pg_stat_user_tables "
                "WHERE relname IN ('needs', 'case_events')"
            )
        ).all()
    assert dict(done) == {"needs": True, "case_events": True}


def test_import_needs_reads_files_past_the_upload_limit(
    url, community, committed_engine, tmp_path, monkeypatch
):
    # the command takes a city's file (limits.CLI_MAX_FILE_BYTES); the dashboard's uploads and
    # the services called directly keep MAX_FILE_BYTES
    from geodata.io import limits
    from grid_model.errors import GridLawError
    from grid_model.imports import import_needs
    from grid_model.scope import Viewer

    x, y = community[next(iter(community))]
    path = tmp_path / "needs.csv"
    path.write_text(
        f"编号,登记日期,经度,纬度,类别\nBIG-1,2025-03-01,{x},{y},法律咨询\n" + "\n" * 300
    )
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", 200)
    with Session(committed_engine) as s, pytest.raises(GridLawError, match="more than"):
        import_needs(s, path, viewer=Viewer.local_admin("t"), lang="en")
    monkeypatch.setattr(limits, "CLI_MAX_FILE_BYTES", 10_000)
    before = _needs(committed_engine)
    assert main(["--db", url, "-q", "import-needs", str(path)]) == 0
    assert _needs(committed_engine) == before + 1
    assert limits.MAX_FILE_BYTES == 200  # given back
