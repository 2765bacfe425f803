"""The closed-needs summary (``need_month_stats``): what it holds, when it may be used, and
how it is brought up to date.

Per-grid measures over a million needs are dominated by closed needs (97 % of the demo). A
need closed on or before the day ``today`` a report is made for counts the same whatever that
day is: once in ``needs``, ``closed`` and ``due_to_close``, in ``on_time`` if closed by its due
date, in ``last_diary`` by its report date if it came from a diary. So closed needs are summed
per (grid, report month, category, district) in :class:`~grid_model.models.NeedMonthStat`
(26 k rows for 1 M needs at street scale); the histogram of their days to close, for
medians, in :class:`~grid_model.models.NeedCloseDays` (:data:`SUMMARIES`). :func:`grid_model.measures.per_grid.grid_measures`,
:func:`~grid_model.measures.summary.compute_kpis` and :func:`~grid_model.measures.summary.monthly_trend`
read whole months from there through :func:`read_measures` and count from ``needs`` only the
rest (:meth:`Window.rest`):
open needs, the months at the edges of the period, needs outside every grid and any bucket
not up to date. Tests compare every reader with its plain aggregate over random scopes.

Exactness does not rest on callers: triggers on ``needs`` (migration 0003) mark the (grid,
month) of every closed need inserted, changed or deleted in
:class:`~grid_model.models.NeedStatsDirty`, and readers count marked buckets from ``needs``.
:func:`refresh` recomputes marked buckets, so the summary stays fast; the services that write
needs (import, seed, case recording and status changes, relocation) call it before they return.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    and_,
    case,
    cast,
    delete,
    distinct,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from grid_model import db
from grid_model.db.sqldates import days_between, month_start
from grid_model.db.sqlhints import unindexed
from grid_model.measures.definitions import closed_on_time, combine_how, not_closed
from grid_model.models import (
    Need,
    NeedAccessStat,
    NeedCloseDays,
    NeedDiaryMonth,
    NeedMonthStat,
    NeedStatsDirty,
)
from grid_model.queries import read_frame
from grid_model.scope import Scope

#: A refresh with more marked buckets than this share of the summary's buckets rebuilds the
#: whole summary (one scan of ``needs``) instead of recomputing bucket by bucket.
FULL_REBUILD_SHARE = 0.3


def _district() -> ColumnElement[str]:
    # a literal, not a bind parameter: PostgreSQL matches GROUP BY to SELECT by their text
    return func.coalesce(Need.district_code, literal_column("''"))


def _bucket_keys(month: ColumnElement) -> dict[str, ColumnElement]:
    """The columns naming a bucket (grid, report month, category, district), shared by every
    summary kept exact by the marks."""
    return {
        "grid_code": Need.grid_code,
        "month_start": month,
        "category": Need.category,
        "district_code": _district(),
    }


def _bucket_aggregates(month: ColumnElement) -> dict[str, ColumnElement]:
    """Each column of :class:`~grid_model.models.NeedMonthStat` as computed from ``needs``."""
    # closed_on_time(date.max) is "closed with a closing date by its due date": every need
    # here is closed, and the day only matters to readers, who check max_closed_at.
    return {
        **_bucket_keys(month),
        "needs": func.count(),
        "on_time": func.sum(case((closed_on_time(dt.date.max), 1), else_=0)),
        "mediated": func.sum(case((Need.outcome == "mediated", 1), else_=0)),
        "days_sum": func.coalesce(func.sum(days_between(Need.reported_at, Need.closed_at)), 0),
        "days_n": func.count(Need.closed_at),
        "first_reported": func.min(Need.reported_at),
        "last_diary": func.max(case((Need.source == "diary", Need.reported_at))),
        "max_closed_at": func.max(Need.closed_at),
    }


def _close_day_aggregates(month: ColumnElement) -> dict[str, ColumnElement]:
    """Each column of :class:`~grid_model.models.NeedCloseDays` as computed from ``needs``."""
    return {
        **_bucket_keys(month),
        "days": days_between(Need.reported_at, Need.closed_at),
        "needs": func.count(),
    }


def _diary_day_aggregates(month: ColumnElement) -> dict[str, ColumnElement]:
    """Each column of :class:`~grid_model.models.NeedDiaryMonth` as computed from ``needs``:
    the days of the month as a bit mask (distinct powers of two add up to their OR)."""
    day_bit = literal_column("1").op("<<", return_type=Integer)(
        days_between(month, Need.reported_at)
    )
    return {
        **_bucket_keys(month),
        "days": func.sum(distinct(day_bit)),
    }


@dataclass(frozen=True)
class _Summary:
    """A table summing closed needs in grids per (grid, month, …), kept exact by the same
    marks: its columns as computed from ``needs`` (given the month expression) and which of
    the closed needs it holds."""

    table: type
    aggregates: Callable[[ColumnElement], dict[str, ColumnElement]]
    holds: Callable[[], ColumnElement[bool]] = true


#: Every summary :func:`refresh` keeps up to date, the first one counting the buckets.
SUMMARIES = (
    _Summary(NeedMonthStat, _bucket_aggregates),
    _Summary(NeedCloseDays, _close_day_aggregates, lambda: Need.closed_at.is_not(None)),
    _Summary(NeedDiaryMonth, _diary_day_aggregates, lambda: Need.source == "diary"),
)


#: A rebuild of at least this many buckets refreshes the summaries' planner statistics.
ANALYZE_AFTER_BUCKETS = 1_000


def _analyze_summaries(session: Session) -> None:
    """Fresh planner statistics of every summary after a rebuild (a few ms each): without them
    PostgreSQL guessed 300 rows of ``need_close_days`` for 100k and sorted them on disk (0.15 s
    against 0.07 s per read at 1M needs; autovacuum would catch up only later, where it runs)."""
    for table in (*(s.table.__tablename__ for s in SUMMARIES), NeedAccessStat.__tablename__):
        db.analyze(session, table)


def _buckets(summary: _Summary, month: ColumnElement) -> tuple[list[str], Select]:
    """The summary's column names and the select computing them per bucket, grouped by the
    table's key; the caller adds what it reads from and which needs."""
    columns = summary.aggregates(month)
    key = [columns[c.name] for c in summary.table.__table__.primary_key]
    return list(columns), select(*columns.values()).where(summary.holds()).group_by(*key)


