"""The people's-mediation case file (人民调解案卷) on a case page: a readable view of what
:func:`grid_model.cases.mediation.case_file` gives the viewer (personal data already redacted
there) and one form per action, shown to the roles the service allows. The services check
everything again; every write goes through :func:`dashboard.session.run_write`.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import views
from dashboard.escaping import md_text, md_tr
from dashboard.i18n import current_lang, tr
from dashboard.session import run_write
from grid_model.cases import mediation
from grid_model.errors import GridLawError
from grid_model.scope import Viewer

FLASH = "loop_flash"  # the case page's flash (dashboard.case_views.FLASH)
_FACTS = ("dispute_type", "accepted_on", "due_on", "extension_reason", "agreement_kind",
          "agreement_on", "agreement_text", "performance_due", "performance_result",
          "judicial_asked_on", "judicial_granted_on")  # fmt: skip


def _save(need_id: int, action: str, service, viewer: Viewer, **values) -> bool:
    """Run ``service`` for the case file; True when stored (an error is shown otherwise)."""
    lang = current_lang()
    try:
        run_write(lambda s: service(s, need_id, viewer, lang=lang, **values))
    except GridLawError as exc:
        views.show_error(exc)
        return False
    st.session_state[FLASH] = md_tr("cf_saved", id=need_id, action=tr(f"cf_{action}"))
    return True


def _fact(name: str, value: object) -> str:
    """A fact of the file as text, its vocabulary codes in the user's language."""
    if value is None:
        return ""
    if name == "agreement_kind":
        return tr(f"cf_kind_{value}")
    if name == "performance_result":
        return tr(f"cf_result_{value}")
    return str(value)


def _height(rows: int) -> int:
    """A table's height showing all its ``rows`` (Streamlit's row is 35 px)."""
    return 35 * (rows + 1) + 3


def show_file(file: dict, *, key: str) -> None:
    """The file as a few tables: its facts, parties, mediators and sessions (cells are text)."""
    facts = [(tr(f"cf.{k}"), _fact(k, file.get(k))) for k in _FACTS]
    st.dataframe(pd.DataFrame(facts, columns=[tr("cf_item"), tr("cf_value")]),
                 hide_index=True, key=f"{key}_facts", height=_height(len(facts)))  # fmt: skip
    parties = pd.DataFrame(file["parties"])
    parties["side"] = parties["side"].map(lambda v: tr(f"cf_{v}"))
    st.markdown(f"**{tr('cf_parties')}**")
    st.dataframe(parties.fillna("").rename(columns=lambda c: tr(f"cf.{c}")),
                 hide_index=True, key=f"{key}_parties")  # fmt: skip
    st.caption(md_text(f"{tr('cf_mediators')}: {', '.join(file['mediators'])}"))
    st.markdown(f"**{tr('cf_sessions')}**")
    if file["sessions"]:
        sessions = pd.DataFrame(file["sessions"]).rename(columns=lambda c: tr(f"cf.{c}"))
        st.dataframe(sessions.fillna(""), hide_index=True, key=f"{key}_sessions")
    else:
        st.caption(tr("cf_no_sessions"))


def _open_form(need_id: int, viewer: Viewer, key: str, mediators: list[str]) -> bool:
    with st.form(f"{key}_cf_open"):
        accepted = st.date_input(tr("cf.accepted_on"), key=f"{key}_cf_accepted")
        parties = []
        for side in mediation.SIDES:
            a, b, c = st.columns(3)
            name = a.text_input(tr(f"cf_{side}_name"), key=f"{key}_cf_{side}_name")
            phone = b.text_input(tr("cf.phone"), key=f"{key}_cf_{side}_phone")
            id_number = c.text_input(tr("cf.id_number"), key=f"{key}_cf_{side}_id")
            parties.append(mediation.Party(side, name, phone or None, id_number or None))
        chosen = st.multiselect(tr("cf_mediators"), mediators, key=f"{key}_cf_mediators")
        go = st.form_submit_button(tr("cf_open"))
    return go and _save(need_id, "open", mediation.open_case_file, viewer, accepted_on=accepted,
                        parties=parties, mediators=chosen)  # fmt: skip


