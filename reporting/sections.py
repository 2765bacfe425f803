"""A monthly report as sections of tables and sentences, the one layout the XLSX and the PDF
both render (so the two files cannot disagree).

Each :class:`Table` keeps the figures as they came from the services (numbers stay numbers);
its :class:`Column` says how to show them: ``int``, ``pct`` (a rate in 0..1), ``days``
(one decimal), ``pp`` (a change in percentage points), ``change`` (a change in the unit),
``date``, ``bool`` or ``text``.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import pandas as pd

from dashboard.i18n.translate import label
from grid_model import instants
from grid_model.reports.monthly import INDICATORS, PUBLICITY_PLAN_PER_MONTH, MonthlyReport
from reporting.labels import indicator_label, rt


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    fmt: str = "text"


@dataclass
class Table:
    """One table of a section: ``rows`` are lists of raw values in ``columns`` order."""

    columns: list[Column]
    rows: list[list]


@dataclass
class Section:
    """A sheet of the workbook and a heading of the PDF."""

    key: str
    title: str
    sentences: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    images: list[str] = field(default_factory=list)  # names of images of the report


def _value(v):
    """NaN/NA/NaT → None; numpy scalars → Python."""
    if v is None:
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        return v
    return v.item() if hasattr(v, "item") else v


def _table(frame: pd.DataFrame, columns: list[Column]) -> Table:
    rows = [
        [_value(v) for v in row]
        for row in frame[[c.key for c in columns]].itertuples(index=False, name=None)
    ]
    return Table(columns=columns, rows=rows)


def arrow(change: float | None) -> str:
    """↑, ↓ or → for a change (blank when unknown)."""
    if change is None or (isinstance(change, float) and math.isnan(change)):
        return ""
    return "↑" if change > 0 else "↓" if change < 0 else "→"


def show(value, fmt: str, lang: str = "zh") -> str:
    """A value as text for the PDF and the page preview."""
    value = _value(value)
    if value is None:
        return "—"
    if fmt == "int":
        return f"{int(value):,}"
    if fmt == "pct":
        return f"{float(value) * 100:.1f}%"
    if fmt == "days":
        return f"{float(value):.1f}"
    if fmt in ("pp", "change"):
        unit = rt("pp", lang) if fmt == "pp" else ""
        return f"{arrow(value)} {float(value):+.1f}{unit}".strip()
    if fmt == "bool":
        return rt("yes" if value else "no", lang)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _kind_fmt(kind: str) -> str:
    return {"count": "int", "rate": "pct", "days": "days"}[kind]


def cover(report: MonthlyReport, lang: str = "zh") -> list[tuple[str, str]]:
    """``(label, value)`` of the cover."""
    generated = instants.local(report.generated_at).strftime("%Y-%m-%d %H:%M %Z")
    return [
        (
            rt("area", lang),
            f"{report.area_name}{f' ({report.area_code})' if report.area_code else ''}",
        ),
        (rt("month", lang), str(report.month)),
        (rt("generated_at", lang), generated),
        (rt("data_as_of", lang), report.as_of.isoformat()),
        (rt("role", lang), label("role", report.viewer_role, lang)),
    ]


def _comparison(headlines, label_of, lang: str, title: str = "indicator") -> Table:
    """Indicators this month, the month before and a year before, with 环比 and 同比."""
    rows = []
    for h in headlines:
        fmt = _kind_fmt(h.kind)
        change = "pp" if h.kind == "rate" else "change"
        rows.append(
            [
                label_of(h.name, lang),
                (h.value, fmt),
                (h.previous, fmt),
                (h.change_mom, change),
                (h.last_year, fmt),
                (h.change_yoy, change),
            ]
        )
    columns = [
        Column("indicator", rt(title, lang)),
        Column("value", rt("this_month", lang), "mixed"),
        Column("previous", rt("previous_month", lang), "mixed"),
        Column("mom", rt("mom", lang), "mixed"),
        Column("last_year", rt("last_year", lang), "mixed"),
        Column("yoy", rt("yoy", lang), "mixed"),
    ]
    return Table(columns, rows)


def headline_section(report: MonthlyReport, lang: str) -> Section:
    tables = [_comparison(report.headline, indicator_label, lang)]
    if report.loop:  # the closed-loop indicators of the case service
        tables.append(_comparison(report.loop, lambda n, lg: rt(f"loop.{n}", lg), lang, "loop"))
    return Section("headline", rt("headline", lang), tables=tables)


def units_section(report: MonthlyReport, lang: str) -> Section:
    columns = [Column("code", rt("code", lang)), Column("name", rt("name", lang))]
    for name, (kind, _better) in INDICATORS.items():
        columns.append(Column(name, indicator_label(name, lang), _kind_fmt(kind)))
        columns.append(Column(f"{name}_rank", rt("rank", lang), "int"))
    key = f"units_{report.unit_level}"
    return Section("units", rt(key, lang), tables=[_table(report.units, columns)])


def needs_section(report: MonthlyReport, lang: str) -> Section:
    cats = report.by_category.assign(
        label=report.by_category["category"].map(lambda c: label("category", c, lang))
    )
    disputes = report.by_dispute_type
    return Section(
        "needs",
        f"{rt('by_category', lang)} · {rt('by_dispute_type', lang)}",
        tables=[
            _table(
                cats,
                [Column("label", rt("category", lang)), Column("needs", rt("needs", lang), "int")],
            ),
            _table(
                disputes,
                [
                    Column("dispute_type", rt("dispute_type", lang)),
                    Column("needs", rt("needs", lang), "int"),
                    Column("open", rt("open", lang), "int"),
                    Column("closed", rt("closed", lang), "int"),
                    Column("mediated", rt("mediated", lang), "int"),
                    Column("failed", rt("failed", lang), "int"),
                ],
            ),
        ],
    )


_OVERDUE_COLUMNS = (
    ("external_id", "text"),
    ("grid_code", "text"),
    ("reported_at", "date"),
    ("category", "text"),
    ("dispute_type", "text"),
    ("status", "text"),
    ("due_date", "date"),
    ("supervised_due", "date"),
    ("worker_code", "text"),
    ("resident_name", "text"),
    ("resident_phone", "text"),
)


def overdue_section(report: MonthlyReport, lang: str) -> Section:
    frame = report.overdue.copy()
    frame["category"] = frame["category"].map(lambda c: label("category", c, lang))
    frame["status"] = frame["status"].map(lambda c: label("status", c, lang))
    columns = [Column(k, rt(k, lang), f) for k, f in _OVERDUE_COLUMNS if k in frame.columns]
    sentences = [
        rt(
            "overdue_count",
            lang,
            as_of=report.as_of.isoformat(),
            n=report.overdue_count,
            supervised=report.supervised_count,
            shown=len(frame),
        ),
    ]
    return Section("overdue", rt("overdue_supervised", lang), sentences, [_table(frame, columns)])


def _names(values) -> str:
    return "、".join(str(v) for v in values) if len(values) else ""


def hotspot_sentences(report: MonthlyReport, lang: str) -> list[str]:
    """新增热点:… / 本月热点:… / 新兴热点:… in words."""
    none = rt("none", lang)
    emerging = [
        f"{n}({label('emerging', c, lang)})"
        for n, c in zip(report.emerging["name"], report.emerging["category"], strict=True)
    ]
    return [
        rt("new_hotspots", lang, names=_names(report.new_hotspots) or none),
        rt("hotspots_now", lang, names=_names(list(report.hotspots["name"])) or none),
        rt("emerging_words", lang, names=_names(emerging) or none),
    ]


def hotspots_section(report: MonthlyReport, lang: str) -> Section:
    hot = report.hotspots.assign(
        label=report.hotspots["class"].map(lambda c: label("class", c, lang))
    )
    hot_cols = [
        Column("grid_code", rt("grid_code", lang)),
        Column("name", rt("name", lang)),
        Column("count", rt("needs", lang), "int"),
        Column("label", rt("class", lang)),
    ]
    gaps_cols = [Column("label", rt("gap", lang)), Column("count", rt("count", lang), "int")]
    return Section(
        "hotspots",
        rt("hotspots", lang),
        hotspot_sentences(report, lang) + report.notes,
        [_table(hot, hot_cols), _table(report.gaps, gaps_cols)],
    )


def workload_section(report: MonthlyReport, lang: str) -> Section:
    columns = [
        Column("assistant", rt("assistant", lang)),
        Column("grids", rt("grids", lang), "int"),
        Column("open", rt("open", lang), "int"),
        Column("overdue", rt("overdue", lang), "int"),
        Column("new", rt("new", lang), "int"),
        Column("closed", rt("closed", lang), "int"),
        Column("on_time_rate", rt("on_time_rate", lang), "pct"),
        Column("workload", rt("workload_value", lang), "days"),
        Column("rank", rt("rank", lang), "int"),
    ]
    return Section("workload", rt("workload", lang), tables=[_table(report.workload, columns)])


def publicity_section(report: MonthlyReport, lang: str) -> Section:
    columns = [
        Column("code", rt("code", lang)),
        Column("name", rt("name", lang)),
        Column("held", rt("held", lang), "int"),
        Column("planned", rt("planned", lang), "int"),
        Column("met", rt("met", lang), "bool"),
    ]
    title = rt("publicity", lang, plan=PUBLICITY_PLAN_PER_MONTH)
    return Section("publicity", title, tables=[_table(report.publicity, columns)])


def trend_table(report: MonthlyReport, lang: str) -> Table:
    """Needs per month (rows) and category (columns)."""
    wide = report.trend.pivot_table(
        index="month", columns="category", values="count", aggfunc="sum", fill_value=0
    ).reset_index()
    columns = [Column("month", rt("month", lang))] + [
        Column(c, label("category", c, lang), "int") for c in wide.columns if c != "month"
    ]
    return _table(wide, columns)


def map_section(report: MonthlyReport, lang: str) -> Section:
    return Section(
        "map", rt("map", lang), tables=[trend_table(report, lang)], images=["map", "trend"]
    )


def monthly_sections(report: MonthlyReport, lang: str = "zh") -> list[Section]:
    """Every section of the monthly report after the cover, in order."""
    return [
        headline_section(report, lang),
        units_section(report, lang),
        needs_section(report, lang),
        overdue_section(report, lang),
        hotspots_section(report, lang),
        workload_section(report, lang),
        publicity_section(report, lang),
        map_section(report, lang),
    ]


def shown_rows(table: Table, lang: str = "zh") -> list[list[str]]:
    """A table's rows as text (what the PDF and the page preview show)."""
    out = []
    for values in table.rows:
        row = []
        for column, value in zip(table.columns, values, strict=True):
            if isinstance(value, tuple):
                row.append(show(*value, lang=lang))
            else:
                row.append(show(value, column.fmt, lang))
        out.append(row)
    return out
