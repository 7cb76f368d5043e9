"""Alias history: every move of an agent's ``live`` / ``canary`` alias (who, when, the gate), so
an alias can be rolled back to where it pointed before.

Revision ID: core_0006
Revises: core_0005
"""

import sqlalchemy as sa
from alembic import op

revision = "core_0006"
down_revision = "core_0005"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "agent_alias_moves",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("agent_id", sa.String(120), nullable=False),
        sa.Column("alias", sa.String(40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("previous", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("by", sa.String(64), nullable=False),
        sa.Column("gate", sa.JSON(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("undone", sa.Boolean(), nullable=False),
        sa.Column("at", TS, nullable=False),
    )
    op.create_index("ix_agent_alias_moves_tenant_id", "agent_alias_moves", ["tenant_id"])
    op.create_index("ix_agent_alias_moves_agent_id", "agent_alias_moves", ["agent_id"])


def downgrade() -> None:
    op.drop_table("agent_alias_moves")
