"""Reading and writing CSV/XLSX tables and GeoJSON/Shapefile/GeoPackage/KML vector files."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely

from geodata import crs
from geodata.errors import FileReadError, FileWriteError, GeodataError, UnsupportedFormatError
from geodata.io import frame_to_bytes, read_table, read_vector, write_frame

DATA = Path(crs.__file__).parent / "data"
GRID_A = shapely.Polygon([(113.08, 22.60), (113.09, 22.60), (113.09, 22.61), (113.08, 22.61)])
GRID_B = shapely.Polygon([(113.09, 22.60), (113.10, 22.60), (113.10, 22.61), (113.09, 22.61)])


class Upload(io.BytesIO):
    """What Streamlit's UploadedFile looks like to a reader: BytesIO with a name."""

    def __init__(self, data: bytes, name: str) -> None:
        super().__init__(data)
        self.name = name


@pytest.fixture()
def grids() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": ["440703006106001", "440703006106002"], "name": ["育德一格", "育德二格"]},
        geometry=[GRID_A, GRID_B],
        crs="EPSG:4326",
    )


# --- tables -------------------------------------------------------------------------------

CSV_TEXT = " 编号 ,姓名,经度,纬度,备注\nN1,张三,113.088217,22.608589,\nN2,,113.09, 22.61 ,NA\n"


def _assert_typed_text(frame: pd.DataFrame) -> None:
    assert list(frame.columns) == ["编号", "姓名", "经度", "纬度", "备注"]
    assert (frame.dtypes == np.dtype(object)).all()
    assert frame.to_dict("records") == [
        {"编号": "N1", "姓名": "张三", "经度": "113.088217", "纬度": "22.608589", "备注": None},
        {"编号": "N2", "姓名": None, "经度": "113.09", "纬度": " 22.61 ", "备注": "NA"},
    ]


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig", "utf-8"])
def test_read_csv_in_the_encodings_excel_writes(tmp_path, encoding):
    path = tmp_path / "needs.csv"
    path.write_bytes(CSV_TEXT.encode(encoding))
    _assert_typed_text(read_table(path))


def test_read_csv_from_bytes_and_uploads():
    data = CSV_TEXT.encode("gbk")
    _assert_typed_text(read_table(data, filename="needs.csv"))
    _assert_typed_text(read_table(Upload(data, "上传.CSV")))


def test_csv_rows_keep_their_position_and_trailing_blank_rows_go():
    text = "id,name\n1,a\n,\n\n3,c\n,\n\n"
    frame = read_table(text.encode(), filename="t.csv")
    # row i is spreadsheet row i + 2, so the blank rows in the middle stay (as all None)
    assert frame["id"].tolist() == ["1", None, None, "3"]


def test_read_xlsx_renders_cells_as_excel_shows_them(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([" 编号", "日期", "时间", "户数", "电话", "面积", "有效", None])
    sheet.append(
        ["N1", dt.date(2024, 5, 1), dt.datetime(2024, 5, 1, 13, 30), 12, 13800138000, 1.5, True]
    )
    sheet.append(["N2", dt.datetime(2024, 6, 2), None, 12.0, None, None, False])
    sheet.append([None] * 7)  # Excel often keeps formatted empty rows at the end
    path = tmp_path / "needs.xlsx"
    book.save(path)

    frame = read_table(path)
    assert list(frame.columns) == ["编号", "日期", "时间", "户数", "电话", "面积", "有效"]
    assert frame.to_dict("records") == [
        {
            "编号": "N1",
            "日期": "2024-05-01",
            "时间": "2024-05-01 13:30:00",
            "户数": "12",
            "电话": "13800138000",
            "面积": "1.5",
            "有效": "TRUE",
        },
        {
            "编号": "N2",
            "日期": "2024-06-02",
            "时间": None,
            "户数": "12",
            "电话": None,
            "面积": None,
            "有效": "FALSE",
        },
    ]
    assert read_table(path.read_bytes(), filename="x.xlsx").equals(frame)


def test_read_xlsx_other_sheet(tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["a"])
    second = book.create_sheet("名单")
    second.append(["code"])
    second.append(["G1"])
    path = tmp_path / "two.xlsx"
    book.save(path)
    assert read_table(path, sheet="名单")["code"].tolist() == ["G1"]
    with pytest.raises(FileReadError, match="nope"):
        read_table(path, sheet="nope")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\r\n\r\n", "empty"),
        (b",,\n1,2,3\n", "no header row"),
        ("编号,编号 \n1,2\n".encode(), "repeated in the header: 编号"),
        (b"a,b\n1,2,3\n", "row 2 has a value in column C, beyond the 2 columns"),
        (b"a,b\n\xff\xfe\x80,1\n", "neither UTF-8 nor GBK"),
    ],
)
def test_unreadable_csv_says_which_file_and_why(content, message):
    with pytest.raises(FileReadError, match=message) as info:
        read_table(content, filename="坏.csv")
    assert "'坏.csv'" in str(info.value)
    assert isinstance(info.value, ValueError) and isinstance(info.value, GeodataError)


