"""Fraud tables: entity blocks and the idempotency log of block / release actions.

Revision ID: fraud_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "fraud_0001"
down_revision = None
branch_labels = ("fraud",)
depends_on = "core_0001"

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "fraud_entity_blocks",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("entity_kind", sa.String(16), nullable=False),
        sa.Column("entity_id", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint(
            "tenant_id", "entity_kind", "entity_id", name="uq_fraud_entity_blocks_entity"
        ),
    )
    op.create_index("ix_fraud_entity_blocks_tenant_id", "fraud_entity_blocks", ["tenant_id"])
    op.create_table(
        "fraud_block_actions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("entity_kind", sa.String(16), nullable=False),
        sa.Column("entity_id", sa.String(128), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("tenant_id", "idempotency_key", name="uq_fraud_block_actions_idem"),
    )
    op.create_index("ix_fraud_block_actions_tenant_id", "fraud_block_actions", ["tenant_id"])


def downgrade() -> None:
    op.drop_table("fraud_block_actions")
    op.drop_table("fraud_entity_blocks")
