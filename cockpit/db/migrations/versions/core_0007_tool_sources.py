"""Tool sources: a tenant's MCP servers and OpenAPI endpoints whose tools its agents may call
(stored declarations and what discovery found; headers are the source's credentials).

Revision ID: core_0007
Revises: core_0006
"""

import sqlalchemy as sa
from alembic import op

revision = "core_0007"
down_revision = "core_0006"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "tool_sources",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("tools", sa.JSON(), nullable=False),
        sa.Column("discovered", sa.JSON(), nullable=False),
        sa.Column("timeout_s", sa.Float(), nullable=False),
        sa.Column("revision", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("refreshed_at", TS, nullable=False),
        sa.UniqueConstraint("tenant_id", "name", name="uq_tool_sources_name"),
    )
    op.create_index("ix_tool_sources_tenant_id", "tool_sources", ["tenant_id"])


def downgrade() -> None:
    op.drop_table("tool_sources")
