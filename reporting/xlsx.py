"""Reports as XLSX workbooks (openpyxl): one sheet per section, real number formats, a chart.

Every text cell goes through :func:`geodata.io.write.defused_text` (a leading ``'`` before
what a spreadsheet would run as a formula) and is written as a string cell, never a formula.
"""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.chart import LineChart, Reference
from openpyxl.drawing.image import Image as XLImage
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from geodata.io.write import defused_text
from grid_model.reports.mediation import MediationForm, row_label
from grid_model.reports.monthly import MonthlyReport
from reporting.labels import rt
from reporting.sections import Section, Table, cover, monthly_sections

#: Excel number formats of the column formats of :mod:`reporting.sections`.
NUMBER_FORMATS = {
    "int": "#,##0",
    "pct": "0.0%",
    "days": "0.0",
    "pp": '+0.0" pp";-0.0" pp";0.0" pp"',
    "change": "+#,##0.0;-#,##0.0;0.0",
    "date": "yyyy-mm-dd",
}
_BOLD = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_THIN = Side(style="thin", color="999999")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


def _prepared(value, fmt: str, lang: str):
    """What goes into the cell: yes/no for booleans, text defused, whole counts as ints."""
    if fmt == "bool" and value is not None:
        return rt("yes" if value else "no", lang)
    if isinstance(value, str):
        return defused_text(value)
    if fmt == "int" and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _cell(ws: Worksheet, row: int, col: int, value, fmt: str = "text", lang: str = "zh"):
    """Write one value: numbers and dates with their number format, text defused and stored
    as a string cell (never a formula, whatever it starts with)."""
    if isinstance(value, tuple):  # (value, fmt) of a mixed column
        value, fmt = value
    value = _prepared(value, fmt, lang)
    c = ws.cell(row=row, column=col, value=value)
    if isinstance(value, str):
        c.data_type = "s"
    elif value is not None and fmt in NUMBER_FORMATS:
        c.number_format = NUMBER_FORMATS[fmt]
    return c


def _header(ws: Worksheet, row: int, headers: list[str]) -> None:
    for j, text in enumerate(headers, start=1):
        c = _cell(ws, row, j, text)
        c.font, c.fill, c.border = _BOLD, _HEADER_FILL, _BOX
        c.alignment = Alignment(wrap_text=True, vertical="center")


def _table(ws: Worksheet, row: int, table: Table, lang: str) -> tuple[int, int]:
    """Write ``table`` from ``row``; return (first data row, next free row)."""
    _header(ws, row, [c.header for c in table.columns])
    first = row + 1
    for i, values in enumerate(table.rows):
        for j, (column, value) in enumerate(zip(table.columns, values, strict=True), start=1):
            _cell(ws, first + i, j, value, column.fmt, lang).border = _BOX
    return first, first + len(table.rows) + 1


def _widths(ws: Worksheet) -> None:
    for col in ws.iter_cols(min_row=1, max_row=min(ws.max_row, 200)):
        longest = max((len(str(c.value)) for c in col if c.value is not None), default=4)
        ws.column_dimensions[get_column_letter(col[0].column)].width = min(
            max(longest * 1.6, 8), 40
        )


def _title(ws: Worksheet, title: str) -> int:
    ws.cell(row=1, column=1, value=defused_text(title)).font = Font(bold=True, size=14)
    return 3


def _sheet_name(title: str) -> str:
    bad = "[]:*?/\\"
    return "".join("_" if ch in bad else ch for ch in title)[:31]


def _section_sheet(
    wb: Workbook, section: Section, images: dict[str, bytes], lang: str
) -> Worksheet:
    ws = wb.create_sheet(_sheet_name(section.title.split(" · ")[0]))
    row = _title(ws, section.title)
    for sentence in section.sentences:
        _cell(ws, row, 1, sentence)
        row += 1
    row += bool(section.sentences)
    for table in section.tables:
        first, row = _table(ws, row, table, lang)
        if section.key == "map":
            _trend_chart(ws, table, first, row - 2)
        row += 1
    _widths(ws)
    for name in section.images:
        if name in images:
            picture = XLImage(io.BytesIO(images[name]))
            picture.width, picture.height = picture.width * 0.5, picture.height * 0.5
            anchor = "L3" if name == "map" else "L40"
            ws.add_image(picture, anchor)
    return ws