def refresh(session: Session, *, full: bool = False, wait: bool = False) -> int:
    """Bring the summary up to date with ``needs``; return how many buckets were recomputed
    (all of them on a full rebuild; 0 when skipped).

    Marked buckets are recomputed from their needs through the ``(grid_code, reported_at)``
    index; with ``full`` (or when many are marked) the summary is rebuilt from one scan.
    Runs in the caller's transaction.

    On PostgreSQL it first locks the mark table against writers, so a need changed by another
    transaction meanwhile stays marked. A write transaction already holds a lock on that
    table (its triggers marked months), so two of them waiting for each other would deadlock:
    unless ``wait`` (for a transaction that has written nothing yet, like ``gridlaw
    refresh-summary``), the lock is only tried, and when another writer holds the table the
    refresh is skipped — its months stay marked, readers stay exact, the next refresh does them.
    """
    count_marked = select(func.count()).select_from(NeedStatsDirty)
    if not full and not session.scalar(count_marked):
        return 0  # the common case after a write that closed nothing: no lock taken
    if not db.is_sqlite(session.get_bind()) and not _lock_marks(session, wait=wait):
        return 0
    marked = session.scalar(count_marked) or 0
    if not full and not marked:
        return 0
    buckets = session.scalar(
        select(func.count()).select_from(
            select(NeedMonthStat.grid_code, NeedMonthStat.month_start).distinct().subquery()
        )
    )
    if full or marked > FULL_REBUILD_SHARE * max(buckets or 0, 1):
        for summary in SUMMARIES:
            _rebuild(session, summary)
        _refresh_dependents(session, full=True)
        session.execute(delete(NeedStatsDirty))
        rebuilt = session.scalar(select(func.count()).select_from(NeedMonthStat)) or 0
        if rebuilt >= ANALYZE_AFTER_BUCKETS:
            _analyze_summaries(session)
        return rebuilt
    for summary in SUMMARIES:
        _recompute_marked(session, summary)
    _refresh_dependents(session, full=False)
    session.execute(delete(NeedStatsDirty))
    return int(marked)


