"""Signing in to the dashboard when the database has accounts.

The browser session keeps only the account's username (:data:`KEY_ACCOUNT`); the account's
rights are read anew (cached 30 s), so a disabled account is signed out within 30 s. Failed
attempts are throttled per username (in the database) and per browser session
(:data:`KEY_ATTEMPTS`).
"""

from __future__ import annotations

import time

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from dashboard.cache import cached
from dashboard.escaping import md_tr
from dashboard.i18n import current_lang, tl, tr
from dashboard.session import write
from grid_model import accounts
from grid_model.errors import DatabaseError
from grid_model.scope import Viewer

KEY_ACCOUNT = "gl_account"  # username of the signed-in account (its rights are read anew)
KEY_ATTEMPTS = "gl_sign_in_attempts"  # this browser session's failed sign-ins

accounts_enabled = cached(accounts.accounts_enabled, max_entries=None, ttl=30)
"""``accounts_enabled()``: whether the database has accounts (then signing in is required)."""
_current_viewer = cached(accounts.current_viewer, max_entries=None, ttl=30)


def signed_in(sb) -> Viewer:
    """The signed-in account's viewer, as the account is now (a disabled account is signed
    out within 30 s); without one, a sign-in form and the page stops."""
    saved = st.session_state.get(KEY_ACCOUNT)
    viewer = _current_viewer(saved) if saved else None
    if saved and viewer is None:
        del st.session_state[KEY_ACCOUNT]
    if viewer is not None:
        _account_box(sb, viewer)
        return viewer
    username, password, submitted = _sign_in_form()
    if submitted:
        result = _sign_in(username, password)
        if result.viewer is not None:
            st.session_state[KEY_ACCOUNT] = username.strip()
            st.rerun()
        st.error(result.message(current_lang()))
    st.stop()


def _account_box(sb, viewer: Viewer) -> None:
    """Who is signed in, and the sign-out button."""
    sb.caption(md_tr("signed_in_as", name=viewer.name, role=tl("role", viewer.role)))
    if sb.button(tr("sign_out"), key="sign_out"):
        del st.session_state[KEY_ACCOUNT]
        st.rerun()


def _sign_in_form() -> tuple[str, str, bool]:
    with st.form("sign_in_form"):
        st.subheader(tr("sign_in"))
        username = st.text_input(tr("username"), key="sign_in_user", max_chars=64)
        password = st.text_input(
            tr("password"),
            type="password",
            key="sign_in_password",
            max_chars=accounts.MAX_PASSWORD,
        )
        submitted = st.form_submit_button(tr("sign_in"), key="sign_in_submit", type="primary")
    return username, password, submitted


def _sign_in(username: str, password: str) -> accounts.SignIn:
    """One sign-in attempt, throttled per username (in the database) and per browser session
    (this session's :class:`~grid_model.accounts.Attempts`); after a failure it waits the
    short delay outside the transaction, so no lock is held while it waits."""
    attempts = st.session_state.setdefault(KEY_ATTEMPTS, accounts.Attempts())
    address = st.context.ip_address  # None where unknown (and not a string under AppTest)
    origin = address if isinstance(address, str) else None
    try:
        with write() as s:  # a failure is recorded: a write, with the write lock taken first
            result = accounts.sign_in(s, username, password, client=attempts, origin=origin)
    except (SQLAlchemyError, DatabaseError):
        # e.g. two first attempts on one name at once: this one is not counted, nor let in
        st.error(tr("sign_in_retry"))
        st.stop()
    time.sleep(result.delay)
    return result
