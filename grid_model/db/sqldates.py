"""Date arithmetic in SQL that reads the same on SpatiaLite and PostGIS.

SQLite keeps ``Date`` columns as ISO text (``YYYY-MM-DD``) and has no date type, PostgreSQL has
one; these small constructs compile to each dialect's own functions so services can aggregate
dates in the database. Results compare correctly with ``Date`` columns and date parameters on
both (ISO text sorts like the dates it spells).

>>> from sqlalchemy import select
>>> from grid_model.models import Need
>>> stmt = select(add_days(Need.reported_at, 7))  # doctest: +SKIP
"""

from __future__ import annotations

from sqlalchemy import Date, Float, Integer, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement


class add_days(FunctionElement):  # noqa: N801 - reads like a SQL function
    """``date + n days`` (``n`` an integer expression or int)."""

    type = Date()
    inherit_cache = True
    name = "add_days"


class days_between(FunctionElement):  # noqa: N801
    """Whole days from the first date to the second (``second - first``)."""

    type = Integer()
    inherit_cache = True
    name = "days_between"


class year_month(FunctionElement):  # noqa: N801
    """``YYYY-MM`` text of a date."""

    type = String()
    inherit_cache = True
    name = "year_month"


class month_start(FunctionElement):  # noqa: N801
    """First day of the month of a date, as a date."""

    type = Date()
    inherit_cache = True
    name = "month_start"


class hours_between(FunctionElement):  # noqa: N801
    """Hours (fractional) from the first instant to the second (``second - first``)."""

    type = Float()
    inherit_cache = True
    name = "hours_between"


def _args(compiler, element, **kw) -> list[str]:
    return [compiler.process(arg, **kw) for arg in element.clauses]


@compiles(add_days, "sqlite")
def _add_days_sqlite(element, compiler, **kw):
    d, n = _args(compiler, element, **kw)
    return f"date({d}, printf('%+d days', {n}))"


@compiles(add_days, "postgresql")
def _add_days_pg(element, compiler, **kw):
    d, n = _args(compiler, element, **kw)
    return f"(CAST({d} AS DATE) + CAST({n} AS INTEGER))"


@compiles(days_between, "sqlite")
def _days_between_sqlite(element, compiler, **kw):
    a, b = _args(compiler, element, **kw)
    return f"CAST(round(julianday({b}) - julianday({a})) AS INTEGER)"


@compiles(days_between, "postgresql")
def _days_between_pg(element, compiler, **kw):
    a, b = _args(compiler, element, **kw)
    return f"(CAST({b} AS DATE) - CAST({a} AS DATE))"


@compiles(year_month, "sqlite")
def _year_month_sqlite(element, compiler, **kw):
    (d,) = _args(compiler, element, **kw)
    return f"strftime('%Y-%m', {d})"


@compiles(year_month, "postgresql")
def _year_month_pg(element, compiler, **kw):
    (d,) = _args(compiler, element, **kw)
    return f"to_char(CAST({d} AS DATE), 'YYYY-MM')"


@compiles(month_start, "sqlite")
def _month_start_sqlite(element, compiler, **kw):
    (d,) = _args(compiler, element, **kw)
    return f"date({d}, 'start of month')"


@compiles(month_start, "postgresql")
def _month_start_pg(element, compiler, **kw):
    (d,) = _args(compiler, element, **kw)
    return f"CAST(date_trunc('month', CAST({d} AS DATE)) AS DATE)"


@compiles(hours_between, "sqlite")
def _hours_between_sqlite(element, compiler, **kw):
    a, b = _args(compiler, element, **kw)
    return f"((julianday({b}) - julianday({a})) * 24.0)"


@compiles(hours_between, "postgresql")
def _hours_between_pg(element, compiler, **kw):
    a, b = _args(compiler, element, **kw)
    return f"(EXTRACT(EPOCH FROM ({b} - {a})) / 3600.0)"
