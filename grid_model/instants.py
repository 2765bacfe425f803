"""Instants: how GridLaw stores and shows a moment in time.

An instant is stored as a *naive UTC* ``DateTime`` in both backends (SpatiaLite has no time
zones and PostGIS's ``timestamp without time zone`` compares the same way), so a query reads
the same on both. Everything that enters is made aware first: a value with an offset keeps
it, a value without one is read in the area's zone (:func:`grid_model.config.timezone`,
Asia/Shanghai by default), and a date alone means that zone's midnight. Everything shown is
turned back into the zone.

>>> import datetime as dt, zoneinfo
>>> ny = zoneinfo.ZoneInfo("America/New_York")
>>> to_stored(dt.datetime(2022, 5, 2, 2, 30, tzinfo=dt.timezone.utc))
datetime.datetime(2022, 5, 2, 2, 30)
>>> local(dt.datetime(2022, 5, 2, 2, 30), ny)
datetime.datetime(2022, 5, 1, 22, 30, tzinfo=zoneinfo.ZoneInfo(key='America/New_York'))
>>> to_stored(dt.date(2025, 11, 3))  # local midnight in Asia/Shanghai
datetime.datetime(2025, 11, 2, 16, 0)
>>> local_day(dt.datetime(2025, 11, 2, 16, 0))
datetime.date(2025, 11, 3)
>>> iso(dt.datetime(2025, 11, 2, 16, 0))
'2025-11-03T00:00:00+08:00'
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from grid_model import config

UTC = dt.UTC


def _zone(tz: zoneinfo.ZoneInfo | dt.tzinfo | None) -> dt.tzinfo:
    return tz if tz is not None else config.timezone()


def aware(value: dt.datetime | dt.date, tz: dt.tzinfo | None = None) -> dt.datetime:
    """``value`` as an aware datetime: an offset kept, a naive time read in ``tz`` (default the
    area's zone), a date its midnight there."""
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=_zone(tz))
    return value


def to_stored(value: dt.datetime | dt.date, tz: dt.tzinfo | None = None) -> dt.datetime:
    """The naive UTC datetime stored for ``value`` (see :func:`aware` for naive input)."""
    return aware(value, tz).astimezone(UTC).replace(tzinfo=None)


def from_stored(value: dt.datetime) -> dt.datetime:
    """A stored naive UTC datetime as an aware UTC one."""
    return value.replace(tzinfo=UTC)


def local(value: dt.datetime, tz: dt.tzinfo | None = None) -> dt.datetime:
    """A stored instant (naive UTC, or aware) shown in ``tz`` (default the area's zone)."""
    if value.tzinfo is None:
        value = from_stored(value)
    return value.astimezone(_zone(tz))


def local_day(value: dt.datetime, tz: dt.tzinfo | None = None) -> dt.date:
    """The calendar day, in ``tz`` (default the area's zone), that a stored instant falls on."""
    return local(value, tz).date()


def iso(value: dt.datetime, tz: dt.tzinfo | None = None) -> str:
    """ISO 8601 with the zone's offset, to the second: what exports write."""
    return local(value, tz).isoformat(timespec="seconds")


def now_stored() -> dt.datetime:
    """This moment, as stored."""
    return dt.datetime.now(UTC).replace(tzinfo=None)
