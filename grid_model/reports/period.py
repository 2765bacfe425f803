"""What a report is about: a month (its first and last day, and the months a monthly report
compares it with), a period, an area's name.

>>> m = ReportMonth.parse("2025-11")
>>> m.start, m.end
(datetime.date(2025, 11, 1), datetime.date(2025, 11, 30))
>>> str(m.previous()), str(m.last_year()), str(m.shifted(-11))
('2025-10', '2024-11', '2024-12')
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from grid_model.errors import InvalidInputError, NotFoundError
from grid_model.messages import t
from grid_model.models import Area, Grid

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, order=True)
class ReportMonth:
    """A calendar month (``YYYY-MM``)."""

    year: int
    month: int

    @classmethod
    def parse(cls, value: object, *, lang: str = "zh") -> ReportMonth:
        """``YYYY-MM`` (e.g. ``2025-11``); anything else is an :class:`InvalidInputError`."""
        match = _MONTH.match(value.strip()) if isinstance(value, str) else None
        if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1990:
            raise InvalidInputError(t("report_bad_month", lang, value=str(value)[:40]))
        return cls(int(match.group(1)), int(match.group(2)))

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def end(self) -> dt.date:
        return dt.date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def shifted(self, months: int) -> ReportMonth:
        y, m = divmod(self.year * 12 + self.month - 1 + months, 12)
        return ReportMonth(y, m + 1)

    def previous(self) -> ReportMonth:
        """The month before (环比)."""
        return self.shifted(-1)

    def last_year(self) -> ReportMonth:
        """The same month a year before (同比)."""
        return self.shifted(-12)


def check_period(start: object, end: object, *, lang: str = "zh") -> tuple[dt.date, dt.date]:
    """``(start, end)`` when both are dates and ``start <= end``; else InvalidInputError."""
    for name, value in (("start", start), ("end", end)):
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            raise InvalidInputError(t("report_bad_date", lang, field=name, value=str(value)[:40]))
    if start > end:
        raise InvalidInputError(t("report_bad_period", lang, start=start, end=end))
    return start, end


def area_name(session: Session, code: str | None, lang: str = "zh") -> str:
    """The name of an area or grid code (全部 / all without one)."""
    if not code:
        return t("report_all_areas", lang)
    name = session.scalar(select(Area.name).where(Area.code == code))
    name = name or session.scalar(select(Grid.name).where(Grid.code == code))
    if name is None:
        raise NotFoundError(t("report_area_not_found", lang, code=code[:40]))
    return name
