"""Reports (报表): generate the monthly report, the mediation statistics form or a mediation
agreement for the sidebar's area and role, preview it and download it."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import report_views, state, views
from dashboard.i18n import current_lang, tl, tr
from grid_model.errors import GridLawError
from grid_model.reports.mediation import row_label
from grid_model.reports.period import ReportMonth
from reporting.files import MIME
from reporting.sections import headline_section, hotspot_sentences, shown_rows

state.page_header("reports_title")
filters = state.sidebar()
lang = current_lang()
st.caption(tr("report_scope"))
KINDS = ("monthly", "mediation", "agreement")
kind = st.radio(
    tr("report_kind"),
    KINDS,
    format_func=lambda k: tl("report_kind", k),
    horizontal=True,
    key="report_kind",
)
last_month = ReportMonth(filters.today.year, filters.today.month).previous()


def _offer(name: str, data: bytes, fmt: str) -> None:
    st.download_button(
        tr("report_download", name=name),
        data,
        file_name=name,
        mime=MIME[fmt],
        key="report_download",
    )


try:
    if kind == "monthly":
        month = st.text_input(tr("report_month"), str(last_month), key="report_month")
        fmt = st.radio(tr("report_format"), ("xlsx", "pdf"), horizontal=True, key="report_format")
        if st.button(tr("report_generate"), key="report_generate"):
            report, data = report_views.monthly(
                month,
                filters.scope.area_code,
                filters.viewer,
                day=filters.today,
                fmt=fmt,
                lang=lang,
            )
            st.subheader(tr("report_preview"))
            table = headline_section(report, lang).tables[0]
            st.dataframe(
                pd.DataFrame(shown_rows(table, lang), columns=[c.header for c in table.columns]),
                hide_index=True,
                key="report_headline",
            )
            for sentence in hotspot_sentences(report, lang):
                st.text(sentence)
            _offer(f"monthly_{report.month}.{fmt}", data, fmt)
    elif kind == "mediation":
        start = st.date_input(tr("report_start"), last_month.start, key="report_start")
        end = st.date_input(tr("report_end"), last_month.end, key="report_end")
        if st.button(tr("report_generate"), key="report_generate"):
            form, data = report_views.mediation(
                start, end, filters.scope.area_code, filters.viewer, day=filters.today, lang=lang
            )
            st.subheader(tr("report_preview"))
            rows = form.rows.rename(index=lambda k: row_label(k, lang))
            st.dataframe(rows.rename(columns=lambda c: tr(f"report_col.{c}")), key="report_form")
            _offer(f"mediation_{start}_{end}.xlsx", data, "xlsx")
    else:
        st.info(tr("report_agreement_role"))
        case_id = st.number_input(tr("report_case_id"), min_value=1, step=1, key="report_case")
        if st.button(tr("report_generate"), key="report_generate"):
            data = report_views.agreement(int(case_id), filters.viewer, lang=lang)
            _offer(f"agreement_{int(case_id)}.docx", data, "docx")
except GridLawError as exc:
    views.show_error(exc)
