"""``gridlaw case …`` and ``gridlaw indicators --json`` on both backends: a case from recorded
to visited entered from paper records (``--at``, ``--as``), refusals with their exit codes."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy.orm import Session

from grid_model.cli import main
from tests.factories import add_need, make_community

pytestmark = pytest.mark.db

ISSUE_KEYS = {"needs", "closed", "due_to_close", "closure_rate", "on_time_rate",
              "acceptance_rate", "timely_acceptance_rate", "rework_rate", "visit_rate",
              "satisfaction_rate", "mediation_success_rate", "agreement_performance_rate",
              "median_hours_to_accept", "median_days_to_close"}  # fmt: skip


@pytest.fixture()
def case_id(committed_engine):
    with Session(committed_engine, expire_on_commit=False) as s, s.begin():
        make_community(s, n_grids=4)
        need = add_need(s, category="mediation", reported_at=dt.date(2025, 3, 3),
                        due_date=dt.date(2025, 3, 31))  # fmt: skip
    return need.id


def _run(url: str, *argv: str) -> int:
    return main(["--db", url, "--lang", "en", "-q", *argv])


def test_a_case_from_paper_records_to_the_return_visit(committed_engine, case_id, capsys):
    url = committed_engine.url.render_as_string(hide_password=False)
    i = str(case_id)
    steps = [
        ["dispatch", i, "--to", "M10601", "--priority", "urgent", "--at", "2025-03-03 09:00"],
        ["accept", i, "--as", "M10601", "--at", "2025-03-03 10:00"],
        ["start", i, "--as", "M10601", "--at", "2025-03-03 10:05"],
        ["hold", i, "--as", "M10601", "--reason", "当事人外出", "--at", "2025-03-04 10:00"],
        ["resume", i, "--as", "M10601", "--at", "2025-03-06 10:00"],
        ["handle", i, "--as", "M10601", "--outcome", "mediated", "--at", "2025-03-07 10:00"],
        ["verify", i, "--fail", "--as", "A10601", "--note", "协议未签字", "--at", "2025-03-07 15:00"],
        ["handle", i, "--as", "M10601", "--outcome", "mediated", "--at", "2025-03-10 10:00"],
        ["verify", i, "--pass", "--as", "A10601", "--at", "2025-03-10 16:00"],
        ["visit", i, "--satisfaction", "基本满意", "--as", "A10601", "--at", "2025-03-12 09:00"],
    ]  # fmt: skip
    for argv in steps:
        assert _run(url, "case", *argv) == 0, argv
    out = capsys.readouterr().out
    assert f"case {i}: visit → closed (2025-03-12T09:00:00+08:00)" in out
    assert _run(url, "case", "show", i, "--json") == 0
    shown = json.loads(capsys.readouterr().out)
    assert [e["step"] for e in shown["timeline"]] == [s[0] for s in steps]
    assert shown["timeline"][6]["note"] == "协议未签字"
    assert shown["timeline"][6]["worker"] == "A10601"
    assert (shown["status"], shown["rework_count"], shown["satisfaction"]) == (
        "closed", 1, "basically_satisfied"
    )  # fmt: skip
    assert _run(url, "indicators", "--json", "--as-of", "2025-03-31", "--area", "440703006106") == 0
    figures = json.loads(capsys.readouterr().out)
    assert set(figures) >= ISSUE_KEYS
    assert (figures["needs"], figures["closed"], figures["rework_rate"]) == (1, 1, 1.0)
    assert (figures["timely_acceptance_rate"], figures["median_hours_to_accept"]) == (1.0, 1.0)
    assert figures["satisfaction_rate"] == 1.0 and figures["closure_rate"] == 1.0


def test_refusals_say_what_is_allowed_without_a_traceback(committed_engine, case_id, capsys):
    url = committed_engine.url.render_as_string(hide_password=False)
    i = str(case_id)
    assert _run(url, "case", "accept", i) == 3
    err = capsys.readouterr().err
    assert "step 'accept' is not allowed; allowed: dispatch, close, supervise" in err
    assert "Traceback" not in err
    assert _run(url, "case", "dispatch", i, "--to", "M10601", "--at", "next tuesday") == 3
    assert "'at'" in capsys.readouterr().err
    assert _run(url, "case", "dispatch", i, "--to", "M10601") == 0
    assert _run(url, "case", "accept", i, "--as", "NOBODY") == 3
    assert _run(url, "case", "show", "999999") == 1
    assert "not found" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        _run(url, "case", "verify", i)  # neither --pass nor --fail
    assert exit_.value.code == 2


def test_hostile_text_is_shown_not_run_on_a_terminal(committed_engine, case_id, capsys):
    url = committed_engine.url.render_as_string(hide_password=False)
    i = str(case_id)
    assert _run(url, "case", "dispatch", i, "--to", "M10601") == 0
    assert _run(url, "case", "return", i, "--reason", '=HYPERLINK("x")\x1b[31m') == 3
    assert "expected a reason" in capsys.readouterr().err  # control characters refused
    assert _run(url, "case", "return", i, "--reason", '=HYPERLINK("x")', "--note", "ok") == 0
    assert _run(url, "case", "show", i) == 0
    assert "\x1b" not in capsys.readouterr().out
