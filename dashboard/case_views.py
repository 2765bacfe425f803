"""Dashboard support of the closed-loop pages (我的待办 / My cases, 督办 / Supervision, the
caseload on the Workload page): cached reads of :mod:`grid_model.cases` and small renderers
(a case's page with its timeline and map, the one-click step form). Domain rules stay in
``grid_model.cases``; every write goes through :func:`dashboard.session.run_write`.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st
from sqlalchemy import select

from dashboard import case_file_views, maps, views
from dashboard.cache import cached
from dashboard.escaping import md_text, md_tr
from dashboard.i18n import current_lang, tl, tr
from dashboard.reads import grids
from dashboard.session import run_write, session
from dashboard.state import show_map
from grid_model.cases import caseload, indicators
from grid_model.cases import views as case_reads
from grid_model.cases.steps import PRIORITIES, SATISFACTION, STEPS
from grid_model.cases.workflow import apply_step
from grid_model.errors import GridLawError
from grid_model.models import Outcome, Worker
from grid_model.scope import Scope, Viewer

FLASH = "loop_flash"
_KINDS = {"status": "status", "category": "category", "outcome": "outcome",
          "priority": "priority", "satisfaction": "satisfaction", "group": "group",
          "step": "step", "to": "status", "from": "status", "role": "role",
          "dispute_type": "dispute_type"}  # fmt: skip

case_indicators = cached(indicators.case_indicators, names={"day": "as_of"}, lang=True)
community_ranking = cached(caseload.community_ranking, names={"day": "as_of"}, lang=True)
worker_caseload = cached(caseload.worker_caseload, lang=True)
supervision_list = cached(case_reads.supervision_list, names={"day": "today"}, lang=True)


def table(frame: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
    """``frame`` with enum codes and headers in the user's language (cells stay text)."""
    cols = [c for c in (columns or list(frame.columns)) if c in frame.columns]
    out = frame[cols].copy()
    for col in cols:
        kind = _KINDS.get(col)
        if kind:
            out[col] = views.labelled(out[col], kind)
    return views.translated(out)


def flash() -> None:
    """Show what the last write said (kept across the rerun that follows it)."""
    if FLASH in st.session_state:
        st.success(st.session_state.pop(FLASH))


def workers() -> pd.DataFrame:
    """Active workers (code, name, role): whom a case may be dispatched to."""
    with session() as s:
        rows = s.execute(select(Worker.code, Worker.name, Worker.role).where(Worker.active)
                         .order_by(Worker.code)).all()  # fmt: skip
    return pd.DataFrame(rows, columns=["code", "name", "role"])


def my_cases(viewer: Viewer, *, worker_code: str | None, today: dt.date) -> pd.DataFrame:
    """Not cached: a worker's list changes with every step they take."""
    with session() as s:
        return case_reads.my_cases(s, viewer, worker_code=worker_code, today=today,
                                   lang=current_lang())  # fmt: skip


def case_detail(need_id: int, viewer: Viewer) -> dict:
    with session() as s:
        return case_reads.case_detail(s, need_id, viewer, lang=current_lang())


def take_step(need_id: int, step: str, viewer: Viewer, *, expected: str,
              acting_for: str | None, **values) -> bool:  # fmt: skip
    """Apply a step (the form saw the case in ``expected``); True when stored."""
    lang = current_lang()
    try:
        event = run_write(lambda s: apply_step(s, need_id, step, viewer, expected_status=expected,
                                               acting_for=acting_for, lang=lang, **values))  # fmt: skip
    except GridLawError as exc:
        views.show_error(exc)
        return False
    st.session_state[FLASH] = md_tr("case_step_saved", id=need_id, step=tl("step", event.step))
    return True


def _values_form(step: str, key: str, detail: dict, people: pd.DataFrame) -> dict:
    """The widgets of a step's values (only those it takes)."""
    spec = STEPS[step]
    wanted = spec.required + spec.optional
    values: dict = {}
    if "to" in wanted:
        names = dict(zip(people["code"], people["name"], strict=True))
        values["to"] = st.selectbox(tr("case_to"), list(names), key=f"{key}_to",
                                    format_func=lambda c: f"{names[c]} · {c}")  # fmt: skip
    if "priority" in wanted:
        values["priority"] = st.selectbox(tr("case_priority"), PRIORITIES, key=f"{key}_prio",
                                          format_func=lambda p: tl("priority", p))  # fmt: skip
    if "reason" in wanted:
        values["reason"] = st.text_input(tr("case_reason"), key=f"{key}_reason")
    if "outcome" in wanted and step != "verify":
        fit = [o.value for o in Outcome
               if detail["category"] == "mediation" or o.value not in ("mediated", "mediation_failed")]  # fmt: skip
        values["outcome"] = st.selectbox(tr("outcome"), fit, key=f"{key}_outcome",
                                         format_func=lambda o: tl("outcome", o))  # fmt: skip
    if "passed" in wanted:
        values["passed"] = st.checkbox(tr("case_passed"), value=True, key=f"{key}_passed")
    if "satisfaction" in wanted:
        values["satisfaction"] = st.selectbox(tr("case_satisfaction"), SATISFACTION,
                                              key=f"{key}_sat",
                                              format_func=lambda v: tl("satisfaction", v))  # fmt: skip
    if "performing" in wanted and detail["category"] == "mediation":
        values["performing"] = st.checkbox(tr("case_performing"), value=True, key=f"{key}_perf")
    if "due" in wanted:
        values["due"] = st.date_input(tr("case_due"), key=f"{key}_due")
    return values


