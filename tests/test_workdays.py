"""Working days in mainland China (statutory holidays and in-lieu working days), worked out by
hand from the State Council's notices for 2025."""

from __future__ import annotations

import datetime as dt
import random

import chinese_calendar
import numpy as np

from grid_model.workdays import (
    KNOWN_YEARS,
    calendar_known,
    count_workdays,
    is_workday,
    working_days,
)

D = dt.date


def test_spring_festival_2025():
    # 1月28日至2月4日放假调休，共8天；1月26日（周日）、2月8日（周六）上班。
    assert not is_workday(D(2025, 1, 28)) and not is_workday(D(2025, 2, 4))
    assert is_workday(D(2025, 1, 26)) and is_workday(D(2025, 2, 8))
    # January: 23 weekdays − New Year's Day − 28th…31st + Sunday the 26th
    assert working_days(D(2025, 1, 1), D(2025, 1, 31)) == 19


def test_national_day_2025():
    # 10月1日至8日放假调休，共8天；9月28日（周日）、10月11日（周六）上班。
    assert working_days(D(2025, 9, 29), D(2025, 10, 12)) == 5
    assert working_days(D(2025, 9, 28), D(2025, 9, 28)) == 1


def test_years_the_calendar_does_not_know_count_monday_to_friday():
    assert 2025 in KNOWN_YEARS and 2099 not in KNOWN_YEARS
    last = KNOWN_YEARS.stop - 1
    # from the last Monday of December of the last known year to the next Sunday
    monday = D(last, 12, 31) - dt.timedelta(days=D(last, 12, 31).weekday())
    sunday = monday + dt.timedelta(days=6)
    expected = sum(1 for i in range(7) if (monday + dt.timedelta(days=i)).weekday() < 5)
    assert working_days(monday, sunday) == expected
    assert not calendar_known(monday, sunday) and calendar_known(D(2025, 1, 1), D(2025, 12, 31))
    assert working_days(D(2099, 3, 2), D(2099, 3, 8)) == 5
    assert working_days(D(2025, 3, 9), D(2025, 3, 8)) == 0


def test_count_workdays_counts_distinct_working_days():
    days = [D(2025, 1, 26), D(2025, 1, 26), D(2025, 1, 28), D(2025, 3, 8), D(2025, 3, 10)]
    assert count_workdays(days) == 2  # the in-lieu Sunday and Monday the 10th


def test_every_known_day_is_what_the_calendar_says():
    # the working days are read from chinese_calendar once (grid_model.workdays._known_workdays)
    first, last = D(KNOWN_YEARS.start, 1, 1), D(KNOWN_YEARS.stop - 1, 12, 31)
    day = first
    while day <= last:
        assert is_workday(day) == chinese_calendar.is_workday(day), day
        day += dt.timedelta(days=1)
    rng = random.Random(7)
    for _ in range(300):
        a = first + dt.timedelta(days=rng.randrange((last - first).days))
        b = a + dt.timedelta(days=rng.randrange(400))
        after = np.busday_count(last + dt.timedelta(days=1), b + dt.timedelta(days=1))
        expected = len(chinese_calendar.get_workdays(a, min(b, last))) + max(int(after), 0)
        assert working_days(a, b) == expected, (a, b)
