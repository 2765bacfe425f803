"""Importers on both backends: formats, encodings, every kind of bad row, idempotence."""

from __future__ import annotations

import io

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from shapely.geometry import box
from sqlalchemy import event, func, select, text

from geodata.crs import wgs84_to_gcj02
from grid_model import db
from grid_model.errors import ImportValidationError, InvalidInputError
from grid_model.imports import format_errors, import_grids, import_needs, import_workers
from grid_model.imports import needs as needs_import
from grid_model.models import (
    Area,
    Assignment,
    AuditEntry,
    GeolocationChange,
    Grid,
    Need,
    NeedMonthStat,
    NeedStatsDirty,
    Worker,
)
from grid_model.scope import Viewer
from tests.factories import make_community

pytestmark = pytest.mark.db
ADMIN = Viewer.local_admin("test")

HEADER_ZH = [
    "编号",
    "登记日期",
    "经度",
    "纬度",
    "类别",
    "纠纷类型",
    "描述",
    "状态",
    "结果",
    "办结日期",
    "居民姓名",
    "联系电话",
    "来源",
]


def _csv(rows, header=HEADER_ZH, encoding="utf-8") -> bytes:
    frame = pd.DataFrame(rows, columns=header)
    return frame.to_csv(index=False).encode(encoding)


def _count(session) -> int:
    return session.scalar(select(func.count()).select_from(Need))


@pytest.fixture()
def community(session):
    return make_community(session, n_grids=4)


def _good_rows(community):
    x0, y0 = community.centre(community.grid_codes[0])
    x1, y1 = community.centre(community.grid_codes[3])
    return [
        [
            "N-1",
            "2025-03-01",
            x0,
            y0,
            "法律咨询",
            "",
            "咨询房屋租赁合同",
            "已登记",
            "",
            "",
            "李四",
            "13800000001",
            "日记",
        ],
        [
            "N-2",
            "2025/3/2",
            x1,
            y1,
            "人民调解",
            "邻里纠纷",
            "楼上漏水",
            "已办结",
            "调解成功",
            "2025年3月9日",
            "王五",
            "13900000002",
            "电话",
        ],
        [
            "N-3",
            "2025年3月3日",
            x1,
            y1,
            "legal_aid",
            "",
            "",
            "in_progress",
            "",
            "",
            "",
            "",
            "walk_in",
        ],
    ]


def test_gbk_csv_with_chinese_headers(session, community):
    data = _csv(_good_rows(community), encoding="gbk")
    report = import_needs(session, data, filename="needs.csv", lang="zh", viewer=ADMIN)
    assert (report.inserted, report.existing, report.invalid) == (3, 0, [])
    needs = {n.external_id: n for n in session.scalars(select(Need))}
    assert needs["N-1"].grid_code == community.grid_codes[0]
    assert needs["N-1"].quality == "inside"
    assert needs["N-1"].category == "consultation" and needs["N-1"].source == "diary"
    assert needs["N-2"].category == "mediation" and needs["N-2"].outcome == "mediated"
    assert needs["N-2"].closed_at.isoformat() == "2025-03-09"
    assert needs["N-3"].reported_at.isoformat() == "2025-03-03"
    assert needs["N-2"].grid_code == community.grid_codes[3]
    assert (
        session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "import_needs")
        )
        == 1
    )


def test_utf8_bom_and_xlsx(session, community):
    rows = _good_rows(community)
    report = import_needs(
        session, _csv(rows[:1], encoding="utf-8-sig"), filename="a.csv", viewer=ADMIN
    )
    assert report.inserted == 1
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER_ZH)
    for r in rows[1:]:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    report = import_needs(session, buf.getvalue(), filename="b.xlsx", viewer=ADMIN)
    assert report.inserted == 2
    assert _count(session) == 3


def test_reimport_adds_nothing(session, community):
    data = _csv(_good_rows(community))
    import_needs(session, data, filename="n.csv", viewer=ADMIN)
    again = import_needs(session, data, filename="n.csv", viewer=ADMIN)
    assert (again.inserted, again.existing) == (0, 3)
    assert _count(session) == 3


def test_gcj02_input_is_converted(session, community):
    x, y = community.centre(community.grid_codes[1])
    gx, gy = wgs84_to_gcj02(x, y)
    rows = [["G-1", "2025-03-01", gx, gy, "consultation", "", "", "", "", "", "", "", ""]]
    import_needs(session, _csv(rows), filename="g.csv", crs="gcj02", viewer=ADMIN)
    need = session.scalars(select(Need)).one()
    assert need.lon == pytest.approx(x, abs=1e-6) and need.lat == pytest.approx(y, abs=1e-6)
    assert need.grid_code == community.grid_codes[1]


