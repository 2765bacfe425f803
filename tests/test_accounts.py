"""Dashboard accounts on both backends: passwords hashed, clear errors in zh/en, sign-in that
decides the viewer's role and area, the CLI, and the dashboard's sign-in form."""

from __future__ import annotations

import io
import json

import pytest
import streamlit as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from grid_model import accounts
from grid_model.cli import main
from grid_model.errors import InvalidInputError, NotFoundError
from grid_model.models import Account, AuditEntry
from grid_model.scope import Viewer
from tests.factories import add_need, make_community
from tests.test_pages import _run, app_env, demo_url  # noqa: F401  (fixtures)

pytestmark = pytest.mark.db
ADMIN = Viewer.local_admin("test")


def test_passwords_are_salted_hashes():
    a, b = accounts.hash_password("s3cret-pass"), accounts.hash_password("s3cret-pass")
    assert a != b and "s3cret" not in a
    assert accounts.verify_password("s3cret-pass", a) and accounts.verify_password("s3cret-pass", b)
    assert not accounts.verify_password("s3cret-pasS", a)
    assert not accounts.verify_password("s3cret-pass", "plain text")


def test_add_and_authenticate(session):
    c = make_community(session, n_grids=2)
    assert not accounts.accounts_enabled(session)
    accounts.add_account(session, "leader1", "long enough", role="community_leader",
                         area_code=c.code, name="李主任", viewer=ADMIN)  # fmt: skip
    assert accounts.accounts_enabled(session)
    stored = session.scalar(select(Account.password_hash).where(Account.username == "leader1"))
    assert stored.startswith("scrypt$") and "long enough" not in stored
    viewer = accounts.authenticate(session, " leader1 ", "long enough")
    assert (viewer.role, viewer.area_code, viewer.name) == ("community_leader", c.code, "李主任")
    assert not viewer.sees_personal_data
    assert accounts.authenticate(session, "leader1", "long enougH") is None
    assert accounts.authenticate(session, "nobody", "long enough") is None
    accounts.set_active(session, "leader1", False, viewer=ADMIN)
    assert accounts.authenticate(session, "leader1", "long enough") is None
    assert accounts.accounts_enabled(session)  # disabling them all must not open demo mode
    actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    account_actions = [a for a in actions if a.startswith("account_")]
    assert account_actions[-2:] == ["account_add", "account_disable"]
    assert actions.count("sign_in_failed") == 3  # the wrong password, nobody, the disabled one


def test_bad_accounts_are_refused_with_every_reason(session):
    make_community(session, n_grids=1)
    accounts.add_account(session, "taken", "long enough", role="admin", viewer=ADMIN)
    with pytest.raises(InvalidInputError) as err:
        accounts.add_account(session, "taken", "short", role="boss", area_code="440703999",
                             lang="en", viewer=ADMIN)  # fmt: skip
    msg = str(err.value)
    assert "username 'taken' is taken" in msg and "role 'boss'" in msg
    assert "at least 8 characters" in msg and "area '440703999'" in msg
    with pytest.raises(InvalidInputError, match="用户名 'a b' 无效"):
        accounts.add_account(session, "a b", "long enough", role="admin", viewer=ADMIN)
    with pytest.raises(NotFoundError, match="no account 'ghost'"):
        accounts.set_active(session, "ghost", False, lang="en", viewer=ADMIN)


