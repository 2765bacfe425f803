"""PostgreSQL: the open needs in one covering index, read without touching the table

The measures of every page (Overview, Map, Workload, Coverage gaps' overdue list, the
caseload) read the open needs from ``needs`` beside the summaries: a few per cent of all,
found by ``ix_needs_status`` but scattered over a third of the table's pages — on a million
needs 26 k open ones on 17 k pages, 0.15–0.19 s per read on PostgreSQL, about one plain scan of
the table. ``ix_needs_open`` holds them with every column a measure or a list reads (not the
description, the resident's name and phone, the geometry or ``created_at``), so PostgreSQL
answers those reads by an index-only scan (5 ms) where the table's visibility map is set —
autovacuum keeps it; a bulk import runs ``VACUUM`` after it commits.

The index condition is ``not_closed()`` of :mod:`grid_model.measures.definitions`, spelt with
the literal ``'closed'``: a partial index serves only a query whose condition implies its own,
which PostgreSQL cannot prove for a bound parameter in a generic plan.

SQLite reads a row by its rowid in a B-tree lookup, which the status index already gives it
(its pages were at or under the plain scan without this): nothing changes there.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

#: The key, then the covered columns (PostgreSQL allows 32 columns per index in all).
_COLUMNS = (
    "external_id", "district_code", "reported_at", "lon", "lat", "grid_code", "quality",
    "category", "dispute_type", "source", "status", "outcome", "due_date", "closed_at",
    "worker_code", "under_correction", "priority", "assignee_code", "dispatched_at",
    "accepted_at", "handled_at", "verified_at", "visited_at", "satisfaction", "rework_count",
    "supervised_due", "case_version", "reported_time", "closed_time",
)  # fmt: skip
OPEN = "status < 'closed' OR status > 'closed'"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"CREATE INDEX ix_needs_open ON needs (id) INCLUDE ({', '.join(_COLUMNS)}) WHERE {OPEN}"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_needs_open")
