"""The LangGraph store: items per tenant (and merchant scope) and namespace, with TTLs.

Revision ID: core_0009
Revises: core_0008
"""

import sqlalchemy as sa
from alembic import op

revision = "core_0009"
down_revision = "core_0008"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "store_items",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("scope", sa.String(64), nullable=False),
        sa.Column("namespace", sa.String(1024), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("index_fields", sa.JSON(), nullable=True),
        sa.Column("ttl_minutes", sa.Float(), nullable=True),
        sa.Column("expires_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("tenant_id", "scope", "namespace", "key", name="uq_store_items_key"),
    )
    op.create_index("ix_store_items_tenant_id", "store_items", ["tenant_id"])


def downgrade() -> None:
    op.drop_table("store_items")
