"""The measures of DESIGN §4, defined once: due days, the predicates on a need, the aggregate
measures over needs and over the closed-needs summary, and the per-grid measures.

Every reader builds on this module: the SQL readers of :mod:`grid_model.measures.summary`,
:mod:`grid_model.measures.grid_measures`, :mod:`grid_model.measures.grid_card` and
:mod:`grid_model.measures.workload`, and the closed-needs summary of
:mod:`grid_model.measures.need_stats`, which stores per bucket what :data:`MEASURES` reads back.

A need counts *as of* a day ``day``: it is closed when its status is closed and it was closed
on or before ``day`` (or has no closing date); its due date is its ``due_date``, or, when it
has none, its report date plus :data:`DUE_DAYS` of its category.

>>> DUE_DAYS["mediation"]
30
>>> sorted(n for n, m in MEASURES.items() if m.combine != "sum")
['first_reported', 'last_diary']
>>> GRID_MEASURE_COLUMNS[:3]
['grid_code', 'grid_name', 'community_code']
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import ColumnElement, Label, case, exists, func, literal_column, select
from sqlalchemy.orm import aliased

from grid_model import instants
from grid_model.db.sqldates import add_days, days_between
from grid_model.models import CaseEvent, Need, NeedMonthStat
from grid_model.scope import Scope

#: Days to close a need of each category when it has no ``due_date`` of its own.
DUE_DAYS: dict[str, int] = {
    "consultation": 7,
    "publicity": 15,
    "legal_aid": 30,
    "mediation": 30,
    "correction": 30,
    "other": 15,
}


# --- the predicates on a need, as SQL expressions -------------------------------------------


def _due_days() -> ColumnElement[int]:
    return case(
        *[(Need.category == c, literal_column(str(int(n)))) for c, n in DUE_DAYS.items()],
        else_=literal_column(str(int(DUE_DAYS["other"]))),
    )


def due_date_expr() -> ColumnElement[dt.date]:
    """A need's due date: ``due_date``, else ``reported_at`` + :data:`DUE_DAYS[category]`."""
    return func.coalesce(Need.due_date, add_days(Need.reported_at, _due_days()))


def _due(day: dt.date, compare) -> ColumnElement[bool]:
    """``compare(due date, day)`` without date arithmetic per row: a default due date is
    compared as ``compare(reported_at, day − DUE_DAYS[category])``, the dates computed here.
    (Equivalent to ``compare(due_date_expr(), day)``, several times cheaper on a million rows.)
    """
    by_category = case(
        *[
            (Need.category == c, compare(Need.reported_at, day - dt.timedelta(days=n)))
            for c, n in DUE_DAYS.items()
        ],
        else_=compare(Need.reported_at, day - dt.timedelta(days=DUE_DAYS["other"])),
    )
    return case((Need.due_date.is_not(None), compare(Need.due_date, day)), else_=by_category)


def closed_by(day: dt.date) -> ColumnElement[bool]:
    """Closed on or before ``day`` (a closed need without a closing date counts as closed)."""
    return (Need.status == "closed") & (Need.closed_at.is_(None) | (Need.closed_at <= day))


def open_at(day: dt.date) -> ColumnElement[bool]:
    """Reported on or before ``day`` and not closed by then."""
    return (Need.reported_at <= day) & ~closed_by(day)


def not_closed() -> ColumnElement[bool]:
    """Status other than closed, as two ranges so the status index serves it (open needs are
    a few per cent of all; on PostgreSQL the covering index ``ix_needs_open`` of migration 0012):
    a term to add beside :func:`open_at` and :func:`overdue_at`
    (which imply it) when the query should start from the open needs."""
    # the literal, not a bound parameter: PostgreSQL's partial index ``ix_needs_open``
    # (migration 0012) serves only a condition that spells its own
    closed = literal_column("'closed'")
    return (Need.status < closed) | (Need.status > closed)


def overdue_at(day: dt.date) -> ColumnElement[bool]:
    """Open at ``day`` and past its due date (a need due on ``day`` is not overdue yet)."""
    return open_at(day) & _due(day, operator.lt)


