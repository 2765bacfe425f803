"""Reports as PDF: HTML from a Jinja2 template (autoescaped), laid out by WeasyPrint.

Why WeasyPrint: the report is tables and text in Chinese. WeasyPrint takes the fonts from
fontconfig (Noto Sans CJK of ``fonts-noto-cjk``) and embeds the subsets it uses, follows CSS
paged media (A4, ``counter(page)``/``counter(pages)`` in the footer, table headers repeated
on every page, no row split across pages) and escapes through Jinja2's autoescape alone.
reportlab would need the CJK font registered by hand (one face of the .ttc), and every table
break and page number laid out in code.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from functools import cache
from importlib import resources

import jinja2

from grid_model.reports.monthly import MonthlyReport
from reporting.labels import rt
from reporting.sections import Section, cover, monthly_sections, shown_rows

_NUMERIC = {"int", "pct", "days", "pp", "change", "mixed"}
#: Sections wide enough to start on a page of their own.
_WIDE = {"units", "map"}


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("reporting", "templates"),
        autoescape=True,  # every user string (area, grid and worker names) is escaped
        undefined=jinja2.StrictUndefined,
    )


@dataclass
class _ShownTable:
    headers: list[str]
    rows: list[list[tuple[str, bool]]]
    css: str


@dataclass
class _ShownSection:
    key: str
    title: str
    sentences: list[str]
    tables: list[_ShownTable]
    images: list[str]
    wide: bool


def _shown(section: Section, lang: str) -> _ShownSection:
    tables = []
    for table in section.tables:
        numeric = [c.fmt in _NUMERIC for c in table.columns]
        rows = [list(zip(row, numeric, strict=True)) for row in shown_rows(table, lang)]
        css = "small" if len(table.columns) > 10 else ""
        tables.append(_ShownTable([c.header for c in table.columns], rows, css))
    return _ShownSection(
        section.key, section.title, section.sentences, tables, section.images, section.key in _WIDE
    )


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def monthly_html(report: MonthlyReport, images: dict[str, bytes], lang: str = "zh") -> str:
    """The monthly report as HTML (what :func:`monthly_pdf` lays out)."""
    template = _environment().get_template("monthly.html")
    return template.render(
        lang=lang,
        title=rt("monthly_title", lang, area=report.area_name, month=report.month),
        cover=cover(report, lang),
        sections=[_shown(s, lang) for s in monthly_sections(report, lang)],
        images={name: _data_uri(png) for name, png in images.items()},
    )


def _template_base() -> str:
    return "file://" + str(resources.files("reporting").joinpath("templates")) + "/"


def _local_fetcher():
    """A fetcher of the template's own files and data: URIs only: a report never reaches the
    network, nor any file a string in it might name."""
    import weasyprint

    class LocalOnly(weasyprint.URLFetcher):
        def fetch(self, url, headers=None):
            base = _template_base()
            if not (url.startswith("data:") or (url.startswith(base) and ".." not in url)):
                raise ValueError(f"report resource not allowed: {url[:80]}")
            return super().fetch(url, headers)

    return LocalOnly(allowed_protocols=("file", "data"))


def html_to_pdf(html: str) -> bytes:
    """Lay out ``html`` (the stylesheets of ``reporting/templates`` beside it) as PDF."""
    import weasyprint  # heavy: only when a PDF is made

    document = weasyprint.HTML(string=html, base_url=_template_base(), url_fetcher=_local_fetcher())
    return document.write_pdf()


def monthly_pdf(report: MonthlyReport, images: dict[str, bytes], lang: str = "zh") -> bytes:
    """The monthly report as an A4 PDF with embedded CJK fonts and page numbers."""
    return html_to_pdf(monthly_html(report, images, lang))