def test_unreadable_xlsx_and_missing_file(tmp_path):
    with pytest.raises(FileReadError, match="XLSX"):
        read_table(b"not a workbook", filename="x.xlsx")
    empty = tmp_path / "empty.xlsx"
    openpyxl.Workbook().save(empty)
    with pytest.raises(FileReadError, match="no header row"):
        read_table(empty)
    with pytest.raises(FileReadError, match="missing.csv"):
        read_table(tmp_path / "missing.csv")


@pytest.mark.parametrize("name", ["needs.xls", "needs.txt", "needs"])
def test_unsupported_table_format_names_it_and_the_supported_ones(name):
    with pytest.raises(UnsupportedFormatError) as info:
        read_table(b"a\n1\n", filename=name)
    message = str(info.value)
    assert Path(name).suffix in message or "no extension" in message
    assert ".csv" in message and ".xlsx" in message


def test_bytes_without_a_name_cannot_be_read():
    with pytest.raises(UnsupportedFormatError, match="filename="):
        read_table(b"a\n1\n")


# --- vector files -------------------------------------------------------------------------


def _assert_grids(frame: gpd.GeoDataFrame, *, tolerance: float = 1e-9) -> None:
    assert frame.crs.to_epsg() == 4326
    assert frame["name"].tolist() == ["育德一格", "育德二格"]
    # normalize(): shapefile writers reorient rings
    expected = gpd.GeoSeries([GRID_A, GRID_B], crs="EPSG:4326").normalize()
    assert frame.geometry.normalize().geom_equals_exact(expected, tolerance=tolerance).all()


def test_read_geojson_written_by_hand(tmp_path):
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": "440703006106001", "name": "育德一格"},
                "geometry": shapely.geometry.mapping(GRID_A),
            },
            {
                "type": "Feature",
                "properties": {"code": "440703006106002", "name": "育德二格"},
                "geometry": shapely.geometry.mapping(GRID_B),
            },
        ],
    }
    path = tmp_path / "grids.geojson"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    _assert_grids(read_vector(path))
    _assert_grids(read_vector(Upload(path.read_bytes(), "grids.json")))


def test_geojson_in_web_mercator_is_transformed(tmp_path, grids):
    path = tmp_path / "mercator.geojson"
    grids.to_crs("EPSG:3857").to_file(path)
    assert "3857" in path.read_text(encoding="utf-8")
    _assert_grids(read_vector(path))


def test_shapefile_with_prj_in_gauss_kruger(tmp_path, grids):
    folder = tmp_path / "shp"
    folder.mkdir()
    grids.to_crs("EPSG:4547").to_file(folder / "grids.shp", encoding="utf-8")
    frame = read_vector(folder / "grids.shp")
    _assert_grids(frame)


