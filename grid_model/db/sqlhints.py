"""Hints to the query planner that read the same on SpatiaLite and PostGIS."""

from __future__ import annotations

from sqlalchemy import ColumnElement
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement


class unindexed(FunctionElement):  # noqa: N801 - reads like a SQL function
    """The expression itself, kept from choosing an index on SQLite (a unary ``+``, the way
    SQLite documents). SQLite plans without statistics of value ranges: given
    ``reported_at <= today`` (true of nearly every need) or a grid-code range beside a
    selective term such as the open statuses, it may walk the wide range's index and fetch
    most rows at random. PostgreSQL plans from statistics and gets the bare expression."""

    inherit_cache = True
    name = "unindexed"

    def __init__(self, expr: ColumnElement) -> None:
        super().__init__(expr)
        self.type = expr.type


@compiles(unindexed)
def _unindexed(element, compiler, **kw):
    return compiler.process(element.clauses.clauses[0], **kw)


@compiles(unindexed, "sqlite")
def _unindexed_sqlite(element, compiler, **kw):
    return "+" + compiler.process(element.clauses.clauses[0], **kw)
