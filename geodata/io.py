"""Reading and writing tables and vector files: CSV, XLSX, GeoJSON, Shapefile, GeoPackage, KML.

Every reader takes a path, ``bytes`` or a binary file-like (e.g. a Streamlit ``UploadedFile``);
for the last two, ``filename=`` (or the object's ``name``) gives the extension that picks the
format. Vector data always comes back in EPSG:4326, converted with :mod:`geodata.crs`.

Formats are picked from extension tables (``_TABLE_READERS``, ``_VECTOR_READERS``,
``_WRITERS``), as in ``geopandas/io/file.py``.

Limits on what is read (a careless or hostile file is refused in seconds, naming where):
:data:`MAX_FILE_BYTES` per file, :data:`MAX_COLUMNS` columns, :data:`MAX_CELL_CHARS` characters
per cell (domain validators add shorter per-field limits). Spreadsheets written here are safe to
open: text that Excel or LibreOffice would run as a formula is neutralised (:func:`frame_to_bytes`).
"""

from __future__ import annotations

import contextlib
import csv
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
import openpyxl
import openpyxl.utils
import openpyxl.utils.exceptions
import pandas as pd
import pyogrio
import pyogrio.errors
import shapely

from geodata import crs as gcrs
from geodata.errors import FileReadError, FileWriteError, UnsupportedFormatError

