"""Overview (总览): headline KPIs of the chosen area and period, monthly needs by category."""

from __future__ import annotations

import altair as alt
import streamlit as st

from dashboard import state, views
from dashboard.i18n import tl, tr
from grid_model.errors import GridLawError

state.page_header("overview_title")
filters = state.sidebar()
views.scope_caption(filters)

try:
    kpis = state.kpis(filters.scope, day=filters.today)
    trend = state.trend(filters.scope)
except GridLawError as exc:
    views.show_error(exc)
    st.stop()

views.kpi_tiles(kpis)

st.subheader(tr("trend_title"))
if trend.empty:
    st.info(tr("no_data"))
else:
    data = trend.assign(category=trend["category"].map(lambda c: tl("category", c)))
    chart = (
        alt.Chart(data, title=tr("trend_title"))
        .mark_line(point=True)
        .encode(
            x=alt.X("month:O", title=tr("month")),
            y=alt.Y("count:Q", title=tr("count")),
            color=alt.Color("category:N", title=tr("category")),
            tooltip=[
                alt.Tooltip("month:O", title=tr("month")),
                alt.Tooltip("category:N", title=tr("category")),
                alt.Tooltip("count:Q", title=tr("count")),
            ],
        )
    )
    st.altair_chart(chart, key="trend_chart", width="stretch")
