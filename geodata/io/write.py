"""Writing frames: CSV, XLSX, GeoJSON and GeoPackage, by extension.

Spreadsheets written here are safe to open: text that Excel or LibreOffice would run as a
formula is neutralised, and geometry goes into tables as WKT.

Example
-------
>>> import pandas as pd
>>> frame_to_bytes(pd.DataFrame({"note": ["=1+1", "ok"]}), "csv").decode("utf-8-sig").split()
['note', "'=1+1", 'ok']
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.errors
import shapely

from geodata.errors import FileWriteError, UnsupportedFormatError
from geodata.io.limits import _XLSX_CELL_LIMIT
from geodata.io.sources import _PYOGRIO_ERRORS, _lookup

# Decimals kept when geometry is written as WKT: 1e-8 degree is about a millimetre.
_WKT_DECIMALS = 8


# Text starting with these is a formula to Excel/LibreOffice (OWASP, "CSV Injection"); a tab or
# carriage return first, or spaces before the sign, work too.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def write_frame(frame: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write a (Geo)DataFrame to ``path``, format from its extension; replaces the file.

    Parameters
    ----------
    frame : pandas.DataFrame or geopandas.GeoDataFrame
    path : str or path-like
        ``.geojson``/``.gpkg`` (GeoDataFrame only; the GeoPackage layer is named after the
        file), ``.csv`` (UTF-8 with BOM, so Excel shows Chinese) or ``.xlsx``; in the last two
        geometry columns are written as WKT.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    path = Path(path)
    data = frame_to_bytes(frame, path.suffix, layer=path.stem)
    path.write_bytes(data)
    return path


def frame_to_bytes(frame: pd.DataFrame, fmt: str, *, layer: str | None = None) -> bytes:
    """Serialise a (Geo)DataFrame, e.g. for a download button.

    Every CSV and XLSX file GridLaw writes comes from here. Text that a spreadsheet would run
    as a formula (starting with ``= + - @``, a tab or a carriage return, also after spaces) is
    written with a leading ``'`` (OWASP's rule against CSV injection), in cells and header;
    XLSX text cells are always strings, never formulas; numbers and dates keep their type.

    Parameters
    ----------
    frame : pandas.DataFrame or geopandas.GeoDataFrame
    fmt : str
        ``"geojson"``, ``".gpkg"``, ``"csv"``, ``"xlsx"`` or a file name with that extension.
    layer : str, optional
        GeoPackage layer name (default ``"data"``).

    Raises
    ------
    UnsupportedFormatError
        For another format, or a spatial format asked of a frame without geometry.
    FileWriteError
        If the frame cannot be written in that format.
    """
    text = fmt.strip().lower()
    ext = "." + text.rsplit(".", 1)[-1]  # "csv", ".csv" and "out.csv" all give ".csv"
    writer = _WRITERS[_lookup(ext, _WRITERS, "output")]
    return writer(frame, layer or "data")


def _require_geometry(frame: pd.DataFrame, ext: str) -> gpd.GeoDataFrame:
    if not isinstance(frame, gpd.GeoDataFrame) or frame._geometry_column_name not in frame:
        raise UnsupportedFormatError(
            f"{ext} needs a GeoDataFrame with geometry; write a plain table as .csv or .xlsx"
        )
    return frame


def _ogr_bytes(frame: pd.DataFrame, driver: str, layer: str, ext: str) -> bytes:
    frame = _require_geometry(frame, ext)
    buffer = io.BytesIO()
    try:
        pyogrio.write_dataframe(frame, buffer, driver=driver, layer=layer)
    except _PYOGRIO_ERRORS as exc:
        raise FileWriteError(f"cannot write {ext}: {exc}") from exc
    return buffer.getvalue()


def _geojson_bytes(frame: pd.DataFrame, layer: str) -> bytes:
    return _ogr_bytes(frame, "GeoJSON", layer, ".geojson")


def _gpkg_bytes(frame: pd.DataFrame, layer: str) -> bytes:
    return _ogr_bytes(frame, "GPKG", layer, ".gpkg")


def _with_wkt(frame: pd.DataFrame) -> pd.DataFrame:
    """A plain DataFrame with every geometry column as WKT text (None for missing)."""
    geometry_columns = [
        c for c in frame.columns if isinstance(frame[c].dtype, gpd.array.GeometryDtype)
    ]
    out = pd.DataFrame(frame)
    for column in geometry_columns:
        wkt = shapely.to_wkt(np.asarray(frame[column].array), rounding_precision=_WKT_DECIMALS)
        out[column] = pd.Series(wkt, index=frame.index, dtype=object)
    return out


def _csv_bytes(frame: pd.DataFrame, layer: str) -> bytes:
    # CRLF as Excel writes it; it also makes the csv module quote a cell holding a carriage
    # return, which unquoted would end the row and start a new one with the rest of the cell.
    table = _defused(_with_wkt(frame))
    return table.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def _xlsx_bytes(frame: pd.DataFrame, layer: str) -> bytes:
    table = _excel_safe(_defused(_with_wkt(frame)))
    buffer = io.BytesIO()
    table.to_excel(buffer, index=False, engine="openpyxl")
    return buffer.getvalue()


def _defused(table: pd.DataFrame) -> pd.DataFrame:
    """Text that a spreadsheet would run as a formula, prefixed with ``'`` (OWASP's rule).

    Only text cells and the header change: numbers stay numbers, dates stay dates. After
    this no text starts with ``=``, which is what makes openpyxl (and pandas) write a formula.
    """
    out = table.rename(columns=lambda c: _defused_text(c) if isinstance(c, str) else c)
    for position in range(out.shape[1]):
        values = out.iloc[:, position]
        if values.dtype == object or isinstance(values.dtype, pd.StringDtype):
            out.isetitem(position, values.map(_defused_text).astype(values.dtype))
    return out


def _defused_text(value: object) -> object:
    if isinstance(value, str) and (
        value.startswith(_FORMULA_START) or value.lstrip().startswith(_FORMULA_START)
    ):
        return "'" + value
    return value


def defused_text(value: object) -> object:
    """``value`` with a leading ``'`` when it is text a spreadsheet would run as a formula
    (OWASP's rule), for writers that fill cells one by one (the reports); anything else as is.

    >>> defused_text("=HYPERLINK(1)"), defused_text(" +1"), defused_text(3)
    ("'=HYPERLINK(1)", "' +1", 3)
    """
    return _defused_text(value)


def _excel_safe(table: pd.DataFrame) -> pd.DataFrame:
    """Excel has no time zones and caps text at 32,767 characters per cell."""
    out = table.copy()
    for column in out.columns:
        values = out[column]
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            out[column] = values.map(
                lambda v: None if pd.isna(v) else v.isoformat(), na_action=None
            )
            continue
        lengths = values.map(lambda v: len(v) if isinstance(v, str) else 0)
        if len(lengths) and lengths.max() > _XLSX_CELL_LIMIT:
            row = int(np.argmax(lengths.to_numpy()))
            raise FileWriteError(
                f"cannot write .xlsx: column {column!r} row {row + 2} holds "
                f"{lengths.max()} characters, Excel allows {_XLSX_CELL_LIMIT}; "
                "use .gpkg, .geojson or .csv"
            )
    return out


_WRITERS: dict[str, Callable[[pd.DataFrame, str], bytes]] = {
    ".geojson": _geojson_bytes,
    ".gpkg": _gpkg_bytes,
    ".csv": _csv_bytes,
    ".xlsx": _xlsx_bytes,
}
