"""The Reports page's reads: one service call and one rendering per button (not cached: a
report says when it was generated)."""

from __future__ import annotations

import datetime as dt

from dashboard.session import session
from grid_model.reports.agreement import agreement_case
from grid_model.reports.mediation import MediationForm, mediation_form
from grid_model.reports.monthly import MonthlyReport, monthly_report
from grid_model.scope import Viewer
from reporting import files


def monthly(
    month: str, area_code: str | None, viewer: Viewer, *, day: dt.date, fmt: str, lang: str
) -> tuple[MonthlyReport, bytes]:
    with session() as s:
        report = monthly_report(
            s, month=month, area_code=area_code, viewer=viewer, today=day, lang=lang
        )
    return report, files.render_monthly(report, fmt, lang)


def mediation(
    start: dt.date, end: dt.date, area_code: str | None, viewer: Viewer, *, day: dt.date, lang: str
) -> tuple[MediationForm, bytes]:
    with session() as s:
        form = mediation_form(
            s, start=start, end=end, area_code=area_code, viewer=viewer, today=day, lang=lang
        )
    return form, files.render_mediation(form, lang)


def agreement(case_id: int, viewer: Viewer, *, lang: str) -> bytes:
    with session() as s:
        case = agreement_case(s, case_id, viewer, lang=lang)
    return files.render_agreement(case)


def agreement_button(detail: dict, viewer: Viewer, *, lang: str) -> None:
    """On the Cases page: a download of the mediation agreement of a mediation case, for
    roles that may see personal data (the service checks again)."""
    import streamlit as st

    from dashboard.i18n import tr
    from dashboard.views import show_error
    from grid_model.errors import GridLawError

    if detail.get("category") != "mediation" or not viewer.sees_personal_data:
        return
    try:
        data = agreement(int(detail["id"]), viewer, lang=lang)
    except GridLawError as exc:
        show_error(exc)
        return
    name = f"agreement_{int(detail['id'])}.docx"
    st.download_button(
        tr("report_download", name=name),
        data,
        file_name=name,
        mime=files.MIME["docx"],
        key="case_agreement",
    )
