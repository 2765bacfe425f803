"""Reading and writing tables and vector files: CSV, XLSX, GeoJSON, Shapefile, GeoPackage, KML.

Every reader takes a path, ``bytes`` or a binary file-like (e.g. a Streamlit ``UploadedFile``);
for the last two, ``filename=`` (or the object's ``name``) gives the extension that picks the
format. Vector data always comes back in EPSG:4326, converted with :mod:`geodata.crs`.

Formats are picked from extension tables (``_TABLE_READERS``, ``_VECTOR_READERS``,
``_WRITERS``), as in ``geopandas/io/file.py``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import math
import os
import tempfile
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.errors
import shapely

from geodata import crs as gcrs
from geodata.errors import FileReadError, FileWriteError, UnsupportedFormatError

__all__ = [
    "Source",
    "frame_to_bytes",
    "read_table",
    "read_vector",
    "write_frame",
]

Source = str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO

_PYOGRIO_ERRORS = (
    pyogrio.errors.DataSourceError,
    pyogrio.errors.DataLayerError,
    pyogrio.errors.FieldError,
    pyogrio.errors.FeatureError,
    pyogrio.errors.GeometryError,
    pyogrio.errors.CRSError,
)
# Style and timing fields LIBKML adds to every layer; not attributes anyone typed.
_KML_STYLE_FIELDS = ("altitudeMode", "tessellate", "extrude", "visibility", "drawOrder", "icon")
_KML_TIME_FIELDS = ("timestamp", "begin", "end")
# Decimals kept when geometry is written as WKT: 1e-8 degree is about a millimetre.
_WKT_DECIMALS = 8
# Excel refuses longer text in a cell.
_XLSX_CELL_LIMIT = 32767


# --- sources ------------------------------------------------------------------------------


def _source_name(source: Source, filename: str | os.PathLike[str] | None) -> str:
    if filename is not None:
        return os.fspath(filename)
    if isinstance(source, str | os.PathLike):
        return os.fspath(source)
    name = getattr(source, "name", None)  # open files and Streamlit's UploadedFile
    if isinstance(name, str) and name:
        return name
    raise UnsupportedFormatError(
        "cannot tell the format of data without a file name: pass filename= with an extension"
    )


def _extension(name: str, supported: dict[str, object], what: str) -> str:
    return _lookup(Path(name).suffix.lower(), supported, what, f" of {Path(name).name!r}")


def _lookup(ext: str, supported: dict[str, object], what: str, where: str = "") -> str:
    if ext not in supported:
        raise UnsupportedFormatError(
            f"{what} format {ext or '(no extension)'!r}{where} is not supported; "
            f"supported: {', '.join(supported)}"
        )
    return ext


def _read_bytes(source: Source, name: str) -> bytes:
    if isinstance(source, str | os.PathLike):
        try:
            return Path(source).read_bytes()
        except OSError as exc:
            raise FileReadError(f"cannot read {name!r}: {exc.strerror or exc}") from exc
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source)
    data = source.getvalue() if hasattr(source, "getvalue") else source.read()
    if not isinstance(data, bytes | bytearray):
        raise FileReadError(f"{name!r} was opened in text mode; open it in binary mode ('rb')")
    return bytes(data)


@contextlib.contextmanager
def _local_path(source: Source, name: str) -> Iterator[Path]:
    """A path GDAL can open: the source itself, or a temporary copy of uploaded bytes."""
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.exists():
            raise FileReadError(f"cannot read {name!r}: no such file")
        yield path
        return
    data = _read_bytes(source, name)
    with tempfile.TemporaryDirectory(prefix="gridlaw-") as tmp:
        path = Path(tmp) / Path(name).name
        path.write_bytes(data)
        yield path


# --- tables -------------------------------------------------------------------------------


def read_table(
    source: Source, *, filename: str | os.PathLike[str] | None = None, sheet: str | int = 0
) -> pd.DataFrame:
    """Read a CSV or XLSX table with every cell as text, exactly as the user typed it.

    Parameters
    ----------
    source : path, bytes or binary file-like
        The file, or its content (an upload).
    filename : str, optional
        Name whose extension (``.csv``, ``.xlsx``) gives the format when ``source`` is not a
        path; defaults to ``source.name`` where there is one.
    sheet : str or int, default 0
        XLSX sheet name or position.

    Returns
    -------
    pandas.DataFrame
        Object columns of ``str`` or ``None`` (empty cell); header names stripped. Row ``i``
        (0-based position) is spreadsheet row ``i + 2``; all-empty rows at the end are dropped.
        XLSX cells that Excel stores as numbers or dates are rendered as text: ``12.0`` →
        ``"12"``, a date → ``"2024-05-01"``, a date and time → ``"2024-05-01 13:30:00"``.

    Raises
    ------
    UnsupportedFormatError
        For an extension other than ``.csv``/``.xlsx``.
    FileReadError
        If the file is missing, empty, has no header row, repeats a column name, or cannot be
        decoded (CSV is tried as UTF-8, with or without BOM, then as GB18030/GBK).

    Examples
    --------
    >>> read_table("名称,经度\\n育德,113.088\\n".encode("gbk"), filename="a.csv").iloc[0, 1]
    '113.088'
    """
    name = _source_name(source, filename)
    reader = _TABLE_READERS[_extension(name, _TABLE_READERS, "table")]
    raw = reader(_read_bytes(source, name), name, sheet)
    return _header_and_rows(raw, name)


def _decode_csv(data: bytes, name: str) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        with contextlib.suppress(UnicodeDecodeError):
            return data.decode(encoding)
    raise FileReadError(
        f"cannot read {name!r}: its text is neither UTF-8 nor GBK/GB18030; save it as "
        "'CSV UTF-8' in Excel"
    )


def _read_csv(data: bytes, name: str, sheet: str | int) -> pd.DataFrame:
    text = _decode_csv(data, name)
    if not text.strip():
        raise FileReadError(f"cannot read {name!r}: the file is empty")
    try:
        return pd.read_csv(
            io.StringIO(text),
            header=None,
            dtype=object,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
        )
    except (pd.errors.ParserError, ValueError) as exc:
        raise FileReadError(f"cannot read {name!r} as CSV: {str(exc).strip()}") from exc


def _read_xlsx(data: bytes, name: str, sheet: str | int) -> pd.DataFrame:
    try:
        raw = pd.read_excel(
            io.BytesIO(data),
            sheet_name=sheet,
            header=None,
            dtype=object,
            engine="openpyxl",
            keep_default_na=False,
            na_filter=False,
        )
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise FileReadError(f"cannot read {name!r} as an XLSX workbook: {exc}") from exc
    except ValueError as exc:  # e.g. a missing sheet
        raise FileReadError(f"cannot read {name!r}: {exc}") from exc
    return raw.map(_cell_text)


def _cell_text(value: object) -> str | None:
    """Render an XLSX cell value as the text the user sees in Excel."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, bool | np.bool_):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _header_and_rows(raw: pd.DataFrame, name: str) -> pd.DataFrame:
    """First row → stripped header; cells → str or None; trailing empty rows dropped.

    Columns with neither a header nor any value (Excel's stray formatted cells) are dropped.
    """
    cells = raw.astype(object).map(_blank_to_none)
    if cells.empty or cells.iloc[0].isna().all():
        raise FileReadError(f"cannot read {name!r}: no header row (the first row is empty)")
    header = [None if h is None else h.strip() or None for h in cells.iloc[0]]
    body = cells.iloc[1:].set_axis(
        [h if h is not None else f"Unnamed: {i}" for i, h in enumerate(header)], axis=1
    )
    keep = [h is not None for h in header] | body.notna().any().to_numpy()
    body = body.loc[:, keep]
    _check_unique(list(body.columns), name)
    filled = np.flatnonzero(body.notna().any(axis=1).to_numpy())
    body = body.iloc[: filled[-1] + 1 if filled.size else 0].reset_index(drop=True)
    # pandas infers its str dtype (missing = NaN) from map(); the contract is str or None.
    return body.astype(object).where(body.notna(), None)


