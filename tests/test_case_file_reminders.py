"""The mediation case file (parties redacted, the one-month limit, the agreement and its
follow-up) and the reminders (outbox, then a real SMTP server started here), on both
backends."""

from __future__ import annotations

import datetime as dt
import socket
from email import message_from_bytes
from email.policy import default as email_policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlalchemy.orm import Session

from grid_model.cases import mediation, reminders
from grid_model.cases.mediation import Party
from grid_model.cases.views import case_detail
from grid_model.cases.workflow import apply_step
from grid_model.cli import main
from grid_model.errors import ConfigError, InvalidInputError, PermissionDeniedError
from grid_model.models import ReminderOutbox, Worker
from grid_model.scope import Viewer
from tests.factories import add_need, make_community

pytestmark = pytest.mark.db

D = dt.date
ADMIN = Viewer.local_admin("admin")
MEDIATOR = Viewer(role="mediator", area_code="440703006106", name="M1")
LEADER = Viewer(role="community_leader", area_code="440703006106", name="leader")
PARTIES = [Party("applicant", "张三", "13912345678", "11010519491231002X"),
           Party("respondent", "李四", "13812345678")]  # fmt: skip


@pytest.fixture()
def community(session):
    return make_community(session, n_grids=4)


def test_the_case_file_from_acceptance_to_judicial_confirmation(session, community):
    need = add_need(session, category="mediation", dispute_type="邻里纠纷")
    file = mediation.open_case_file(session, need.id, MEDIATOR, accepted_on="2025-01-31",
                                    parties=PARTIES, mediators=["M10601", "M10602"])  # fmt: skip
    assert (file.accepted_on, file.due_on) == (D(2025, 1, 31), D(2025, 2, 28))
    mediation.extend(session, need.id, MEDIATOR, to="2025-03-15", reason="当事人住院")
    with pytest.raises(InvalidInputError, match="extended once"):
        mediation.extend(session, need.id, MEDIATOR, to="2025-03-30", reason="再延", lang="en")
    mediation.add_session(session, need.id, MEDIATOR, held_on="2025-02-03", place="调解室",
                          summary="双方陈述")  # fmt: skip
    with pytest.raises(InvalidInputError, match="'text'"):
        mediation.record_agreement(session, need.id, MEDIATOR, kind="written", on="2025-02-10",
                                   text=None, lang="en")  # fmt: skip
    mediation.record_agreement(session, need.id, MEDIATOR, kind="written", on="2025-02-10",
                               text="李四赔偿张三 500 元", performance_due="2025-03-10")  # fmt: skip
    mediation.judicial_confirmation(session, need.id, MEDIATOR, asked_on="2025-02-11",
                                    granted_on="2025-02-20")  # fmt: skip
    shown = case_detail(session, need.id, MEDIATOR)["mediation"]
    assert shown["due_on"] == "2025-03-15" and shown["extension_reason"] == "当事人住院"
    assert shown["parties"][0] == {"side": "applicant", "name": "张三", "phone": "13912345678",
                                   "id_number": "11010519491231002X"}  # fmt: skip
    assert shown["mediators"] == ["M10601", "M10602"] and len(shown["sessions"]) == 1
    assert shown["judicial_granted_on"] == "2025-02-20"
    # a leader sees the file without the parties' personal data
    redacted = case_detail(session, need.id, LEADER)["mediation"]
    assert redacted["parties"] == [{"side": "applicant"}, {"side": "respondent"}]
    assert "张三" not in str(case_detail(session, need.id, LEADER))


@pytest.mark.parametrize(
    ("parties", "mediators", "match"),
    [
        ([Party("applicant", "张三", id_number="110105194912310021")], ["M10601"], "'id_number' has '…'"),
        ([Party("applicant", "张三", phone="call me")], ["M10601"], "'phone' has '…'"),
        ([Party("applicant", "张三")], ["M10601"], "at least one applicant and one respondent"),
        ([Party("plaintiff", "张三")], ["M10601"], "'side'"),
        (PARTIES, ["A10601"], "'mediators' has 'A10601'"),
    ],
)  # fmt: skip
def test_bad_case_files_are_refused_without_personal_data(session, community, parties,
                                                          mediators, match):  # fmt: skip
    need = add_need(session, category="mediation")
    with pytest.raises(InvalidInputError, match=match) as err:
        mediation.open_case_file(session, need.id, MEDIATOR, accepted_on="2025-03-03",
                                 parties=parties, mediators=mediators, lang="en")  # fmt: skip
    assert "1101051949" not in str(err.value) and "call me" not in str(err.value)


