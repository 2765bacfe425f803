"""The indicators of the closed loop on a hand-made set of 20 cases, each answer worked out by
hand (below), and the published bulletin's figures, on both backends.

As of 2025-03-31 (Asia/Shanghai), all reported 2025-03-03 but C15 (2025-04-02):

====  ==========================================================================================
C1    dispatched 09:00, accepted 10:00 (1 h), handled/verified 03-05, due 03-10, visited 满意
C2    accepted after 48 h, closed 03-20 (late, due 03-10), visited 不满意
C3    urgent, accepted after 1.5 h (limit 2 h), verification failed 03-04, closed 03-06, 基本满意
C4    urgent, accepted after 3 h (late), on hold since 03-05: not due at 03-31 (Jinhua rule)
C5    accepted after 23 h, hold 03-05 → resume 03-07, closed 03-08
C6    accepted after 0.5 h, hold 03-05 → resume 04-02: on hold at 03-31, not due
C7    accepted after 1 h, handled 03-28, verified 04-03: open at 03-31, due (03-10), not verified
C8    dispatched, never accepted, due 04-30
C9    returned 03-03, dispatched again 03-04 09:00, accepted 09:30 (0.5 h), due 04-30
C10   recorded only, due 03-20: due, open
C11   closed on the spot 03-03 (no dispatch, no verification), visited 满意
C12   mediation, accepted after 2 h, mediated 03-10 (due 03-31), visited 满意, agreement performed
C13   mediation, accepted after 2 h, mediation_failed 03-12, visited 不满意
C14   mediation, accepted after 2 h, verification failed 03-16, mediated 03-18, agreement not
      performed
C15   reported 04-02: after the as-of day, counts nowhere
C16   dispatched 03-30, accepted 04-01: dispatched but not accepted at 03-31, due 04-30
C17   dispatched 03-31 08:00, accepted 09:00, verified 03-31 23:00 local: closed by 03-31, due 03-31
C18   accepted after 2 h, verification failed 03-25, due 03-28: verified once, reworked, open
C19   accepted after 25 h (late), hold 03-10 → resume 03-12, due 03-20: due, open
C20   accepted after 1 h, due 03-05, supervised 03-20 (deadline 03-25): due, open, supervised
====  ==========================================================================================

needs 19 · closed 9 (C1 C2 C3 C5 C11 C12 C13 C14 C17) · due to close 9 + 5 (C7 C10 C18 C19
C20; C4 C6 on hold are not) = 14 · on time 8 (all closed but C2) · closure 9/14 · on time 8/14
· on hold 2 · dispatched 17 (all but C10 C11 C15) · accepted 15 (not C8 C16) · in time 12 (not
C2 C4 C19) · verified 9 (C1 C2 C3 C5 C12 C13 C14 C17 C18) · reworked 3 (C3 C14 C18) · visited 6
(C1 C2 C3 C11 C12 C13) of 9 closed · satisfied 4 (C1 C3 C11 C12) of 6 · mediation 2 mediated of
3 closed · agreements 1 performed of 2 followed · overdue open 7 (C4 C6 C7 C10 C18 C19 C20) ·
median hours to accept of 0.5 0.5 1 1 1 1 1.5 2 2 2 2 3 23 25 48 = 2 · median days to close of
0 2 3 5 7 9 15 17 28 = 7.
"""

from __future__ import annotations

import datetime as dt

import pytest

from grid_model.cases.indicators import case_indicators
from grid_model.cases.workflow import apply_step
from grid_model.models import MediationCase
from grid_model.scope import Scope, Viewer
from tests.factories import add_need, make_community

pytestmark = pytest.mark.db

D = dt.date
ADMIN = Viewer.local_admin("admin")
AS_OF = D(2025, 3, 31)


def _loop(handled: str, verified: str, outcome: str = "resolved") -> list:
    return [("start", None, {}), ("handle", handled, {"outcome": outcome}),
            ("verify", verified, {"passed": True})]  # fmt: skip


def _accepted(at: str, *, dispatched: str = "03-03 09:00", priority: str = "normal") -> list:
    return [("dispatch", dispatched, {"to": "M10601", "priority": priority}), ("accept", at, {})]