def on_hold_at(day: dt.date) -> ColumnElement[bool]:
    """On hold (缓办) at the end of ``day``: a ``hold`` step before then not followed by a
    ``resume`` before then (:mod:`grid_model.cases.steps`)."""
    end = instants.to_stored(day + dt.timedelta(days=1))
    hold, resume = aliased(CaseEvent), aliased(CaseEvent)
    later = (resume.at > hold.at) | ((resume.at == hold.at) & (resume.id > hold.id))
    resumed = exists().where(
        (resume.need_id == hold.need_id) & (resume.step == "resume") & later & (resume.at < end)
    )
    # the few needs on hold, found once (not a lookup per need): an uncorrelated IN
    held = select(hold.need_id).where((hold.step == "hold") & (hold.at < end) & ~resumed)
    return Need.id.in_(held)


def due_to_close(day: dt.date) -> ColumnElement[bool]:
    """Closed by ``day``, or due on or before it and not on hold at its end: the denominator
    of the closure rates (结案率, 按期结案率). Cases on hold (缓办) are not yet due: the rule of
    the published Jinhua appraisal rules (应结案数 leaves out suspended cases)."""
    return closed_by(day) | (_due(day, operator.le) & ~on_hold_at(day))


def closed_on_time(day: dt.date) -> ColumnElement[bool]:
    """Closed by ``day`` with a closing date on or before its due date."""
    on_time = case(
        (Need.due_date.is_not(None), Need.closed_at <= Need.due_date),
        else_=Need.closed_at <= add_days(Need.reported_at, _due_days()),
    )
    return closed_by(day) & Need.closed_at.is_not(None) & on_time


def closed_timed(day: dt.date) -> ColumnElement[bool]:
    """Closed by ``day`` with a closing date (the needs days to close are measured on)."""
    return closed_by(day) & Need.closed_at.is_not(None)


def mediation_closed(day: dt.date) -> ColumnElement[bool]:
    """A mediation case closed by ``day``."""
    return closed_by(day) & (Need.category == "mediation")


def diary_by(day: dt.date) -> ColumnElement[bool]:
    """An entry from source ``diary`` reported on or before ``day``."""
    return (Need.source == "diary") & (Need.reported_at <= day)


def count_if(cond: ColumnElement[bool]) -> ColumnElement[int]:
    """Number of rows where ``cond`` holds (0, not NULL, over no rows)."""
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


# --- the aggregate measures: over needs, over the summary, how parts combine ----------------


@dataclass(frozen=True)
class Measure:
    """One aggregate measure of the needs of a scope as of a day.

    Attributes
    ----------
    meaning : str
        What it counts.
    over_needs : callable
        ``over_needs(day)``: the aggregate over rows of ``needs``.
    over_summary : callable
        ``over_summary()``: the same figure summed over
        :class:`~grid_model.models.NeedMonthStat` (whose needs are all closed).
    combine : str
        How the figure of parts (summary and needs) combines: ``sum``, ``min`` or ``max``.
    """

    meaning: str
    over_needs: Callable[[dt.date], ColumnElement]
    over_summary: Callable[[], ColumnElement]
    combine: str = "sum"


_S = NeedMonthStat