BAD_CASES = [
    # (row overrides by column index, field named in the report)
    ({2: ""}, "lon"),
    ({3: None}, "lat"),
    ({2: "东经113"}, "lon"),
    ({3: "95.5"}, "lat"),
    ({2: 22.6, 3: 113.08}, "lon/lat"),
    ({1: "2025-02-30"}, "reported_at"),
    ({1: ""}, "reported_at"),
    ({7: "已办结", 8: "已解决", 9: "2025-02-01"}, "closed_at"),
    ({4: "打官司"}, "category"),
    ({7: "挂起"}, "status"),
]


@pytest.mark.parametrize(("overrides", "field"), BAD_CASES)
def test_each_bad_row_stores_nothing_and_is_named(session, community, overrides, field):
    rows = _good_rows(community)
    bad = list(rows[1])
    for i, v in overrides.items():
        bad[i] = v
    rows[1] = bad
    with pytest.raises(ImportValidationError) as info:
        import_needs(session, _csv(rows), filename="bad.csv", lang="en", viewer=ADMIN)
    errors = info.value.errors
    assert [(e.row, e.record_id, e.field) for e in errors] == [(3, "N-2", field)]
    assert _count(session) == 0
    line = format_errors(errors, "en")[0]
    assert line.startswith("row 3 (id N-2): field") and "expected" in line
    assert "第 3 行" in format_errors(errors, "zh")[0]


def test_duplicate_id_in_file(session, community):
    rows = _good_rows(community)
    rows[2][0] = "N-1"
    with pytest.raises(ImportValidationError) as info:
        import_needs(session, _csv(rows), filename="dup.csv", lang="en", viewer=ADMIN)
    (err,) = info.value.errors
    assert (err.row, err.field) == (4, "id") and "row 2" in err.expected
    assert _count(session) == 0


def test_skip_invalid_writes_errors_out(session, community, tmp_path):
    rows = _good_rows(community)
    rows[0][4] = "打官司"
    rows[2][1] = "2025-13-01"
    out = tmp_path / "errors.csv"
    report = import_needs(
        session,
        _csv(rows),
        filename="m.csv",
        skip_invalid=True,
        errors_out=out,
        lang="zh",
        viewer=ADMIN,
    )
    assert report.inserted == 1 and len(report.invalid) == 2
    assert [n.external_id for n in session.scalars(select(Need))] == ["N-2"]
    written = pd.read_csv(out, dtype=str, encoding="utf-8-sig")
    assert list(written.columns) == [*HEADER_ZH, "error"]
    assert list(written["编号"]) == ["N-1", "N-3"]
    assert "类别" in written["error"].iloc[0] or "category" in written["error"].iloc[0]


def test_missing_required_column(session, community):
    with pytest.raises(InvalidInputError, match="lat"):
        import_needs(
            session,
            b"id,reported_at,lon,category\nA,2025-01-01,113.0,consultation\n",
            filename="x.csv",
            lang="en",
            viewer=ADMIN,
        )


def test_snapped_and_outside(session, community):
    west = 113.08 - 0.0001  # ≈10 m west of the block
    rows = [
        ["S-1", "2025-03-01", west, 22.605, "consultation", "", "", "", "", "", "", "", ""],
        ["O-1", "2025-03-01", 113.0, 22.5, "consultation", "", "", "", "", "", "", "", ""],
    ]
    import_needs(session, _csv(rows), filename="s.csv", viewer=ADMIN)
    got = {n.external_id: (n.grid_code, n.quality) for n in session.scalars(select(Need))}
    assert got["S-1"][1] == "snapped" and got["S-1"][0] is not None
    assert got["O-1"] == (None, "outside")


# --- grids -----------------------------------------------------------------------------------


def _grid_frame():
    return gpd.GeoDataFrame(
        {
            "网格编码": ["440703006199001", "440703006199002"],
            "网格名称": ["新社区第1网格", "新社区第2网格"],
            "社区": ["新社区", "新社区"],
            "街道": ["环市街道", "环市街道"],
            "人口": ["1200", "900"],
        },
        geometry=[box(113.10, 22.60, 113.11, 22.61), box(113.11, 22.60, 113.12, 22.61)],
        crs="EPSG:4326",
    )


