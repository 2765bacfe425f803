"""One call per report and output format: what the command line and the Reports page use."""

from __future__ import annotations

from pathlib import Path

from grid_model.errors import InvalidInputError
from grid_model.messages import t
from grid_model.reports.agreement import AgreementCase
from grid_model.reports.mediation import MediationForm
from grid_model.reports.monthly import MonthlyReport
from reporting.labels import rt

#: The formats each report is written in.
FORMATS = {"monthly": ("xlsx", "pdf"), "mediation": ("xlsx",), "agreement": ("docx",)}
MIME = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def output_format(kind: str, path: str | Path, lang: str = "zh") -> str:
    """The format of ``path`` (its extension) when report ``kind`` is written in it."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS[kind]:
        choices = ", ".join(f".{f}" for f in FORMATS[kind])
        raise InvalidInputError(t("report_bad_format", lang, suffix=suffix[:20], choices=choices))
    return suffix


def monthly_images(report: MonthlyReport, lang: str = "zh") -> dict[str, bytes]:
    """The map and the trend chart of the report (PNG)."""
    from reporting import charts

    title = rt("map_title", lang, month=report.month)
    by_community = report.unit_level == "community"
    return {
        "map": charts.choropleth_png(
            report.grid_map, title=title, by_community=by_community, lang=lang
        ),
        "trend": charts.trend_png(report.trend, title=rt("trend_title", lang), lang=lang),
    }


def render_monthly(report: MonthlyReport, fmt: str, lang: str = "zh") -> bytes:
    images = monthly_images(report, lang)
    if fmt == "pdf":
        from reporting.pdf import monthly_pdf

        return monthly_pdf(report, images, lang)
    from reporting.xlsx import monthly_xlsx

    return monthly_xlsx(report, images, lang)


def render_mediation(form: MediationForm, lang: str = "zh") -> bytes:
    from reporting.xlsx import mediation_xlsx

    return mediation_xlsx(form, lang)


def render_agreement(case: AgreementCase) -> bytes:
    from reporting.docx import agreement_docx

    return agreement_docx(case)
