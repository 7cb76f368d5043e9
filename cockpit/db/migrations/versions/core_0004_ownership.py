"""Conversational records carry their owner: threads and approvals record the merchant whose
key created them, approvals the requesting key and role and whether four eyes are required.

Existing rows get no owner (NULL): they stay visible to tenant-wide keys only.

Revision ID: core_0004
Revises: core_0003
"""

import sqlalchemy as sa
from alembic import op

revision = "core_0004"
down_revision = "core_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("threads") as batch:
        batch.add_column(sa.Column("merchant_id", sa.String(64), nullable=True))
    with op.batch_alter_table("approvals") as batch:
        batch.add_column(sa.Column("merchant_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("requester_key_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("requester_role", sa.String(20), nullable=True))
        batch.add_column(
            sa.Column("four_eyes", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("approvals") as batch:
        batch.drop_column("four_eyes")
        batch.drop_column("requester_role")
        batch.drop_column("requester_key_id")
        batch.drop_column("merchant_id")
    with op.batch_alter_table("threads") as batch:
        batch.drop_column("merchant_id")