@pytest.mark.parametrize(
    ("ext", "driver"),
    [(".geojson", "GeoJSON"), (".gpkg", "GPKG"), (".shp", "ESRI Shapefile"), (".kml", "KML")],
)
def test_import_grids_formats_and_creates_areas(session, tmp_path, ext, driver):
    path = tmp_path / f"grids{ext}"
    frame = _grid_frame()
    if driver == "ESRI Shapefile":
        frame = frame.rename(
            columns={
                "网格编码": "code",
                "网格名称": "name",
                "社区": "community",
                "街道": "street",
                "人口": "population",
            }
        )
    frame.to_file(path, driver=driver, engine="pyogrio")
    report = import_grids(session, path, viewer=ADMIN)
    assert report.inserted == 2
    assert "440703006199" in report.created_areas
    grid = session.scalars(select(Grid).where(Grid.code == "440703006199001")).one()
    assert grid.community_code == "440703006199"
    if driver != "KML":
        assert grid.population == 1200
    assert session.get(Area, "440703006199").name == "新社区"
    again = import_grids(session, path, viewer=ADMIN)
    assert (again.inserted, again.existing) == (0, 2)


def test_import_grids_bad_geometry_stores_nothing(session, tmp_path):
    frame = _grid_frame()
    from shapely.geometry import Point, Polygon

    frame.loc[1, "geometry"] = Polygon(
        [(113.11, 22.60), (113.12, 22.61), (113.12, 22.60), (113.11, 22.61)]
    )
    frame.loc[len(frame)] = ["440703006199003", "x", "新社区", "环市街道", "1", Point(113.1, 22.6)]
    path = tmp_path / "bad.geojson"
    frame.to_file(path, driver="GeoJSON", engine="pyogrio")
    with pytest.raises(ImportValidationError) as info:
        import_grids(session, path, lang="en", viewer=ADMIN)
    fields = [(e.row, e.field) for e in info.value.errors]
    assert fields == [(3, "geometry"), (4, "geometry")]
    assert "Self-intersection" in info.value.errors[0].expected
    assert session.scalar(select(func.count()).select_from(Grid)) == 0


def test_boundary_change_relocates_needs(session, community, tmp_path):
    x, y = community.centre(community.grid_codes[0])
    import_needs(
        session,
        _csv([["R-1", "2025-03-01", x, y, "consultation", "", "", "", "", "", "", "", ""]]),
        filename="r.csv",
        viewer=ADMIN,
    )
    # Move grid 2 over the need's location: the smallest-code rule keeps it in grid 1 while
    # both cover it; shrink grid 1 away instead.
    g1 = community.grid_codes[0]
    frame = gpd.GeoDataFrame(
        {"code": [g1], "community": [community.code]},
        geometry=[box(x + 0.001, y - 0.001, x + 0.0015, y + 0.001)],
        crs="EPSG:4326",
    )
    path = tmp_path / "moved.geojson"
    frame.to_file(path, driver="GeoJSON", engine="pyogrio")
    report = import_grids(session, path, viewer=ADMIN)
    assert report.updated == 1
    need = session.scalars(select(Need)).one()
    session.refresh(need)
    assert need.grid_code != g1
    change = session.scalars(select(GeolocationChange)).one()
    assert change.old_grid_code == g1 and change.new_grid_code == need.grid_code


# --- workers ---------------------------------------------------------------------------------


def test_import_workers_keeps_history(session, community):
    g1 = community.grid_codes[0]
    data = (
        pd.DataFrame(
            {
                "编号": ["A-NEW"],
                "姓名": ["赵六"],
                "角色": ["网格助理员"],
                "电话": ["13700000000"],
                "网格编码": [g1],
                "起始日期": ["2025-06-01"],
            }
        )
        .to_csv(index=False)
        .encode("gb18030")
    )
    report = import_workers(session, data, filename="w.csv", viewer=ADMIN)
    assert report.inserted == 1
    rows = session.execute(
        select(Worker.code, Assignment.valid_from, Assignment.valid_to)
        .join(Assignment, Assignment.worker_id == Worker.id)
        .join(Grid, Grid.id == Assignment.grid_id)
        .where(Grid.code == g1, Assignment.role == "grid_assistant")
        .order_by(Assignment.valid_from)
    ).all()
    assert [(r[0], r[2] is None) for r in rows] == [
        (community.workers["grid_assistant"][0].code, False),
        ("A-NEW", True),
    ]
    assert rows[0][2].isoformat() == "2025-06-01"


