"""Needs without a spatial index on their point

Nothing reads ``needs.location`` through its spatial index: every read of a need's place uses
the plain ``lon``/``lat`` columns (the heat cells through ``ix_needs_heat``, exports, the access
distances), and the grid a need lies in is stored (``grid_code``). The index was upkeep
only: on SpatiaLite every insert aligned an R*Tree entry — 15 of the ~100 s of importing a
million needs (SQLite's R*Tree has no bulk build; sorting the entries first saves little), and
~10 µs of every diary or API write; on PostGIS a GiST build of ~2 s per million needs after a
bulk load. The geometry column stays, for GIS tools opening the database (QGIS reads a layer
without a spatial index by a scan; ``SELECT CreateSpatialIndex('needs', 'location')`` or
``CREATE INDEX … USING gist (location)`` makes one for such use).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS idx_needs_location")
        return
    op.execute("SELECT DisableSpatialIndex('needs', 'location')")
    op.execute("DROP TABLE IF EXISTS idx_needs_location")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX idx_needs_location ON needs USING gist (location)")
        return
    op.execute("SELECT CreateSpatialIndex('needs', 'location')")
