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