def _blank_to_none(value: object) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = value if isinstance(value, str) else str(value)
    return text if text != "" else None


def _check_unique(columns: list[str], name: str) -> None:
    repeated = [c for c, n in Counter(columns).items() if n > 1]
    if repeated:
        raise FileReadError(
            f"cannot read {name!r}: column name(s) repeated in the header: {', '.join(repeated)}"
        )


_TABLE_READERS: dict[str, Callable[[bytes, str, str | int], pd.DataFrame]] = {
    ".csv": _read_csv,
    ".xlsx": _read_xlsx,
}


# --- vector files -------------------------------------------------------------------------


def read_vector(
    source: Source,
    *,
    filename: str | os.PathLike[str] | None = None,
    crs: str | int | None = None,
    layer: str | int | None = None,
) -> gpd.GeoDataFrame:
    """Read GeoJSON, Shapefile (also zipped), GeoPackage or KML into EPSG:4326.

    Parameters
    ----------
    source : path, bytes or binary file-like
        The file, or its content (an upload). A Shapefile upload must be a ``.zip`` holding the
        ``.shp`` with its ``.shx``/``.dbf``/``.prj``.
    filename : str, optional
        Name whose extension gives the format when ``source`` is not a path.
    crs : str or int, optional
        The system the coordinates are really in (``wgs84``, ``gcj02``, ``bd09``,
        ``EPSG:<code>``): declares it when the file has none and overrides what the file says
        (GCJ-02 data is usually labelled WGS84). Default: the file's own CRS, or WGS84 when it
        declares none and its coordinates are longitude/latitude.
    layer : str or int, optional
        GeoPackage layer, or the ``.shp`` inside a zip (name with or without ``.shp``);
        default the first. For KML, one folder; default all, concatenated.

    Returns
    -------
    geopandas.GeoDataFrame
        CRS EPSG:4326, 2-D geometries. KML adds a ``kml_layer`` column (the folder name).

    Raises
    ------
    UnsupportedFormatError
        For an unsupported extension.
    FileReadError
        If the file cannot be opened or parsed, or its coordinates are projected and it
        declares no CRS.
    CRSError
        If ``crs`` is not understood.
    """
    name = _source_name(source, filename)
    reader = _VECTOR_READERS[_extension(name, _VECTOR_READERS, "vector")]
    system = None if crs is None else gcrs.normalize_crs(crs)
    with _local_path(source, name) as path:
        try:
            frame = reader(path, layer)
        except _PYOGRIO_ERRORS as exc:
            raise FileReadError(f"cannot read {name!r}: {exc}") from exc
    return _in_wgs84(frame, system, name)