def _session_form(need_id: int, viewer: Viewer, key: str) -> bool:
    with st.form(f"{key}_cf_session"):
        held_on = st.date_input(tr("cf.held_on"), key=f"{key}_cf_held_on")
        place = st.text_input(tr("cf.place"), key=f"{key}_cf_place")
        summary = st.text_area(tr("cf.summary"), key=f"{key}_cf_summary")
        go = st.form_submit_button(tr("cf_session"))
    return go and _save(need_id, "session", mediation.add_session, viewer, held_on=held_on,
                        place=place or None, summary=summary or None)  # fmt: skip


def _agreement_form(need_id: int, viewer: Viewer, key: str) -> bool:
    with st.form(f"{key}_cf_agreement"):
        kind = st.selectbox(tr("cf.agreement_kind"), mediation.AGREEMENT_KINDS,
                            key=f"{key}_cf_kind", format_func=lambda k: tr(f"cf_kind_{k}"))  # fmt: skip
        on = st.date_input(tr("cf.agreement_on"), key=f"{key}_cf_agreement_on")
        text = st.text_area(tr("cf.agreement_text"), key=f"{key}_cf_text")
        due = st.date_input(tr("cf.performance_due"), value=None, key=f"{key}_cf_perf_due")
        go = st.form_submit_button(tr("cf_agreement"))
    return go and _save(need_id, "agreement", mediation.record_agreement, viewer, kind=kind,
                        on=on, text=text or None, performance_due=due)  # fmt: skip


def _follow_up_form(need_id: int, viewer: Viewer, key: str) -> bool:
    with st.form(f"{key}_cf_follow_up"):
        result = st.selectbox(tr("cf.performance_result"), mediation.PERFORMANCE_RESULTS,
                              key=f"{key}_cf_result", format_func=lambda r: tr(f"cf_result_{r}"))  # fmt: skip
        go = st.form_submit_button(tr("cf_follow_up"))
    return go and _save(need_id, "follow_up", mediation.follow_up, viewer, result=result)


def _judicial_form(need_id: int, viewer: Viewer, key: str) -> bool:
    with st.form(f"{key}_cf_judicial"):
        asked = st.date_input(tr("cf.judicial_asked_on"), value=None, key=f"{key}_cf_asked")
        granted = st.date_input(tr("cf.judicial_granted_on"), value=None, key=f"{key}_cf_granted")
        go = st.form_submit_button(tr("cf_judicial"))
    return go and _save(need_id, "judicial", mediation.judicial_confirmation, viewer,
                        asked_on=asked, granted_on=granted)  # fmt: skip


def _extend_form(need_id: int, viewer: Viewer, key: str) -> bool:
    with st.form(f"{key}_cf_extend"):
        to = st.date_input(tr("cf_extend_to"), key=f"{key}_cf_to")
        reason = st.text_input(tr("cf.extension_reason"), key=f"{key}_cf_reason")
        go = st.form_submit_button(tr("cf_extend"))
    return go and _save(need_id, "extend", mediation.extend, viewer, to=to, reason=reason)


def file_section(detail: dict, viewer: Viewer, *, key: str, mediators: list[str]) -> None:
    """The case file of a mediation case, and the forms of its actions for the roles that may
    fill it in (:data:`grid_model.cases.mediation.MEDIATION_ROLES`)."""
    if detail["category"] != "mediation":
        return
    file, need_id = detail.get("mediation"), int(detail["id"])
    st.markdown(f"**{tr('case_mediation_file')}**")
    if file:
        show_file(file, key=key)
    else:
        st.caption(tr("cf_none"))
    if viewer.role not in mediation.MEDIATION_ROLES:
        return
    with st.expander(tr("cf_fill")):
        if not file:
            stored = _open_form(need_id, viewer, key, mediators)
        else:
            forms = (_session_form, _agreement_form, _follow_up_form, _judicial_form, _extend_form)
            stored = True in [form(need_id, viewer, key) for form in forms]  # every form shown
    if stored:
        st.rerun()
