"""Imports with the closed loop's columns (Chinese headers too): checked row by row, stored,
and their steps synthesised as events, on both backends."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import select

from grid_model.cases.indicators import case_indicators
from grid_model.errors import ImportValidationError
from grid_model.imports import import_needs
from grid_model.models import CaseEvent, Need
from grid_model.scope import Scope, Viewer
from tests.factories import make_community

pytestmark = pytest.mark.db

ADMIN = Viewer.local_admin("admin")
HEADER = ["编号", "登记日期", "经度", "纬度", "类别", "状态", "结果", "办结日期", "承办人",
          "优先级", "派遣时间", "签收时间", "处置时间", "核查时间", "回访时间", "满意度"]  # fmt: skip
GOOD = [
    ["N1", "2025-03-03", 113.082, 22.606, "法律咨询", "已办结", "已解决", "2025-03-05", "M10601",
     "紧急", "2025-03-03 09:00", "2025年3月3日 9:30", "2025/3/5 10:00", "2025-03-05 16:00",
     "2025-03-06T10:00+08:00", "基本满意"],
    ["N2", "2025-03-03", 113.082, 22.606, "人民调解", "已签收", None, None, "M10601", None,
     "2025-03-03 09:00", "2025-03-04 09:00", None, None, None, None],
]  # fmt: skip


def _csv(rows) -> bytes:
    return pd.DataFrame(rows, columns=HEADER).to_csv(index=False).encode("utf-8")


def test_loop_columns_with_chinese_headers_are_stored_with_their_steps(session):
    make_community(session, n_grids=4)
    report = import_needs(session, _csv(GOOD), filename="n.csv", viewer=ADMIN)
    assert report.inserted == 2
    n1 = session.scalar(select(Need).where(Need.external_id == "N1"))
    assert (n1.assignee_code, n1.priority, n1.satisfaction) == ("M10601", "urgent",
                                                               "basically_satisfied")  # fmt: skip
    assert n1.dispatched_at == dt.datetime(2025, 3, 3, 1, 0)  # 09:00 in Shanghai
    assert n1.accepted_at == dt.datetime(2025, 3, 3, 1, 30)
    assert n1.visited_at == dt.datetime(2025, 3, 6, 2, 0)
    steps = session.scalars(select(CaseEvent.step).where(CaseEvent.need_id == n1.id)
                            .order_by(CaseEvent.at)).all()  # fmt: skip
    assert steps == ["dispatch", "accept", "handle", "verify", "visit"]
    got = case_indicators(session, Scope(), ADMIN, as_of=dt.date(2025, 3, 31))
    # N1 urgent after 0.5 h (limit 2 h), N2 normal after exactly 24 h (limit 24 h): both in time
    assert (got.dispatched, got.accepted, got.accepted_in_time) == (2, 2, 2)
    assert (got.visited, got.satisfied, got.median_hours_to_accept) == (1, 1, 12.25)


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("签收时间", "2025-03-02 09:00", "not before 'dispatched_at'"),
        ("签收时间", "soon", "a time (e.g."),
        ("派遣时间", "2999-01-01 09:00", "not in the future"),
        ("承办人", "NOBODY", "a worker code that exists"),
        ("优先级", "ASAP", "urgent"),
        ("满意度", "还行", "basically_satisfied"),
    ],
)
def test_bad_loop_cells_name_row_and_field(session, column, value, expected):
    make_community(session, n_grids=4)
    rows = [list(r) for r in GOOD]
    rows[0][HEADER.index(column)] = value
    with pytest.raises(ImportValidationError) as err:
        import_needs(session, _csv(rows), filename="n.csv", viewer=ADMIN, lang="en")
    problems = [e.as_dict() for e in err.value.errors]
    assert any(p["row"] == 2 and expected in p["expected"] for p in problems), problems


def test_a_visit_needs_a_closed_need_and_both_columns(session):
    make_community(session, n_grids=4)
    rows = [list(r) for r in GOOD]
    rows[1][HEADER.index("满意度")] = "满意"
    with pytest.raises(ImportValidationError) as err:
        import_needs(session, _csv(rows), filename="n.csv", viewer=ADMIN, lang="en")
    fields_ = {(e.row, e.field) for e in err.value.errors}
    assert fields_ == {(3, "satisfaction"), (3, "visited_at")}


def test_the_demo_runs_the_whole_loop(session):
    from grid_model.imports.seed import seed_demo

    seed_demo(session, viewer=ADMIN, scale="community", seed=0)
    got = case_indicators(session, Scope(), ADMIN, as_of=dt.date(2025, 12, 31))
    assert got.needs == 1200 and got.dispatched > 1000 and got.accepted_in_time < got.accepted
    assert got.reworked > 0 and got.on_hold > 0 and got.visited > 0 and got.supervised > 0
    assert 0 < got.agreements_performed < got.agreements_followed
    statuses = set(session.scalars(select(Need.status).distinct()))
    assert {"returned", "on_hold", "handled", "accepted"} <= statuses
    steps = set(session.scalars(select(CaseEvent.step).distinct()))
    assert steps == {"dispatch", "accept", "handle", "verify", "visit", "hold"}
