"""Workload (工作量): per grid assistant — open, new and closed cases, days to close, on-time
rate, overdue, diary compliance and the weighted workload index, ranked fairly."""

from __future__ import annotations

import altair as alt
import streamlit as st

from dashboard import case_views, state, views
from dashboard.i18n import tl, tr
from grid_model.errors import GridLawError
from grid_model.measures.workload import ASSISTANT_COLUMNS, DEFAULT_WEIGHTS

state.page_header("workload_title")
filters = state.sidebar(statuses=False)
scope = filters.scope
start, end = scope.start, scope.end or filters.today
if start is None:
    start, end = state.period_dates("12m", filters.today)
st.caption(tr("workload_period", start=start.isoformat(), end=end.isoformat()))

with st.expander(tr("workload_weights")):
    st.caption(tr("workload_weights_help"))
    cols = st.columns(len(DEFAULT_WEIGHTS))
    weights = {
        category: col.number_input(
            tl("category", category),
            min_value=0.0,
            max_value=10.0,
            value=float(default),
            step=0.5,
            key=f"w_{category}",
        )
        for col, (category, default) in zip(cols, DEFAULT_WEIGHTS.items(), strict=True)
    }
    min_cases = st.number_input(
        tr("min_cases"),
        min_value=0,
        max_value=100,
        value=5,
        key="min_cases",
        help=tr("min_cases_help"),
    )

case_views.caseload_section(filters)

try:
    table = state.workload(
        scope,
        start=start,
        end=end,
        weights=weights,
        min_cases=int(min_cases),
        day=filters.today,
    )
except GridLawError as exc:
    views.show_error(exc)
    st.stop()

if table.empty:
    st.info(tr("workload_none"))
    st.stop()

shown = table[ASSISTANT_COLUMNS].copy()
shown["ranked"] = [tr("ranked_yes") if r else tr("unranked") for r in shown["ranked"]]
rates = {"on_time_rate", "diary_compliance"}
for col in rates:
    shown[col] = [views.fmt_rate(v) for v in shown[col]]
for col in ("mean_days", "median_days", "workload", "workload_per_1000"):
    shown[col] = shown[col].round(1)
shown["rank"] = shown["rank"].astype("Int64")
st.dataframe(
    shown.rename(columns={c: tr(f"col.{c}") for c in shown.columns}),
    hide_index=True,
    key="workload_table",
)

chart_data = table.assign(
    ranking=[tr("ranked_yes") if r else tr("unranked") for r in table["ranked"]],
    label=table["assistant"] + " · " + table["assistant_code"],
)
chart = (
    alt.Chart(chart_data, title=tr("workload_chart"))
    .mark_bar()
    .encode(
        x=alt.X("workload:Q", title=tr("col.workload")),
        y=alt.Y("label:N", sort="-x", title=tr("col.assistant")),
        color=alt.Color("ranking:N", title=tr("col.ranked")),
        tooltip=[
            alt.Tooltip("label:N", title=tr("col.assistant")),
            alt.Tooltip("workload:Q", title=tr("col.workload"), format=".1f"),
            alt.Tooltip("open:Q", title=tr("col.open")),
            alt.Tooltip("new:Q", title=tr("col.new")),
            alt.Tooltip("rank:Q", title=tr("col.rank")),
        ],
    )
)
st.altair_chart(chart, key="workload_chart", width="stretch")
