"""Commerce base: agent platforms (shopper keys' signing keys, webhook endpoints).

Every later commerce revision hangs off this one (the branch may have several heads, one per
part of the domain: ACP checkout, vault, AP2, order events).

Revision ID: commerce_0001
Depends on: payments_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "commerce_0001"
down_revision = None
branch_labels = ("commerce",)
depends_on = "payments_0001"


def upgrade() -> None:
    op.create_table(
        "com_platforms",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("signing_jwk", sa.JSON(), nullable=True),
        sa.Column("webhook_url", sa.String(length=500), nullable=True),
        sa.Column("webhook_secret", sa.String(length=128), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_com_platforms")),
        sa.UniqueConstraint("tenant_id", "key_id", name="uq_com_platforms_key"),
    )
    op.create_index(
        op.f("ix_com_platforms_tenant_id"), "com_platforms", ["tenant_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_com_platforms_tenant_id"), table_name="com_platforms")
    op.drop_table("com_platforms")