def step_forms(detail: dict, viewer: Viewer, *, acting_for: str | None, key: str,
               steps: list[str] | None = None) -> None:  # fmt: skip
    """One button per step allowed from the case's status (``steps``: those of them to offer),
    each with the few values it takes; a stored step reruns the page."""
    offered = [s for s in detail["allowed_steps"] if steps is None or s in steps]
    if not offered:
        return
    people = workers()
    for step in offered:
        with st.form(f"{key}_{step}", border=True):
            values = _values_form(step, f"{key}_{step}", detail, people)
            note = st.text_input(tr("case_note"), key=f"{key}_{step}_note")
            go = st.form_submit_button(tr("case_take", step=tl("step", step)))
        if go and take_step(int(detail["id"]), step, viewer, expected=detail["status"],
                            acting_for=acting_for, note=note or None, **values):  # fmt: skip
            st.rerun()


def case_page(need_id: int, viewer: Viewer, *, acting_for: str | None, key: str) -> None:
    """A case: its fields, its timeline, its place on a map, its mediation file, the steps."""
    try:
        detail = case_detail(need_id, viewer)
    except GridLawError as exc:
        views.show_error(exc)
        return
    st.subheader(md_text(f"{detail['external_id']} · #{detail['id']}"))
    fields = {
        k: v
        for k, v in detail.items()
        if k not in ("timeline", "mediation", "allowed_steps", "lon", "lat")
    }
    shown = table(pd.DataFrame([fields]))
    left, right = st.columns([3, 2])
    left.dataframe(pd.DataFrame({"": shown.columns, " ": [str(v) for v in shown.iloc[0]]}),
                   hide_index=True, key=f"{key}_fields")  # fmt: skip
    with right:
        area = Scope(area_code=detail.get("grid_code") or None)
        point = (detail["lon"], detail["lat"]) if detail.get("lon") is not None else None
        show_map(maps.build_pick_map(grids(area), point=point, lang=current_lang()),
                 key=f"{key}_map", height=300)  # fmt: skip
    st.markdown(f"**{tr('case_timeline')}**")
    timeline = pd.DataFrame(detail["timeline"])
    if len(timeline):
        timeline["actor"] = timeline["actor"] + timeline["synthesised"].map(
            {True: " ＊", False: ""}
        )
        st.dataframe(table(timeline, ["at", "step", "from", "to", "actor", "role", "note"]),
                     hide_index=True, key=f"{key}_timeline")  # fmt: skip
        if timeline["synthesised"].any():
            st.caption(tr("case_synthesised"))
    people = workers()
    mediators = list(people.loc[people["role"] == "mediator", "code"])
    case_file_views.file_section(detail, viewer, key=key, mediators=mediators)
    st.markdown(f"**{tr('case_next_steps')}**")
    step_forms(detail, viewer, acting_for=acting_for, key=key)


def indicator_tiles(figures, *, key: str) -> None:
    """The loop's rates as metric tiles."""
    names = ["closure_rate", "on_time_rate", "acceptance_rate", "timely_acceptance_rate",
             "rework_rate", "visit_rate", "satisfaction_rate", "mediation_success_rate",
             "agreement_performance_rate"]  # fmt: skip
    cols = st.columns(3)
    for i, name in enumerate(names):
        with cols[i % 3]:
            views.metric(f"{key}_{name}", tr(f"ind.{name}"), views.fmt_rate(getattr(figures, name)))
    cols = st.columns(3)
    for col, name in zip(cols, ["median_hours_to_accept", "median_days_to_close"], strict=False):
        with col:
            views.metric(
                f"{key}_{name}", tr(f"ind.{name}"), views.fmt_number(getattr(figures, name), 1)
            )


def caseload_section(filters) -> None:
    """The caseload of everyone cases are dispatched to, any role (Workload page)."""
    st.subheader(tr("caseload_title"))
    roles = [None, *sorted({"grid_assistant", "mediator", "lawyer", "info_officer", "volunteer"})]
    role = st.selectbox(tr("caseload_role"), roles, key="caseload_role",
                        format_func=lambda r: tr("all") if r is None else tl("role", r))  # fmt: skip
    try:
        frame = worker_caseload(filters.scope, filters.viewer, day=filters.today, role=role)
    except GridLawError as exc:
        views.show_error(exc)
        return
    if frame.empty:
        st.info(tr("caseload_none"))
        return
    st.dataframe(table(frame), hide_index=True, key="caseload_table")