def test_only_mediation_cases_and_mediators(session, community):
    consultation = add_need(session, category="consultation")
    with pytest.raises(InvalidInputError, match="only mediation cases"):
        mediation.open_case_file(session, consultation.id, MEDIATOR, accepted_on="2025-03-03",
                                 parties=PARTIES, mediators=["M10601"], lang="en")  # fmt: skip
    need = add_need(session, category="mediation")
    with pytest.raises(PermissionDeniedError):
        mediation.open_case_file(session, need.id, LEADER, accepted_on="2025-03-03",
                                 parties=PARTIES, mediators=["M10601"])  # fmt: skip


def test_a_return_visit_records_whether_the_agreement_is_performed(session, community):
    need = add_need(session, category="mediation", status="closed", outcome="mediated",
                    closed_at=D(2025, 3, 5))  # fmt: skip
    mediation.open_case_file(session, need.id, ADMIN, accepted_on="2025-03-03",
                             parties=PARTIES, mediators=["M10601"])  # fmt: skip
    apply_step(session, need.id, "visit", ADMIN, satisfaction="满意", performing="否")
    assert case_detail(session, need.id, ADMIN)["mediation"]["performance_result"] == (
        "not_performed"
    )


# --- reminders -------------------------------------------------------------------------------


class _Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content,
                                                                    policy=email_policy)))  # fmt: skip
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def smtp_server():
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def _workload(engine) -> None:
    with Session(engine, expire_on_commit=False) as s, s.begin():
        make_community(s, n_grids=2)
        for code, email in (("M10601", "m1@example.cn"), ("M10602", None)):
            s.scalar(select(Worker).where(Worker.code == code)).email = email
        add_need(s, status="dispatched", assignee_code="M10601", due_date=D(2025, 6, 30),
                 description="张三 13912345678", resident_name="张三")  # fmt: skip
        add_need(s, status="in_progress", assignee_code="M10601", due_date=D(2025, 5, 30))
        add_need(s, status="in_progress", assignee_code="M10601", due_date=D(2025, 6, 3))
        add_need(s, status="in_progress", assignee_code="M10602", due_date=D(2025, 5, 1))
        add_need(s, status="in_progress", assignee_code="A10601", due_date=D(2025, 9, 1))


def test_remind_builds_the_outbox_and_sends_it_through_smtp(committed_engine, smtp_server,
                                                            monkeypatch, capsys):  # fmt: skip
    controller, inbox = smtp_server
    _workload(committed_engine)
    url = committed_engine.url.render_as_string(hide_password=False)
    monkeypatch.delenv("GRIDLAW_SMTP_URL", raising=False)
    assert main(["--db", url, "--lang", "en", "remind", "--day", "2025-06-02"]) == 0
    assert "2 digest(s) built, 0 sent" in capsys.readouterr().out  # A10601: nothing due
    monkeypatch.setenv("GRIDLAW_SMTP_URL",
                       f"smtp://127.0.0.1:{controller.port}?from=gridlaw@jiangmen.example.cn")  # fmt: skip
    assert main(["--db", url, "--lang", "en", "remind", "--day", "2025-06-02"]) == 0
    assert "0 digest(s) built, 1 sent, 0 failed" in capsys.readouterr().out  # built once
    [(to, message)] = inbox.messages
    assert to == ["m1@example.cn"] and message["From"] == "gridlaw@jiangmen.example.cn"
    body = message.get_content()
    assert "To accept (1):" in body and "Overdue (1):" in body and "Due soon (1):" in body
    assert "张三" not in body and "13912345678" not in body  # no personal data leaves
    with Session(committed_engine) as s:
        rows = {r.worker_code: r for r in s.scalars(select(ReminderOutbox))}
    assert rows["M10601"].sent_at is not None and rows["M10602"].error == "no_address"


def test_an_unreachable_server_is_kept_as_a_failure(committed_engine, monkeypatch, capsys):
    _workload(committed_engine)
    url = committed_engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("GRIDLAW_SMTP_URL", f"smtp://127.0.0.1:{_free_port()}")
    assert main(["--db", url, "--lang", "en", "remind", "--day", "2025-06-02"]) == 0
    assert "1 failed" in capsys.readouterr().out
    with Session(committed_engine) as s:
        row = s.scalar(select(ReminderOutbox).where(ReminderOutbox.worker_code == "M10601"))
    assert row.sent_at is None and row.error.startswith("connect: ")
    monkeypatch.setenv("GRIDLAW_SMTP_URL", "http://user:secret@mail")
    with pytest.raises(ConfigError) as err:
        reminders.send_outbox(Session(committed_engine))
    assert "secret" not in str(err.value)