def test_zipped_shapefile_from_an_upload(tmp_path, grids):
    folder = tmp_path / "shp"
    folder.mkdir()
    grids.to_file(folder / "grids.shp", encoding="utf-8")
    archive = tmp_path / "grids.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in folder.iterdir():
            zf.write(part, f"exported/{part.name}")  # zips made in Explorer keep the folder
    _assert_grids(read_vector(archive))
    _assert_grids(read_vector(archive.read_bytes(), filename="网格.zip", layer="grids"))
    with pytest.raises(FileReadError, match="no 'roads'"):
        read_vector(archive, layer="roads")


def test_shapefile_parts_missing_or_no_shp_in_zip(tmp_path):
    with pytest.raises(FileReadError, match=r"\.shx and \.dbf.*\.zip"):
        read_vector(b"\x00" * 100, filename="grids.shp")
    archive = tmp_path / "empty.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("readme.txt", "nothing")
    with pytest.raises(FileReadError, match="no .shp"):
        read_vector(archive)
    with pytest.raises(FileReadError, match="not a zip"):
        read_vector(b"plain bytes", filename="x.zip")


def test_geopackage_first_layer_or_named(tmp_path, grids):
    path = tmp_path / "grids.gpkg"
    grids.to_file(path, layer="grids")
    grids.iloc[:1].to_crs("EPSG:32649").to_file(path, layer="one")
    _assert_grids(read_vector(path))
    one = read_vector(path, layer="one")
    assert one.crs.to_epsg() == 4326 and len(one) == 1
    assert one.geometry.iloc[0].equals_exact(GRID_A, tolerance=1e-9)
    with pytest.raises(FileReadError, match="layers: grids, one"):
        read_vector(path, layer="roads")


KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2">
<Document><name>育德社区网格</name>
  <Folder><name>网格</name>
    <Placemark><name>育德一格</name>
      <ExtendedData><Data name="code"><value>440703006106001</value></Data></ExtendedData>
      <Polygon><outerBoundaryIs><LinearRing><coordinates>
        113.08,22.60,0 113.09,22.60,0 113.09,22.61,0 113.08,22.61,0 113.08,22.60,0
      </coordinates></LinearRing></outerBoundaryIs></Polygon>
    </Placemark>
    <Placemark><name>育德二格</name>
      <ExtendedData><Data name="code"><value>440703006106002</value></Data></ExtendedData>
      <MultiGeometry><Polygon><outerBoundaryIs><LinearRing><coordinates>
        113.09,22.60 113.10,22.60 113.10,22.61 113.09,22.61 113.09,22.60
      </coordinates></LinearRing></outerBoundaryIs></Polygon></MultiGeometry>
    </Placemark>
  </Folder>
  <Folder><name>服务点</name>
    <Placemark><name>法律服务室</name><Point><coordinates>113.085,22.605,0</coordinates></Point>
    </Placemark>
  </Folder>
