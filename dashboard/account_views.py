"""The administrator's account panel (Data page): list, add, disable and enable accounts
through :mod:`grid_model.accounts`."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import state, views
from dashboard.escaping import md_tr
from dashboard.i18n import current_lang, labels, tl, tr
from grid_model import accounts
from grid_model.errors import GridLawError
from grid_model.messages import t
from grid_model.scope import ROLES, Viewer


def _accounts(viewer: Viewer) -> pd.DataFrame:
    with state.session() as s:
        rows = accounts.list_accounts(s, viewer, lang=current_lang())
    return pd.DataFrame(rows, columns=["username", "name", "role", "area_code", "active"])


def accounts_panel(viewer: Viewer) -> None:
    """What an administrator manages accounts with."""
    lang = current_lang()
    table = _accounts(viewer)
    if table.empty:
        st.info(tr("accounts_none"))
    else:
        shown = table.assign(role=table["role"].map(lambda r: tl("role", r)))
        st.dataframe(
            shown.rename(columns={c: tr(f"col.account_{c}") for c in shown.columns}),
            hide_index=True,
            key="accounts_table",
        )
    with st.form("account_add_form", clear_on_submit=True):
        st.markdown(f"**{tr('account_add')}**")
        c1, c2 = st.columns(2)
        username = c1.text_input(tr("username"), key="account_username")
        name = c2.text_input(tr("col.account_name"), key="account_name")
        role = c1.selectbox(tr("col.account_role"), ROLES, format_func=labels("role"),
                            key="account_role")  # fmt: skip
        area = c2.text_input(tr("col.account_area_code"), key="account_area",
                             help=tr("account_area_help"))  # fmt: skip
        password = c1.text_input(tr("password"), type="password", key="account_password")
        again = c2.text_input(tr("password_again"), type="password", key="account_password2")
        added = st.form_submit_button(tr("account_add"), key="account_add_submit")
    if added:
        if password != again:
            st.error(tr("error", msg=t("passwords_differ", lang)))
        else:
            try:
                with state.write() as s:
                    accounts.add_account(s, username.strip(), password, role=role,
                                         area_code=area.strip() or None, name=name.strip() or None,
                                         viewer=viewer, lang=lang)  # fmt: skip
            except GridLawError as exc:
                views.show_error(exc)
            else:
                state.clear_cache()
                st.success(md_tr("account_added", username=username.strip()))
                if len(table) == 0:
                    st.warning(tr("accounts_first"))
    if not table.empty:
        c1, c2 = st.columns([3, 1])
        who = c1.selectbox(tr("username"), table["username"].tolist(), key="account_pick")
        active = bool(table.loc[table["username"] == who, "active"].iloc[0])
        label = tr("account_disable") if active else tr("account_enable")
        if c2.button(label, key="account_toggle"):
            try:
                with state.write() as s:
                    accounts.set_active(s, who, not active, viewer=viewer, lang=lang)
            except GridLawError as exc:
                views.show_error(exc)
            else:
                state.clear_cache()
                st.rerun()
