"""Indicators on a small hand-made community; expected values worked out by hand."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from grid_model.errors import InvalidInputError, NotFoundError
from grid_model.measures.definitions import DUE_DAYS, GRID_MEASURE_COLUMNS, median_from_counts
from grid_model.measures.grid_card import grid_card
from grid_model.measures.heat import heat_bins
from grid_model.measures.per_grid import grid_measures
from grid_model.measures.summary import Kpis, compute_kpis, monthly_trend
from grid_model.models import Need
from grid_model.scope import Scope, Viewer
from grid_model.workdays import working_days
from tests.factories import add_need, add_service_event, make_community

pytestmark = pytest.mark.db

D = dt.date
TODAY = D(2025, 4, 1)  # a Tuesday
ADMIN = Viewer(role="admin")
LEADER = Viewer(role="community_leader", area_code="440703006106", name="leader")


@pytest.fixture()
def community(session):
    """Four grids (populations 1000, 2000, unknown, 500) and nine needs:

    ==  ====  ============  ==========  ======================  ==========  ======  =====
    #   grid  category      reported    closed (outcome)        due         source  days
    ==  ====  ============  ==========  ======================  ==========  ======  =====
    1   1     consultation  03-03 Mon   03-05 resolved          03-10 (7)   diary   2
    2   1     consultation  03-03 Mon   03-20 resolved (late)   03-10 (7)   diary   17
    3   1     mediation     03-04 Tue   03-14 mediated          03-31 set   diary   10
    4   2     mediation     03-10       03-25 mediation_failed  04-09 (30)  phone   15
    5   2     legal_aid     03-20       open                    04-19 (30)  phone
    6   1     consultation  03-15 Sat   open, dispatched        03-22 (7)   diary
    7   2     publicity     03-25       open, in_progress       04-01 set   online
    8   1     consultation  05-01       after TODAY: left out               diary
    9   2     consultation  03-28       04-03 (after TODAY)     04-04 (7)   phone
    ==  ====  ============  ==========  ======================  ==========  ======  =====
    """
    c = make_community(session, n_grids=4, population=[1000, 2000, None, 500])
    g1, g2, g3, g4 = c.grid_codes

    def closed(**kw):
        return add_need(session, status="closed", **kw)

    closed(grid_code=g1, reported_at=D(2025, 3, 3), closed_at=D(2025, 3, 5),
           outcome="resolved", source="diary")  # fmt: skip
    closed(grid_code=g1, reported_at=D(2025, 3, 3), closed_at=D(2025, 3, 20),
           outcome="resolved", source="diary")  # fmt: skip
    closed(grid_code=g1, category="mediation", reported_at=D(2025, 3, 4),
           closed_at=D(2025, 3, 14), due_date=D(2025, 3, 31), outcome="mediated",
           source="diary")  # fmt: skip
    closed(grid_code=g2, category="mediation", reported_at=D(2025, 3, 10),
           closed_at=D(2025, 3, 25), outcome="mediation_failed", source="phone")  # fmt: skip
    add_need(session, grid_code=g2, category="legal_aid", reported_at=D(2025, 3, 20),
             source="phone")  # fmt: skip
    add_need(session, grid_code=g1, reported_at=D(2025, 3, 15), status="dispatched",
             source="diary", under_correction=True, resident_name="王五")  # fmt: skip
    add_need(session, grid_code=g2, category="publicity", reported_at=D(2025, 3, 25),
             due_date=D(2025, 4, 1), status="in_progress", source="online")  # fmt: skip
    add_need(session, grid_code=g1, reported_at=D(2025, 5, 1), source="diary")
    closed(grid_code=g2, reported_at=D(2025, 3, 28), closed_at=D(2025, 4, 3),
           outcome="resolved", source="phone", resident_name="李四",
           resident_phone="13912345678")  # fmt: skip

    add_service_event(session, grid_code=g1, held_on=D(2025, 3, 10))
    add_service_event(session, grid_code=g1, held_on=D(2025, 3, 24))
    add_service_event(session, grid_code=g1, held_on=D(2025, 4, 5))  # after TODAY
    add_service_event(session, grid_code=None, district_code="440705", held_on=D(2025, 3, 5))
    return c


def test_due_days_cover_every_category():
    from grid_model.models import Category

    assert set(DUE_DAYS) == {c.value for c in Category}


def test_working_days_and_median_helpers():
    assert working_days(D(2025, 3, 3), D(2025, 4, 1)) == 22
    assert working_days(D(2025, 3, 1), D(2025, 3, 31)) == 21
    assert working_days(D(2025, 3, 8), D(2025, 3, 9)) == 0  # a weekend
    assert working_days(D(2025, 3, 9), D(2025, 3, 8)) == 0
    assert median_from_counts([2, 10, 15, 17], [1, 1, 1, 1]) == 12.5
    assert median_from_counts([1, 5], [2, 1]) == 1.0
    assert median_from_counts([3, 9], [1, 2]) == 9.0
    assert median_from_counts([], []) is None


def test_kpis_by_hand(session, community):
    k = compute_kpis(session, Scope(area_code="440703006106"), today=TODAY)
    assert k.needs == 8  # #8 is reported after TODAY
    assert k.closed == 4  # #1-#4; #9 closes after TODAY
    assert k.due_to_close == 6  # closed #1-#4, open #6 (due 03-22) and #7 (due today)
    assert k.closure_rate == pytest.approx(4 / 6)
    assert k.on_time_rate == pytest.approx(3 / 6)  # #1, #3, #4
    assert k.disputes_mediated == 1
    assert k.mediation_success_rate == pytest.approx(1 / 2)
    assert k.overdue_open == 1  # #6; #7 is due today, not overdue yet
    assert k.mean_days_to_close == pytest.approx((2 + 17 + 10 + 15) / 4)
    assert k.median_days_to_close == pytest.approx(12.5)
    # diary on working days 03-03 and 03-04 (03-15 is a Saturday) of 22 (03-03 … 04-01)
    assert k.diary_compliance == pytest.approx(2 / 22)
    assert k.services == 2  # 04-05 is after TODAY; the other event is in another district


def test_kpis_for_a_period_and_category(session, community):
    march = Scope(area_code="440703006", start=D(2025, 3, 1), end=D(2025, 3, 31))
    k = compute_kpis(session, march, today=TODAY)
    assert (k.needs, k.closed, k.due_to_close) == (8, 4, 6)
    assert k.diary_compliance == pytest.approx(2 / 21)  # 21 working days in March 2025
    assert k.services == 2

    mediation = Scope(categories=("mediation",))
    k = compute_kpis(session, mediation, today=TODAY)
    assert (k.needs, k.closed, k.due_to_close, k.overdue_open) == (2, 2, 2, 0)
    assert k.mediation_success_rate == pytest.approx(0.5)
    assert k.median_days_to_close == pytest.approx(12.5)


def test_kpis_as_of_an_earlier_day(session, community):
    k = compute_kpis(session, Scope(), today=D(2025, 3, 12))
    # reported by 03-12: #1-#4; closed by then #1 (03-05); #2 due 03-10 and open → overdue
    assert (k.needs, k.closed, k.due_to_close, k.overdue_open) == (4, 1, 2, 1)
    assert k.on_time_rate == pytest.approx(1 / 2)
    assert k.mediation_success_rate is None
    assert k.services == 2  # 03-10 in grid 1 and 03-05 in another district (no area)


def test_kpis_empty_scope_has_zeros_and_none(session, community):
    k = compute_kpis(session, Scope(area_code="440703999999"), today=TODAY)
    assert k == Kpis()
    assert k.closure_rate is None and k.diary_compliance is None


def test_kpis_on_an_empty_database(session):
    assert compute_kpis(session, Scope(), today=TODAY) == Kpis()


def test_grid_measures_by_hand(session, community):
    df = grid_measures(session, Scope(area_code="440703006106"), today=TODAY)
    assert list(df.columns) == GRID_MEASURE_COLUMNS
    assert list(df["grid_code"]) == community.grid_codes
    g = df.set_index("grid_code")
    g1, g2, g3, g4 = community.grid_codes
    assert g.loc[g1, ["needs", "open", "overdue", "closed", "services"]].tolist() == [4, 1, 1, 3, 2]
    assert g.loc[g1, "per_1000"] == pytest.approx(4.0)
    assert g.loc[g1, "closure_rate"] == pytest.approx(3 / 4)
    assert g.loc[g1, "on_time_rate"] == pytest.approx(2 / 4)
    assert g.loc[g1, "last_diary"] == D(2025, 3, 15)
    assert g.loc[g2, ["needs", "open", "overdue", "closed", "services"]].tolist() == [4, 3, 0, 1, 0]
    assert g.loc[g2, "per_1000"] == pytest.approx(2.0)
    assert g.loc[g2, "closure_rate"] == pytest.approx(0.5)
    assert g.loc[g2, "on_time_rate"] == pytest.approx(0.5)
    assert g.loc[g2, "last_diary"] is None
    # grids without needs: zeros, rates undefined, per_1000 NaN without population
    assert g.loc[g3, ["needs", "open", "overdue", "closed", "services"]].tolist() == [0] * 5
    assert math.isnan(g.loc[g3, "per_1000"]) and pd.isna(g.loc[g3, "population"])
    assert g.loc[g4, "per_1000"] == 0.0
    assert pd.isna(g.loc[g4, "closure_rate"]) and pd.isna(g.loc[g4, "on_time_rate"])
    # totals agree with the KPIs of the same scope
    k = compute_kpis(session, Scope(area_code="440703006106"), today=TODAY)
    assert df["needs"].sum() == k.needs and df["closed"].sum() == k.closed


def test_grid_measures_scope_limits_grids(session, community):
    df = grid_measures(session, Scope(area_code=community.grid_codes[1]), today=TODAY)
    assert df["grid_code"].tolist() == [community.grid_codes[1]]
    assert df["needs"].tolist() == [4]
    assert grid_measures(session, Scope(area_code="440703999"), today=TODAY).empty


def test_monthly_trend_fills_empty_months(session, community):
    df = monthly_trend(session, Scope())
    assert list(df.columns) == ["month", "category", "count"]
    got = {(m, c): n for m, c, n in df.itertuples(index=False)}
    assert got[("2025-03", "consultation")] == 4  # #1, #2, #6, #9
    assert got[("2025-03", "mediation")] == 2
    assert got[("2025-03", "legal_aid")] == 1
    assert got[("2025-03", "publicity")] == 1
    assert got[("2025-05", "consultation")] == 1  # #8: trends are not cut at a day
    assert all(got[("2025-04", c)] == 0 for c in ("consultation", "mediation", "publicity"))
    assert df["count"].sum() == 9
    assert sorted(df["month"].unique()) == ["2025-03", "2025-04", "2025-05"]
    assert monthly_trend(session, Scope(area_code="440703999")).empty


def test_heat_bins_sum_to_needs_and_bin_in_place(session, community):
    bins = heat_bins(session, Scope())
    assert list(bins.columns) == ["lon", "lat", "weight"]
    assert bins["weight"].sum() == 9
    # every need of the fixture sits at its grid's representative point: one bin per grid used
    assert len(bins) == 2

    # outside every grid, in a neighbouring district
    outside = {"grid_code": None, "district_code": "440705"}
    add_need(session, lon=113.1011, lat=22.6033, **outside)
    add_need(session, lon=113.1019, lat=22.6021, **outside)  # same 0.002° cell
    add_need(session, lon=113.1021, lat=22.6021, **outside)  # next cell east
    bins = heat_bins(session, Scope())
    assert bins["weight"].sum() == 12
    cell = bins[(bins["lon"] - 113.101).abs() < 1e-9]
    assert len(cell) == 1 and cell["lat"].iloc[0] == pytest.approx(22.603)
    assert cell["weight"].iloc[0] == 2
    assert bins.loc[(bins["lon"] - 113.103).abs() < 1e-9, "weight"].tolist() == [1]
    coarse = heat_bins(session, Scope(), cell_deg=1.0)
    assert coarse["weight"].tolist() == [12]
    assert coarse[["lon", "lat"]].iloc[0].tolist() == [113.5, 22.5]
    scoped = heat_bins(session, Scope(area_code=community.grid_codes[0]))
    assert scoped["weight"].sum() == 5


@pytest.mark.parametrize("bad", [0, -0.01, float("nan"), "0.002"])
def test_heat_bins_rejects_bad_cell(session, bad):
    with pytest.raises(InvalidInputError, match="cell_deg"):
        heat_bins(session, Scope(), cell_deg=bad)


def test_grid_card_for_admin(session, community):
    g1 = community.grid_codes[0]
    card = grid_card(session, g1, ADMIN, today=TODAY)
    assert (card.code, card.community, card.population) == (g1, "育德社区", 1000)
    assert card.staff["grid_assistant"] == ["A1"]
    assert card.staff["mediator"] == ["M1"] and card.staff["lawyer"] == ["L1"]
    assert card.staff["info_officer"] == [] and card.staff["volunteer"] == []
    assert card.phones == {"A1": "13800000001", "M1": "13700000001", "L1": "13600000001"}
    assert card.kpis == compute_kpis(session, Scope(area_code=g1), today=TODAY)
    assert card.kpis.needs == 4 and card.kpis.services == 2
    assert len(card.latest) == 4  # #8 is after TODAY
    assert card.latest["reported_at"].iloc[0] == D(2025, 3, 15)
    assert "resident_name" in card.latest.columns


def test_grid_card_redacted_for_community_leader(session, community):
    g1 = community.grid_codes[0]
    card = grid_card(session, g1, LEADER, today=TODAY, latest=3)
    assert card.phones == {}
    assert card.staff["grid_assistant"] == ["A1"]
    assert "resident_name" not in card.latest.columns
    assert "resident_phone" not in card.latest.columns
    # #6 (under correction) is dropped before the limit, so three rows still come back
    assert len(card.latest) == 3
    assert D(2025, 3, 15) not in set(card.latest["reported_at"])


def test_grid_card_staff_follows_assignment_history(session, community):
    from tests.factories import add_worker, assign

    grid = community.grids[0]
    first = community.assignments[0]  # A1 on grid 1
    first.valid_to = D(2025, 3, 1)
    new = add_worker(session, code="A-NEW", name="新助理", role="grid_assistant")
    assign(session, new, grid, valid_from=D(2025, 3, 1))
    assert grid_card(session, grid.code, ADMIN, today=TODAY).staff["grid_assistant"] == ["新助理"]
    old = grid_card(session, grid.code, ADMIN, today=D(2025, 2, 1))
    assert old.staff["grid_assistant"] == ["A1"]


def test_grid_card_unknown_or_foreign_grid(session, community):
    with pytest.raises(NotFoundError, match="440703006106999"):
        grid_card(session, "440703006106999", ADMIN, today=TODAY)
    other = Viewer(role="community_leader", area_code="440703006107")
    with pytest.raises(NotFoundError):
        grid_card(session, community.grid_codes[0], other, today=TODAY)


def test_heat_bins_nested_cells_match_direct_binning(session, community):
    # 0.01 = 5 × 0.002 is counted from the base lattice; 0.003 directly
    rng = np.random.default_rng(7)
    for lon, lat in zip(
        rng.uniform(113.05, 113.13, 40), rng.uniform(22.57, 22.65, 40), strict=True
    ):
        add_need(session, grid_code=None, district_code="440705", lon=float(lon), lat=float(lat))
    needs = pd.DataFrame(session.execute(select(Need.lon, Need.lat)).all(), columns=["lon", "lat"])
    for cell in (0.01, 0.003):
        bins = heat_bins(session, Scope(), cell_deg=cell)
        got = {(round(x, 9), round(y, 9)): w for x, y, w in bins.itertuples(index=False)}
        centres = needs.assign(
            # floor(x / cell) as SQL computes it, not Python's exact floor division
            lon=((np.floor(needs["lon"] / cell) + 0.5) * cell).round(9),
            lat=((np.floor(needs["lat"] / cell) + 0.5) * cell).round(9),
        )
        expected = centres.groupby(["lon", "lat"]).size().to_dict()
        assert len(got) > 10
        assert got == expected


def test_heat_bins_stream_through_the_index_on_spatialite(tmp_path):
    """On SpatiaLite the heat-bin count reads ix_needs_heat (migration 0002) in group order
    instead of sorting every need; PostgreSQL hash-aggregates and has no such index."""
    from sqlalchemy import text
    from sqlalchemy.dialects import sqlite
    from sqlalchemy.orm import Session

    from grid_model import db
    from grid_model.measures.heat import _heat_bins_stmt

    engine = db.make_engine(f"sqlite:///{tmp_path / 'plan.sqlite'}")
    try:
        db.upgrade(engine)
        scopes = [
            Scope(),
            Scope(area_code="440703", start=D(2025, 1, 1)),
        ]
        # An area is its grids' ancestry (grid_code IN …, or the district of needs outside
        # every grid): with no statistics SQLite would walk both indexes; imports ANALYZE
        # (ANALYZE_AFTER_ROWS), and with statistics a district reads the heat index.
        with Session(engine) as s, s.begin():
            c = make_community(s, n_grids=4, staff=False)
            for i in range(200):
                add_need(s, grid_code=c.grid_codes[i % 4], reported_at=D(2025, 1 + i % 12, 1))
            s.execute(text("ANALYZE"))
        with engine.connect() as conn:
            for scope, cell in zip(scopes, (0.002, 0.01), strict=True):
                sql = _heat_bins_stmt(scope, cell).compile(
                    dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}
                )
                plan = " | ".join(r[3] for r in conn.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
                assert "INDEX ix_needs_heat" in plan, plan
                assert "SCAN needs |" not in f"{plan} |", plan  # not a table scan
    finally:
        engine.dispose()


@pytest.mark.db
def test_diary_compliance_follows_the_chinese_holiday_calendar(session):
    """National Day 2025: Oct 1–8 off, Saturday Oct 11 worked in lieu. Diary entries on
    Monday 29 Sep, Friday 3 Oct (a holiday) and Saturday 11 Oct: 2 of 5 working days."""
    c = make_community(session, n_grids=1)
    for day in (D(2025, 9, 29), D(2025, 10, 3), D(2025, 10, 11), D(2025, 10, 11)):
        add_need(session, grid_code=c.grid_codes[0], reported_at=day, source="diary")
    scope = Scope(area_code=c.code, start=D(2025, 9, 29), end=D(2025, 10, 12))
    k = compute_kpis(session, scope, today=D(2025, 12, 31))
    assert k.diary_compliance == pytest.approx(2 / 5)
