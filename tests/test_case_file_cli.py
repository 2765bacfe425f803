"""``gridlaw case file ID ACTION …`` on both backends: the people's-mediation case file filled
in on the command line and read back with ``case show --json``; a bad value names its field; a
role that may not touch the file (or see personal data) is refused; hostile text is stored as
text and shown, not run."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from grid_model.cli import main
from grid_model.models import MediationCase, MediationParty
from tests.factories import add_need, make_community

pytestmark = pytest.mark.db

APPLICANT = "applicant:张三:13912345678:11010519491231002X"
RESPONDENT = "respondent:李四:13812345678"


@pytest.fixture()
def case_id(committed_engine):
    with Session(committed_engine, expire_on_commit=False) as s, s.begin():
        make_community(s, n_grids=4)
        need = add_need(s, category="mediation", dispute_type="邻里纠纷",
                        reported_at=dt.date(2025, 3, 3))  # fmt: skip
    return need.id


def _run(engine, *argv: str, lang: str = "en") -> int:
    url = engine.url.render_as_string(hide_password=False)
    return main(["--db", url, "--lang", lang, "-q", *argv])


def _open(engine, i: str, *extra: str) -> int:
    return _run(engine, "case", "file", i, "open", "--accepted", "2025-03-03", "--party",
                APPLICANT, "--party", RESPONDENT, "--mediator", "M10601", *extra)  # fmt: skip


def test_a_whole_file_filled_on_the_command_line(committed_engine, case_id, capsys):
    i = str(case_id)
    assert _open(committed_engine, i, "--as", "M10601") == 0
    for argv in (
        ["extend", "--to", "2025-04-20", "--reason", "当事人住院"],
        ["session", "--on", "2025-03-05", "--place", "调解室", "--summary", "双方陈述"],
        ["session", "--on", "2025-03-10", "--place", "现场", "--summary", "实地查看"],
        ["agreement", "--kind", "written", "--on", "2025-03-12", "--text", "李四赔偿 500 元",
         "--due", "2025-03-31"],
        ["follow-up", "--result", "performed"],
        ["judicial", "--asked", "2025-03-13"],
        ["judicial", "--granted", "2025-03-20"],
    ):  # fmt: skip
        assert _run(committed_engine, "case", "file", i, *argv) == 0, argv
    assert f"case {i}: mediation case file updated (judicial)" in capsys.readouterr().out
    assert _run(committed_engine, "case", "show", i, "--json") == 0
    file = json.loads(capsys.readouterr().out)["mediation"]
    assert (file["accepted_on"], file["due_on"], file["extension_reason"]) == (
        "2025-03-03", "2025-04-20", "当事人住院"
    )  # fmt: skip
    assert file["parties"] == [
        {"side": "applicant", "name": "张三", "phone": "13912345678",
         "id_number": "11010519491231002X"},
        {"side": "respondent", "name": "李四", "phone": "13812345678", "id_number": None},
    ]  # fmt: skip
    assert file["mediators"] == ["M10601"]
    assert [(s["held_on"], s["place"]) for s in file["sessions"]] == [
        ("2025-03-05", "调解室"), ("2025-03-10", "现场")
    ]  # fmt: skip
    assert (file["agreement_kind"], file["agreement_text"], file["performance_due"]) == (
        "written", "李四赔偿 500 元", "2025-03-31"
    )  # fmt: skip
    assert file["performance_result"] == "performed"
    assert (file["judicial_asked_on"], file["judicial_granted_on"]) == ("2025-03-13", "2025-03-20")


@pytest.mark.parametrize(
    ("argv", "field"),
    [
        (["session", "--on", "next tuesday"], "'held_on'"),
        (["agreement", "--kind", "handshake", "--on", "2025-03-12"], "'kind'"),
        (["agreement", "--kind", "written", "--on", "2025-03-12"], "'text'"),
        (["follow-up", "--result", "maybe"], "'result'"),
        (["extend", "--to", "2025-03-04", "--reason", "x"], "'to'"),
    ],
)
def test_a_bad_value_names_its_field(committed_engine, case_id, capsys, argv, field):
    i = str(case_id)
    assert _open(committed_engine, i) == 0
    capsys.readouterr()
    assert _run(committed_engine, "case", "file", i, *argv) == 3
    err = capsys.readouterr().err
    assert field in err and "Traceback" not in err


def test_bad_parties_and_people_name_the_field_in_chinese_too(committed_engine, case_id, capsys):
    i = str(case_id)
    assert _run(committed_engine, "case", "file", i, "open", "--accepted", "2025-03-03",
                "--party", "applicant:张三:13912345678:110105194912310021", "--party",
                RESPONDENT, "--mediator", "M10601", lang="zh") == 3  # fmt: skip
    err = capsys.readouterr().err
    assert "字段“id_number”" in err and "110105194912310021" not in err  # never echoed
    assert _open(committed_engine, i, "--as", "NOBODY") == 3
    assert "'as'" in capsys.readouterr().err
    assert _run(committed_engine, "case", "file", i, "session", "--on", "2025-03-05") == 3
    assert "has no mediation case file yet" in capsys.readouterr().err


@pytest.mark.parametrize("who", [["--role", "community_leader"], ["--role", "street_office"],
                                 ["--as", "A10601"], ["--as", "L10601"]])  # fmt: skip
def test_a_role_that_may_not_fill_the_file_is_refused(committed_engine, case_id, capsys, who):
    i = str(case_id)
    assert _open(committed_engine, i, *who) == 1  # refused, as the case steps are
    err = capsys.readouterr().err
    assert "mediator" in err and "Traceback" not in err
    with Session(committed_engine) as s:
        assert s.scalar(select(MediationCase.id)) is None
        assert s.scalar(select(MediationParty.id)) is None


def test_hostile_text_is_stored_as_text(committed_engine, case_id, capsys):
    i = str(case_id)
    hostile = '<script>alert(1)</script> =HYPERLINK("x") \'; DROP TABLE needs;--'
    assert _open(committed_engine, i) == 0
    assert _run(committed_engine, "case", "file", i, "session", "--on", "2025-03-05",
                "--place", "<b>室</b>", "--summary", hostile) == 0  # fmt: skip
    assert _run(committed_engine, "case", "file", i, "session", "--on", "2025-03-06",
                "--summary", "\x1b[31mred") == 3  # fmt: skip
    assert "'summary'" in capsys.readouterr().err
    assert _run(committed_engine, "case", "show", i, "--json") == 0
    sessions = json.loads(capsys.readouterr().out)["mediation"]["sessions"]
    assert [(s["place"], s["summary"]) for s in sessions] == [("<b>室</b>", hostile)]
    assert _run(committed_engine, "case", "show", i) == 0
    out = capsys.readouterr().out
    assert f"  session: 2025-03-05  <b>室</b>  {hostile}" in out
    assert "  party: applicant  张三  13912345678  11010519491231002X" in out
