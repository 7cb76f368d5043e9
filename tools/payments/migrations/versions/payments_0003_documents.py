"""Payment documents: records other systems attach to a payment as dispute evidence (an agentic
checkout, signed AP2 mandates and receipts), with the evidence text each supports per tag.

Revision ID: payments_0003
Revises: payments_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "payments_0003"
down_revision = "payments_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pay_payment_documents",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("payment_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["pay_payments.id"],
            name=op.f("fk_pay_payment_documents_payment_id_pay_payments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_payment_documents")),
    )
    op.create_index(
        op.f("ix_pay_payment_documents_payment_id"),
        "pay_payment_documents",
        ["payment_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_pay_payment_documents_tenant_id"),
        "pay_payment_documents",
        ["tenant_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_pay_payment_documents_tenant_id"), table_name="pay_payment_documents")
    op.drop_index(op.f("ix_pay_payment_documents_payment_id"), table_name="pay_payment_documents")
    op.drop_table("pay_payment_documents")
