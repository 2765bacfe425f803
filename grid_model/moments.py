"""Dates and times in the cells of a file: read into instants (:mod:`grid_model.instants`).

A cell may hold a date alone (``2025-03-01``, ``2025/3/1``, ``2025.3.1``, ``2025年3月1日``), a
date and time (``2025-03-01 14:05``, ``2025年3月1日 14:05:09``), ISO 8601 with an offset
(``2022-05-02T02:30:00Z``, ``…+08:00``: the offset is honoured) or the US form with AM/PM
(``05/01/2022 12:00:03 AM``; ``dayfirst`` reads ``01/05/2022`` as 1 May). A format given
(``--date-format``, :func:`time.strftime` directives, ``%z`` for an offset) replaces them all.
A value without an offset is a time in the import's zone (``--timezone``, default
:func:`grid_model.config.timezone`); a date alone is that zone's midnight. The calendar day
the measures read is the instant's day in that zone.

>>> reading = DateReading(tz=zoneinfo.ZoneInfo("America/New_York"))
>>> instants, days, bad = parse_moments(pd.Series(["2022-05-02T02:30:00Z", "05/01/2022 12:00:03 AM", "x"]), reading)
>>> [str(v) for v in instants], [str(d) for d in days], bad.tolist()
(['2022-05-02 02:30:00', '2022-05-01 04:00:03', 'None'], ['2022-05-01', '2022-05-01', 'None'], [False, False, True])
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass

import numpy as np
import pandas as pd

from grid_model import config, instants

_TIME = r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*([AaPp][Mm])?)?"
_YMD = re.compile(
    r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?" + _TIME + r"\s*$"
)
_MDY = re.compile(r"^\s*(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})" + _TIME + r"\s*$")
# The old rule, kept: a Y-M-D date followed by anything else is that date.
_YMD_LOOSE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?[ T]")


@dataclass(frozen=True)
class DateReading:
    """How to read the dates of a file: ``fmt`` (strftime directives; None: the forms
    above), ``dayfirst`` for 01/05/2022 = 1 May, ``tz`` for values without an offset (None:
    :func:`grid_model.config.timezone`)."""

    fmt: str | None = None
    dayfirst: bool = False
    tz: dt.tzinfo | None = None

    def zone(self) -> dt.tzinfo:
        return self.tz if self.tz is not None else config.timezone()


def _clock(hour, minute, second, half) -> dt.time | None:
    if hour is None:
        return dt.time()
    h, m, s = int(hour), int(minute), int(second or 0)
    if half:
        if not 1 <= h <= 12:
            return None
        h = h % 12 + (12 if half.lower() == "pm" else 0)
    try:
        return dt.time(h, m, s)
    except ValueError:
        return None


def _from_parts(year, month, day, clock_parts) -> dt.date | dt.datetime | None:
    try:
        day_ = dt.date(int(year), int(month), int(day))
    except ValueError:
        return None
    if clock_parts[0] is None:
        return day_
    clock = _clock(*clock_parts)
    return None if clock is None else dt.datetime.combine(day_, clock)


def parse_moment(text: str, reading: DateReading) -> dt.date | dt.datetime | None:
    """One cell: a date (no time given), a datetime (aware when it had an offset), or None
    when it is none of the accepted forms or no real moment."""
    if reading.fmt:
        try:
            return dt.datetime.strptime(text.strip(), reading.fmt)
        except ValueError:
            return None
    if m := _YMD.match(text):
        return _from_parts(m[1], m[2], m[3], m.groups()[3:])
    if m := _MDY.match(text):
        month, day = (m[2], m[1]) if reading.dayfirst else (m[1], m[2])
        return _from_parts(m[3], month, day, m.groups()[3:])
    try:
        return dt.datetime.fromisoformat(text.strip())
    except ValueError:
        pass
    if m := _YMD_LOOSE.match(text):
        return _from_parts(m[1], m[2], m[3], (None, None, None, None))
    return None


def _stored(value, zone: dt.tzinfo) -> tuple[dt.datetime | None, dt.date | None]:
    if value is None:
        return None, None
    try:
        instant = instants.to_stored(value, zone)
    except OverflowError:  # year 1 or 9999: a day the range check refuses, no instant
        return None, value.date() if isinstance(value, dt.datetime) else value
    if not isinstance(value, dt.datetime):
        return instant, value
    return instant, instants.local_day(instant, zone)


def parse_moments(
    series: pd.Series, reading: DateReading | None = None
) -> tuple[pd.Series, pd.Series, np.ndarray]:
    """The instants (naive UTC) and local days of a column, and the mask of values given but
    not moments (each distinct value parsed once)."""
    reading = reading or DateReading()
    zone = reading.zone()
    text = series.map(lambda v: None if pd.isna(v) else str(v).strip() or None)
    parsed = {v: _stored(parse_moment(v, reading), zone) for v in text.dropna().unique()}
    pairs = [parsed.get(v, (None, None)) if v is not None else (None, None) for v in text]
    stamps = pd.Series([p[0] for p in pairs], index=series.index, dtype=object)
    days = pd.Series([p[1] for p in pairs], index=series.index, dtype=object)
    bad = (text.notna() & days.isna()).to_numpy()
    return stamps, days, bad


def timezone_named(name: str | None) -> dt.tzinfo:
    """The IANA zone ``name`` (None: :func:`grid_model.config.timezone`); ValueError naming
    it otherwise."""
    if not name:
        return config.timezone()
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{name!r} is not an IANA time zone such as America/New_York") from exc


__all__ = ["DateReading", "parse_moment", "parse_moments", "timezone_named"]