def _rebuild(session: Session, summary: _Summary) -> None:
    """Every row of ``summary`` anew, from one scan of ``needs``."""
    session.execute(delete(summary.table))
    names, buckets = _buckets(summary, month_start(Need.reported_at))
    closed = (Need.status == "closed") & Need.grid_code.is_not(None)
    session.execute(insert(summary.table).from_select(names, buckets.where(closed)))


def _recompute_marked(session: Session, summary: _Summary) -> None:
    """The rows of ``summary`` in the marked buckets anew, from their needs."""
    d, t = NeedStatsDirty, summary.table
    in_table = (d.grid_code == t.grid_code) & (d.month_start == t.month_start)
    session.execute(delete(t).where(exists().where(in_table)))
    names, buckets = _buckets(summary, d.month_start)
    in_marked = (
        (Need.grid_code == d.grid_code)
        & (Need.reported_at >= d.month_start)
        & (Need.reported_at < d.month_end)
    )
    buckets = buckets.select_from(d).join(Need, in_marked).where(Need.status == "closed")
    session.execute(insert(t).from_select(names, buckets))


def _refresh_dependents(session: Session, *, full: bool) -> None:
    """The summaries kept exact by the same marks, brought up to date before they are cleared:
    the access summary (:mod:`grid_model.gaps.access_stats`)."""
    from grid_model.gaps import access_stats  # it reads this module's windows

    points = access_stats.access_points(session)
    if full:
        access_stats.rebuild(session, points)
    else:
        access_stats.refresh_marked(session, points)


def _lock_marks(session: Session, *, wait: bool) -> bool:
    lock = "LOCK TABLE need_stats_dirty IN SHARE ROW EXCLUSIVE MODE"
    if wait:
        session.execute(text(lock))
        return True
    try:
        with session.begin_nested():  # a failed NOWAIT aborts only the savepoint
            session.execute(text(lock + " NOWAIT"))
    except OperationalError:
        return False
    return True


def _first_of_month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def summary_window(session: Session, scope: Scope, today: dt.date | None) -> Window | None:
    """The :class:`Window` of report months whose closed needs may be read from the summary
    for ``scope`` as of ``today``, or None when none may.

    Whole months only, inside the scope's period and ending on or before ``today``, and
    before the first month holding a need closed after ``today`` (it is still open then).
    ``today`` None: no day to count as of (every need counts, whatever its closing date).
    None when the scope's statuses leave out ``closed``, or too many buckets are marked.
    """
    if scope.statuses and "closed" not in scope.statuses:
        return None
    last = scope.end if today is None else min(scope.end or today, today)
    end = None if last is None else _first_of_month(last + dt.timedelta(days=1))
    start = None
    if scope.start is not None:
        start = scope.start if scope.start.day == 1 else _next_month(scope.start)
    if today is not None:
        closed_later = session.scalar(
            select(func.min(NeedMonthStat.month_start)).where(NeedMonthStat.max_closed_at > today)
        )
        if closed_later is not None:
            end = min(end, closed_later)
    if start is not None and end is not None and start >= end:
        return None
    d = NeedStatsDirty
    marked = session.execute(
        select(d.grid_code, d.month_start, d.month_end).limit(MAX_MARKED + 1)
    ).all()
    if len(marked) > MAX_MARKED:
        return None
    return Window(start, end, tuple(tuple(m) for m in marked))


