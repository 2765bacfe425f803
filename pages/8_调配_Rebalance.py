"""Rebalance (调配): plan which grid assistant covers which grids — contiguous territories,
balanced workloads, few moves, locked grids kept — compare before/after, apply (new assignment
periods and an audit entry; history is kept) and undo by applying the previous plan."""

from __future__ import annotations

import streamlit as st

from dashboard import analysis_state, maps, state, views
from dashboard.escaping import md_tr
from dashboard.i18n import current_lang, texts, tr
from grid_model.errors import GridLawError
from grid_model.scope import Scope

KEY_FLASH = "rb_flash"  # message of the last apply/undo, shown after the rerun
KEY_PLAN = "rb_plan"  # the plan shown (not yet applied)
KEY_APPLIED = "rb_applied_plan"  # the last applied plan, for undo
SERVICE = "grid_model.rebalance.rebalance_community / apply_plan"

state.page_header("rebalance_title")
filters = state.sidebar(statuses=False, role_default="planner")
views.scope_caption(filters)
st.caption(tr("rb_intro"))

try:
    grids = state.grids(Scope(area_code=filters.scope.area_code))
    current = analysis_state.current_assignment(filters.scope, day=filters.today)
except GridLawError as exc:
    views.show_error(exc)
    st.stop()
if grids.empty:
    st.info(tr("rb_no_grids"))
    st.stop()
today_k = int(current["assistant"].nunique())
if today_k == 0:
    st.info(tr("rb_no_assistants"))

codes = grids["code"].tolist()
names = dict(zip(grids["code"], grids["name"], strict=True))
c1, c2, c3, c4 = st.columns([1, 1, 3, 1])
k = c1.number_input(
    tr("rb_k"),
    min_value=1,
    max_value=max(1, len(codes)),
    value=max(1, min(today_k, len(codes))),
    step=1,
    key="rb_k",
    help=tr("rb_k_help", n=today_k),
)
tolerance_pct = c2.number_input(
    tr("rb_tolerance"),
    min_value=1,
    max_value=50,
    value=10,
    step=1,
    key="rb_tolerance",
    help=tr("rb_tolerance_help"),
)
locked = c3.multiselect(
    tr("rb_locked"), codes, format_func=lambda c: f"{names[c]} · {c}", key="rb_locked"
)
basemap = c4.selectbox(
    tr("basemap"), ("none", "osm"), format_func=texts("basemap."), key="rb_basemap"
)

pickers = st.container()  # who the plan's new assistants are, above the buttons
b1, b2, b3 = st.columns(3)
run = b1.button(tr("rb_run"), key="rb_run", type="primary")
if run:
    try:
        st.session_state[KEY_PLAN] = analysis_state.plan_rebalance(
            filters.scope,
            k=None if k == today_k else int(k),
            tolerance=tolerance_pct / 100,
            locked=tuple(locked),
        )
    except ImportError:
        st.info(tr("service_missing", name=SERVICE))
    except GridLawError as exc:
        views.show_error(exc)

plan = st.session_state.get(KEY_PLAN)
new_workers: dict[str, str] = {}
cannot_apply = plan is None
if plan is not None and plan.new_assistants():
    wanted = plan.new_assistants()
    spare = analysis_state.spare_assistants(filters.scope, day=filters.today)
    who = dict(zip(spare["code"], spare["name"], strict=True))
    with pickers:
        st.markdown(tr("rb_new_title"))
        if len(spare) < len(wanted):
            st.warning(tr("rb_new_missing", n=len(wanted), spare=len(spare)))
            cannot_apply = True
        else:
            cols = st.columns(min(4, len(wanted)))
            for i, label in enumerate(wanted):
                new_workers[label] = cols[i % len(cols)].selectbox(
                    md_tr("rb_new_who", label=label),
                    list(who),
                    index=i,
                    format_func=lambda c: f"{who[c]} · {c}",
                    key=f"rb_new_{label}",
                )
            if len(set(new_workers.values())) < len(new_workers):
                st.warning(tr("rb_new_twice"))
                cannot_apply = True
