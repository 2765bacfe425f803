"""The page reads through the closed-needs summaries (days-to-close histograms, diary day
masks) equal their plain computation over every need, on random scopes and days — on both
backends."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

import pandas as pd
import pandas.testing as pdt
import pytest
from sqlalchemy import update

from grid_model.measures import need_stats
from grid_model.measures.definitions import median_from_counts, medians_from_counts
from grid_model.measures.summary import days_to_close_histogram
from grid_model.measures.workload import assistant_workload
from grid_model.models import Need
from tests.factories import assign, make_community
from tests.test_need_stats import FIRST, _random_needs, _random_scope

pytestmark = pytest.mark.db


@pytest.fixture()
def community(session):
    """Six grids; assistant 1 also covers grid 2 (a grid counted for two assistants) and
    assistant 6 works half time."""
    c = make_community(session, n_grids=6, population=[1000, 2000, 500, None, 800, 900])
    assistants = c.workers["grid_assistant"]
    assign(session, assistants[0], c.grids[1], valid_from=dt.date(2024, 6, 1))
    assistants[5].capacity = 0.5
    return c


def _plain_sorted(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.sort_values(keys).reset_index(drop=True)


def test_workload_and_histograms_match_the_plain_reads(session, community):
    rng = random.Random(23)
    _random_needs(session, community.grid_codes, 500, rng)
    need_stats.refresh(session)
    used = 0
    for i in range(40):
        scope = _random_scope(rng, community.grid_codes)
        today = FIRST + dt.timedelta(days=rng.randrange(200, 480))
        start = FIRST + dt.timedelta(days=rng.randrange(-30, 300))
        if rng.random() < 0.7:
            start = start.replace(day=1)
        end = start + dt.timedelta(days=rng.randrange(0, 300))
        if i == 20:  # writes since the refresh: marked buckets are read from needs
            session.execute(
                update(Need)
                .where(Need.grid_code == community.grid_codes[0])
                .values(source="diary", closed_at=Need.reported_at)
            )
            session.flush()
        cohort = dataclasses.replace(scope, start=start, end=min(end, today))
        used += need_stats.summary_window(session, cohort, min(end, today)) is not None
        kw = {"start": start, "end": end, "today": today, "min_cases": rng.randrange(0, 6)}
        pdt.assert_frame_equal(
            assistant_workload(session, scope, **kw),
            assistant_workload(session, scope, **kw, summary=False),
            obj=f"assistant_workload({scope}, {kw})",
        )
        keys = ["grid_code", "days"]
        pdt.assert_frame_equal(
            _plain_sorted(days_to_close_histogram(session, scope, today, ["grid_code"]), keys),
            _plain_sorted(
                days_to_close_histogram(session, scope, today, ["grid_code"], summary=False),
                keys,
            ),
            check_dtype=False,
        )
    assert used >= 8  # the summaries were read in many of them


def test_diary_dates_match_the_plain_read(session, community):
    rng = random.Random(29)
    _random_needs(session, community.grid_codes, 400, rng)
    need_stats.refresh(session)
    for _ in range(30):
        scope = _random_scope(rng, community.grid_codes)
        today = FIRST + dt.timedelta(days=rng.randrange(0, 480))
        got = need_stats.read_diary_dates(session, scope, today, ["grid_code"])
        want = need_stats.read_diary_dates(session, scope, today, ["grid_code"], summary=False)
        keys = ["grid_code", "diary_date"]
        pdt.assert_frame_equal(
            _plain_sorted(got, keys), _plain_sorted(want, keys), check_dtype=False
        )


def test_medians_per_group_equal_one_by_one():
    rng = random.Random(5)
    frame = pd.DataFrame(
        {
            "a": [rng.choice("xyzw") for _ in range(300)],
            "days": [rng.randrange(0, 40) for _ in range(300)],
            "n": [rng.randrange(0, 4) for _ in range(300)],
        }
    )
    got = medians_from_counts(frame, "a").to_dict()
    want = {a: median_from_counts(g["days"], g["n"]) for a, g in frame.groupby("a")}
    assert got == {a: m for a, m in want.items() if m is not None}