</Document>
</kml>
"""


def test_kml_with_folders_extended_data_and_multigeometry(tmp_path):
    path = tmp_path / "yude.kml"
    path.write_text(KML, encoding="utf-8")
    frame = read_vector(path)
    assert frame.crs.to_epsg() == 4326
    assert frame["kml_layer"].tolist() == ["网格", "网格", "服务点"]
    assert frame["Name"].tolist() == ["育德一格", "育德二格", "法律服务室"]
    assert frame["code"].tolist()[:2] == ["440703006106001", "440703006106002"]
    assert not frame.geometry.has_z.any()
    assert frame.geometry.iloc[0].equals_exact(GRID_A, tolerance=1e-9)
    assert shapely.equals(frame.geometry.iloc[1], GRID_B)  # MultiPolygon of one part
    assert frame.geometry.iloc[2].equals(shapely.Point(113.085, 22.605))
    assert "tessellate" not in frame.columns  # LIBKML style fields are dropped

    points = read_vector(path.read_bytes(), filename="yude.kml", layer="服务点")
    assert points["Name"].tolist() == ["法律服务室"]


def test_declared_gcj02_input_is_shifted_to_wgs84():
    path = DATA / "huanshi_440703006_community_points_gcj02_vonng_adcode.geojson"
    frame = read_vector(path, crs="GCJ-02")
    expected = crs.gcj02_to_wgs84(frame["lon_gcj02"].to_numpy(), frame["lat_gcj02"].to_numpy())
    np.testing.assert_allclose(frame.geometry.x, expected[0], atol=1e-12)
    np.testing.assert_allclose(frame.geometry.y, expected[1], atol=1e-12)
    assert frame.crs.to_epsg() == 4326
    as_labelled = read_vector(path)  # the file says WGS84, which is what Amap data claims
    assert (as_labelled.geometry.x != frame.geometry.x).all()


def test_bd09_and_epsg_declarations(tmp_path, grids):
    baidu = grids.set_geometry(crs.geometry_from_wgs84(grids.geometry, "bd09"), crs="EPSG:4326")
    path = tmp_path / "baidu.geojson"
    baidu.to_file(path)
    _assert_grids(read_vector(path, crs="bd09"))

    folder = tmp_path / "noprj"
    folder.mkdir()
    grids.to_crs("EPSG:4547").to_file(folder / "grids.shp", encoding="utf-8")
    (folder / "grids.prj").unlink()
    with pytest.raises(
        FileReadError,
        match=r"feature 1: coordinates look projected \(e.g. x=405401, y=2500533\): pass --crs EPSG:n",
    ):
        read_vector(folder / "grids.shp")
    _assert_grids(read_vector(folder / "grids.shp", crs="EPSG:4547"))


def test_bad_vector_input(tmp_path):
    with pytest.raises(UnsupportedFormatError, match=r"'\.dwg'.*\.geojson.*\.kml"):
        read_vector(b"", filename="plan.dwg")
    with pytest.raises(FileReadError, match="broken.geojson"):
        read_vector(b"{not json", filename="broken.geojson")
    with pytest.raises(FileReadError, match="no such file"):
        read_vector(tmp_path / "missing.gpkg")
    with pytest.raises(crs.CRSError, match="'tokyo'"):
        read_vector(DATA / "pengjiang_440703_fence_amap_vonng_adcode.geojson", crs="tokyo")


# --- writing ------------------------------------------------------------------------------


@pytest.mark.parametrize("ext", [".geojson", ".gpkg"])
def test_spatial_round_trip(tmp_path, grids, ext):
    path = write_frame(grids, tmp_path / f"out{ext}")
    back = read_vector(path)
    _assert_grids(back)
    assert back["code"].tolist() == grids["code"].tolist()
    assert read_vector(frame_to_bytes(grids, ext), filename=f"x{ext}")["name"].tolist() == [
        "育德一格",
        "育德二格",
    ]


@pytest.mark.parametrize("ext", [".csv", ".xlsx"])
def test_table_round_trip_with_wkt_geometry(tmp_path, grids, ext):
    frame = grids.assign(households=[120, None], reported=pd.Timestamp("2024-05-01"))
    path = write_frame(frame, tmp_path / f"网格{ext}")
    back = read_table(path)
    assert list(back.columns) == ["code", "name", "geometry", "households", "reported"]
    assert back["name"].tolist() == ["育德一格", "育德二格"]
    assert back["code"].tolist() == ["440703006106001", "440703006106002"]
    assert back["households"].tolist()[1] is None
    geoms = shapely.from_wkt(back["geometry"].to_numpy(dtype=object))
    assert shapely.equals_exact(geoms, [GRID_A, GRID_B], tolerance=1e-8).all()


def test_csv_has_a_bom_for_excel(grids):
    data = frame_to_bytes(grids, "csv")
    assert data.startswith(b"\xef\xbb\xbf")
    assert "育德一格" in data.decode("utf-8-sig")
    assert frame_to_bytes(pd.DataFrame(grids.drop(columns="geometry")), "out.csv").startswith(
        b"\xef\xbb\xbf"
    )


def test_xlsx_refuses_cells_excel_cannot_hold(grids):
    circle = shapely.Point(113.08, 22.6).buffer(0.01, quad_segs=2000)  # 8,000+ vertices
    big = grids.iloc[:1].set_geometry([circle])
    with pytest.raises(FileWriteError, match="32767.*gpkg"):
        frame_to_bytes(big, "xlsx")
    text = frame_to_bytes(big, "csv").decode("utf-8-sig")
    wkt = pd.read_csv(io.StringIO(text), dtype=str)["geometry"].iloc[0]
    assert shapely.from_wkt(wkt).equals_exact(circle, tolerance=1e-8)
    # ... which other GIS tools read; read_table itself keeps to Excel's cell size.
    with pytest.raises(FileReadError, match=r"row 2, column C \('geometry'\).*32767"):
        read_table(text.encode(), filename="b.csv")


def test_xlsx_writes_timezone_aware_times_as_text():
    frame = pd.DataFrame({"at": pd.to_datetime(["2024-05-01 08:00"]).tz_localize("Asia/Shanghai")})
    back = read_table(frame_to_bytes(frame, "xlsx"), filename="t.xlsx")
    assert back["at"].tolist() == ["2024-05-01T08:00:00+08:00"]


@pytest.mark.parametrize("fmt", ["shp", ".kml", "out.parquet", ""])
def test_unsupported_output_format(tmp_path, grids, fmt):
    with pytest.raises(UnsupportedFormatError) as info:
        frame_to_bytes(grids, fmt)
    assert all(ext in str(info.value) for ext in (".geojson", ".gpkg", ".csv", ".xlsx"))
    with pytest.raises(UnsupportedFormatError, match="'.shp'"):
        write_frame(grids, tmp_path / "out.shp")


def test_spatial_formats_need_geometry(grids):
    with pytest.raises(UnsupportedFormatError, match=r"\.gpkg needs a GeoDataFrame"):
        frame_to_bytes(pd.DataFrame({"a": [1]}), "gpkg")


# --- issue 8: formulas neutralised on the way out, limits and formulas on the way in ---------

_PAYLOADS = ["=1+2", "+1", "-1+2", "@SUM(A1)", "\t=1", "\r=1", " =1", "　=1"]


def _live(text: str) -> bool:
    return text.startswith(("=", "+", "-", "@", "\t", "\r")) or text.lstrip().startswith(
        ("=", "+", "-", "@")
    )


def test_writer_neutralises_formulas_and_keeps_types():
    frame = pd.DataFrame(
        {
            "text": _PAYLOADS,
            "n": [-1.5] * len(_PAYLOADS),
            "day": pd.to_datetime(["2025-03-01"] * len(_PAYLOADS)),
            "safe": ["a-b"] * len(_PAYLOADS),
        }
    ).rename(columns={"safe": "=header"})
    rows = list(csv.reader(io.StringIO(frame_to_bytes(frame, "csv").decode("utf-8-sig"))))
    assert rows[0] == ["text", "n", "day", "'=header"]
    assert [r[0] for r in rows[1:]] == ["'" + p for p in _PAYLOADS]
    assert {r[1] for r in rows[1:]} == {"-1.5"} and {r[3] for r in rows[1:]} == {"a-b"}
    sheet = openpyxl.load_workbook(io.BytesIO(frame_to_bytes(frame, "xlsx"))).active
    cells = [c for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert not [c.value for c in cells if isinstance(c.value, str) and _live(c.value)]
    assert sheet["A2"].value == "'=1+2" and sheet["B2"].value == -1.5
    assert sheet["C2"].value == dt.datetime(2025, 3, 1)
    # the reader gives back what the writer wrote, apostrophe included: nothing is lost
    assert read_table(frame_to_bytes(frame, "csv"), filename="a.csv")["text"].iloc[0] == "'=1+2"


def test_geojson_and_gpkg_keep_text_as_given(grids):
    named = grids.assign(name=["=1+2", "@x"])
    back = read_vector(frame_to_bytes(named, "geojson"), filename="g.geojson")
    assert list(back["name"]) == ["=1+2", "@x"]


def _xlsx(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _with_cached_value(data: bytes, cell: str, value: str) -> bytes:
    """Add the result Excel saves beside a formula (openpyxl writes none)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for part in source.namelist():
            content = source.read(part)
            if part == "xl/worksheets/sheet1.xml":
                text = content.decode()
                start = text.index(f'r="{cell}"')
                end = text.index("</f>", start) + len("</f>")
                content = (text[:end] + f"<v>{value}</v>" + text[end:]).encode()
            target.writestr(part, content)
    return out.getvalue()


