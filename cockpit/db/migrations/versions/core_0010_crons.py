"""Crons: scheduled runs per tenant (LangGraph crons), each run as the key that set it.

Revision ID: core_0010
Revises: core_0009
"""

import sqlalchemy as sa
from alembic import op

revision = "core_0010"
down_revision = "core_0009"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "crons",
        sa.Column("cron_id", sa.String(64), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("thread_id", sa.String(64), nullable=True),
        sa.Column("assistant_id", sa.String(120), nullable=False),
        sa.Column("schedule", sa.String(120), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("on_run_completed", sa.String(10), nullable=True),
        sa.Column("end_time", TS, nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("next_run_date", TS, nullable=True),
        sa.Column("owner_key_id", sa.String(64), nullable=False),
        sa.Column("owner_role", sa.String(20), nullable=False),
        sa.Column("merchant_id", sa.String(64), nullable=True),
        sa.Column("fires", sa.Integer(), nullable=False),
        sa.Column("last_fired_at", TS, nullable=True),
        sa.Column("last_status", sa.String(20), nullable=True),
        sa.Column("last_run_id", sa.String(64), nullable=True),
        sa.Column("last_error", sa.JSON(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_crons_tenant_id", "crons", ["tenant_id"])
    op.create_index("ix_crons_thread_id", "crons", ["thread_id"])
    op.create_index("ix_crons_next_run_date", "crons", ["next_run_date"])


def downgrade() -> None:
    op.drop_index("ix_crons_next_run_date", table_name="crons")
    op.drop_index("ix_crons_thread_id", table_name="crons")
    op.drop_index("ix_crons_tenant_id", table_name="crons")
    op.drop_table("crons")