def test_cli_accounts(committed_engine, monkeypatch, capsys):
    url = committed_engine.url.render_as_string(hide_password=False)
    with Session(committed_engine) as s, s.begin():
        c = make_community(s, n_grids=1)
    monkeypatch.setattr("sys.stdin", io.StringIO("a good password\n"))
    args = ["--db", url, "--lang", "en", "account", "add", "mediator1", "--role", "mediator",
            "--area", c.code, "--password-stdin"]  # fmt: skip
    assert main(args) == 0
    assert "Account mediator1 added (role mediator" in capsys.readouterr().out
    assert main(["--db", url, "account", "list", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row == {"username": "mediator1", "name": "mediator1", "role": "mediator",
                   "area_code": c.code, "active": True}  # fmt: skip
    assert main(["--db", url, "--lang", "en", "account", "disable", "mediator1"]) == 0
    assert "disabled" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    bad = ["--db", url, "account", "add", "x1", "--role", "admin", "--password-stdin"]
    assert main(bad) == 3
    assert "密码至少 8 个字符" in capsys.readouterr().err
    assert main(["--db", url, "account", "add", "x2"]) == 3  # no role


def test_dashboard_asks_to_sign_in_once_an_account_exists(committed_engine, app_env):  # noqa: F811
    """The sign-in form replaces the page; a wrong password is refused in Chinese; the
    account's role and area then decide what the page shows, with no role to pick."""
    with Session(committed_engine) as s, s.begin():
        c = make_community(s, n_grids=2)
        other = make_community(s, n_grids=1, code="440703006107", name="另一社区",
                               origin=(113.2, 22.7))  # fmt: skip
        add_need(s, grid_code=c.grid_codes[0], resident_name="李四")
        add_need(s, grid_code=other.grid_codes[0])
        accounts.add_account(s, "leader1", "long enough", role="community_leader",
                             area_code=c.code, name="李主任", viewer=ADMIN)  # fmt: skip
    app_env(committed_engine.url.render_as_string(hide_password=False))
    at = _run("pages/1_总览_Overview.py")
    assert not at.metric and at.text_input(key="sign_in_user")
    at.text_input(key="sign_in_user").input("leader1")
    at.text_input(key="sign_in_password").input("wrong password")
    at.button(key="sign_in_submit").click().run()
    assert [e.value for e in at.error] == ["用户名或密码不正确，或账号已停用"]
    assert not at.metric

    at.text_input(key="sign_in_password").input("long enough")
    at.button(key="sign_in_submit").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["法律需求"] == "1"  # only the account's community
    assert not [sb for sb in at.sidebar.selectbox if sb.key == "role"]
    assert any("已登录：李主任" in cap.value for cap in at.sidebar.caption)
    # the area pickers offer only the way to the account's community, not the other one
    assert at.sidebar.selectbox(key="community").options == ["全部", "育德社区"]

    at.sidebar.button(key="sign_out").click().run()
    assert not at.metric and at.text_input(key="sign_in_user")

    # signed in again, then disabled by an administrator: signed out on the next visit
    at.text_input(key="sign_in_user").input("leader1")
    at.text_input(key="sign_in_password").input("long enough")
    at.button(key="sign_in_submit").click().run()
    assert at.metric
    with Session(committed_engine) as s, s.begin():
        accounts.set_active(s, "leader1", False, viewer=ADMIN)
    st.cache_data.clear()  # what the 30 s cache lifetime does
    at.run()
    assert not at.metric and at.text_input(key="sign_in_user")


def test_pages_offer_changes_only_to_roles_that_may_make_them(demo_url, app_env):  # noqa: F811
    """Demo mode: the role picked decides which changes a page offers (the services check
    again)."""
    app_env(demo_url)
    at = _run("pages/6_数据_Data.py")
    assert not any("不能导入数据" in i.value for i in at.info)  # admin by default
    at.sidebar.selectbox(key="role").set_value("community_leader").run()
    assert any("不能导入数据" in i.value for i in at.info)

    at = _run("pages/5_案件_Cases.py")
    assert at.sidebar.selectbox(key="role").value == "grid_assistant"
    assert at.radio(key="diary_locate")  # the diary form is offered
    at.sidebar.selectbox(key="role").set_value("street_office").run()
    assert any("不能登记需求" in i.value for i in at.info)
    assert not [r for r in at.radio if r.key == "diary_locate"]  # and no diary form

    at = _run("pages/8_调配_Rebalance.py")
    assert at.sidebar.selectbox(key="role").value == "planner"
    assert not any("不能调整网格分工" in i.value for i in at.info)
    at.sidebar.selectbox(key="role").set_value("grid_assistant").run()
    assert any("不能调整网格分工" in i.value for i in at.info)
    assert at.button(key="rb_undo").disabled


def test_admin_adds_the_first_account_on_the_data_page(committed_engine, app_env):  # noqa: F811
    with Session(committed_engine) as s, s.begin():
        make_community(s, n_grids=2)
    app_env(committed_engine.url.render_as_string(hide_password=False))
    at = _run("pages/6_数据_Data.py")
    assert any("尚无账号" in i.value for i in at.info)

    def fill(username: str, password: str, again: str) -> None:
        at.text_input(key="account_username").input(username)
        at.text_input(key="account_name").input("李主任")
        at.selectbox(key="account_role").set_value("community_leader")
        at.text_input(key="account_area").input("440703006106")
        at.text_input(key="account_password").input(password)
        at.text_input(key="account_password2").input(again)
        at.button(key="account_add_submit").click().run()

    fill("li", "long enough", "long enougH")
    assert [e.value for e in at.error] == ["错误：两次输入的密码不一致"]
    fill("li", "short", "short")
    assert any("密码至少 8 个字符" in e.value for e in at.error)
    with Session(committed_engine) as s:
        assert not accounts.accounts_enabled(s)  # nothing stored on a refused form
    fill("li", "long enough", "long enough")
    assert not at.error, [e.value for e in at.error]
    assert any("已添加账号 li" in m.value for m in at.success)
    assert any("第一个账号" in w.value for w in at.warning)
    with Session(committed_engine) as s:
        viewer = accounts.authenticate(s, "li", "long enough")
    assert (viewer.role, viewer.area_code, viewer.name) == (
        "community_leader",
        "440703006106",
        "李主任",
    )

    at.run()  # from now on the page asks to sign in
    assert at.text_input(key="sign_in_user") and not [t for t in at.tabs]