MAX_MARKED = 500
"""Readers use the summary while at most this many buckets are marked (each marked bucket
is read from ``needs`` through its own index range); past it they read ``needs`` alone."""


@dataclass(frozen=True)
class Window:
    """Report months ``[start, end)`` whose closed needs a reader takes from the summary
    (``start``/``end`` None: unbounded), except the ``marked`` (grid code, month start, month
    end) buckets."""

    start: dt.date | None
    end: dt.date | None
    marked: tuple[tuple[str, dt.date, dt.date], ...] = ()

    def holds(self, column: ColumnElement) -> ColumnElement[bool]:
        """``column`` (a date) falls in the window's months."""
        conds = []
        if self.start is not None:
            conds.append(column >= self.start)
        if self.end is not None:
            conds.append(column < self.end)
        return and_(true(), *conds)

    def rest(self, scope: Scope, today: dt.date | None) -> list[ColumnElement[bool]]:
        """Where-clauses, one query each, that together pick the needs of ``scope``
        (reported by ``today``) the summary does not hold for this window: the open ones, the
        closed ones reported outside the window, outside every grid, or in marked buckets.
        Each is written so an index serves it."""
        where = scope.need_filter()
        # The few open needs are picked by the status index, not by a wide range of the area
        # or period (SQLite would walk that and fetch most needs at random).
        open_ = scope.need_filter(indexed=False) & not_closed()
        if today is not None:
            open_ = open_ & (unindexed(Need.reported_at) <= today)
        parts = [open_, where & _closed() & Need.grid_code.is_(None) & self.holds(Need.reported_at)]
        outside = []
        if self.end is not None and (today is None or self.end <= today):
            upper = Need.reported_at >= self.end
            outside.append(upper if today is None else upper & (Need.reported_at <= today))
        if self.start is not None:
            outside.append(Need.reported_at < self.start)
        if outside:
            parts.append(where & _closed() & or_(*outside))
        if self.marked:
            buckets = [
                (Need.grid_code == g) & (Need.reported_at >= m) & (Need.reported_at < e)
                for g, m, e in self.marked
            ]
            parts.append(where & _closed() & self.holds(Need.reported_at) & or_(*buckets))
        return parts

    def summary_rows(self, scope: Scope, table: type = NeedMonthStat) -> ColumnElement[bool]:
        """Rows of the summary (or of another ``table`` with its bucket columns, e.g. one of
        :data:`SUMMARIES`) inside ``scope`` (area, categories) and the window, marked buckets
        left out."""
        s = table
        conds = [self.holds(s.month_start), scope.area_filter(s.grid_code, s.district_code)]
        conds += [~((s.grid_code == g) & (s.month_start == m)) for g, m, _ in self.marked]
        if scope.categories:
            conds.append(s.category.in_(scope.categories))
        return and_(*conds)


def _closed() -> ColumnElement[bool]:
    # 97 % of needs: an index on status would only slow the scan of a range beside it.
    return unindexed(Need.status) == "closed"


def read_measures(
    session: Session,
    scope: Scope,
    today: dt.date | None,
    raw: Select,
    stats: Select,
    names: Iterable[str],
    keys: Sequence[str] = (),
    *,
    summary: bool = True,
    table: type = NeedMonthStat,
    in_database: bool = False,
) -> pd.DataFrame:
    """The measures ``names`` of ``scope`` as of ``today`` (None: no as-of cut), per ``keys``
    (one row without): ``raw`` aggregates them over ``needs``, ``stats`` over the summary
    ``table`` (:class:`~grid_model.models.NeedMonthStat` unless told). Closed needs of whole months are read from the
    summary (:func:`summary_window`), the rest from ``needs``; without ``summary``, or when the
    summary cannot serve ``scope``, every need is read. Parts combine as
    :data:`~grid_model.measures.definitions.MEASURES` says; with ``in_database`` (counts
    only: integer measures that add up) they are added up in the database, one query of
    all the parts (``UNION ALL``) returning one row per key.
    """
    window = summary_window(session, scope, today) if summary else None
    if window is None:
        where = scope.need_filter()
        if today is not None:
            where = where & (Need.reported_at <= today)
        return read_frame(session, raw.where(where))
    how = combine_how(names)
    selects = [raw.where(cond) for cond in window.rest(scope, today)]
    selects.append(stats.where(window.summary_rows(scope, table)))
    if in_database:
        return read_frame(session, _summed(selects, list(keys), how))
    parts = [read_frame(session, stmt) for stmt in selects]
    found = [p for p in parts if not p.empty]
    frame = pd.concat(found, ignore_index=True) if found else parts[0]
    if not keys:
        return pd.DataFrame([{c: getattr(frame[c], f)() for c, f in how.items()}])
    return frame.groupby(list(keys), as_index=False, dropna=False).agg(how)


