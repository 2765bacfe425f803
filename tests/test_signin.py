"""Sign-in against guessing, on both backends: failed attempts throttled per username (stored
in the database) and per browser session, unknown names throttled alike, every failure and
lock audited without the password, scrypt at OWASP's parameters with rehash on sign-in, the
0005 migration, and the dashboard's locked message in zh and en."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
import streamlit as st
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from grid_model import accounts, db
from grid_model.models import Account, AuditEntry, SignInThrottle
from grid_model.scope import Viewer
from tests.conftest import head_revision, scratch_engine
from tests.test_pages import _run, app_env  # noqa: F401  (fixture)

pytestmark = pytest.mark.db

T0 = dt.datetime(2026, 3, 2, 9, 0, 0)
RIGHT, WRONG = "long enough", "wrong guess"

LOCAL_ADMIN = Viewer.local_admin("test")


def _later(**kw) -> dt.datetime:
    return T0 + dt.timedelta(**kw)


def _account(session: Session, username: str = "leader1") -> Account:
    return accounts.add_account(
        session, username, RIGHT, role="community_leader", name="李主任", viewer=LOCAL_ADMIN
    )


def _audit(session: Session, action: str | None = None) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.action.like("sign_in%")).order_by(AuditEntry.id)
    if action:
        query = query.where(AuditEntry.action == action)
    return list(session.scalars(query))


def test_five_wrong_passwords_lock_the_account_even_against_the_right_one(session):
    _account(session)
    delays = []
    for i in range(accounts.MAX_FAILURES - 1):
        result = accounts.sign_in(session, "leader1", WRONG, now=_later(seconds=i))
        assert result.viewer is None and result.retry_after is None
        assert result.message("en") == "Wrong username or password, or the account is disabled"
        delays.append(result.delay)
    assert delays == sorted(delays) and delays[0] > 0 and delays[-1] <= accounts.MAX_DELAY
    locking = accounts.sign_in(session, "leader1", WRONG, now=_later(seconds=10))
    assert locking.viewer is None and locking.retry_after == accounts.LOCK_PERIOD
    assert locking.message("zh") == "登录失败次数过多，请 15 分钟后再试"

    refused = accounts.sign_in(session, "leader1", RIGHT, now=_later(minutes=5))
    assert refused.viewer is None and refused.delay == accounts.MAX_DELAY  # hammering is slow too
    assert refused.message("en") == "Too many failed sign-ins: try again in 11 minute(s)"
    assert accounts.authenticate(session, "leader1", RIGHT, now=_later(minutes=14)) is None

    # the lock ends LOCK_PERIOD after the failure that set it: no need to wait in the test
    after = accounts.sign_in(session, "leader1", RIGHT, now=_later(minutes=15, seconds=10))
    assert after.viewer is not None and after.viewer.name == "李主任"
    assert after.message("zh") is None
    assert session.scalar(select(func.count()).select_from(SignInThrottle)) == 0


def test_success_resets_the_count_and_old_failures_are_forgotten(session):
    _account(session)
    for i in range(accounts.MAX_FAILURES - 1):
        accounts.sign_in(session, "leader1", WRONG, now=_later(seconds=i))
    assert accounts.sign_in(session, "leader1", RIGHT, now=_later(seconds=5)).viewer
    for i in range(accounts.MAX_FAILURES - 1):
        assert accounts.sign_in(session, "leader1", WRONG, now=_later(seconds=10 + i)).delay
    # consecutive failures count only while they are closer than LOCK_PERIOD to the last one
    late = accounts.sign_in(session, "leader1", WRONG, now=_later(minutes=16))
    assert late.retry_after is None and late.delay == accounts.failure_delay(1)


def test_unknown_usernames_are_throttled_like_real_ones_without_an_account(session, monkeypatch):
    _account(session)
    hashes = []
    real_scrypt = hashlib.scrypt

    def counting(*args, **kwargs):
        hashes.append(1)
        return real_scrypt(*args, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", counting)

    def attempts(username: str) -> list[tuple]:
        out = []
        for i in range(accounts.MAX_FAILURES + 1):
            hashes.clear()
            r = accounts.sign_in(session, username, WRONG, now=_later(seconds=i))
            out.append((r.viewer, r.retry_after, r.delay, r.message("zh"), len(hashes)))
        return out

    known, unknown = attempts("leader1"), attempts("ghost1")
    assert known == unknown
    assert [n for *_, n in known] == [1] * accounts.MAX_FAILURES + [0]  # one hash, none locked
    assert known[-1][1] is not None
    assert session.scalar(select(func.count()).select_from(Account)) == 1
    keys = set(session.scalars(select(SignInThrottle.key)))
    assert len(keys) == 2 and not {"leader1", "ghost1"} & keys
    # names no account can have: bounded rows, no error, the same answer
    for odd in ["x" * 10_000, "nul\x00byte", "", "   "]:
        r = accounts.sign_in(session, odd, WRONG, now=T0)
        assert r.viewer is None
        assert r.message("en") == "Wrong username or password, or the account is disabled"
    assert max(len(k) for k in session.scalars(select(SignInThrottle.key))) <= 64


def test_one_browser_session_trying_many_usernames_is_throttled(session):
    _account(session)
    browser = accounts.Attempts()
    for i in range(accounts.MAX_FAILURES):
        last = accounts.sign_in(session, f"guess{i}", WRONG, client=browser, now=_later(seconds=i))
    assert last.retry_after == accounts.LOCK_PERIOD
    # the same browser is locked even for a username it has not tried, with the right password
    refused = accounts.sign_in(session, "leader1", RIGHT, client=browser, now=_later(minutes=1))
    assert refused.viewer is None and refused.retry_after == dt.timedelta(minutes=14, seconds=4)
    # another browser is not; the account itself never failed
    other = accounts.sign_in(session, "leader1", RIGHT, client=accounts.Attempts(),
                             now=_later(minutes=1))  # fmt: skip
    assert other.viewer is not None


def test_every_failure_and_lock_is_audited_without_the_password(session):
    _account(session)
    _account(session, "retired1")
    accounts.set_active(session, "retired1", False, viewer=LOCAL_ADMIN)
    secret = "Tr0ub4dor&3-wrong"
    for i in range(accounts.MAX_FAILURES):
        accounts.sign_in(session, "leader1", secret, now=_later(seconds=i), origin="10.0.0.7")
    accounts.sign_in(session, "leader1", RIGHT, now=_later(minutes=1))
    accounts.sign_in(session, "retired1", RIGHT, now=T0)
    accounts.sign_in(session, "nobody9", secret, now=T0)

    failed = _audit(session, "sign_in_failed")
    reasons = [(e.actor, e.details["reason"]) for e in failed]
    assert reasons == [("leader1", "wrong_password")] * accounts.MAX_FAILURES + [
        ("leader1", "locked"),
        ("retired1", "disabled"),
        ("nobody9", "unknown_user"),
    ]
    assert [e.details["failures"] for e in failed[:5]] == [1, 2, 3, 4, 5]
    assert failed[0].at == T0 and failed[0].details["origin"] == "10.0.0.7"
    (lock,) = _audit(session, "sign_in_locked")
    assert lock.actor == "leader1" and lock.at == _later(seconds=4)
    assert lock.details["until"] == (_later(seconds=4) + accounts.LOCK_PERIOD).isoformat()
    everything = json.dumps(
        [[e.actor, e.entity, e.entity_id, e.details] for e in session.scalars(select(AuditEntry))]
    )
    assert secret not in everything and RIGHT not in everything


def test_scrypt_at_owasp_parameters_and_old_hashes_upgraded_on_sign_in(session):
    assert (accounts.SCRYPT_N, accounts.SCRYPT_R, accounts.SCRYPT_P) == (2**17, 8, 1)
    assert accounts.hash_password(RIGHT).startswith("scrypt$131072$8$1$")
    old = accounts.hash_password(RIGHT, n=2**14)
    assert old.startswith("scrypt$16384$8$1$") and accounts.verify_password(RIGHT, old)
    assert accounts.needs_rehash(old) and not accounts.needs_rehash(accounts.hash_password(RIGHT))
    # what a name that is no account is checked against costs what a real hash costs
    assert not accounts.needs_rehash(accounts._DUMMY)

    account = _account(session)
    account.password_hash = old
    session.flush()
    assert accounts.sign_in(session, "leader1", WRONG, now=T0).viewer is None
    assert account.password_hash == old  # only a right password may rehash
    assert accounts.sign_in(session, "leader1", RIGHT, now=T0).viewer is not None
    session.refresh(account)
    assert account.password_hash.startswith("scrypt$131072$8$1$")
    assert accounts.verify_password(RIGHT, account.password_hash)
    (rehash,) = session.scalars(select(AuditEntry).where(AuditEntry.action == "password_rehash"))
    assert rehash.entity_id == "leader1" and RIGHT not in json.dumps(rehash.details)


def test_the_lock_holds_across_database_sessions_and_processes(committed_engine):
    with Session(committed_engine) as s, s.begin():
        _account(s)
    for i in range(accounts.MAX_FAILURES):
        with Session(committed_engine) as s, s.begin():
            accounts.sign_in(s, "leader1", WRONG, now=_later(seconds=i))
    # a second engine stands for another server process (or the same one restarted)
    other = db.make_engine(committed_engine.url.render_as_string(hide_password=False))
    try:
        with Session(other) as s, s.begin():
            assert accounts.sign_in(s, "leader1", RIGHT, now=_later(minutes=2)).retry_after
    finally:
        other.dispose()


def test_migration_0005_up_and_down_keeps_the_accounts(backend, tmp_path):
    eng = scratch_engine(backend, tmp_path)
    try:
        db.upgrade(eng, "0004")
        with Session(eng) as s, s.begin():
            s.add(Account(username="keep1", name="k", role="admin", password_hash="x", active=True))
        db.upgrade(eng)
        assert db.current_revision(eng) == head_revision()
        insp = inspect(eng)
        assert "sign_in_throttle" in insp.get_table_names()
        assert {c["name"] for c in insp.get_columns("sign_in_throttle")} == {
            "key", "failures", "last_failed_at", "locked_until"
        }  # fmt: skip
        db.downgrade(eng, "0004")
        assert "sign_in_throttle" not in inspect(eng).get_table_names()
        with Session(eng) as s:
            assert s.scalar(select(Account.username)) == "keep1"
        db.upgrade(eng)
        assert db.current_revision(eng) == head_revision()
    finally:
        eng.dispose()


def _sign_in(at, username: str, password: str) -> None:
    at.text_input(key="sign_in_user").input(username)
    at.text_input(key="sign_in_password").input(password)
    at.button(key="sign_in_submit").click().run()
    assert not at.exception, [e.value for e in at.exception]


def test_dashboard_says_the_account_is_locked_in_chinese_and_english(committed_engine, app_env):  # noqa: F811
    with Session(committed_engine) as s, s.begin():
        _account(s)
    for _ in range(accounts.MAX_FAILURES):  # now: the page uses the real clock
        with Session(committed_engine) as s, s.begin():
            accounts.sign_in(s, "leader1", WRONG)
    app_env(committed_engine.url.render_as_string(hide_password=False))
    at = _run("pages/1_总览_Overview.py")
    _sign_in(at, "leader1", RIGHT)
    assert [e.value for e in at.error] == ["登录失败次数过多，请 15 分钟后再试"]
    assert not at.metric
    at.sidebar.radio(key="lang").set_value("en").run()
    _sign_in(at, "leader1", RIGHT)
    assert [e.value for e in at.error] == ["Too many failed sign-ins: try again in 15 minute(s)"]
    assert not at.metric
    with Session(committed_engine) as s:
        assert [e.details["reason"] for e in _audit(s, "sign_in_failed")][-2:] == ["locked"] * 2


def test_dashboard_locks_a_browser_session_that_tries_many_usernames(committed_engine, app_env):  # noqa: F811
    with Session(committed_engine) as s, s.begin():
        _account(s)
    app_env(committed_engine.url.render_as_string(hide_password=False))
    at = _run("pages/1_总览_Overview.py")
    for i in range(accounts.MAX_FAILURES - 1):
        _sign_in(at, f"guess{i}", WRONG)
        assert [e.value for e in at.error] == ["用户名或密码不正确，或账号已停用"]
    _sign_in(at, "guess9", WRONG)
    assert [e.value for e in at.error] == ["登录失败次数过多，请 15 分钟后再试"]
    _sign_in(at, "leader1", RIGHT)  # a name this browser never tried, and the right password
    assert [e.value for e in at.error] == ["登录失败次数过多，请 15 分钟后再试"]
    assert not at.metric
    st.cache_data.clear()
    fresh = _run("pages/1_总览_Overview.py")  # another browser session: the account is not locked
    _sign_in(fresh, "leader1", RIGHT)
    assert not fresh.error and fresh.metric
