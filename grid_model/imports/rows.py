"""Reading an input file into rows: the file drivers and the header vocabularies.

Headers are matched case-insensitively against the spellings of :data:`NEED_COLUMNS`,
:data:`GRID_COLUMNS` and :data:`WORKER_COLUMNS` (English and Chinese) and renamed to the
canonical names the validators expect (:func:`rename_columns`).

>>> rename_columns(pd.DataFrame(columns=["网格编码", "Name", "extra"]), GRID_COLUMNS).columns.tolist()
['code', 'name', 'extra']
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from geodata import io as gio
from geodata.errors import GeodataError
from grid_model import fields
from grid_model.cases.import_columns import LOOP_COLUMNS
from grid_model.errors import InvalidInputError
from grid_model.messages import geodata_message, t

# --- header vocabularies: canonical column ← accepted headers ------------------------------

NEED_COLUMNS = {
    "id": ["id", "编号", "需求编号", "案件编号"],
    "reported_at": ["reported_at", "登记日期", "日期", "登记时间"],
    "lon": ["lon", "lng", "longitude", "经度"],
    "lat": ["lat", "latitude", "纬度"],
    "category": ["category", "类别", "需求类别"],
    "dispute_type": ["dispute_type", "纠纷类型"],
    "description": ["description", "描述", "内容"],
    "status": ["status", "状态"],
    "outcome": ["outcome", "结果", "办理结果"],
    "closed_at": ["closed_at", "办结日期", "结案日期"],
    "due_date": ["due_date", "期限", "办理期限"],
    "assistant": ["assistant", "网格助理员", "助理员"],
    "resident_name": ["resident_name", "居民姓名", "姓名"],
    "resident_phone": ["resident_phone", "联系电话", "电话"],
    "source": ["source", "来源"],
    "under_correction": ["under_correction", "社区矫正对象"],
    **LOOP_COLUMNS,  # the closed loop's columns (assignee, accepted_at…): grid_model.cases
}
GRID_COLUMNS = {
    "code": ["code", "网格编码", "编码"],
    "name": ["name", "网格名称", "名称"],
    "community": ["community", "社区", "社区编码"],
    "community_name": ["community_name", "社区名称"],
    "street": ["street", "街道", "街道编码"],
    "street_name": ["street_name", "街道名称"],
    "district": ["district", "区", "区县", "区编码"],
    "district_name": ["district_name", "区名称", "区县名称"],
    "population": ["population", "人口"],
    "households": ["households", "户数"],
}
WORKER_COLUMNS = {
    "code": ["code", "编号", "工号"],
    "name": ["name", "姓名"],
    "role": ["role", "角色", "岗位"],
    "phone": ["phone", "电话", "联系电话"],
    "capacity": ["capacity", "工作量系数", "编制"],
    "active": ["active", "在岗"],
    "grids": ["grids", "grid", "网格", "网格编码"],
    "valid_from": ["valid_from", "起始日期", "生效日期"],
}

#: Fields the KML drivers give every placemark, typed into or not.
_KML_BUILT_IN = ("Name", "description")


def rename_columns(
    frame: pd.DataFrame, table: dict[str, list[str]], lang: str = "zh"
) -> pd.DataFrame:
    """Map English/Chinese headers (case-insensitive) onto canonical names.

    Raises
    ------
    InvalidInputError
        When two columns mean one field (``description`` and ``描述``): keeping either would
        drop the other's data without a word.
    """
    lookup: dict[str, str] = {}
    for canonical, aliases in table.items():
        for alias in aliases:
            lookup.setdefault(alias.strip().lower(), canonical)
    renamed: dict[str, str] = {}
    for col in frame.columns:
        canonical = lookup.get(str(col).strip().lower())
        if canonical is None:
            continue
        first = next((c for c, name in renamed.items() if name == canonical), None)
        if first is not None:
            raise InvalidInputError(
                t("columns_conflict", lang, first=first, second=col, field=canonical)
            )
        renamed[col] = canonical
    return frame.rename(columns=renamed)


def read_table(source, filename: str | None, lang: str) -> pd.DataFrame:
    """A CSV or XLSX file as text cells (:func:`geodata.io.read_table`)."""
    try:
        return gio.read_table(source, filename=filename)
    except GeodataError as exc:
        raise InvalidInputError(geodata_message(exc, lang)) from exc


def read_vector(
    source, filename: str | None, crs: str | None, lang: str = "zh"
) -> gpd.GeoDataFrame:
    """A vector file in EPSG:4326 (:func:`geodata.io.read_vector`), without the empty
    built-in fields of KML."""
    try:
        gdf = gio.read_vector(source, filename=filename, crs=crs)
    except GeodataError as exc:
        raise InvalidInputError(geodata_message(exc, lang)) from exc
    if "kml_layer" in gdf.columns:
        # Empty built-in fields are no input: they must not clash with a 网格名称 column.
        empty = [
            c for c in _KML_BUILT_IN if c in gdf.columns and fields.stripped(gdf[c]).isna().all()
        ]
        gdf = gdf.drop(columns=empty)
    return gdf


def source_name(source, filename: str | None) -> str | None:
    """The file's name as the audit log records it.

    >>> source_name(Path("a/needs.csv"), None), source_name(b"...", "upload.xlsx")
    ('a/needs.csv', 'upload.xlsx')
    """
    if filename:
        return filename
    return str(source) if isinstance(source, (str, Path)) else getattr(source, "name", None)
