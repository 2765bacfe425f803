"""Cases (案件): search and sort needs, open one, change its status; record a new need in the
grid legal-needs diary, located by a click on the map, typed coordinates or a grid."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import maps, report_views, state, views
from dashboard.escaping import md_tr
from dashboard.i18n import current_lang, labels, texts, tl, tr
from grid_model.errors import GridLawError
from grid_model.models import Category, Outcome, Source
from grid_model.needs import cases
from grid_model.scope import Scope

LIMIT = 200
FLASH = "case_flash"
POINT = "diary_point"
TABLE_COLUMNS = [
    "id",
    "external_id",
    "reported_at",
    "grid_code",
    "category",
    "dispute_type",
    "status",
    "due_date",
    "closed_at",
    "outcome",
    "source",
    "quality",
    "worker_code",
    "resident_name",
    "resident_phone",
    "description",
]

state.page_header("cases_title")
filters = state.sidebar(role_default="grid_assistant")
lang = current_lang()
if FLASH in st.session_state:
    kind, message = st.session_state.pop(FLASH)
    (st.success if kind == "success" else st.info)(message)

search_tab, diary_tab = st.tabs([tr("tab_search"), tr("tab_diary")])

# --- search, detail, status -----------------------------------------------------------------
with search_tab:
    c1, c2, c3 = st.columns([3, 1, 1])
    text = c1.text_input(tr("search"), key="case_search")
    sort = c2.selectbox(tr("sort_by"), cases.SORTABLE, format_func=texts("sort."), key="case_sort")
    descending = c3.toggle(tr("descending"), value=True, key="case_desc")
    try:
        found = state.search_needs(
            filters.scope,
            filters.viewer,
            text=text,
            sort=sort,
            descending=descending,
            limit=LIMIT,
            lang=lang,
        )
    except GridLawError as exc:
        views.show_error(exc)
        st.stop()
    st.caption(tr("cases_found", n=len(found), limit=LIMIT))
    st.dataframe(views.translated(found, TABLE_COLUMNS), hide_index=True, key="case_table")

    ids = found["id"].tolist()
    external = dict(zip(found["id"], found["external_id"], strict=True))
    if st.session_state.get("case_pick") not in (None, *ids):
        del st.session_state["case_pick"]
    picked = st.selectbox(
        tr("case_pick"),
        [None, *ids],
        format_func=lambda i: "—" if i is None else f"{external[i]} (#{i})",
        key="case_pick",
    )
    if picked is not None:
        try:
            detail = state.need_detail(int(picked), filters.viewer, lang=lang)
        except GridLawError as exc:
            views.show_error(exc)
            st.stop()
        st.subheader(tr("case_detail"))
        fields = {k: v for k, v in detail.items() if k != "history"}
        shown = views.translated(pd.DataFrame([fields]))
        st.dataframe(
            pd.DataFrame({"": shown.columns, " ": [str(v) for v in shown.iloc[0]]}),
            hide_index=True,
            key="case_fields",
        )
        if detail["history"]:
            st.markdown(f"**{tr('case_history')}**")
            st.dataframe(pd.DataFrame(detail["history"]), hide_index=True, key="case_history")
        report_views.agreement_button(detail, filters.viewer, lang=lang)

        allowed = [s for s in cases.STATUS_FLOW if s in cases.TRANSITIONS.get(detail["status"], ())]
        if not allowed:
            st.info(tr("status_closed_final"))
        elif not filters.viewer.may("change_status"):
            views.not_allowed(filters.viewer, "change_status")
        else:
            with st.form("status_form"):
                st.markdown(f"**{tr('status_form')}**")
                new_status = st.selectbox(
                    tr("new_status"), allowed, format_func=labels("status"), key="case_new_status"
                )
                outcome = st.selectbox(
                    tr("outcome"),
                    [None, *(o.value for o in Outcome)],
                    format_func=labels("outcome"),
                    key="case_outcome",
                )
                on = st.date_input(tr("status_on"), value=filters.today, key="case_status_on")
                submitted = st.form_submit_button(tr("submit_status"))
            if submitted:
                try:
                    need = state.run_write(
                        lambda s: cases.change_status(
                            s,
                            int(picked),
                            new_status,
                            outcome=outcome if new_status == "closed" else None,
                            viewer=filters.viewer,
                            on=on,
                            expected=detail["status"],  # what the form was offered from
                            lang=lang,
                        )
                    )
                except GridLawError as exc:
                    views.show_error(exc)
                else:
                    st.session_state[FLASH] = (
                        "success",
                        md_tr(
                            "status_saved", id=need.external_id, status=tl("status", need.status)
                        ),
                    )
                    st.rerun()

# --- diary: record a need ---------------------------------------------------------------------
with diary_tab:
    if not filters.viewer.may("record_need"):
        views.not_allowed(filters.viewer, "record_need")
        st.stop()  # the diary is the page's last part
    st.caption(tr("diary_role_note", role=tl("role", filters.viewer.role)))
    grids = state.grids(Scope(area_code=filters.scope.area_code))
    mode = st.radio(
        tr("diary_locate"),
        ("map", "coords", "grid"),
        format_func=texts("locate."),
        key="diary_locate",
        horizontal=True,
    )
    lon = lat = None
    crs = "wgs84"
    if mode == "map":
        st.caption(tr("diary_map_hint"))
        point = st.session_state.get(POINT)
        clicked = state.show_map(
            maps.build_pick_map(grids, point=point, lang=lang),
            key="diary_map",
            height=380,
            returned_objects=["last_clicked"],
        )
        last = (clicked or {}).get("last_clicked")
        if last and (round(last["lng"], 6), round(last["lat"], 6)) != point:
            st.session_state[POINT] = (round(last["lng"], 6), round(last["lat"], 6))
            st.rerun()  # draw the marker where the user clicked
        if point:
            lon, lat = point
            st.caption(tr("diary_clicked", lon=lon, lat=lat))
    elif mode == "coords":
        k1, k2, k3 = st.columns(3)
        lon = k1.text_input(tr("lon"), key="diary_lon")
        lat = k2.text_input(tr("lat"), key="diary_lat")
        crs = k3.selectbox(
            tr("coord_system"),
            ("wgs84", "gcj02", "bd09"),
            format_func=texts("crs."),
            key="diary_crs",
        )
    elif len(grids):
        names = dict(zip(grids["code"], grids["name"], strict=True))
        code = st.selectbox(
            tr("grid"),
            list(names),
            format_func=lambda c: f"{names[c]} · {c}",
            key="diary_grid",
        )
        lon, lat = state.grid_point(grids, code)
        st.caption(tr("diary_grid_point"))

    with st.form("diary_form"):
        f1, f2, f3 = st.columns(3)
        category = f1.selectbox(
            tr("category"), [c.value for c in Category], format_func=labels("category"),
            key="diary_category",
        )  # fmt: skip
        reported = f2.date_input(tr("reported_at"), value=state.today(), key="diary_date")
        source = f3.selectbox(
            tr("source"),
            [s.value for s in Source],
            format_func=labels("source"),
            key="diary_source",
        )
        dispute = st.selectbox(
            tr("dispute_type"),
            [None, *state.dispute_types()],
            format_func=lambda d: "—" if d is None else tl("dispute_type", d),
            key="diary_dispute",
        )
        description = st.text_area(tr("description"), key="diary_description")
        r1, r2, r3 = st.columns(3)
        resident = r1.text_input(tr("resident_name"), key="diary_resident")
        phone = r2.text_input(tr("resident_phone"), key="diary_phone")
        external_id = r3.text_input(tr("optional_id"), key="diary_external_id")
        correction = st.checkbox(tr("under_correction"), key="diary_correction")
        save = st.form_submit_button(tr("submit_need"))
    if save:
        if mode == "map" and lon is None:
            st.error(tr("diary_no_point"))
        else:
            data = cases.NeedInput(
                lon=lon,
                lat=lat,
                category=category,
                reported_at=reported if isinstance(reported, dt.date) else None,
                source=source,
                description=description or None,
                external_id=external_id.strip() or None,
                dispute_type=dispute,
                resident_name=resident or None,
                resident_phone=phone or None,
                under_correction=correction,
            )
            try:
                need, created = state.run_write(
                    lambda s: cases.record_need(s, data, viewer=filters.viewer, crs=crs, lang=lang)
                )
            except GridLawError as exc:
                views.show_error(exc)  # the form keeps what was typed: send it again
            else:
                grid = need.grid_code or tr("no_grid")
                if created:
                    st.success(md_tr("need_saved", id=need.external_id, grid=grid))
                else:
                    st.info(md_tr("need_exists", id=need.external_id))
