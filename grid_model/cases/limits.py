"""Time limits of the closed loop: days to close per category and priority, in working days
(the State Council calendar of :mod:`grid_model.workdays`), and hours to accept.

One table, :data:`CLOSE_WORKING_DAYS`; a case dispatched without a due date of its own gets
:func:`due_date` of it. A mediation case also has the one-month limit of the People's
Mediation Law from its acceptance (:mod:`grid_model.cases.mediation`).

>>> import datetime as dt
>>> due_date(dt.date(2025, 9, 30), "consultation", "normal")  # 国庆 holidays skipped
datetime.date(2025, 10, 14)
>>> add_working_days(dt.date(2025, 1, 24), 1)  # Friday → the Sunday worked in lieu
datetime.date(2025, 1, 26)
"""

from __future__ import annotations

import datetime as dt

from grid_model import workdays

#: Working days from the report to the due date, per category and priority.
CLOSE_WORKING_DAYS: dict[str, dict[str, int]] = {
    "consultation": {"normal": 5, "urgent": 1},
    "publicity": {"normal": 10, "urgent": 3},
    "legal_aid": {"normal": 20, "urgent": 5},
    "mediation": {"normal": 20, "urgent": 5},
    "correction": {"normal": 20, "urgent": 5},
    "other": {"normal": 10, "urgent": 3},
}
#: Hours from dispatch within which a worker should accept (签收) a case.
ACCEPT_HOURS: dict[str, int] = {"normal": 24, "urgent": 2}
#: Working days before the due date in which a case counts as due soon.
DUE_SOON_WORKING_DAYS = 2


def add_working_days(start: dt.date, n: int) -> dt.date:
    """The ``n``-th working day after ``start`` (``start`` itself for ``n <= 0``)."""
    day = start
    while n > 0:
        day += dt.timedelta(days=1)
        if workdays.is_workday(day):
            n -= 1
    return day


def due_date(reported: dt.date, category: str, priority: str = "normal") -> dt.date:
    """The due date of a case reported on ``reported`` (see :data:`CLOSE_WORKING_DAYS`)."""
    limits = CLOSE_WORKING_DAYS.get(category, CLOSE_WORKING_DAYS["other"])
    return add_working_days(reported, limits.get(priority, limits["normal"]))


def accept_hours(priority: str) -> int:
    """Hours to accept a case of ``priority``."""
    return ACCEPT_HOURS.get(priority, ACCEPT_HOURS["normal"])