# name: (category, due, steps as (step, "MM-DD HH:MM" or None = as the previous one, values))
CASES = {
    "C1": ("consultation", "03-10", _accepted("03-03 10:00") + _loop("03-05 10:00", "03-05 11:00")
           + [("visit", "03-06 10:00", {"satisfaction": "满意"})]),
    "C2": ("consultation", "03-10", _accepted("03-05 09:00") + _loop("03-20 10:00", "03-20 11:00")
           + [("visit", "03-21 10:00", {"satisfaction": "不满意"})]),
    "C3": ("consultation", "03-10", _accepted("03-03 10:30", priority="urgent")
           + [("start", None, {}), ("handle", "03-04 10:00", {"outcome": "resolved"}),
              ("verify", "03-04 11:00", {"passed": False})]
           + [("handle", "03-06 09:00", {"outcome": "resolved"}),
              ("verify", "03-06 10:00", {"passed": True}),
              ("visit", "03-07 10:00", {"satisfaction": "基本满意"})]),
    "C4": ("consultation", "03-10", _accepted("03-03 12:00", priority="urgent")
           + [("start", None, {}), ("hold", "03-05 10:00", {"reason": "等待当事人"})]),
    "C5": ("consultation", "03-10", _accepted("03-04 08:00")
           + [("start", None, {}), ("hold", "03-05 10:00", {"reason": "外出"}),
              ("resume", "03-07 10:00", {}), ("handle", "03-08 10:00", {"outcome": "resolved"}),
              ("verify", "03-08 11:00", {"passed": True})]),
    "C6": ("consultation", "03-10", _accepted("03-03 09:30")
           + [("start", None, {}), ("hold", "03-05 10:00", {"reason": "鉴定"}),
              ("resume", "04-02 10:00", {})]),
    "C7": ("consultation", "03-10", _accepted("03-03 10:00") + _loop("03-28 10:00", "04-03 10:00")),
    "C8": ("consultation", "04-30", [("dispatch", "03-03 09:00", {"to": "M10601"})]),
    "C9": ("consultation", "04-30", [("dispatch", "03-03 09:00", {"to": "M10601"}),
                                     ("return", "03-03 15:00", {"reason": "非本人职责"}),
                                     ("dispatch", "03-04 09:00", {"to": "A10601"}),
                                     ("accept", "03-04 09:30", {})]),
    "C10": ("consultation", "03-20", []),
    "C11": ("consultation", "03-10", [("close", "03-03 10:00", {"outcome": "resolved"}),
                                      ("visit", "03-04 10:00", {"satisfaction": "满意"})]),
    "C12": ("mediation", "03-31", _accepted("03-03 11:00")
            + _loop("03-10 10:00", "03-10 11:00", "mediated")
            + [("visit", "03-11 10:00", {"satisfaction": "满意"})]),
    "C13": ("mediation", "03-31", _accepted("03-03 11:00")
            + _loop("03-12 10:00", "03-12 11:00", "mediation_failed")
            + [("visit", "03-13 10:00", {"satisfaction": "不满意"})]),
    "C14": ("mediation", "03-31", _accepted("03-03 11:00")
            + [("start", None, {}), ("handle", "03-15 10:00", {"outcome": "mediated"}),
               ("verify", "03-16 10:00", {"passed": False}),
               ("handle", "03-18 10:00", {"outcome": "mediated"}),
               ("verify", "03-18 11:00", {"passed": True})]),
    "C15": ("consultation", "04-30", []),
    "C16": ("consultation", "04-30", [("dispatch", "03-30 09:00", {"to": "M10601"}),
                                      ("accept", "04-01 09:00", {})]),
    "C17": ("consultation", "03-31", _accepted("03-31 09:00", dispatched="03-31 08:00")
            + _loop("03-31 20:00", "03-31 23:00")),
    "C18": ("consultation", "03-28", _accepted("03-03 11:00")
            + [("start", None, {}), ("handle", "03-24 10:00", {"outcome": "resolved"}),
               ("verify", "03-25 10:00", {"passed": False})]),
    "C19": ("consultation", "03-20", _accepted("03-04 10:00")
            + [("start", None, {}), ("hold", "03-10 10:00", {"reason": "补充材料"}),
               ("resume", "03-12 10:00", {})]),
    "C20": ("consultation", "03-05", _accepted("03-03 10:00")
            + [("start", None, {}), ("supervise", "03-20 10:00", {"due": D(2025, 3, 25)})]),
}  # fmt: skip