__all__ = [
    "MAX_CELL_CHARS",
    "MAX_COLUMNS",
    "MAX_FILE_BYTES",
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

#: Largest file read, in bytes: Streamlit's default upload limit (200 MB).
MAX_FILE_BYTES = 200 * 1024 * 1024
#: Most columns a table or a vector layer may have (ours have fewer than 30).
MAX_COLUMNS = 200
#: Most characters in one cell or attribute: what Excel itself allows in a cell.
MAX_CELL_CHARS = _XLSX_CELL_LIMIT
# Text starting with these is a formula to Excel/LibreOffice (OWASP, "CSV Injection"); a tab or
# carriage return first, or spaces before the sign, work too.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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
            _check_size(Path(source).stat().st_size, name)
            return Path(source).read_bytes()
        except OSError as exc:
            raise FileReadError(f"cannot read {name!r}: {exc.strerror or exc}") from exc
    if isinstance(source, bytes | bytearray | memoryview):
        data = source
    elif hasattr(source, "getvalue"):  # already in memory (BytesIO, Streamlit's UploadedFile)
        data = source.getvalue()
    else:
        data = source.read(MAX_FILE_BYTES + 1)
    if not isinstance(data, bytes | bytearray | memoryview):
        raise FileReadError(f"{name!r} was opened in text mode; open it in binary mode ('rb')")
    _check_size(len(data), name)
    return bytes(data)


def _check_size(size: int, name: str) -> None:
    if size > MAX_FILE_BYTES:
        mb, limit = f"{size / 2**20:.0f}", f"{MAX_FILE_BYTES / 2**20:.0f}"
        raise FileReadError(
            f"cannot read {name!r}: it holds {mb} MB, more than the {limit} MB allowed",
            key="file_too_big",
            name=Path(name).name,
            size=mb,
            limit=limit,
        )


@contextlib.contextmanager
def _local_path(source: Source, name: str) -> Iterator[Path]:
    """A path GDAL can open: the source itself, or a temporary copy of uploaded bytes."""
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.exists():
            raise FileReadError(f"cannot read {name!r}: no such file")
        _check_size(path.stat().st_size, name)
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
        ``"12"``, a date → ``"2024-05-01"``, a date and time → ``"2024-05-01 13:30:00"``; a
        formula cell gives the result Excel saved with it.

    Raises
    ------
    UnsupportedFormatError
        For an extension other than ``.csv``/``.xlsx``.
    FileReadError
        If the file is missing, empty, has no header row, repeats a column name, or cannot be
        decoded (CSV is tried as UTF-8, with or without BOM, then as GB18030/GBK); if it is
        over :data:`MAX_FILE_BYTES`, a row has more than :data:`MAX_COLUMNS` columns or a value
        beyond the header's columns, or a cell holds more than :data:`MAX_CELL_CHARS`
        characters or a NUL; for an XLSX formula without a saved result or a cell holding a
        spreadsheet error (``#DIV/0!``). The message names the row and the column (letter and
        header) and ``key``/``params`` say it for translation. Rows are checked as they are
        parsed, so a hostile file is refused at its first bad row.

    Examples
    --------
    >>> read_table("名称,经度\\n育德,113.088\\n".encode("gbk"), filename="a.csv").iloc[0, 1]
    '113.088'
    """
    name = _source_name(source, filename)
    reader = _TABLE_READERS[_extension(name, _TABLE_READERS, "table")]
    raw = reader(_read_bytes(source, name), name, sheet)
    return _header_and_rows(raw, name)


def _read_csv(data: bytes, name: str, sheet: str | int) -> pd.DataFrame:
    if not data.removeprefix(b"\xef\xbb\xbf").strip():
        raise FileReadError(f"cannot read {name!r}: the file is empty")
    for encoding in ("utf-8-sig", "gb18030"):
        with contextlib.suppress(UnicodeDecodeError):
            return _frame(_csv_records(data, encoding, name))
    raise FileReadError(
        f"cannot read {name!r}: its text is neither UTF-8 nor GBK/GB18030; save it as "
        "'CSV UTF-8' in Excel"
    )


def _csv_lines(data: bytes, encoding: str) -> io.TextIOWrapper:
    # Decoded as it is parsed: no second copy of the whole file as text.
    return io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")


def _csv_records(data: bytes, encoding: str, name: str) -> list[list[str]]:
    """Parse CSV records one by one, checking each against the limits as it comes."""
    reader = csv.reader(_csv_lines(data, encoding))
    records: list[list[str]] = []
    header: list[str] = []
    start_line = 1  # the physical line the next record starts on (quoted cells span lines)
    nul = b"\x00" in data  # rare: only then look for it cell by cell
    while True:
        row = len(records) + 1
        try:
            record = next(reader, None)
        except csv.Error as exc:
            raise _csv_error(exc, data, encoding, start_line, row, header, name) from exc
        if record is None:
            return records
        start_line = reader.line_num + 1
        record = _trimmed(record)
        if not records:
            header = [h.strip() for h in record]
        _check_record(record, row, header, name)
        if nul and any("\x00" in cell for cell in record):
            # a NUL ends text in C (GDAL, PostgreSQL refuses it): never a silent cut
            raise FileReadError(
                f"cannot read {name!r}: row {row} holds a NUL character",
                key="file_nul",
                name=Path(name).name,
                row=row,
            )
        records.append(record)


def _frame(records: list[list]) -> pd.DataFrame:
    width = max(map(len, records), default=0)
    padded = [r if len(r) == width else r + [None] * (width - len(r)) for r in records]
    return pd.DataFrame(padded, columns=range(width), dtype=object)


def _trimmed(record: list) -> list:
    """Without the empty cells at the end (Excel's stray formatted cells, trailing commas)."""
    end = len(record)
    while end and record[end - 1] in ("", None):
        end -= 1
    return record[:end] if end < len(record) else record


def _check_record(record: list, row: int, header: list[str], name: str) -> None:
    if len(record) > MAX_COLUMNS:
        raise _limit_error("file_too_many_columns", name, row, MAX_COLUMNS, header, n=len(record))
    if row > 1 and any(header) and len(record) > len(header):
        raise FileReadError(
            f"cannot read {name!r}: row {row} has a value in column "
            f"{_column_name(len(record) - 1, header)}, beyond the {len(header)} columns of the "
            "header row",
            key="file_beyond_header",
            name=Path(name).name,
            row=row,
            column=_column_name(len(record) - 1, header),
            n=len(header),
        )
    longest = max(map(_text_length, record), default=0)
    if longest > MAX_CELL_CHARS:
        column = next(j for j, v in enumerate(record) if _text_length(v) == longest)
        raise _limit_error("file_cell_too_long", name, row, column, header, n=longest)


def _text_length(value: object) -> int:
    return len(value) if isinstance(value, str) else 0


def _column_name(position: int, header: list[str]) -> str:
    """Column as a spreadsheet user sees it: its letter, and its header where there is one."""
    letter = openpyxl.utils.get_column_letter(min(position + 1, 18278))
    title = header[position] if position < len(header) else ""
    return f"{letter} ({title[:40]!r})" if title else letter


def _limit_error(
    key: str, name: str, row: int, position: int | None, header: list[str], *, n: int
) -> FileReadError:
    column = "?" if position is None else _column_name(position, header)
    if key == "file_too_many_columns":
        text = f"row {row} has {n} columns, more than the {MAX_COLUMNS} allowed"
        limit = MAX_COLUMNS
    else:
        text = (
            f"row {row}, column {column} holds {n or f'>{MAX_CELL_CHARS}'} characters, more "
            f"than the {MAX_CELL_CHARS} allowed in a cell"
        )
        limit = MAX_CELL_CHARS
    return FileReadError(
        f"cannot read {name!r}: {text}",
        key=key,
        name=Path(name).name,
        row=row,
        column=column,
        n=n if n else f">{limit}",
        limit=limit,
    )


def _csv_error(
    exc: csv.Error,
    data: bytes,
    encoding: str,
    start_line: int,
    row: int,
    header: list[str],
    name: str,
) -> FileReadError:
    reason = str(exc)
    if "field larger than field limit" in reason:
        # The csv module stops a cell at its own limit (131,072 characters, above ours) without
        # saying which: re-read the start of that record, each line cut short, to find it.
        return _limit_error(
            "file_cell_too_long",
            name,
            row,
            _long_cell_position(data, encoding, start_line),
            header,
            n=0,
        )
    return FileReadError(f"cannot read {name!r} as CSV: row {row}: {reason}")


def _long_cell_position(data: bytes, encoding: str, start_line: int) -> int | None:
    lines = _csv_lines(data, encoding)
    for _ in range(start_line - 1):
        lines.readline()
    # A prefix shorter than the csv module's limit parses; the long cell is the first cell
    # over ours in it unless the cells before it are long too (then: unknown).
    prefix = lines.read(csv.field_size_limit() - 1).split("\n", 1)[0]
    with contextlib.suppress(csv.Error, StopIteration):
        cells = next(csv.reader([prefix]))
        return next((j for j, v in enumerate(cells) if len(v) > MAX_CELL_CHARS), None)
    return None


def _read_xlsx(data: bytes, name: str, sheet: str | int) -> pd.DataFrame:
    """Stream the sheet's cells (openpyxl read-only), checking each row as it comes.

    A formula gives the result Excel saved with it; without one (a file written by a program
    and never opened in Excel) it is an error naming the cell, never an empty field.
    """
    with _workbook(data, name, data_only=False) as book:
        records, formulas = _xlsx_records(_sheet(book, sheet, name), name)
    if formulas:
        with _workbook(data, name, data_only=True) as book:
            _fill_formula_results(_sheet(book, sheet, name), records, formulas, name)
    return _frame(records)


@contextlib.contextmanager
def _workbook(data: bytes, name: str, *, data_only: bool) -> Iterator[openpyxl.Workbook]:
    try:
        book = openpyxl.load_workbook(
            io.BytesIO(data), read_only=True, data_only=data_only, keep_links=False
        )
    except (
        zipfile.BadZipFile,
        KeyError,
        OSError,
        ValueError,
        openpyxl.utils.exceptions.InvalidFileException,
    ) as exc:
        raise FileReadError(f"cannot read {name!r} as an XLSX workbook: {exc}") from exc
    try:
        yield book
    finally:
        book.close()


def _sheet(book: openpyxl.Workbook, sheet: str | int, name: str):
    names = book.sheetnames
    if (isinstance(sheet, int) and not -len(names) <= sheet < len(names)) or (
        isinstance(sheet, str) and sheet not in names
    ):
        raise FileReadError(f"cannot read {name!r}: no sheet {sheet!r}; sheets: {', '.join(names)}")
    ws = book[sheet] if isinstance(sheet, str) else book.worksheets[sheet]
    ws.reset_dimensions()  # the size a file declares may be wrong: read every row there is
    return ws


def _xlsx_records(ws, name: str) -> tuple[list[list], list[tuple[int, int]]]:
    records: list[list] = []
    formulas: list[tuple[int, int]] = []
    header: list[str] = []
    for cells in ws.iter_rows(min_row=1, min_col=1):
        row = len(records) + 1
        values = []
        for j, cell in enumerate(cells):
            if cell.data_type == "f":
                formulas.append((row, j))
                values.append(None)  # the saved result comes in the second pass
            else:
                _check_excel_error(cell, row, j, header, name)
                values.append(_cell_text(cell.value))
        record = _trimmed(values)
        if formulas and formulas[-1][0] == row:  # a formula's place is never trimmed
            record = values[: max(len(record), formulas[-1][1] + 1)]
        if not records:
            header = [(h or "").strip() for h in record]
        _check_record(record, row, header, name)
        records.append(record)
    return records, formulas


def _fill_formula_results(
    ws, records: list[list], formulas: list[tuple[int, int]], name: str
) -> None:
    wanted: dict[int, list[int]] = {}
    for row, j in formulas:
        wanted.setdefault(row, []).append(j)
    header = [(h or "").strip() for h in records[0]] if records else []
    for row, cells in enumerate(ws.iter_rows(min_row=1, min_col=1, max_row=max(wanted)), 1):
        for j in wanted.get(row, ()):
            cell = cells[j] if j < len(cells) else None
            value = None if cell is None else cell.value
            if value is None:
                column = _column_name(j, header)
                raise FileReadError(
                    f"cannot read {name!r}: cell {_cell_ref(row, j)} (column {column}) holds a "
                    "formula without a saved result; open the file in Excel or WPS, save it "
                    "and import it again, or paste the values",
                    key="file_formula_no_value",
                    name=Path(name).name,
                    cell=_cell_ref(row, j),
                    column=column,
                    row=row,
                )
            _check_excel_error(cell, row, j, header, name)
            records[row - 1][j] = text = _cell_text(value)
            if len(text or "") > MAX_CELL_CHARS:
                raise _limit_error("file_cell_too_long", name, row, j, header, n=len(text))


def _cell_ref(row: int, position: int) -> str:
    return f"{openpyxl.utils.get_column_letter(position + 1)}{row}"


def _check_excel_error(cell, row: int, position: int, header: list[str], name: str) -> None:
    # pandas turns #DIV/0!, #N/A, #REF! ... into an empty field; they are a broken cell.
    if cell.data_type == "e":
        column = _column_name(position, header)
        raise FileReadError(
            f"cannot read {name!r}: cell {_cell_ref(row, position)} (column {column}) holds "
            f"the spreadsheet error {cell.value}",
            key="file_cell_error",
            name=Path(name).name,
            cell=_cell_ref(row, position),
            column=column,
            row=row,
            value=str(cell.value),
        )


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
    """Declare or override the CRS, then convert to EPSG:4326 with 2-D geometries.

    Coordinates are checked before any conversion: finite, and longitude/latitude wherever the
    system is geographic (GeoJSON and KML are WGS84 by definition, whatever they hold).
    """
    _check_attributes(frame, name)
    frame = frame.set_geometry(frame.geometry.force_2d())
    if system is None:
        lonlat = frame.crs is None or frame.crs.is_geographic
    else:
        lonlat = system in (gcrs.WGS84, gcrs.GCJ02, gcrs.BD09)
    _check_coordinates(frame, name, lonlat=lonlat)
    if system in (gcrs.GCJ02, gcrs.BD09):
        return frame.set_geometry(gcrs.geometry_to_wgs84(frame.geometry, system))
    if system is not None:
        frame = frame.set_crs("EPSG:4326" if system == gcrs.WGS84 else system, allow_override=True)
    elif frame.crs is None:
        frame = frame.set_crs("EPSG:4326")
    converted = frame.to_crs("EPSG:4326")
    if not lonlat:  # a projection given for coordinates that are not in it gives inf
        _check_coordinates(converted, name, lonlat=True)
    return converted


def _check_coordinates(frame: gpd.GeoDataFrame, name: str, *, lonlat: bool) -> None:
    coords, index = shapely.get_coordinates(np.asarray(frame.geometry.array), return_index=True)
    try:
        gcrs.check_coordinates(coords[:, 0], coords[:, 1], lonlat=lonlat)
    except gcrs.CRSError as exc:
        feature = int(index[exc.params["position"]]) + 1
        raise FileReadError(
            f"cannot read {name!r}: feature {feature}: {exc}",
            key=exc.key,
            name=Path(name).name,
            feature=feature,
            x=exc.params["x"],
            y=exc.params["y"],
        ) from exc


def _check_attributes(frame: gpd.GeoDataFrame, name: str) -> None:
    """The table limits (:data:`MAX_COLUMNS`, :data:`MAX_CELL_CHARS`) for a layer's fields."""
    columns = [c for c in frame.columns if c != frame.geometry.name]
    if len(columns) > MAX_COLUMNS:
        raise FileReadError(
            f"cannot read {name!r}: it has {len(columns)} fields, more than the {MAX_COLUMNS} "
            "allowed",
            key="file_too_many_fields",
            name=Path(name).name,
            n=len(columns),
            limit=MAX_COLUMNS,
        )
    for column in columns:
        values = frame[column]
        if not (values.dtype == object or isinstance(values.dtype, pd.StringDtype)):
            continue
        lengths = values.map(_text_length).to_numpy()
        if lengths.size and lengths.max() > MAX_CELL_CHARS:
            feature = int(np.argmax(lengths))
            raise FileReadError(
                f"cannot read {name!r}: feature {feature + 1}, field {str(column)[:40]!r} holds "
                f"{lengths.max()} characters, more than the {MAX_CELL_CHARS} allowed",
                key="file_field_too_long",
                name=Path(name).name,
                feature=feature + 1,
                column=str(column)[:40],
                n=int(lengths.max()),
                limit=MAX_CELL_CHARS,
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
