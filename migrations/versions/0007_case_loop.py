"""the case closed loop (办案闭环) and the mediation case file

Needs get a priority, a named assignee, the instants of the loop's steps (naive UTC, as
``grid_model.instants`` stores them), the satisfaction of the return visit, a rework count, a
supervision deadline and ``case_version``, which every step bumps (of two steps at once exactly
one is stored). ``case_events`` holds every step; ``mediation_*`` the people's-mediation case
file; ``reminder_outbox`` the reminder digests; workers get an e-mail address.

Existing data migrates without loss: every need gets a synthesised ``recorded`` event at the
local midnight of its report day (the zone of ``GRIDLAW_TIMEZONE``, Asia/Shanghai by default)
and a need past ``recorded`` one more synthesised event reaching its status — closed needs a
``close`` event at the local midnight of their closing day (their report day when they have
none) carrying their outcome. Synthesised events are marked ``synthesised`` and name the actor
``migration``.

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-02
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

from grid_model import config

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None

_NEED_COLUMNS = [
    sa.Column("priority", sa.String(length=10), server_default="normal", nullable=False),
    sa.Column("assignee_code", sa.String(length=32), nullable=True),
    sa.Column("dispatched_at", sa.DateTime(), nullable=True),
    sa.Column("accepted_at", sa.DateTime(), nullable=True),
    sa.Column("handled_at", sa.DateTime(), nullable=True),
    sa.Column("verified_at", sa.DateTime(), nullable=True),
    sa.Column("visited_at", sa.DateTime(), nullable=True),
    sa.Column("satisfaction", sa.String(length=20), nullable=True),
    sa.Column("rework_count", sa.Integer(), server_default="0", nullable=False),
    sa.Column("supervised_due", sa.Date(), nullable=True),
    sa.Column("case_version", sa.Integer(), server_default="0", nullable=False),
]
# the step that brought a migrated need to its status (closed needs: "close")
_MIGRATED_STEP = {"dispatched": "dispatch", "in_progress": "start", "closed": "close"}


def _create_tables() -> None:
    op.create_table(
        "case_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("need_id", sa.Integer(), nullable=False),
        sa.Column("district_code", sa.String(length=32), nullable=True),
        sa.Column("step", sa.String(length=20), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("actor_role", sa.String(length=20), nullable=True),
        sa.Column("worker_code", sa.String(length=32), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column(
            "entered_at", sa.DateTime(), server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("synthesised", sa.Boolean(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["need_id"], ["needs.id"], name=op.f("fk_case_events_need_id_needs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_events")),
    )  # fmt: skip
    op.create_index("ix_case_events_need_at", "case_events", ["need_id", "at"])
    op.create_index(op.f("ix_case_events_step"), "case_events", ["step"])
    op.create_table(
        "mediation_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("need_id", sa.Integer(), nullable=False),
        sa.Column("district_code", sa.String(length=32), nullable=True),
        sa.Column("dispute_type", sa.String(length=40), nullable=True),
        sa.Column("accepted_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("extension_reason", sa.Text(), nullable=True),
        sa.Column("agreement_kind", sa.String(length=10), nullable=True),
        sa.Column("agreement_text", sa.Text(), nullable=True),
        sa.Column("agreement_on", sa.Date(), nullable=True),
        sa.Column("performance_due", sa.Date(), nullable=True),
        sa.Column("performance_result", sa.String(length=20), nullable=True),
        sa.Column("judicial_asked_on", sa.Date(), nullable=True),
        sa.Column("judicial_granted_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["need_id"], ["needs.id"], name=op.f("fk_mediation_cases_need_id_needs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mediation_cases")),
        sa.UniqueConstraint("need_id", name=op.f("uq_mediation_cases_need_id")),
    )
    op.create_table(
        "mediation_parties",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("side", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("id_number", sa.String(length=18), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["mediation_cases.id"],
            name=op.f("fk_mediation_parties_case_id_mediation_cases"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mediation_parties")),
    )  # fmt: skip
    op.create_index(op.f("ix_mediation_parties_case_id"), "mediation_parties", ["case_id"])
    op.create_table(
        "mediation_mediators",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("worker_code", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["mediation_cases.id"],
            name=op.f("fk_mediation_mediators_case_id_mediation_cases"),
        ),
        sa.PrimaryKeyConstraint("case_id", "worker_code", name=op.f("pk_mediation_mediators")),
    )  # fmt: skip
    op.create_table(
        "mediation_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("place", sa.String(length=100), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["mediation_cases.id"],
            name=op.f("fk_mediation_sessions_case_id_mediation_cases"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mediation_sessions")),
    )  # fmt: skip
    op.create_index(op.f("ix_mediation_sessions_case_id"), "mediation_sessions", ["case_id"])
    op.create_table(
        "reminder_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("worker_code", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(), server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_outbox")),
        sa.UniqueConstraint("worker_code", "day", name=op.f("uq_reminder_outbox_worker_code")),
    )  # fmt: skip
    op.create_index(op.f("ix_reminder_outbox_day"), "reminder_outbox", ["day"])


def _day_instants(bind) -> sa.Table:
    """A scratch table: each report or closing day stored, with its local midnight in UTC."""
    table = op.create_table(
        "_migration_day_instants",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("at", sa.DateTime(), nullable=False),
    )
    days = bind.execute(
        sa.text("SELECT reported_at FROM needs UNION SELECT closed_at FROM needs")
    ).scalars()
    zone = config.timezone()
    rows = []
    for day in days:
        if day is None:
            continue
        if isinstance(day, str):  # SQLite hands dates back as text in raw SQL
            day = dt.date.fromisoformat(day[:10])
        midnight = dt.datetime.combine(day, dt.time(), tzinfo=zone)
        rows.append({"day": day, "at": midnight.astimezone(dt.UTC).replace(tzinfo=None)})
    if rows:
        op.bulk_insert(table, rows)
    return table


def _synthesise_events() -> None:
    bind = op.get_bind()
    _day_instants(bind)
    json_null = "NULL"
    outcome = (
        "json_object('outcome', n.outcome)"
        if bind.dialect.name == "sqlite"
        else "json_build_object('outcome', n.outcome)"
    )
    columns = (
        "need_id, district_code, step, from_status, to_status, actor, at, details, synthesised"
    )
    op.execute(
        f"""INSERT INTO case_events ({columns})
        SELECT n.id, n.district_code, 'record', NULL, 'recorded', 'migration', d.at,
               {json_null}, {_true(bind)}
        FROM needs n JOIN _migration_day_instants d ON d.day = n.reported_at"""
    )
    for status, step in _MIGRATED_STEP.items():
        day = "coalesce(n.closed_at, n.reported_at)" if status == "closed" else "n.reported_at"
        details = outcome if status == "closed" else json_null
        op.execute(
            f"""INSERT INTO case_events ({columns})
            SELECT n.id, n.district_code, '{step}', 'recorded', '{status}', 'migration',
                   d.at, {details}, {_true(bind)}
            FROM needs n JOIN _migration_day_instants d ON d.day = {day}
            WHERE n.status = '{status}'"""
        )
    op.drop_table("_migration_day_instants")


def _true(bind) -> str:
    return "1" if bind.dialect.name == "sqlite" else "TRUE"


def upgrade() -> None:
    for column in _NEED_COLUMNS:
        op.add_column("needs", column)
    op.create_index(op.f("ix_needs_assignee_code"), "needs", ["assignee_code"])
    op.add_column("workers", sa.Column("email", sa.String(length=254), nullable=True))
    _create_tables()
    _synthesise_events()


def downgrade() -> None:
    for table in (
        "reminder_outbox",
        "mediation_sessions",
        "mediation_mediators",
        "mediation_parties",
        "mediation_cases",
        "case_events",
    ):
        op.drop_table(table)
    # needs keep their statuses of the loop only where the old flow has them
    op.execute(
        "UPDATE needs SET status = 'in_progress' WHERE status IN ('accepted', 'on_hold', 'handled')"
    )
    op.execute("UPDATE needs SET status = 'recorded' WHERE status = 'returned'")
    op.drop_index(op.f("ix_needs_assignee_code"), table_name="needs")
    # plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35): a batch copy of ``needs`` would lose its
    # spatial column registration and the summary triggers
    for column in reversed(_NEED_COLUMNS):
        op.execute(f"ALTER TABLE needs DROP COLUMN {column.name}")
    op.execute("ALTER TABLE workers DROP COLUMN email")