@pytest.fixture()
def hand_made(session):
    make_community(session, n_grids=4)
    ids = {}
    for name, (category, due, steps) in CASES.items():
        reported = D(2025, 4, 2) if name == "C15" else D(2025, 3, 3)
        need = add_need(session, category=category, reported_at=reported,
                        due_date=D(2025, *map(int, due.split("-"))))  # fmt: skip
        at = None
        for step, when, values in steps:
            at = f"2025-{when}" if when else at
            apply_step(session, need.id, step, ADMIN, at=at, **values)
        ids[name] = need.id
    for name, result in (("C12", "performed"), ("C14", "not_performed")):
        session.add(MediationCase(need_id=ids[name], district_code="440703",
                                  accepted_on=D(2025, 3, 3), due_on=D(2025, 4, 3),
                                  performance_result=result))  # fmt: skip
    session.flush()
    return ids


def test_every_indicator_on_the_hand_made_cases(session, hand_made):
    got = case_indicators(session, Scope(), ADMIN, as_of=AS_OF).as_dict()
    expected = {
        "as_of": "2025-03-31", "needs": 19, "closed": 9, "due_to_close": 14, "on_hold": 2,
        "on_time": 8, "closure_rate": 9 / 14, "on_time_rate": 8 / 14, "dispatched": 17,
        "accepted": 15, "accepted_in_time": 12, "acceptance_rate": 15 / 17,
        "timely_acceptance_rate": 12 / 17, "verified": 9, "reworked": 3, "rework_rate": 3 / 9,
        "visited": 6, "visit_rate": 6 / 9, "satisfied": 4, "satisfaction_rate": 4 / 6,
        "mediation_closed": 3, "mediated": 2, "mediation_success_rate": 2 / 3,
        "agreements_followed": 2, "agreements_performed": 1, "agreement_performance_rate": 0.5,
        "overdue_open": 7, "supervised": 1, "median_hours_to_accept": 2.0,
        "median_days_to_close": 7.0,
    }  # fmt: skip
    assert got == pytest.approx(expected)


def test_a_day_later_the_late_closing_and_the_resumed_hold_count(session, hand_made):
    """As of 04-03: C7 is closed (verified 04-03), C6 resumed on 04-02 is due again, C16 is
    accepted (after 48 h: late)."""
    got = case_indicators(session, Scope(), ADMIN, as_of=D(2025, 4, 3))
    assert (got.needs, got.closed, got.on_hold) == (20, 10, 1)
    assert got.due_to_close == 10 + 5  # the closed, and C6 C10 C18 C19 C20 open and due
    assert (got.accepted, got.accepted_in_time, got.verified) == (16, 12, 10)


def test_the_scope_and_the_viewer_cut_the_cases(session, hand_made):
    other = Viewer(role="street_office", area_code="440703007")
    assert case_indicators(session, Scope(), other, as_of=AS_OF).needs == 0
    mediation = case_indicators(session, Scope(categories=("mediation",)), ADMIN, as_of=AS_OF)
    assert (mediation.needs, mediation.closed, mediation.rework_rate) == (3, 3, 1 / 3)


def test_the_published_bulletin(session):
    """972 due, 911 closed, 737 on time → 93.72 % and 75.82 % (cases on hold and not yet due
    around them count nowhere)."""
    make_community(session, n_grids=1)
    late, open_due, held, not_due = 911 - 737, 972 - 911, 5, 10
    kinds = (["on_time"] * 737 + ["late"] * late + ["open"] * open_due + ["held"] * held
             + ["not_due"] * not_due)  # fmt: skip
    for kind in kinds:
        closed = kind in ("on_time", "late")
        need = add_need(
            session, reported_at=D(2025, 3, 3),
            due_date=D(2025, 4, 30) if kind == "not_due" else D(2025, 3, 10),
            status="closed" if closed else ("in_progress" if kind == "held" else "recorded"),
            outcome="resolved" if closed else None,
            closed_at={"on_time": D(2025, 3, 8), "late": D(2025, 3, 20)}.get(kind),
        )  # fmt: skip
        if kind == "held":
            apply_step(session, need.id, "hold", ADMIN, at="2025-03-09 10:00", reason="停工")
    got = case_indicators(session, Scope(), ADMIN, as_of=AS_OF)
    assert (got.due_to_close, got.closed, got.on_time, got.on_hold) == (972, 911, 737, 5)
    assert (round(got.closure_rate * 100, 2), round(got.on_time_rate * 100, 2)) == (93.72, 75.82)