#: The aggregate measures, by name; callers add ``WHERE`` and ``GROUP BY`` and pick what they
#: need (each costs time on a million needs).
MEASURES: dict[str, Measure] = {
    "needs": Measure(
        "needs reported on or before the day",
        lambda day: func.count(Need.id),
        lambda: func.sum(_S.needs),
    ),
    "open": Measure(
        "needs open at the day", lambda day: count_if(open_at(day)), lambda: literal_column("0")
    ),
    "overdue": Measure(
        "needs open at the day past their due date",
        lambda day: count_if(overdue_at(day)),
        lambda: literal_column("0"),
    ),
    "closed": Measure(
        "needs closed by the day", lambda day: count_if(closed_by(day)), lambda: func.sum(_S.needs)
    ),
    "due_to_close": Measure(
        "needs due on or before the day, or closed by then",
        lambda day: count_if(due_to_close(day)),
        lambda: func.sum(_S.needs),
    ),
    "on_time": Measure(
        "needs closed by the day on or before their due date",
        lambda day: count_if(closed_on_time(day)),
        lambda: func.sum(_S.on_time),
    ),
    "mediation_closed": Measure(
        "mediation cases closed by the day",
        lambda day: count_if(mediation_closed(day)),
        lambda: func.sum(case((_S.category == "mediation", _S.needs), else_=0)),
    ),
    "mediated": Measure(
        "closed mediation cases with outcome mediated",
        lambda day: count_if(mediation_closed(day) & (Need.outcome == "mediated")),
        lambda: func.sum(_S.mediated),
    ),
    "days_sum": Measure(
        "days from report to closing, summed over closed needs with a closing date",
        lambda day: func.sum(
            case((closed_timed(day), days_between(Need.reported_at, Need.closed_at)))
        ),
        lambda: func.sum(_S.days_sum),
    ),
    "days_n": Measure(
        "closed needs with a closing date",
        lambda day: count_if(closed_timed(day)),
        lambda: func.sum(_S.days_n),
    ),
    "last_diary": Measure(
        "latest report date of a diary entry",
        lambda day: func.max(case((diary_by(day), Need.reported_at))),
        lambda: func.max(_S.last_diary),
        "max",
    ),
    "first_reported": Measure(
        "earliest report date",
        lambda day: func.min(Need.reported_at),
        lambda: func.min(_S.first_reported),
        "min",
    ),
}


def need_measures(day: dt.date) -> dict[str, ColumnElement]:
    """Each of :data:`MEASURES` as an aggregate over ``needs`` as of ``day``, by name."""
    return {name: m.over_needs(day) for name, m in MEASURES.items()}


def need_aggregates(day: dt.date, names: Iterable[str] | None = None) -> list[Label]:
    """The :data:`MEASURES` named ``names`` (default all) over ``needs``, labelled."""
    return [MEASURES[n].over_needs(day).label(n) for n in (names or MEASURES)]


def summary_aggregates(names: Iterable[str]) -> list[Label]:
    """The :data:`MEASURES` named ``names`` as sums over the closed-needs summary, labelled."""
    return [MEASURES[n].over_summary().label(n) for n in names]


def combine_how(names: Iterable[str]) -> dict[str, str]:
    """How each measure of ``names`` read in parts combines (pandas aggregation names).

    >>> combine_how(["needs", "last_diary"])
    {'needs': 'sum', 'last_diary': 'max'}
    """
    return {n: MEASURES[n].combine if n in MEASURES else "sum" for n in names}


def diary_dates(day: dt.date) -> tuple[Label, ColumnElement[bool]]:
    """``(date label, condition)``: select the distinct report dates of entries from source
    ``diary`` up to ``day``; :func:`grid_model.workdays.count_workdays` counts the working days
    among them (diary compliance). The condition goes in ``WHERE``, so only diary entries are
    read (a DISTINCT over every need would sort them all)."""
    return Need.reported_at.label("diary_date"), diary_by(day)


def days_to_close_counts(day: dt.date) -> tuple[Label, ColumnElement[bool]]:
    """``(days label, condition)`` for a histogram of days to close (medians in pandas)."""
    return days_between(Need.reported_at, Need.closed_at).label("days"), closed_timed(day)


# --- the per-grid measures ------------------------------------------------------------------

#: The columns of :func:`grid_model.measures.grid_measures.grid_measures` and what they hold.
GRID_MEASURES: dict[str, str] = {
    "grid_code": "the grid's code",
    "grid_name": "the grid's name",
    "community_code": "the code of its community",
    "population": "residents (unknown: NA)",
    "needs": "needs in scope reported on or before the day",
    "per_1000": "needs per 1,000 residents (NaN without population)",
    "open": "needs open at the day",
    "overdue": "needs open at the day past their due date",
    "closed": "needs closed by the day",
    "on_time_rate": "on_time / due_to_close (NaN when nothing is due)",
    "closure_rate": "closed / due_to_close (NaN when nothing is due)",
    "services": "service events held in the grid in the period",
    "last_diary": "latest diary entry among the needs in scope, or None",
}
GRID_MEASURE_COLUMNS = list(GRID_MEASURES)