def _summed(selects: list[Select], keys: list[str], how: dict[str, str]) -> Select:
    """One select adding up the parts ``selects`` (same columns: ``keys``, then the measures
    ``how`` names) per key."""
    if set(how.values()) != {"sum"}:
        raise ValueError(f"only measures that add up combine in the database, got {how}")
    parts = union_all(*selects).subquery()
    group = [parts.c[k] for k in keys]
    totals = [cast(func.sum(parts.c[n]), BigInteger).label(n) for n in how]
    return select(*group, *totals).group_by(*group)


def read_diary_dates(
    session: Session,
    scope: Scope,
    today: dt.date,
    keys: Sequence[str] = (),
    *,
    summary: bool = True,
) -> pd.DataFrame:
    """Distinct ``*keys, diary_date``: the report dates of the diary entries of ``scope``
    reported by ``today``, per ``keys`` (columns of both ``needs`` and
    :class:`~grid_model.models.NeedDiaryMonth`, e.g. ``grid_code``). Closed needs of whole
    months are read from that summary's day masks, the rest from ``needs`` (``summary=False``:
    every one from ``needs``)."""
    raw = select(*(getattr(Need, k).label(k) for k in keys), Need.reported_at.label("diary_date"))
    raw = raw.distinct().where(Need.source == "diary")
    window = summary_window(session, scope, today) if summary else None
    if window is None:
        return read_frame(session, raw.where(scope.need_filter() & (Need.reported_at <= today)))
    parts = [read_frame(session, raw.where(cond)) for cond in window.rest(scope, today)]
    m = NeedDiaryMonth
    group = [*(getattr(m, k).label(k) for k in keys), m.month_start]
    # the masks OR-ed per month in the database, one flag per day of the month
    days = [func.max(m.days.op("&")(literal_column(str(1 << b)))).label(f"d{b}") for b in _DAYS]
    masks = read_frame(
        session, select(*group, *days).where(window.summary_rows(scope, m)).group_by(*group)
    )
    parts.append(_mask_dates(masks, list(keys)))
    return pd.concat(parts, ignore_index=True).drop_duplicates(ignore_index=True)


_DAYS = range(31)


def _mask_dates(masks: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """``*keys, diary_date`` of the days flagged (``d0`` … ``d30`` non-zero: day 1 … 31) in
    ``month_start`` rows."""
    if masks.empty:
        return pd.DataFrame(columns=[*keys, "diary_date"])
    months = pd.to_datetime(masks["month_start"]).to_numpy(dtype="datetime64[D]")
    flags = np.column_stack(
        [pd.to_numeric(masks[f"d{b}"]).fillna(0).to_numpy() != 0 for b in _DAYS]
    )
    bits, rows = np.nonzero(flags.T)  # day by day, as one pass per day of the month read them
    days = months[rows] + (np.asarray(_DAYS)[bits]).astype("timedelta64[D]")
    found = masks[keys].iloc[rows].reset_index(drop=True)
    found["diary_date"] = pd.Series(days.astype(object), dtype=object)  # datetime.date
    return found.drop_duplicates(ignore_index=True)