def _read_ogr(path: Path | str, layer: str | int | None) -> gpd.GeoDataFrame:
    return gpd.read_file(path, layer=layer, engine="pyogrio")


def _read_geopackage(path: Path, layer: str | int | None) -> gpd.GeoDataFrame:
    layers = pyogrio.list_layers(path)
    if len(layers) == 0:
        raise FileReadError(f"cannot read {path.name!r}: the GeoPackage holds no layers")
    if layer is None:
        layer = str(layers[0][0])
    elif isinstance(layer, str) and layer not in layers[:, 0]:
        raise FileReadError(
            f"cannot read {path.name!r}: no layer {layer!r}; layers: {', '.join(layers[:, 0])}"
        )
    return _read_ogr(path, layer)


def _read_shapefile(path: Path, layer: str | int | None) -> gpd.GeoDataFrame:
    if not any(path.with_suffix(s).exists() for s in (".shx", ".SHX")):
        raise FileReadError(
            f"cannot read {path.name!r}: a shapefile needs its .shx and .dbf files beside it; "
            "upload all of them together as a .zip"
        )
    return _read_ogr(path, None)


def _read_zipped_shapefile(path: Path, layer: str | int | None) -> gpd.GeoDataFrame:
    try:
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.namelist() if m.lower().endswith(".shp")]
    except zipfile.BadZipFile as exc:
        raise FileReadError(f"cannot read {path.name!r}: not a zip archive") from exc
    if not members:
        raise FileReadError(f"cannot read {path.name!r}: the zip archive holds no .shp file")
    member = _pick_member(members, layer, path.name)
    # A string, not a Path: Path would fold the "//" of "/vsizip//tmp/...".
    return _read_ogr(f"/vsizip/{path.resolve()}/{member}", None)


