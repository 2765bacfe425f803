r"""Reading tables: CSV (UTF-8 or GB18030) and XLSX, every cell as text or None.

A file past the limits of :mod:`geodata.io.limits` (columns, characters in a cell), with a NUL,
with formulas but no cached values or Excel errors, or with duplicate headers is refused with a
:class:`~geodata.errors.FileReadError` naming the row and column.

Example
-------
>>> read_table(b"code,name\n001,Yude\n002,\n", filename="grids.csv")
  code  name
0  001  Yude
1  002  None
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import math
import os
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import openpyxl
import openpyxl.utils
import openpyxl.utils.exceptions
import pandas as pd

from geodata.errors import FileReadError
from geodata.io import limits
from geodata.io.sources import Source, _extension, _read_bytes, _source_name


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


def _read_csv(data: bytes, name: str, sheet: str | int) -> list[np.ndarray]:
    if not data.removeprefix(b"\xef\xbb\xbf").strip():
        raise FileReadError(f"cannot read {name!r}: the file is empty")
    for encoding in ("utf-8-sig", "gb18030"):
        with contextlib.suppress(UnicodeDecodeError):
            fast = _csv_frame_fast(data, encoding)
            return fast if fast is not None else _columns(_csv_records(data, encoding, name))
    raise FileReadError(
        f"cannot read {name!r}: its text is neither UTF-8 nor GBK/GB18030; save it as "
        "'CSV UTF-8' in Excel"
    )


def _csv_frame_fast(data: bytes, encoding: str) -> list[np.ndarray] | None:
    """The columns :func:`_csv_records` gives (blanks as None), parsed by pandas' C reader;
    None when the file is anything but plain (a NUL, a malformed or over-long row, a cell or a
    header past the limits, a value beyond the header's columns): the record-by-record reader
    then reads it and names the first bad row exactly as it always has."""
    first_line = data[: data.find(b"\n") % (len(data) + 1)]
    if b"\x00" in data or first_line.count(b",") >= limits.MAX_COLUMNS:
        return None  # a wide header (or a quoted one with many commas): read record by record
    buffer = io.BytesIO(data)
    if encoding == "utf-8-sig":  # the C reader decodes UTF-8 itself, a third quicker
        encoding = "utf-8"  # and skips one BOM at the start, as utf-8-sig does
    try:
        frame = pd.read_csv(
            buffer,
            header=None,
            dtype=object,
            na_filter=False,
            skip_blank_lines=False,
            encoding=encoding,
            engine="c",
        )
    except UnicodeDecodeError:
        raise
    except (pd.errors.ParserError, ValueError, OverflowError):
        return None
    if frame.shape[1] > limits.MAX_COLUMNS:
        return None
    # na_filter=False: every cell is a str, "" when empty — only "" is falsy
    cells = [frame.pop(c).to_numpy(dtype=object) for c in list(frame.columns)]
    if max((max(map(len, c), default=0) for c in cells), default=0) > limits.MAX_CELL_CHARS:
        return None
    filled = [c.astype(bool) for c in cells]
    header_width = _trimmed_width(np.array([f[0] for f in filled], dtype=bool))
    if header_width == 0 or any(f[1:].any() for f in filled[header_width:]):
        return None
    # The records' widths: the widest trimmed row (the header's at least, when it has one).
    width = max(_trimmed_width(np.array([f.any() for f in filled], dtype=bool)), header_width)
    return [np.where(f, c, None) for c, f in zip(cells[:width], filled[:width], strict=True)]


def _trimmed_width(filled: np.ndarray) -> int:
    hits = np.flatnonzero(filled)
    return int(hits[-1]) + 1 if hits.size else 0


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


def _columns(records: list[list]) -> list[np.ndarray]:
    """Records (rows of cells) as columns of text or None, padded to the widest record."""
    width = max(map(len, records), default=0)
    padded = [r if len(r) == width else r + [None] * (width - len(r)) for r in records]
    grid = np.empty((len(padded), width), dtype=object)
    if padded:
        grid[:] = padded
    return [_blanks_to_none(grid[:, j]) for j in range(width)]


def _trimmed(record: list) -> list:
    """Without the empty cells at the end (Excel's stray formatted cells, trailing commas)."""
    end = len(record)
    while end and record[end - 1] in ("", None):
        end -= 1
    return record[:end] if end < len(record) else record


def _check_record(record: list, row: int, header: list[str], name: str) -> None:
    if len(record) > limits.MAX_COLUMNS:
        raise _limit_error(
            "file_too_many_columns", name, row, limits.MAX_COLUMNS, header, n=len(record)
        )
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
    if longest > limits.MAX_CELL_CHARS:
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
        text = f"row {row} has {n} columns, more than the {limits.MAX_COLUMNS} allowed"
        limit = limits.MAX_COLUMNS
    else:
        text = (
            f"row {row}, column {column} holds {n or f'>{limits.MAX_CELL_CHARS}'} characters, more "
            f"than the {limits.MAX_CELL_CHARS} allowed in a cell"
        )
        limit = limits.MAX_CELL_CHARS
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
        return next((j for j, v in enumerate(cells) if len(v) > limits.MAX_CELL_CHARS), None)
    return None


def _read_xlsx(data: bytes, name: str, sheet: str | int) -> list[np.ndarray]:
    """Stream the sheet's cells (openpyxl read-only), checking each row as it comes.

    A formula gives the result Excel saved with it; without one (a file written by a program
    and never opened in Excel) it is an error naming the cell, never an empty field.
    """
    with _workbook(data, name, data_only=False) as book:
        records, formulas = _xlsx_records(_sheet(book, sheet, name), name)
    if formulas:
        with _workbook(data, name, data_only=True) as book:
            _fill_formula_results(_sheet(book, sheet, name), records, formulas, name)
    return _columns(records)


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
            if len(text or "") > limits.MAX_CELL_CHARS:
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


def _header_and_rows(columns: list[np.ndarray], name: str) -> pd.DataFrame:
    """Columns of text or None → first row the stripped header; trailing empty rows dropped.

    Columns with neither a header nor any value (Excel's stray formatted cells) are dropped.
    """
    if not columns or not len(columns[0]) or all(c[0] is None for c in columns):
        raise FileReadError(f"cannot read {name!r}: no header row (the first row is empty)")
    header = [None if c[0] is None else c[0].strip() or None for c in columns]
    filled = [np.not_equal(c[1:], None) for c in columns]
    keep = [j for j, h in enumerate(header) if h is not None or filled[j].any()]
    names = [header[j] if header[j] is not None else f"Unnamed: {j}" for j in keep]
    _check_unique(names, name)
    any_filled = np.logical_or.reduce([filled[j] for j in keep]) if keep else np.zeros(0, bool)
    hits = np.flatnonzero(any_filled)
    end = int(hits[-1]) + 2 if hits.size else 1
    body = {n: columns[j][1:end] for n, j in zip(names, keep, strict=True)}
    return pd.DataFrame(body, index=pd.RangeIndex(end - 1), columns=names, dtype=object)


def _blanks_to_none(values: np.ndarray) -> np.ndarray:
    """:func:`_blank_to_none` of every cell of a column; in one go when they are all text or
    missing."""
    values = np.array(values, dtype=object)
    values[pd.isna(values)] = None
    if not set(map(type, values)) <= {str, type(None)}:
        return np.array([_blank_to_none(v) for v in values], dtype=object)
    values[values == ""] = None
    return values


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


_TABLE_READERS: dict[str, Callable[[bytes, str, str | int], list[np.ndarray]]] = {
    ".csv": _read_csv,
    ".xlsx": _read_xlsx,
}