def test_import_workers_reads_open_assignments_once(session, community):
    """Later rows see what earlier rows of the same file assigned and closed, though the open
    assignments are read in one query for all the grids of the file."""
    g1, g2 = community.grid_codes[:2]
    data = (
        "code,name,role,grids,valid_from\n"
        f"A-1,甲,grid_assistant,{g1};{g2},2025-06-01\n"
        f"A-2,乙,grid_assistant,{g2} {g2},2025-07-01\n"
        f"V-1,丙,volunteer,{g1},2025-07-01\n"
    ).encode()
    issued: list[str] = []

    def spy(conn, cursor, statement, *args):
        issued.append(statement)

    bind = session.connection()
    event.listen(bind, "before_cursor_execute", spy)
    try:
        report = import_workers(session, data, filename="w.csv", viewer=ADMIN)
    finally:
        event.remove(bind, "before_cursor_execute", spy)
    assert report.inserted == 3
    reads = [s for s in issued if s.lstrip().upper().startswith("SELECT") and "assignments" in s]
    assert len(reads) == 1
    rows = session.execute(
        select(Grid.code, Worker.code, Assignment.role, Assignment.valid_from, Assignment.valid_to)
        .join(Assignment, Assignment.worker_id == Worker.id)
        .join(Grid, Grid.id == Assignment.grid_id)
        .where(Worker.code.in_(["A-1", "A-2", "V-1"]))
        .order_by(Grid.code, Assignment.valid_from, Worker.code)
    ).all()
    assert [(g, w, str(v), None if e is None else str(e)) for g, w, _, v, e in rows] == [
        (g1, "A-1", "2025-06-01", None),
        (g1, "V-1", "2025-07-01", None),
        (g2, "A-1", "2025-06-01", "2025-07-01"),
        (g2, "A-2", "2025-07-01", None),
    ]
    for grid in (g1, g2):
        holders = session.scalars(
            select(Worker.code)
            .join(Assignment, Assignment.worker_id == Worker.id)
            .join(Grid, Grid.id == Assignment.grid_id)
            .where(Grid.code == grid, Assignment.role == "grid_assistant", Assignment.is_open())
        ).all()
        assert holders == ["A-1" if grid == g1 else "A-2"]


def test_import_workers_unknown_grid_and_role(session, community):
    data = b"code,name,role,grids\nW1,A,grid_assistant,999\nW2,B,judge,\n"
    with pytest.raises(ImportValidationError) as info:
        import_workers(session, data, filename="w.csv", lang="en", viewer=ADMIN)
    assert [(e.row, e.field) for e in info.value.errors] == [(2, "grids"), (3, "role")]
    assert (
        session.scalar(
            select(func.count()).select_from(Worker).where(Worker.code.in_(["W1", "W2"]))
        )
        == 0
    )


def test_a_large_import_refreshes_planner_statistics_and_the_summary(
    session, community, monkeypatch
):
    issued: list[str] = []

    def spy(conn, cursor, statement, *args):
        issued.append(statement)

    bind = session.connection()
    event.listen(bind, "before_cursor_execute", spy)
    try:
        monkeypatch.setattr(needs_import, "ANALYZE_AFTER_ROWS", 10)
        import_needs(session, _csv(_good_rows(community)), filename="n.csv", viewer=ADMIN)
        # 3 rows: not worth it (the summaries' own, after their rebuild, are need_stats')
        assert not [s for s in issued if s.startswith('ANALYZE "needs"')]
        monkeypatch.setattr(needs_import, "ANALYZE_AFTER_ROWS", 3)
        rows = [[f"M-{r[0]}", *r[1:]] for r in _good_rows(community)]
        import_needs(session, _csv(rows), filename="m.csv", viewer=ADMIN)
        assert [s for s in issued if s.startswith('ANALYZE "needs"')] == ['ANALYZE "needs"']
    finally:
        event.remove(bind, "before_cursor_execute", spy)
    if db.is_sqlite(bind):
        assert session.execute(text("SELECT 1 FROM sqlite_stat1 WHERE tbl = 'needs'")).first()
    # the closed ones (N-2 and M-N-2) are summed, nothing is left marked
    assert session.scalar(select(func.sum(NeedMonthStat.needs))) == 2
    assert session.scalar(select(func.count()).select_from(NeedStatsDirty)) == 0