def _pick_member(members: list[str], layer: str | int | None, name: str) -> str:
    if layer is None:
        return sorted(members)[0]
    if isinstance(layer, int):
        return sorted(members)[layer]
    wanted = layer.removesuffix(".shp").lower()
    for member in members:
        if Path(member).stem.lower() == wanted or member.lower() == layer.lower():
            return member
    raise FileReadError(f"cannot read {name!r}: no {layer!r} in it; it holds {', '.join(members)}")


def _read_kml(path: Path, layer: str | int | None) -> gpd.GeoDataFrame:
    # pyogrio's wheels bundle GDAL with both the LIBKML and the KML driver, so there is no
    # hand-written KML parser here; LIBKML (preferred by GDAL) reads ExtendedData as fields.
    if not {"LIBKML", "KML"} & set(pyogrio.list_drivers()):
        raise FileReadError(f"cannot read {path.name!r}: this GDAL has no KML driver")
    names = [layer] if layer is not None else [str(n) for n in pyogrio.list_layers(path)[:, 0]]
    frames = [_read_ogr(path, n).assign(kml_layer=str(n)) for n in names]
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    drop = [c for c in _KML_STYLE_FIELDS if c in frame.columns]
    drop += [c for c in _KML_TIME_FIELDS if c in frame.columns and frame[c].isna().all()]
    return gpd.GeoDataFrame(frame.drop(columns=drop), geometry="geometry", crs="EPSG:4326")


_VECTOR_READERS: dict[str, Callable[[Path, str | int | None], gpd.GeoDataFrame]] = {
    ".geojson": _read_ogr,
    ".json": _read_ogr,
    ".shp": _read_shapefile,
    ".zip": _read_zipped_shapefile,
    ".gpkg": _read_geopackage,
    ".kml": _read_kml,
}


def _in_wgs84(frame: gpd.GeoDataFrame, system: str | None, name: str) -> gpd.GeoDataFrame:
    """Declare or override the CRS, then convert to EPSG:4326 with 2-D geometries."""
    frame = frame.set_geometry(frame.geometry.force_2d())
    if system in (gcrs.GCJ02, gcrs.BD09):
        return frame.set_geometry(gcrs.geometry_to_wgs84(frame.geometry, system))
    if system is not None:
        frame = frame.set_crs("EPSG:4326" if system == gcrs.WGS84 else system, allow_override=True)
    elif frame.crs is None:
        _require_lonlat(frame, name)
        frame = frame.set_crs("EPSG:4326")
    return frame.to_crs("EPSG:4326")


def _require_lonlat(frame: gpd.GeoDataFrame, name: str) -> None:
    if frame.geometry.notna().sum() == 0 or frame.geometry.is_empty.all():
        return
    min_x, min_y, max_x, max_y = frame.total_bounds
    if min_x < -180 or max_x > 180 or min_y < -90 or max_y > 90:
        raise FileReadError(
            f"cannot read {name!r}: it declares no coordinate system and its coordinates "
            f"({min_x:.0f}, {min_y:.0f}) … ({max_x:.0f}, {max_y:.0f}) are not longitude/latitude; "
            "pass crs=, e.g. 'EPSG:4547'"
        )


# --- writing ------------------------------------------------------------------------------


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
    return _with_wkt(frame).to_csv(index=False).encode("utf-8-sig")


def _xlsx_bytes(frame: pd.DataFrame, layer: str) -> bytes:
    table = _excel_safe(_with_wkt(frame))
    buffer = io.BytesIO()
    table.to_excel(buffer, index=False, engine="openpyxl")
    return buffer.getvalue()


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
