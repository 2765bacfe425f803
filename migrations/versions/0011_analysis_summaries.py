"""the access summary: each closed need's distance to the nearest service point, per bucket

``need_access`` (the Access and Coverage gaps pages) measured every need of a scope from its
coordinates: on a million needs reading them alone costs more than a plain scan of ``needs``.
``need_access_stats`` keeps, per bucket of the closed-needs summary (grid, report month,
category, district) and ``under_correction``, the ids and distances of its closed needs as
packed arrays; ``need_access_state`` the fingerprint of the service points and the UTM zone
they were measured for (:mod:`grid_model.gaps.access_stats`).

The marks of migration 0003 keep it exact. On PostgreSQL its update trigger fires for every
update of a closed need; SQLite's names the columns it watches, so a trigger here marks the
bucket of a closed need that moves (``lon``, ``lat``) or whose ``under_correction`` changes.

``ix_needs_off_grid``: a partial index of the needs snapped to a grid or outside every grid
(0.5 % of the demo), which the coverage gaps list; without it their query scanned every need.
Queries must spell its condition with the same literal values to use it.

The upgrade fills the summary with :func:`grid_model.gaps.access_stats.rebuild` — distances
are computed in Python (pyproj, a k-d tree), not in SQL — so it is derived data this revision
builds with today's code; ``gridlaw refresh-summary --full`` rebuilds it at any time.

Revision ID: 0011
Revises: 0010 (re-chained at the merge of main into s14-pages-b)
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_CLOSED = "{row}.status = 'closed' AND {row}.grid_code IS NOT NULL"
_SQLITE_TRIGGER = f"""
CREATE TRIGGER need_access_moved
AFTER UPDATE OF lon, lat, under_correction ON needs
WHEN {_CLOSED.format(row="OLD")} OR {_CLOSED.format(row="NEW")}
BEGIN
    INSERT OR IGNORE INTO need_stats_dirty (grid_code, month_start, month_end)
    SELECT OLD.grid_code, date(OLD.reported_at, 'start of month'),
           date(OLD.reported_at, 'start of month', '+1 month')
    WHERE {_CLOSED.format(row="OLD")};
    INSERT OR IGNORE INTO need_stats_dirty (grid_code, month_start, month_end)
    SELECT NEW.grid_code, date(NEW.reported_at, 'start of month'),
           date(NEW.reported_at, 'start of month', '+1 month')
    WHERE {_CLOSED.format(row="NEW")};
END
"""


_OFF_GRID = "quality IN ('outside', 'snapped')"


def upgrade() -> None:
    op.execute(f"CREATE INDEX ix_needs_off_grid ON needs (reported_at) WHERE {_OFF_GRID}")
    op.create_table(
        "need_access_stats",
        sa.Column("grid_code", sa.String(length=32), nullable=False),
        sa.Column("month_start", sa.Date(), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("district_code", sa.String(length=32), nullable=False),
        sa.Column("under_correction", sa.Boolean(), nullable=False),
        sa.Column("needs", sa.Integer(), nullable=False),
        sa.Column("ids", sa.LargeBinary(), nullable=False),
        sa.Column("distances", sa.LargeBinary(), nullable=False),
        sa.Column("min_lon", sa.Float(), nullable=False),
        sa.Column("max_lon", sa.Float(), nullable=False),
        sa.Column("min_lat", sa.Float(), nullable=False),
        sa.Column("max_lat", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(
            "grid_code",
            "month_start",
            "category",
            "district_code",
            "under_correction",
            name=op.f("pk_need_access_stats"),
        ),
    )
    op.create_table(
        "need_access_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("points", sa.String(length=64), nullable=False),
        sa.Column("crs", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_need_access_state")),
    )
    if op.get_bind().dialect.name == "sqlite":
        op.execute(_SQLITE_TRIGGER)
    from grid_model.gaps import access_stats

    session = Session(bind=op.get_bind())
    access_stats.rebuild(session, access_stats.access_points(session))
    session.flush()


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_needs_off_grid")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS need_access_moved")
    op.drop_table("need_access_state")
    op.drop_table("need_access_stats")
