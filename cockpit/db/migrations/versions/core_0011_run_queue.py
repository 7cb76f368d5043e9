"""The durable run queue: leases on runs, and the events each run streamed.

Revision ID: core_0011
Revises: core_0010
"""

import sqlalchemy as sa
from alembic import op

revision = "core_0011"
down_revision = "core_0010"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("runs") as t:
        t.add_column(sa.Column("payload", sa.JSON(), nullable=False, server_default="{}"))
        t.add_column(sa.Column("principal", sa.JSON(), nullable=False, server_default="{}"))
        t.add_column(sa.Column("worker_id", sa.String(80), nullable=True))
        t.add_column(sa.Column("lease_until", TS, nullable=True))
        t.add_column(sa.Column("attempt", sa.Integer(), nullable=False, server_default="0"))
        t.add_column(sa.Column("not_before", TS, nullable=True))
        t.add_column(sa.Column("cancel", sa.String(20), nullable=True))
        t.add_column(sa.Column("start_checkpoint", sa.String(64), nullable=True))
        t.add_column(sa.Column("webhook", sa.String(2000), nullable=True))
    op.create_index("ix_runs_status_lease", "runs", ["status", "lease_until"])
    op.create_table(
        "run_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("run_id", "seq", name="uq_run_events_run_seq"),
    )
    op.create_index("ix_run_events_tenant_id", "run_events", ["tenant_id"])
    op.create_index("ix_run_events_run_id", "run_events", ["run_id"])


def downgrade() -> None:
    op.drop_table("run_events")
    op.drop_index("ix_runs_status_lease", table_name="runs")
    with op.batch_alter_table("runs") as t:
        for name in (
            "webhook",
            "start_checkpoint",
            "cancel",
            "not_before",
            "attempt",
            "lease_until",
            "worker_id",
            "principal",
            "payload",
        ):
            t.drop_column(name)
