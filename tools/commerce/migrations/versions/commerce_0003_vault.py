"""Commerce vault: delegated payment tokens and the agent charges risk scoring reads.

Revision ID: commerce_0003_vault
Depends on: commerce_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

TS = sa.DateTime(timezone=True)

revision = "commerce_0003_vault"
down_revision = "commerce_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "com_vault_tokens",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("card_id", sa.String(length=64), nullable=False),
        sa.Column("pan_hash", sa.String(length=64), nullable=False),
        sa.Column("card_number_type", sa.String(length=16), nullable=False),
        sa.Column("checks_performed", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("max_amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("merchant_id", sa.String(length=64), nullable=False),
        sa.Column("checkout_session_id", sa.String(length=255), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("billing_address", sa.JSON(), nullable=True),
        sa.Column("risk_signals", sa.JSON(), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_by_payment_id", sa.String(length=64), nullable=True),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["card_id"], ["pay_cards.id"], name=op.f("fk_com_vault_tokens_card_id_pay_cards")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_com_vault_tokens")),
        sa.UniqueConstraint(
            "tenant_id", "key_id", "idempotency_key", name="uq_com_vault_tokens_key"
        ),
    )
    op.create_index(
        op.f("ix_com_vault_tokens_tenant_id"), "com_vault_tokens", ["tenant_id"], unique=False
    )
    op.create_index(
        op.f("ix_com_vault_tokens_merchant_id"), "com_vault_tokens", ["merchant_id"], unique=False
    )
    op.create_index("ix_com_vault_tokens_pan", "com_vault_tokens", ["tenant_id", "pan_hash"])
    op.create_index("ix_com_vault_tokens_card", "com_vault_tokens", ["card_id"])
    op.create_table(
        "com_agent_charges",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("platform_id", sa.String(length=64), nullable=True),
        sa.Column("merchant_id", sa.String(length=64), nullable=False),
        sa.Column("checkout_session_id", sa.String(length=255), nullable=False),
        sa.Column("handler_id", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("risk_action", sa.String(length=16), nullable=False),
        sa.Column("risk_score", sa.Float(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("decline_code", sa.String(length=40), nullable=True),
        sa.Column("payment_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_com_agent_charges")),
    )
    op.create_index(
        op.f("ix_com_agent_charges_tenant_id"), "com_agent_charges", ["tenant_id"], unique=False
    )
    op.create_index(
        "ix_com_agent_charges_key", "com_agent_charges", ["tenant_id", "key_id", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_com_agent_charges_key", table_name="com_agent_charges")
    op.drop_index(op.f("ix_com_agent_charges_tenant_id"), table_name="com_agent_charges")
    op.drop_table("com_agent_charges")
    op.drop_index("ix_com_vault_tokens_card", table_name="com_vault_tokens")
    op.drop_index("ix_com_vault_tokens_pan", table_name="com_vault_tokens")
    op.drop_index(op.f("ix_com_vault_tokens_merchant_id"), table_name="com_vault_tokens")
    op.drop_index(op.f("ix_com_vault_tokens_tenant_id"), table_name="com_vault_tokens")
    op.drop_table("com_vault_tokens")