def _trend_chart(ws: Worksheet, table: Table, first: int, last: int) -> None:
    """A line chart of the trend table (months down, categories across)."""
    if last < first or len(table.columns) < 2:
        return
    chart = LineChart()
    chart.title = rt("trend_title")
    chart.y_axis.title = rt("needs")
    chart.x_axis.title = rt("month")
    chart.height, chart.width = 8, 16
    data = Reference(ws, min_col=2, max_col=len(table.columns), min_row=first - 1, max_row=last)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=first, max_row=last))
    ws.add_chart(chart, f"A{last + 3}")


def monthly_xlsx(report: MonthlyReport, images: dict[str, bytes], lang: str = "zh") -> bytes:
    """The monthly report as an XLSX workbook: a cover, then one sheet per section."""
    wb = Workbook()
    ws = wb.active
    ws.title = _sheet_name(rt("cover", lang))
    row = _title(ws, rt("monthly_title", lang, area=report.area_name, month=report.month))
    for i, (key, value) in enumerate(cover(report, lang)):
        _cell(ws, row + i, 1, key).font = _BOLD
        _cell(ws, row + i, 2, value)
    _widths(ws)
    for section in monthly_sections(report, lang):
        _section_sheet(wb, section, images, lang)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def mediation_xlsx(form: MediationForm, lang: str = "zh") -> bytes:
    """The people's-mediation statistics form: title, unit and period, a two-row header
    (written and oral agreements grouped under 调解协议), a row per dispute type and the
    total, signature lines."""
    wb = Workbook()
    ws = wb.active
    ws.title = _sheet_name(rt("mediation_title", lang))
    n_cols = 1 + len(form.rows.columns)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=n_cols)
    title = ws.cell(row=1, column=1, value=rt("mediation_title", lang))
    title.font, title.alignment = Font(bold=True, size=16), Alignment(horizontal="center")
    _cell(ws, 2, 1, f"{rt('unit_filled', lang)}: {form.area_name}")
    _cell(ws, 2, 5, f"{rt('period', lang)}: {form.start.isoformat()} — {form.end.isoformat()}")
    _form_header(ws, 4, list(form.rows.columns), lang)
    for i, (key, values) in enumerate(form.rows.iterrows()):
        r = 6 + i
        _cell(ws, r, 1, row_label(key, lang)).border = _BOX
        for j, column in enumerate(form.rows.columns, start=2):
            _cell(ws, r, j, values[column], "int").border = _BOX
            if values[column] is None:
                ws.cell(row=r, column=j, value="—").alignment = Alignment(horizontal="center")
        if key == "total":
            for j in range(1, n_cols + 1):
                ws.cell(row=r, column=j).font = _BOLD
    last = 6 + len(form.rows)
    notes = [] if form.case_file else [rt("case_file_missing", lang)]
    for i, note in enumerate(notes):
        _cell(ws, last + 1 + i, 1, note)
    foot = last + 3
    for j, key in ((1, "filled_by"), (4, "reviewed_by"), (7, "filled_on")):
        _cell(ws, foot, j, rt(key, lang))
    ws.column_dimensions["A"].width = 20
    for j in range(2, n_cols + 1):
        ws.column_dimensions[get_column_letter(j)].width = 12
    ws.freeze_panes = "B6"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


#: Form columns grouped under one heading in the first header row.
_FORM_GROUPS = {"written": "agreements", "oral": "agreements"}


def _form_header(ws: Worksheet, row: int, columns: list[str], lang: str) -> None:
    """Two header rows: 纠纷类型, then each column of the form; written and oral agreements
    side by side under 调解协议, every other heading over both rows."""
    keys = ["dispute_type", *columns]
    for col, key in enumerate(keys, start=1):
        group = _FORM_GROUPS.get(key)
        if group is None:
            ws.merge_cells(start_row=row, start_column=col, end_row=row + 1, end_column=col)
            _cell(ws, row, col, rt(key, lang))
            continue
        _cell(ws, row + 1, col, rt(key, lang))
        if _FORM_GROUPS.get(keys[col - 2]) != group:  # the group's first column
            width = sum(1 for k in keys[col - 1 :] if _FORM_GROUPS.get(k) == group)
            ws.merge_cells(start_row=row, start_column=col, end_row=row, end_column=col + width - 1)
            _cell(ws, row, col, rt(group, lang))
    for r in (row, row + 1):
        for col in range(1, len(keys) + 1):
            c = ws.cell(row=r, column=col)
            c.font, c.fill, c.border = _BOLD, _HEADER_FILL, _BOX
            c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
