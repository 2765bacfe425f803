"""Working days in mainland China: what diary compliance is measured against.

A working day is a day the State Council's holiday notice makes one: Monday to Friday except
statutory holidays (Spring Festival, National Day…), plus the weekend days worked in lieu
(调休, e.g. Sunday 2025-01-26). The calendar comes from the ``chinesecalendar`` package, which
transcribes each year's notice; it knows :data:`KNOWN_YEARS`. Days outside those years count
Monday to Friday, and :func:`calendar_known` says whether a period was fully covered, so a
report can say so.

>>> import datetime as dt
>>> is_workday(dt.date(2025, 1, 26)), is_workday(dt.date(2025, 10, 1))  # 调休 Sunday, 国庆
(True, False)
>>> working_days(dt.date(2025, 9, 29), dt.date(2025, 10, 12))  # Mon 29 – Sun 12 Oct
5
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import cache

import numpy as np
from chinese_calendar.constants import holidays as _HOLIDAYS
from chinese_calendar.constants import workdays as _IN_LIEU

#: Years whose holidays and in-lieu working days the calendar knows.
KNOWN_YEARS = range(min(_HOLIDAYS).year, max(_HOLIDAYS).year + 1)


def is_workday(day: dt.date) -> bool:
    """Whether ``day`` is a working day (Monday–Friday outside :data:`KNOWN_YEARS`)."""
    if day.year in KNOWN_YEARS:
        return day.toordinal() in _known_workdays()[1]
    return day.weekday() < 5


@cache
def _known_workdays() -> tuple[np.ndarray, frozenset[int]]:
    """The working days of :data:`KNOWN_YEARS` as sorted day ordinals and as a set, made once
    from the calendar's own tables as its ``is_workday`` reads them (an in-lieu working day,
    or Monday–Friday outside the holidays): asking it day by day cost a page 0.06 s, and
    building this by its ``get_workdays`` 0.17 s."""
    first = dt.date(KNOWN_YEARS.start, 1, 1).toordinal()
    days = np.arange(first, dt.date(KNOWN_YEARS.stop - 1, 12, 31).toordinal() + 1)
    weekday = (days - 1) % 7  # date.fromordinal(1) is a Monday
    holiday = np.isin(days, [d.toordinal() for d in _HOLIDAYS])
    in_lieu = np.isin(days, [d.toordinal() for d in _IN_LIEU])
    work = days[in_lieu | ((weekday < 5) & ~holiday)]
    return work, frozenset(work.tolist())


def calendar_known(start: dt.date, end: dt.date) -> bool:
    """Whether every day of ``[start, end]`` lies in :data:`KNOWN_YEARS`."""
    return start.year in KNOWN_YEARS and end.year in KNOWN_YEARS


def working_days(start: dt.date, end: dt.date) -> int:
    """Working days in ``[start, end]`` (0 when ``end < start``)."""
    if end < start:
        return 0
    known_start = max(start, dt.date(KNOWN_YEARS.start, 1, 1))
    known_end = min(end, dt.date(KNOWN_YEARS.stop - 1, 12, 31))
    known = 0
    if known_start <= known_end:
        ordinals = _known_workdays()[0]
        lo, hi = np.searchsorted(ordinals, [known_start.toordinal(), known_end.toordinal() + 1])
        known = int(hi - lo)
    # the rest, before and after the known years: Monday to Friday
    rest = 0
    if start < known_start:
        rest += _weekdays(start, min(end, known_start - dt.timedelta(days=1)))
    if end > known_end:
        rest += _weekdays(max(start, known_end + dt.timedelta(days=1)), end)
    return known + rest


def count_workdays(days: Iterable[dt.date]) -> int:
    """How many distinct ``days`` are working days."""
    return sum(1 for d in set(days) if is_workday(d))


def _weekdays(start: dt.date, end: dt.date) -> int:
    if end < start:
        return 0
    return int(np.busday_count(start, end + dt.timedelta(days=1)))