# --- small numeric helpers ------------------------------------------------------------------


def rate(numerator: float, denominator: float) -> float | None:
    """``numerator / denominator``, or None when the denominator is 0.

    >>> rate(1, 4), rate(3, 0)
    (0.25, None)
    """
    return float(numerator) / float(denominator) if denominator else None


def rates(num: pd.Series, den: pd.Series) -> pd.Series:
    """:func:`rate` element-wise: NaN where ``den`` is not positive."""
    out = num.astype("float64") / den.astype("float64")
    return out.where(den > 0)


def per_1000(values: pd.Series, population: pd.Series) -> pd.Series:
    """``values`` per 1,000 residents; NaN where the population is unknown or 0.

    >>> per_1000(pd.Series([5, 5]), pd.Series([2000, 0])).tolist()
    [2.5, nan]
    """
    pop = pd.to_numeric(population, errors="coerce").astype("float64")
    return (values.astype("float64") / pop * 1000.0).where(pop > 0)


def median_from_counts(values, counts) -> float | None:
    """Median of a distribution given as distinct values and their counts.

    >>> median_from_counts([1, 2, 10], [1, 1, 2])
    6.0
    """
    frame = pd.DataFrame({"v": values, "n": counts}).dropna()
    frame = frame[frame["n"] > 0].sort_values("v")
    total = int(frame["n"].sum())
    if total == 0:
        return None
    cum = frame["n"].cumsum().to_numpy()
    vals = frame["v"].to_numpy(dtype="float64")
    lo = vals[np.searchsorted(cum, (total + 1) // 2)]
    hi = vals[np.searchsorted(cum, total // 2 + 1)]
    return float((lo + hi) / 2)


def medians_from_counts(frame: pd.DataFrame, key: str) -> pd.Series:
    """:func:`median_from_counts` per ``key`` of ``frame`` (columns ``key, days, n``; several
    rows of one value add up), as a Series indexed by ``key``; groups of no count are left
    out.

    >>> f = pd.DataFrame({"a": ["x", "x", "x", "y"], "days": [1, 2, 10, 4], "n": [1, 1, 2, 3]})
    >>> medians_from_counts(f, "a").to_dict()
    {'x': 6.0, 'y': 4.0}
    """
    numbers = {c: pd.to_numeric(frame[c]).astype("float64") for c in ("days", "n")}
    hist = frame.assign(**numbers).dropna(subset=["days", "n"])
    hist = hist.groupby([key, "days"], as_index=False)["n"].sum()
    hist = hist[hist["n"] > 0].sort_values([key, "days"])
    cum = hist.groupby(key)["n"].cumsum()
    total = hist.groupby(key)["n"].transform("sum")
    lo = hist[cum >= (total + 1) // 2].groupby(key)["days"].first()
    hi = hist[cum >= total // 2 + 1].groupby(key)["days"].first()
    return ((lo.astype("float64") + hi.astype("float64")) / 2).rename("median")


def diary_period(scope: Scope, today: dt.date, first_reported: dt.date | None):
    """The period diary compliance is measured over: the scope's, else from the first need in
    scope, and never past ``today``. None when there is nothing to measure.

    >>> diary_period(Scope(), dt.date(2025, 4, 1), dt.date(2025, 1, 2))
    (datetime.date(2025, 1, 2), datetime.date(2025, 4, 1))
    """
    start = scope.start or first_reported
    end = min(scope.end or today, today)
    if start is None or end < start:
        return None
    return start, end


# --- s12-reports ---


def mediation_failed(day: dt.date) -> ColumnElement[bool]:
    """A mediation case closed by ``day`` with outcome ``mediation_failed`` (调解不成)."""
    return mediation_closed(day) & (Need.outcome == "mediation_failed")
