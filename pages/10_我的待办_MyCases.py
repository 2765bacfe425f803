"""我的待办 / My cases: what a worker (assistant, mediator, lawyer…) has to act on — to
accept, overdue, due soon, in progress, to verify, to visit — each with its one-click steps,
and a case's page with its timeline and map."""

from __future__ import annotations

import streamlit as st

from dashboard import case_views, state, views
from dashboard.escaping import md_text
from dashboard.i18n import tl, tr
from grid_model.cases.steps import allowed_steps
from grid_model.cases.views import MY_GROUPS
from grid_model.errors import GridLawError

ROWS = 20
COLUMNS = ["external_id", "category", "status", "priority", "due_date", "supervised_due",
           "grid_code", "description"]  # fmt: skip

state.page_header("mycases_title")
filters = state.sidebar(role_default="mediator", categories=False, statuses=False)
viewer = filters.viewer
case_views.flash()

acting_for = None
worker_code = viewer.username
if viewer.username is None:  # the local administrator or the demo mode: pick the worker
    people = case_views.workers()
    names = dict(zip(people["code"], people["name"], strict=True))
    st.caption(tr("mycases_demo_worker"))
    worker_code = acting_for = st.selectbox(
        tr("mycases_worker"), [None, *names], key="mycases_worker",
        format_func=lambda c: "—" if c is None else f"{names[c]} · {c}",
    )  # fmt: skip

try:
    mine = case_views.my_cases(viewer, worker_code=worker_code, today=filters.today)
except GridLawError as exc:
    views.show_error(exc)
    st.stop()
if mine.empty:
    st.info(tr("mycases_none"))
    st.stop()

counts = mine["group"].value_counts()
groups = [g for g in MY_GROUPS if counts.get(g, 0)]
for tab, group in zip(st.tabs([f"{tl('group', g)} ({counts[g]})" for g in groups]), groups,
                      strict=True):  # fmt: skip
    with tab:
        rows = mine[mine["group"] == group]
        st.dataframe(case_views.table(rows, COLUMNS), hide_index=True, key=f"mine_{group}")
        for row in rows.head(ROWS).itertuples():
            with st.expander(md_text(f"{row.external_id} · {tl('status', row.status)}")):
                detail = {"id": row.id, "status": row.status, "category": row.category,
                          "allowed_steps": allowed_steps(row.status)}  # fmt: skip
                case_views.step_forms(detail, viewer, acting_for=acting_for, key=f"q{row.id}")

ids = mine["id"].tolist()
external = dict(zip(mine["id"], mine["external_id"], strict=True))
picked = st.selectbox(tr("case_open"), [None, *ids], key="mycases_pick",
                      format_func=lambda i: "—" if i is None else f"{external[i]} (#{i})")  # fmt: skip
if picked is not None:
    case_views.case_page(int(picked), viewer, acting_for=acting_for, key="mycase")
