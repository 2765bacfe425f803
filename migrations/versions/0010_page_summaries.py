"""closed needs per grid and month: days to close, diary days; kept exact by 0003's marks

The median days to close (Overview, Workload, the closed-loop indicators) read a histogram of
every closed need: on a million needs, one more scan than the page's other reads together.
``need_close_days`` holds that histogram per (grid, report month, category, district, days
from report to closing) for closed needs with a closing date in a grid (~200 k rows for 1 M
needs at street scale). It depends on the same columns as ``need_month_stats``, so the
triggers of 0003 already mark the (grid, month) of every change that touches it; readers
count marked buckets from ``needs`` and ``need_stats.refresh`` recomputes both tables.

``need_diary_months`` holds, per (grid, report month, category, district), the days of the
month with a diary entry among closed needs as a bit mask (bit d-1 for day d): diary
compliance per assistant (Workload) read every diary entry, half of all needs.

The upgrade fills both from the needs already stored. The SQL is written out here (not
imported from ``grid_model``) so this revision keeps meaning what it meant.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _fill_sql(dialect: str) -> str:
    if dialect == "sqlite":
        days = "CAST(round(julianday(closed_at) - julianday(reported_at)) AS INTEGER)"
        month = "date(reported_at, 'start of month')"
    else:
        days = "(CAST(closed_at AS DATE) - CAST(reported_at AS DATE))"
        month = "CAST(date_trunc('month', reported_at) AS DATE)"
    return f"""
        INSERT INTO need_close_days
            (grid_code, month_start, category, district_code, days, needs)
        SELECT grid_code, {month}, category, coalesce(district_code, ''), {days}, count(*)
        FROM needs
        WHERE status = 'closed' AND grid_code IS NOT NULL AND closed_at IS NOT NULL
        GROUP BY grid_code, {month}, category, coalesce(district_code, ''), {days}
    """


def _fill_diary_sql(dialect: str) -> str:
    if dialect == "sqlite":
        bit = "(CAST(strftime('%d', reported_at) AS INTEGER) - 1)"
        month = "date(reported_at, 'start of month')"
    else:
        bit = "(CAST(EXTRACT(DAY FROM reported_at) AS INTEGER) - 1)"
        month = "CAST(date_trunc('month', reported_at) AS DATE)"
    return f"""
        INSERT INTO need_diary_months (grid_code, month_start, category, district_code, days)
        SELECT grid_code, {month}, category, coalesce(district_code, ''),
               sum(DISTINCT 1 << {bit})
        FROM needs
        WHERE status = 'closed' AND grid_code IS NOT NULL AND source = 'diary'
        GROUP BY grid_code, {month}, category, coalesce(district_code, '')
    """


def upgrade() -> None:
    op.create_table(
        "need_close_days",
        sa.Column("grid_code", sa.String(length=32), nullable=False),
        sa.Column("month_start", sa.Date(), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("district_code", sa.String(length=32), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("needs", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "grid_code",
            "month_start",
            "category",
            "district_code",
            "days",
            name=op.f("pk_need_close_days"),
        ),
    )
    op.create_table(
        "need_diary_months",
        sa.Column("grid_code", sa.String(length=32), nullable=False),
        sa.Column("month_start", sa.Date(), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("district_code", sa.String(length=32), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "grid_code",
            "month_start",
            "category",
            "district_code",
            name=op.f("pk_need_diary_months"),
        ),
    )
    dialect = op.get_bind().dialect.name
    op.execute(_fill_sql(dialect))
    op.execute(_fill_diary_sql(dialect))


def downgrade() -> None:
    op.drop_table("need_diary_months")
    op.drop_table("need_close_days")
