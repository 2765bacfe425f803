"""督办 / Supervision: the street office's list of overdue cases (supervise one with a
deadline), every indicator of the closed loop, and the per-community ranking."""

from __future__ import annotations

import streamlit as st

from dashboard import case_views, state, views
from dashboard.i18n import tr
from grid_model.cases.steps import SUPERVISORS
from grid_model.errors import GridLawError

MIN_CASES = 5
COLUMNS = ["external_id", "grid_code", "category", "status", "assignee_code", "due_on",
           "days_overdue", "supervised_due"]  # fmt: skip

state.page_header("supervision_title")
filters = state.sidebar(role_default="street_office", statuses=False)
views.scope_caption(filters)
case_views.flash()
listed, figures, ranking = st.tabs(
    [tr("supervision_list"), tr("indicators_title"), tr("ranking_title")]
)
try:
    overdue = case_views.supervision_list(filters.scope, filters.viewer, day=filters.today)
except GridLawError as exc:
    views.show_error(exc)
    st.stop()

with listed:
    if overdue.empty:
        st.info(tr("supervision_none"))
    else:
        st.dataframe(case_views.table(overdue, COLUMNS), hide_index=True, key="overdue_table")
        ids = overdue["id"].tolist()
        external = dict(zip(overdue["id"], overdue["external_id"], strict=True))
        picked = st.selectbox(tr("supervision_pick"), [None, *ids], key="supervise_pick",
                              format_func=lambda i: "—" if i is None else f"{external[i]} (#{i})")  # fmt: skip
        if picked is not None:
            if filters.viewer.role in SUPERVISORS:
                detail = case_views.case_detail(int(picked), filters.viewer)
                case_views.step_forms(detail, filters.viewer, acting_for=None, key="sup",
                                      steps=["supervise"])  # fmt: skip
            else:
                case_views.case_page(int(picked), filters.viewer, acting_for=None, key="supcase")
# the indicators and the ranking read every case of the area: computed when asked for
with figures:
    if st.toggle(tr("indicators_show"), key="loop_show"):
        try:
            loop = case_views.case_indicators(filters.scope, filters.viewer, day=filters.today)
        except GridLawError as exc:
            views.show_error(exc)
        else:
            case_views.indicator_tiles(loop, key="loop")
with ranking:
    st.caption(tr("ranking_help", n=MIN_CASES))
    if st.toggle(tr("ranking_show"), key="ranking_show"):
        try:
            ranked = case_views.community_ranking(filters.scope, filters.viewer,
                                                  day=filters.today, min_cases=MIN_CASES)  # fmt: skip
        except GridLawError as exc:
            views.show_error(exc)
        else:
            st.dataframe(case_views.table(ranked), hide_index=True, key="ranking_table")
