"""Commerce 3-D Secure: the PSP's delegate-authentication sessions.

Revision ID: commerce_0006_3ds
Revises: commerce_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "commerce_0006_3ds"
down_revision = "commerce_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "com_3ds_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("token_id", sa.String(length=64), nullable=False),
        sa.Column("card_id", sa.String(length=64), nullable=False),
        sa.Column("merchant_id", sa.String(length=64), nullable=False),
        sa.Column("checkout_session_id", sa.String(length=255), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("directory_server", sa.String(length=24), nullable=False),
        sa.Column("acquirer", sa.JSON(), nullable=False),
        sa.Column("flow_preference", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("version", sa.String(length=8), nullable=False),
        sa.Column("server_trans_id", sa.String(length=64), nullable=False),
        sa.Column("ds_trans_id", sa.String(length=64), nullable=False),
        sa.Column("acs_trans_id", sa.String(length=64), nullable=True),
        sa.Column("trans_status", sa.String(length=1), nullable=True),
        sa.Column("trans_status_reason", sa.String(length=2), nullable=True),
        sa.Column("eci", sa.String(length=2), nullable=True),
        sa.Column("cryptogram", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("consumed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("consumed_by", sa.String(length=255), nullable=True),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_com_3ds_sessions")),
        sa.UniqueConstraint("tenant_id", "ds_trans_id", name="uq_com_3ds_sessions_ds_trans"),
    )
    op.create_index(
        op.f("ix_com_3ds_sessions_tenant_id"), "com_3ds_sessions", ["tenant_id"], unique=False
    )
    op.create_index("ix_com_3ds_sessions_acs", "com_3ds_sessions", ["tenant_id", "acs_trans_id"])
    op.create_index(
        "ix_com_3ds_sessions_checkout", "com_3ds_sessions", ["tenant_id", "checkout_session_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_com_3ds_sessions_checkout", table_name="com_3ds_sessions")
    op.drop_index("ix_com_3ds_sessions_acs", table_name="com_3ds_sessions")
    op.drop_index(op.f("ix_com_3ds_sessions_tenant_id"), table_name="com_3ds_sessions")
    op.drop_table("com_3ds_sessions")
