"""heat-bin index on needs (SQLite)

``indicators.heat_bins`` counts needs per 0.002° cell with
``GROUP BY floor(lon / 0.002), floor(lat / 0.002)``. SQLite has no hash aggregation: without
an index in that order it sorts every row in a temporary B-tree (1 M needs: ~2.4 s on a busy
2-core machine); with this covering expression index it streams the index in group order
(~0.35 s), including the area, period, category and status filters of a Scope. PostgreSQL
aggregates with a (parallel) hash over a sequential scan and gains nothing from it, so the
index is created on SQLite only (``bench/heat_bins.py`` measures both).

Caveat: SQLAlchemy cannot reflect expression indexes on SQLite (it warns and skips them), so an
Alembic *batch* migration that recreates ``needs`` must create this index again afterwards.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Must read exactly as indicators.HEAT_BASE_CELL_DEG renders in the query.
_COLUMNS = (
    "floor(lon / 0.002), floor(lat / 0.002), grid_code, district_code, reported_at, "
    "category, status"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"CREATE INDEX ix_needs_heat ON needs ({_COLUMNS})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP INDEX IF EXISTS ix_needs_heat")
