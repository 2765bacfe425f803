"""Workload per grid and per assistant on a hand-made community; expected values by hand."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from grid_model.errors import InvalidInputError
from grid_model.measures.workload import (
    ASSISTANT_COLUMNS,
    DEFAULT_WEIGHTS,
    assistant_workload,
    grid_workload,
    resolve_weights,
)
from grid_model.scope import Scope
from tests.factories import add_need, assign, make_community

pytestmark = pytest.mark.db

D = dt.date
START, END, TODAY = D(2025, 3, 1), D(2025, 3, 31), D(2025, 4, 15)
COMMUNITY = "440703006106"


@pytest.fixture()
def community(session):
    """Five grids (populations 1000, 2000, 500, 250, unknown). A3's assignment to grid 3 ends
    on END, and A1 covers grid 3 from 2025-01-01; A4 works 0.4 FTE; grid 5 (A5) has no needs.

    ==  ====  ============  ========  ==========================  =========  ==================
    #   grid  category      reported  status                      due        at 03-31
    ==  ====  ============  ========  ==========================  =========  ==================
    a   1     mediation     02-10     recorded                    03-12      open, overdue
    b   1     consultation  03-05     closed 03-07 (2 days)       03-12      new, closed
    c   1     legal_aid     03-10     closed 04-05 (after 03-31)  04-09      new, open
    d   3     consultation  03-20 Th  recorded, diary             03-27      new, open, overdue
    e   2     publicity     03-03     closed 03-04 (1 day)        03-18      new, closed
    f   2     consultation  01-15     closed 02-01                           neither
    g   4     mediation     03-12     in_progress                 04-11      new, open
    h   1     consultation  04-02     recorded (after 03-31)                 neither
    ==  ====  ============  ========  ==========================  =========  ==================
    """
    c = make_community(session, n_grids=5, population=[1000, 2000, 500, 250, None])
    g1, g2, g3, g4, _ = c.grid_codes
    a = {w.code[-2:]: w for w in c.workers["grid_assistant"]}  # "01" … "05"
    next(x for x in c.assignments if x.worker_id == a["03"].id).valid_to = END
    assign(session, a["01"], c.grids[2], valid_from=D(2025, 1, 1))
    a["04"].capacity = 0.4

    add_need(session, grid_code=g1, category="mediation", reported_at=D(2025, 2, 10))
    add_need(session, grid_code=g1, reported_at=D(2025, 3, 5), status="closed",
             closed_at=D(2025, 3, 7), outcome="resolved")  # fmt: skip
    add_need(session, grid_code=g1, category="legal_aid", reported_at=D(2025, 3, 10),
             status="closed", closed_at=D(2025, 4, 5), outcome="resolved")  # fmt: skip
    add_need(session, grid_code=g3, reported_at=D(2025, 3, 20), source="diary")
    add_need(session, grid_code=g2, category="publicity", reported_at=D(2025, 3, 3),
             status="closed", closed_at=D(2025, 3, 4), outcome="resolved")  # fmt: skip
    add_need(session, grid_code=g2, reported_at=D(2025, 1, 15), status="closed",
             closed_at=D(2025, 2, 1), outcome="resolved")  # fmt: skip
    add_need(session, grid_code=g4, category="mediation", reported_at=D(2025, 3, 12),
             status="in_progress")  # fmt: skip
    add_need(session, grid_code=g1, reported_at=D(2025, 4, 2))
    return c


def _scope():
    from grid_model.scope import Scope

    return Scope(area_code=COMMUNITY)


def test_grid_workload_by_hand(session, community):
    g1, g2, g3, g4, g5 = community.grid_codes
    df = grid_workload(session, _scope(), start=START, end=END, today=TODAY)
    assert list(df.columns) == ["grid_code", "workload", "open", "new"]
    assert df["grid_code"].tolist() == community.grid_codes
    g = df.set_index("grid_code")
    # grid 1: open a (3) + c (3); new b (1) + c (3)
    assert g.loc[g1].tolist() == [10.0, 2, 2]
    assert g.loc[g2].tolist() == [0.5, 0, 1]  # e new (publicity 0.5)
    assert g.loc[g3].tolist() == [2.0, 1, 1]  # d open and new
    assert g.loc[g4].tolist() == [6.0, 1, 1]  # g open and new (mediation 3)
    assert g.loc[g5].tolist() == [0.0, 0, 0]


def test_grid_workload_custom_weights_and_as_of(session, community):
    g1 = community.grid_codes[0]
    df = grid_workload(
        session, _scope(), start=START, end=END, today=TODAY, weights={"mediation": 1.0}
    ).set_index("grid_code")
    assert df.loc[g1, "workload"] == 8.0  # a counts 1 instead of 3
    # as of 03-08 (today before end): c is not reported yet; b is closed
    early = grid_workload(session, _scope(), start=START, end=END, today=D(2025, 3, 8))
    assert early.set_index("grid_code").loc[g1].tolist() == [4.0, 1, 1]  # a open, b new


@pytest.mark.parametrize(
    ("weights", "match"),
    [({"dispute": 2.0}, "dispute"), ({"mediation": -1}, "mediation"), ({"other": "x"}, "other")],
)
def test_bad_weights_rejected(weights, match):
    with pytest.raises(InvalidInputError, match=match):
        resolve_weights(weights)


def test_default_weights_cover_categories():
    from grid_model.models import Category

    assert set(DEFAULT_WEIGHTS) == {c.value for c in Category}
    assert DEFAULT_WEIGHTS["mediation"] > DEFAULT_WEIGHTS["consultation"]
    assert resolve_weights(None) == DEFAULT_WEIGHTS


def test_bad_period_rejected(session):
    with pytest.raises(InvalidInputError, match="end"):
        grid_workload(session, _scope(), start=END, end=START, today=TODAY)
    with pytest.raises(InvalidInputError, match="min_cases"):
        assistant_workload(session, _scope(), start=START, end=END, today=TODAY, min_cases=-1)


def test_assistant_workload_by_hand(session, community):
    df = assistant_workload(session, _scope(), start=START, end=END, today=TODAY, min_cases=2)
    assert list(df.columns) == ASSISTANT_COLUMNS
    # A3's assignment ends on END: not current at END
    assert sorted(df["assistant_code"]) == ["A10601", "A10602", "A10604", "A10605"]
    r = df.set_index("assistant_code")

    a1 = r.loc["A10601"]
    assert (a1["grids"], a1["population"]) == (2, 1500)
    assert (a1["open"], a1["new"], a1["closed"], a1["overdue"]) == (3, 3, 1, 2)
    assert a1["workload"] == 12.0  # open a 3 + c 3 + d 1; new b 1 + c 3 + d 1
    assert a1["workload_per_1000"] == pytest.approx(8.0)
    assert (a1["mean_days"], a1["median_days"]) == (2.0, 2.0)
    assert a1["on_time_rate"] == pytest.approx(1 / 2)  # due: b (closed on time), d (overdue)
    assert a1["diary_compliance"] == pytest.approx(1 / 21)  # 03-20 of March's 21 working days

    a2 = r.loc["A10602"]
    assert (a2["open"], a2["new"], a2["closed"], a2["workload"]) == (0, 1, 1, 0.5)
    assert (a2["mean_days"], a2["on_time_rate"], a2["diary_compliance"]) == (1.0, 1.0, 0.0)

    a4 = r.loc["A10604"]
    assert (a4["open"], a4["new"], a4["closed"], a4["workload"]) == (1, 1, 0, 6.0)
    assert a4["capacity"] == 0.4 and a4["workload_per_1000"] == pytest.approx(24.0)
    assert pd.isna(a4["mean_days"]) and pd.isna(a4["on_time_rate"])

    a5 = r.loc["A10605"]  # no cases at all: zeros, not missing
    assert (a5["open"], a5["new"], a5["closed"], a5["overdue"], a5["workload"]) == (0,) * 5
    assert pd.isna(a5["population"]) and pd.isna(a5["workload_per_1000"])

    # ranking with min_cases=2: A4 (1 case) and A5 (none) are shown but not ranked
    assert r["ranked"].to_dict() == {
        "A10601": True,
        "A10602": True,
        "A10604": False,
        "A10605": False,
    }
    assert df["rank"].dtype == "Int64"
    assert df["assistant_code"].tolist()[:2] == ["A10601", "A10602"]
    assert df["rank"].tolist()[:2] == [1, 2] and df["rank"].iloc[2:].isna().all()


def test_assistant_rank_uses_capacity(session, community):
    df = assistant_workload(session, _scope(), start=START, end=END, today=TODAY, min_cases=1)
    r = df.set_index("assistant_code")
    # per FTE: A4 6 / 0.4 = 15 beats A1 12 / 1; A2 0.5; A5 has no case
    assert r["rank"].dropna().to_dict() == {"A10604": 1, "A10601": 2, "A10602": 3}
    assert df["assistant_code"].tolist() == ["A10604", "A10601", "A10602", "A10605"]
    assert not r.loc["A10605", "ranked"]
    # the sum over assistants equals the sum over their grids
    grids = grid_workload(session, _scope(), start=START, end=END, today=TODAY)
    g3 = community.grid_codes[2]
    assert df["workload"].sum() == grids["workload"].sum()
    assert grids.set_index("grid_code").loc[g3, "workload"] == 2.0


def test_assistant_workload_other_area_is_empty(session, community):
    from grid_model.scope import Scope

    df = assistant_workload(
        session, Scope(area_code="440703006107"), start=START, end=END, today=TODAY
    )
    assert df.empty and list(df.columns) == ASSISTANT_COLUMNS


@pytest.mark.db
def test_diary_compliance_of_an_assistant_skips_holidays(session):
    """Spring Festival 2025 (Jan 28 – Feb 4 off, Sunday Jan 26 and Saturday Feb 8 worked):
    entries on Sunday Jan 26, Wednesday Jan 29 (a holiday) and Monday Feb 10 in a period of
    Jan 20 – Feb 14 with 16 working days (5 + 26th + 27th + 5th–8th + 5): 2 of 16."""
    c = make_community(session, n_grids=1, staff_from=D(2024, 1, 1))
    for day in (D(2025, 1, 26), D(2025, 1, 29), D(2025, 2, 10)):
        add_need(session, grid_code=c.grid_codes[0], reported_at=day, source="diary")
    df = assistant_workload(
        session, Scope(area_code=c.code), start=D(2025, 1, 20), end=D(2025, 2, 14),
        today=D(2025, 3, 1),
    )  # fmt: skip
    assert df["diary_compliance"].tolist() == [pytest.approx(2 / 16)]
