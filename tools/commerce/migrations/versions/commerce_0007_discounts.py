"""Commerce discounts: the codes and automatic discounts each merchant offers (ACP discount
extension).

Revision ID: commerce_0007_discounts
Revises: commerce_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "commerce_0007_discounts"
down_revision = "commerce_0001"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "com_discounts",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("merchant_id", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=True),
        sa.Column("coupon_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("target", sa.String(length=16), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=True),
        sa.Column("percent_bp", sa.Integer(), nullable=True),
        sa.Column("amount_off", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("min_spend", sa.BigInteger(), nullable=True),
        sa.Column("exclusive", sa.Boolean(), nullable=False),
        sa.Column("starts_at", _TS, nullable=True),
        sa.Column("ends_at", _TS, nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_com_discounts")),
        sa.UniqueConstraint("tenant_id", "merchant_id", "code", name="uq_com_discounts_code"),
    )
    op.create_index(
        op.f("ix_com_discounts_tenant_id"), "com_discounts", ["tenant_id"], unique=False
    )
    op.create_index(
        op.f("ix_com_discounts_merchant_id"), "com_discounts", ["merchant_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_com_discounts_merchant_id"), table_name="com_discounts")
    op.drop_index(op.f("ix_com_discounts_tenant_id"), table_name="com_discounts")
    op.drop_table("com_discounts")