force = False
if plan is not None and not (plan.contiguous and plan.locks_respected):
    cannot_apply = True  # the service refuses such a plan; the summary below says why
elif plan is not None and not plan.within_tolerance:
    force = pickers.checkbox(tr("rb_force"), key="rb_force", help=tr("rb_force_help"))
    cannot_apply = cannot_apply or not force
may = filters.viewer.may("rebalance")
if not may:
    views.not_allowed(filters.viewer, "rebalance")
apply = b2.button(tr("rb_apply"), key="rb_apply", disabled=cannot_apply or not may)
undo = b3.button(
    tr("rb_undo"), key="rb_undo", disabled=KEY_APPLIED not in st.session_state or not may
)
if apply and plan is not None:
    try:
        applied = analysis_state.apply_plan(
            plan, viewer=filters.viewer, on=filters.today, new_workers=new_workers, force=force
        )
    except ImportError:
        st.info(tr("service_missing", name=SERVICE))
    except GridLawError as exc:
        views.show_error(exc)
    else:
        st.session_state[KEY_APPLIED] = applied
        del st.session_state[KEY_PLAN]
        # Rerun so the buttons above are drawn again with Undo enabled.
        st.session_state[KEY_FLASH] = tr("rb_applied", moved=plan.moved, on=filters.today)
        st.rerun()
if undo and KEY_APPLIED in st.session_state:
    back = analysis_state.reverse_plan(st.session_state[KEY_APPLIED])
    try:
        # restoring what was there is meant, whatever its balance
        analysis_state.apply_plan(back, viewer=filters.viewer, on=filters.today, force=True)
    except GridLawError as exc:
        views.show_error(exc)
    else:
        del st.session_state[KEY_APPLIED]
        st.session_state[KEY_FLASH] = tr("rb_undone")
        st.rerun()
if KEY_FLASH in st.session_state:
    st.success(st.session_state.pop(KEY_FLASH))

before = dict(zip(current["grid_code"], current["assistant"], strict=True))
lang = current_lang()
if plan is None:
    st.caption(tr("rb_hint"))
    st.markdown(f"**{tr('rb_before')}**")
    m = maps.build_territory_map(grids, before, basemap=basemap, lang=lang)
    state.show_map(m, key="rb_map_before", height=480)
    st.stop()

after = plan.mapping()
moved = plan.assignment.loc[plan.assignment["moved"], "grid_code"].tolist()
colors = maps.territory_colors([*before.values(), *after.values()])
yes, no = tr("yes"), tr("no")
st.info(
    tr(
        "rb_summary",
        dev=views.fmt_rate(plan.max_deviation),
        moved=plan.moved,
        contiguous=yes if plan.contiguous else no,
        ok=yes if plan.within_tolerance else no,
    )
)
if getattr(plan, "message", ""):
    views.say("caption", plan.message)
left, right = st.columns(2)
with left:
    st.markdown(f"**{tr('rb_before')}**")
    m = maps.build_territory_map(grids, before, colors=colors, basemap=basemap, lang=lang)
    state.show_map(m, key="rb_map_before", height=460)
with right:
    st.markdown(f"**{tr('rb_after')}**")
    m = maps.build_territory_map(
        grids, after, colors=colors, moved=moved, basemap=basemap, lang=lang
    )
    state.show_map(m, key="rb_map_after", height=460)

st.subheader(tr("rb_loads"))
loads = plan.loads.copy()
loads["deviation"] = loads["deviation"].map(views.fmt_rate)
st.dataframe(
    analysis_state.table(loads, ["assistant", "capacity", "grids", "load", "target", "deviation"]),
    hide_index=True,
    key="rb_loads",
)
st.subheader(tr("rb_moves"))
moves = plan.moves().rename(
    columns={"previous": "assistant_before", "assistant": "assistant_after"}
)
moves.insert(1, "grid_name", moves["grid_code"].map(names))
st.dataframe(
    analysis_state.table(
        moves, ["grid_code", "grid_name", "assistant_before", "assistant_after", "workload"]
    ),
    hide_index=True,
    key="rb_moves",
)
