"""The LangGraph store (items per tenant, merchant scope and namespace, with TTLs) and what the
assistants API adds to agent versions (metadata, config, context; deletions).

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
    op.create_table(
        "assistant_meta",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("agent_id", sa.String(120), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("graph_id", sa.String(120), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("tenant_id", "agent_id", "version", name="uq_assistant_meta_version"),
    )
    op.create_index("ix_assistant_meta_tenant_id", "assistant_meta", ["tenant_id"])
    op.create_table(
        "assistant_deletions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("agent_id", sa.String(120), nullable=False),
        sa.Column("deleted_by", sa.String(64), nullable=False),
        sa.Column("deleted_at", TS, nullable=False),
        sa.UniqueConstraint("tenant_id", "agent_id", name="uq_assistant_deletions_agent"),
    )
    op.create_index("ix_assistant_deletions_tenant_id", "assistant_deletions", ["tenant_id"])


def downgrade() -> None:
    op.drop_table("assistant_deletions")
    op.drop_table("assistant_meta")
    op.drop_table("store_items")
