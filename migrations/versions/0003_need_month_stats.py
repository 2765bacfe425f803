"""closed needs summed per grid and month, kept exact by triggers

``indicators.grid_measures`` (the Map page's colours) aggregated every need in scope: on a
million needs SQLite needs ~1.2 s for that alone. Closed needs dominate (97 % of the demo) and,
once closed on or before the day asked about, count the same whatever that day is, so they are
summed here per (grid, report month, category, district): ``need_month_stats`` — count,
closed on time, mediated, days to close (sum and count), first report, last diary entry, last
closing date. KPIs and the monthly trend read it too.

Exactness does not depend on callers remembering to refresh: triggers on ``needs`` write the
(grid, month) of every closed need inserted, updated or deleted into ``need_stats_dirty``;
readers count the needs of those buckets from ``needs`` and ``need_stats.refresh`` recomputes
them. SQLite has row triggers only (with ``WHEN`` so open needs cost nothing); PostgreSQL uses
statement triggers over transition tables, so a COPY of a million rows marks its buckets in one
``INSERT … SELECT DISTINCT``.

The upgrade fills the summary from the needs already stored. The SQL is written out here (not
imported from ``grid_model``) so this revision keeps meaning what it meant.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# ``DUE_DAYS`` of grid_model.measures.indicators when this revision was written: a need without a
# due_date is due this many days after its report.
_DUE_DAYS = {
    "consultation": 7,
    "publicity": 15,
    "legal_aid": 30,
    "mediation": 30,
    "correction": 30,
}
_DUE_OTHER = 15


def _fill_sql(dialect: str) -> str:
    if dialect == "sqlite":
        days = "CAST(round(julianday(closed_at) - julianday(reported_at)) AS INTEGER)"
        month = "date(reported_at, 'start of month')"
        due = (
            "date(reported_at, printf('%+d days', CASE category "
            + " ".join(f"WHEN '{c}' THEN {n}" for c, n in _DUE_DAYS.items())
            + f" ELSE {_DUE_OTHER} END))"
        )
    else:
        days = "(closed_at - reported_at)"
        month = "CAST(date_trunc('month', reported_at) AS DATE)"
        due = (
            "(reported_at + CASE category "
            + " ".join(f"WHEN '{c}' THEN {n}" for c, n in _DUE_DAYS.items())
            + f" ELSE {_DUE_OTHER} END)"
        )
    return f"""
        INSERT INTO need_month_stats
            (grid_code, month_start, category, district_code, needs, on_time, mediated,
             days_sum, days_n, first_reported, last_diary, max_closed_at)
        SELECT grid_code, {month}, category, coalesce(district_code, ''), count(*),
               sum(CASE WHEN closed_at IS NOT NULL
                         AND closed_at <= coalesce(due_date, {due}) THEN 1 ELSE 0 END),
               sum(CASE WHEN outcome = 'mediated' THEN 1 ELSE 0 END),
               coalesce(sum({days}), 0), count(closed_at), min(reported_at),
               max(CASE WHEN source = 'diary' THEN reported_at END),
               max(closed_at)
        FROM needs
        WHERE status = 'closed' AND grid_code IS NOT NULL
        GROUP BY grid_code, {month}, category, coalesce(district_code, '')
    """


def _sqlite_mark(row: str) -> str:
    """Mark the bucket of trigger row ``row`` (``NEW`` or ``OLD``) when it is a closed need in
    a grid."""
    return f"""
        INSERT OR IGNORE INTO need_stats_dirty (grid_code, month_start, month_end)
        SELECT {row}.grid_code, date({row}.reported_at, 'start of month'),
               date({row}.reported_at, 'start of month', '+1 month')
        WHERE {_sqlite_closed(row)};
    """


def _sqlite_closed(row: str) -> str:
    return f"{row}.status = 'closed' AND {row}.grid_code IS NOT NULL"


_SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER need_stats_insert AFTER INSERT ON needs WHEN {_sqlite_closed("NEW")}
    BEGIN {_sqlite_mark("NEW")} END""",
    f"""CREATE TRIGGER need_stats_update
    AFTER UPDATE OF grid_code, district_code, reported_at, category, status, closed_at,
                    due_date, source ON needs
    WHEN ({_sqlite_closed("OLD")}) OR ({_sqlite_closed("NEW")})
    BEGIN {_sqlite_mark("OLD")} {_sqlite_mark("NEW")} END""",
    f"""CREATE TRIGGER need_stats_delete AFTER DELETE ON needs WHEN {_sqlite_closed("OLD")}
    BEGIN {_sqlite_mark("OLD")} END""",
]


def _pg_mark(rows: str) -> str:
    return f"""
        INSERT INTO need_stats_dirty (grid_code, month_start, month_end)
        SELECT DISTINCT grid_code, CAST(date_trunc('month', reported_at) AS DATE),
               CAST(date_trunc('month', reported_at) + interval '1 month' AS DATE)
        FROM {rows}
        WHERE status = 'closed' AND grid_code IS NOT NULL
        ON CONFLICT DO NOTHING;
    """


_PG_FUNCTIONS = {
    "need_stats_mark_new": _pg_mark("new_rows"),
    "need_stats_mark_old": _pg_mark("old_rows"),
    "need_stats_mark_both": _pg_mark("old_rows") + _pg_mark("new_rows"),
}
_PG_TRIGGERS = [
    ("need_stats_insert", "INSERT", "NEW TABLE AS new_rows", "need_stats_mark_new"),
    (
        "need_stats_update",
        "UPDATE",
        "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "need_stats_mark_both",
    ),
    ("need_stats_delete", "DELETE", "OLD TABLE AS old_rows", "need_stats_mark_old"),
]


def upgrade() -> None:
    op.create_table(
        "need_month_stats",
        sa.Column("grid_code", sa.String(length=32), nullable=False),
        sa.Column("month_start", sa.Date(), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.Column("needs", sa.Integer(), nullable=False),
        sa.Column("on_time", sa.Integer(), nullable=False),
        sa.Column("mediated", sa.Integer(), nullable=False),
        sa.Column("days_sum", sa.Integer(), nullable=False),
        sa.Column("days_n", sa.Integer(), nullable=False),
        sa.Column("first_reported", sa.Date(), nullable=False),
        sa.Column("last_diary", sa.Date(), nullable=True),
        sa.Column("max_closed_at", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint(
            "grid_code",
            "month_start",
            "category",
            "district_code",
            name=op.f("pk_need_month_stats"),
        ),
    )
    op.create_index(
        op.f("ix_need_month_stats_max_closed_at"),
        "need_month_stats",
        ["max_closed_at"],
        unique=False,
    )
    op.create_table(
        "need_stats_dirty",
        sa.Column("grid_code", sa.String(length=32), nullable=False),
        sa.Column("month_start", sa.Date(), nullable=False),
        sa.Column("month_end", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("grid_code", "month_start", name=op.f("pk_need_stats_dirty")),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for ddl in _SQLITE_TRIGGERS:
            op.execute(ddl)
    else:
        for name, body in _PG_FUNCTIONS.items():
            op.execute(
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
                f"BEGIN {body} RETURN NULL; END $$"
            )
        for name, event, tables, function in _PG_TRIGGERS:
            op.execute(
                f"CREATE TRIGGER {name} AFTER {event} ON needs REFERENCING {tables} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
            )
    op.execute(_fill_sql(dialect))


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name, *_ in _PG_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + ("" if dialect == "sqlite" else " ON needs"))
    if dialect != "sqlite":
        for name in _PG_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.drop_table("need_stats_dirty")
    op.drop_table("need_month_stats")
