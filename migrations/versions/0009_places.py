"""places: area codes of any form, a grid's street, the instants of a need

- Area, grid and district codes hold any unique string up to 32 characters (they were the
  6/9/12 digits of Chinese administrative codes). SQLite does not enforce a VARCHAR length,
  so only PostgreSQL alters the types.
- ``grids.street_code``: with ``district_code`` and ``community_code`` the grid's whole
  ancestry, which scopes select by (no code prefix). Filled from the community's parent.
- ``needs.reported_time`` / ``needs.closed_time``: the instants (naive UTC) of the report and
  the closing; ``reported_at`` / ``closed_at`` stay the local calendar days the measures read.
  Existing rows get the local midnight of their days in ``GRIDLAW_TIMEZONE`` (default
  Asia/Shanghai), computed per distinct day so a zone with summer time is right.

Revision ID: 0009
Revises: 0007 (re-chained at the merge of main: 0007_case_loop also followed 0005)
Create Date: 2026-12-02
"""

import datetime as dt
import os
import zoneinfo

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

#: (table, column, old length) widened to 32 characters.
_WIDENED = [
    ("areas", "code", 12),
    ("areas", "parent_code", 12),
    ("grids", "district_code", 6),
    ("grids", "community_code", 12),
    ("workers", "district_code", 6),
    ("needs", "district_code", 6),
    ("need_month_stats", "district_code", 6),
    ("service_events", "district_code", 6),
    ("service_points", "community_code", 12),
]


def _zone() -> dt.tzinfo:
    # Read here (not through grid_model.config) so this revision keeps meaning what it meant.
    name = os.environ.get("GRIDLAW_TIMEZONE") or "Asia/Shanghai"
    return zoneinfo.ZoneInfo(name)


def _fill_instants(day_column: str, time_column: str) -> None:
    bind = op.get_bind()
    zone = _zone()
    days = bind.execute(
        sa.text(f"SELECT DISTINCT {day_column} FROM needs WHERE {day_column} IS NOT NULL")
    ).scalars()
    for day in list(days):
        if isinstance(day, str):  # SQLite returns the text it holds
            day = dt.date.fromisoformat(day[:10])
        midnight = dt.datetime.combine(day, dt.time(), tzinfo=zone)
        stored = midnight.astimezone(dt.UTC).replace(tzinfo=None)
        bind.execute(
            sa.text(f"UPDATE needs SET {time_column} = :t WHERE {day_column} = :d"),
            {"t": stored, "d": day},
        )


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if not sqlite:
        for table, column, _ in _WIDENED:
            op.alter_column(table, column, type_=sa.String(length=32))
    with op.batch_alter_table("grids", schema=None) as batch_op:
        batch_op.add_column(sa.Column("street_code", sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f("ix_grids_street_code"), ["street_code"], unique=False)
    op.execute(
        "UPDATE grids SET street_code = "
        "(SELECT parent_code FROM areas WHERE areas.code = grids.community_code)"
    )
    with op.batch_alter_table("needs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reported_time", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("closed_time", sa.DateTime(), nullable=True))
    # New columns only: the closed-needs summary (0003) is as exact as before, so its
    # PostgreSQL statement triggers (which fire on any UPDATE) need not mark every bucket.
    if not sqlite:
        op.execute("ALTER TABLE needs DISABLE TRIGGER USER")
    _fill_instants("reported_at", "reported_time")
    _fill_instants("closed_at", "closed_time")
    if not sqlite:
        op.execute("ALTER TABLE needs ENABLE TRIGGER USER")


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite ≥ 3.35): a batch copy of a SpatiaLite table would lose its
    # geometry registration.
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.drop_index("ix_grids_street_code", table_name="grids")
    for table, column in [
        ("needs", "closed_time"),
        ("needs", "reported_time"),
        ("grids", "street_code"),
    ]:
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    if not sqlite:
        for table, column, length in _WIDENED:
            op.alter_column(table, column, type_=sa.String(length=length))