def test_xlsx_formula_gives_its_saved_result_or_an_error_naming_the_cell():
    data = _xlsx([["id", "lon"], ["A", 113.08], ["B", "=B2+0.01"]])
    with pytest.raises(FileReadError, match=r"cell B3 \(column B \('lon'\)\) holds a formula") as e:
        read_table(data, filename="f.xlsx")
    assert e.value.key == "file_formula_no_value" and e.value.params["row"] == 3
    back = read_table(_with_cached_value(data, "B3", "113.09"), filename="f.xlsx")
    assert list(back["lon"]) == ["113.08", "113.09"]


def test_table_limits_name_the_row_and_column(monkeypatch):
    wide = ",".join(f"c{i}" for i in range(201)).encode()
    with pytest.raises(FileReadError, match="row 1 has 201 columns, more than the 200") as e:
        read_table(wide, filename="w.csv")
    assert e.value.key == "file_too_many_columns"
    long = b"a,b\n1,2\n3," + b"x" * 40_000 + b"\n"
    with pytest.raises(FileReadError, match=r"row 3, column B \('b'\) holds 40000 characters"):
        read_table(long, filename="l.csv")
    huge = b'a,b\n1,2\n3,"' + b"x" * 300_000 + b'"\n'  # past the csv module's own limit
    with pytest.raises(FileReadError, match=r"row 3, column B \('b'\) holds >32767"):
        read_table(huge, filename="l.csv")
    with pytest.raises(FileReadError, match="row 2 holds a NUL"):
        read_table(b"a,b\n1,\x002\n", filename="n.csv")
    monkeypatch.setattr("geodata.io.limits.MAX_FILE_BYTES", 10)
    with pytest.raises(FileReadError, match="more than the 0 MB allowed") as e:
        read_table(b"a,b\n1,2\n3,4\n", filename="s.csv")
    assert e.value.key == "file_too_big"


def test_projected_or_unusable_coordinates_name_the_feature(grids):
    utm = grids.to_crs("EPSG:32649").set_crs("EPSG:4326", allow_override=True)
    mixed = pd.concat([grids.iloc[:1], utm.iloc[1:]])
    data = frame_to_bytes(gpd.GeoDataFrame(mixed, crs="EPSG:4326"), "geojson")
    with pytest.raises(FileReadError, match="feature 2: coordinates look projected") as e:
        read_vector(data, filename="m.geojson")
    assert e.value.key == "coords_projected" and e.value.params["feature"] == 2
    for bad in (np.inf, np.nan, 1e308):
        with pytest.raises(crs.CRSError, match="not usable numbers") as e:
            crs.check_coordinates([113.0, bad], [22.6, 22.6])
        assert e.value.params["position"] == 1
    crs.check_coordinates([500_000.0], [2_500_000.0], lonlat=False)
    with pytest.raises(crs.CRSError, match=r"look projected \(e.g. x=500000, y=2500000\)"):
        crs.check_coordinates([500_000.0], [2_500_000.0])
