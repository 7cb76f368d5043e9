"""Payments tables: merchants, customers, cards, payments, captures, refunds, cancels,
disputes and evidence, the double-entry ledger (journals, entries, balances),
idempotency records, the notification outbox and delivery log, demo-world markers.

Revision ID: payments_0001
Depends on: core_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "payments_0001"
down_revision = None
branch_labels = ("payments",)
depends_on = "core_0001"


def upgrade() -> None:
    op.create_table(
        "pay_balances",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account", sa.String(length=120), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_balances")),
        sa.UniqueConstraint("tenant_id", "account", "currency", name="uq_pay_balances_account"),
    )
    op.create_index(op.f("ix_pay_balances_tenant_id"), "pay_balances", ["tenant_id"], unique=False)
    op.create_table(
        "pay_customers",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_customers")),
    )
    op.create_index(
        op.f("ix_pay_customers_tenant_id"), "pay_customers", ["tenant_id"], unique=False
    )
    op.create_table(
        "pay_demo_worlds",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_demo_worlds")),
        sa.UniqueConstraint("tenant_id", "seed", name="uq_pay_demo_worlds_seed"),
    )
    op.create_index(
        op.f("ix_pay_demo_worlds_tenant_id"), "pay_demo_worlds", ["tenant_id"], unique=False
    )
    op.create_table(
        "pay_idempotency",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("scope", sa.String(length=120), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_idempotency")),
        sa.UniqueConstraint("tenant_id", "scope", "key", name="uq_pay_idempotency_key"),
    )
    op.create_index(
        op.f("ix_pay_idempotency_tenant_id"), "pay_idempotency", ["tenant_id"], unique=False
    )
    op.create_table(
        "pay_journals",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("ref_type", sa.String(length=16), nullable=False),
        sa.Column("ref_id", sa.String(length=64), nullable=False),
        sa.Column("memo", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_journals")),
    )
    op.create_index("ix_pay_journals_ref", "pay_journals", ["ref_type", "ref_id"], unique=False)
    op.create_index(op.f("ix_pay_journals_tenant_id"), "pay_journals", ["tenant_id"], unique=False)
    op.create_table(
        "pay_merchants",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("legal_name", sa.String(length=200), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("mcc", sa.String(length=4), nullable=False),
        sa.Column("markets", sa.JSON(), nullable=False),
        sa.Column("settlement_currency", sa.String(length=3), nullable=False),
        sa.Column("kyb_state", sa.String(length=32), nullable=False),
        sa.Column("kyb_detail", sa.JSON(), nullable=False),
        sa.Column("webhook_url", sa.String(length=500), nullable=True),
        sa.Column("webhook_secret", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_merchants")),
    )
    op.create_index(
        op.f("ix_pay_merchants_tenant_id"), "pay_merchants", ["tenant_id"], unique=False
    )
    op.create_table(
        "pay_notifications",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("merchant_id", sa.String(length=64), nullable=False),
        sa.Column("notify_type", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_notifications")),
    )
    op.create_index(
        "ix_pay_notifications_due", "pay_notifications", ["status", "next_attempt_at"], unique=False
    )
    op.create_index(
        op.f("ix_pay_notifications_merchant_id"), "pay_notifications", ["merchant_id"], unique=False
    )
    op.create_index(
        op.f("ix_pay_notifications_tenant_id"), "pay_notifications", ["tenant_id"], unique=False
    )
    op.create_table(
        "pay_cards",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=True),
        sa.Column("brand", sa.String(length=16), nullable=False),
        sa.Column("bin", sa.String(length=8), nullable=False),
        sa.Column("last4", sa.String(length=4), nullable=False),
        sa.Column("funding", sa.String(length=16), nullable=False),
        sa.Column("issuer", sa.String(length=64), nullable=False),
        sa.Column("issuing_country", sa.String(length=2), nullable=False),
        sa.Column("exp_month", sa.Integer(), nullable=False),
        sa.Column("exp_year", sa.Integer(), nullable=False),
        sa.Column("network_token", sa.Boolean(), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["pay_customers.id"],
            name=op.f("fk_pay_cards_customer_id_pay_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_cards")),
    )
    op.create_index(op.f("ix_pay_cards_customer_id"), "pay_cards", ["customer_id"], unique=False)
    op.create_index(op.f("ix_pay_cards_tenant_id"), "pay_cards", ["tenant_id"], unique=False)
    op.create_table(
        "pay_deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("notification_id", sa.String(length=64), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("acknowledged", sa.Boolean(), nullable=False),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["pay_notifications.id"],
            name=op.f("fk_pay_deliveries_notification_id_pay_notifications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_deliveries")),
    )
    op.create_index(
        op.f("ix_pay_deliveries_notification_id"),
        "pay_deliveries",
        ["notification_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_pay_deliveries_tenant_id"), "pay_deliveries", ["tenant_id"], unique=False
    )
    op.create_table(
        "pay_devices",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["pay_customers.id"],
            name=op.f("fk_pay_devices_customer_id_pay_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_devices")),
    )
    op.create_index(
        op.f("ix_pay_devices_customer_id"), "pay_devices", ["customer_id"], unique=False
    )
    op.create_index(op.f("ix_pay_devices_tenant_id"), "pay_devices", ["tenant_id"], unique=False)
    op.create_table(
        "pay_ledger_entries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("journal_id", sa.String(length=64), nullable=False),
        sa.Column("account", sa.String(length=120), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["journal_id"],
            ["pay_journals.id"],
            name=op.f("fk_pay_ledger_entries_journal_id_pay_journals"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_ledger_entries")),
    )
    op.create_index(
        op.f("ix_pay_ledger_entries_account"), "pay_ledger_entries", ["account"], unique=False
    )
    op.create_index(
        op.f("ix_pay_ledger_entries_journal_id"), "pay_ledger_entries", ["journal_id"], unique=False
    )
    op.create_index(
        op.f("ix_pay_ledger_entries_tenant_id"), "pay_ledger_entries", ["tenant_id"], unique=False
    )
    op.create_table(
        "pay_payments",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("merchant_id", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("method_type", sa.String(length=40), nullable=False),
        sa.Column("method_category", sa.String(length=32), nullable=False),
        sa.Column("market", sa.String(length=2), nullable=False),
        sa.Column("card_id", sa.String(length=64), nullable=True),
        sa.Column("customer_id", sa.String(length=64), nullable=True),
        sa.Column("device_id", sa.String(length=64), nullable=True),
        sa.Column("brand", sa.String(length=16), nullable=True),
        sa.Column("issuer", sa.String(length=64), nullable=True),
        sa.Column("issuing_country", sa.String(length=2), nullable=True),
        sa.Column("three_ds", sa.Boolean(), nullable=False),
        sa.Column("eci", sa.String(length=2), nullable=True),
        sa.Column("network_token", sa.Boolean(), nullable=False),
        sa.Column("capture_mode", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("result_status", sa.String(length=1), nullable=False),
        sa.Column("result_code", sa.String(length=40), nullable=False),
        sa.Column("decline_code", sa.String(length=40), nullable=True),
        sa.Column("decline_soft", sa.Boolean(), nullable=True),
        sa.Column("merchant_advice_code", sa.String(length=2), nullable=True),
        sa.Column("authorization_code", sa.String(length=6), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("captured_amount", sa.BigInteger(), nullable=False),
        sa.Column("refunded_amount", sa.BigInteger(), nullable=False),
        sa.Column("capture_closed", sa.Boolean(), nullable=False),
        sa.Column("disputed", sa.Boolean(), nullable=False),
        sa.Column("auth_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("response", sa.JSON(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["card_id"], ["pay_cards.id"], name=op.f("fk_pay_payments_card_id_pay_cards")
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["pay_merchants.id"],
            name=op.f("fk_pay_payments_merchant_id_pay_merchants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_payments")),
        sa.UniqueConstraint(
            "tenant_id", "merchant_id", "request_id", name="uq_pay_payments_request"
        ),
    )
    op.create_index(
        "ix_pay_payments_card_created", "pay_payments", ["card_id", "created_at"], unique=False
    )
    op.create_index(
        "ix_pay_payments_merchant_created",
        "pay_payments",
        ["merchant_id", "created_at"],
        unique=False,
    )
    op.create_index(op.f("ix_pay_payments_state"), "pay_payments", ["state"], unique=False)
    op.create_index(op.f("ix_pay_payments_tenant_id"), "pay_payments", ["tenant_id"], unique=False)
    op.create_table(
        "pay_cancels",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("payment_id", sa.String(length=64), nullable=False),
        sa.Column("reversed_amount", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["pay_payments.id"], name=op.f("fk_pay_cancels_payment_id_pay_payments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_cancels")),
        sa.UniqueConstraint("tenant_id", "payment_id", name="uq_pay_cancels_payment"),
    )
    op.create_index(op.f("ix_pay_cancels_tenant_id"), "pay_cancels", ["tenant_id"], unique=False)
    op.create_table(
        "pay_captures",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("merchant_id", sa.String(length=64), nullable=False),
        sa.Column("payment_id", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("is_last", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["pay_payments.id"],
            name=op.f("fk_pay_captures_payment_id_pay_payments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_captures")),
        sa.UniqueConstraint(
            "tenant_id", "merchant_id", "request_id", name="uq_pay_captures_request"
        ),
    )
    op.create_index(
        op.f("ix_pay_captures_payment_id"), "pay_captures", ["payment_id"], unique=False
    )
    op.create_index(
        op.f("ix_pay_captures_settled_at"), "pay_captures", ["settled_at"], unique=False
    )
    op.create_index(op.f("ix_pay_captures_tenant_id"), "pay_captures", ["tenant_id"], unique=False)
    op.create_table(
        "pay_disputes",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("merchant_id", sa.String(length=64), nullable=False),
        sa.Column("payment_id", sa.String(length=64), nullable=False),
        sa.Column("network", sa.String(length=16), nullable=False),
        sa.Column("reason_code", sa.String(length=16), nullable=False),
        sa.Column("reason_msg", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("dispute_type", sa.String(length=24), nullable=False),
        sa.Column("stage", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("funds_held", sa.BigInteger(), nullable=False),
        sa.Column("funds_currency", sa.String(length=3), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("defense_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("defense_submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("defense", sa.JSON(), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("accept_reason", sa.String(length=32), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("history", sa.JSON(), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["pay_payments.id"],
            name=op.f("fk_pay_disputes_payment_id_pay_payments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_disputes")),
    )
    op.create_index(
        op.f("ix_pay_disputes_merchant_id"), "pay_disputes", ["merchant_id"], unique=False
    )
    op.create_index(
        op.f("ix_pay_disputes_payment_id"), "pay_disputes", ["payment_id"], unique=False
    )
    op.create_index(op.f("ix_pay_disputes_status"), "pay_disputes", ["status"], unique=False)
    op.create_index(op.f("ix_pay_disputes_tenant_id"), "pay_disputes", ["tenant_id"], unique=False)
    op.create_table(
        "pay_refunds",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("merchant_id", sa.String(length=64), nullable=False),
        sa.Column("payment_id", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["pay_payments.id"], name=op.f("fk_pay_refunds_payment_id_pay_payments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_refunds")),
        sa.UniqueConstraint(
            "tenant_id", "merchant_id", "request_id", name="uq_pay_refunds_request"
        ),
    )
    op.create_index(op.f("ix_pay_refunds_payment_id"), "pay_refunds", ["payment_id"], unique=False)
    op.create_index(op.f("ix_pay_refunds_tenant_id"), "pay_refunds", ["tenant_id"], unique=False)
    op.create_table(
        "pay_dispute_evidence",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dispute_id", sa.String(length=64), nullable=False),
        sa.Column("tag", sa.String(length=40), nullable=False),
        sa.Column("contribution", sa.String(length=8), nullable=False),
        sa.Column("obtained", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["dispute_id"],
            ["pay_disputes.id"],
            name=op.f("fk_pay_dispute_evidence_dispute_id_pay_disputes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_dispute_evidence")),
        sa.UniqueConstraint("tenant_id", "dispute_id", "tag", name="uq_pay_evidence_tag"),
    )
    op.create_index(
        op.f("ix_pay_dispute_evidence_dispute_id"),
        "pay_dispute_evidence",
        ["dispute_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_pay_dispute_evidence_tenant_id"),
        "pay_dispute_evidence",
        ["tenant_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_pay_dispute_evidence_tenant_id"), table_name="pay_dispute_evidence")
    op.drop_index(op.f("ix_pay_dispute_evidence_dispute_id"), table_name="pay_dispute_evidence")
    op.drop_table("pay_dispute_evidence")
    op.drop_index(op.f("ix_pay_refunds_tenant_id"), table_name="pay_refunds")
    op.drop_index(op.f("ix_pay_refunds_payment_id"), table_name="pay_refunds")
    op.drop_table("pay_refunds")
    op.drop_index(op.f("ix_pay_disputes_tenant_id"), table_name="pay_disputes")
    op.drop_index(op.f("ix_pay_disputes_status"), table_name="pay_disputes")
    op.drop_index(op.f("ix_pay_disputes_payment_id"), table_name="pay_disputes")
    op.drop_index(op.f("ix_pay_disputes_merchant_id"), table_name="pay_disputes")
    op.drop_table("pay_disputes")
    op.drop_index(op.f("ix_pay_captures_tenant_id"), table_name="pay_captures")
    op.drop_index(op.f("ix_pay_captures_settled_at"), table_name="pay_captures")
    op.drop_index(op.f("ix_pay_captures_payment_id"), table_name="pay_captures")
    op.drop_table("pay_captures")
    op.drop_index(op.f("ix_pay_cancels_tenant_id"), table_name="pay_cancels")
    op.drop_table("pay_cancels")
    op.drop_index(op.f("ix_pay_payments_tenant_id"), table_name="pay_payments")
    op.drop_index(op.f("ix_pay_payments_state"), table_name="pay_payments")
    op.drop_index("ix_pay_payments_merchant_created", table_name="pay_payments")
    op.drop_index("ix_pay_payments_card_created", table_name="pay_payments")
    op.drop_table("pay_payments")
    op.drop_index(op.f("ix_pay_ledger_entries_tenant_id"), table_name="pay_ledger_entries")
    op.drop_index(op.f("ix_pay_ledger_entries_journal_id"), table_name="pay_ledger_entries")
    op.drop_index(op.f("ix_pay_ledger_entries_account"), table_name="pay_ledger_entries")
    op.drop_table("pay_ledger_entries")
    op.drop_index(op.f("ix_pay_devices_tenant_id"), table_name="pay_devices")
    op.drop_index(op.f("ix_pay_devices_customer_id"), table_name="pay_devices")
    op.drop_table("pay_devices")
    op.drop_index(op.f("ix_pay_deliveries_tenant_id"), table_name="pay_deliveries")
    op.drop_index(op.f("ix_pay_deliveries_notification_id"), table_name="pay_deliveries")
    op.drop_table("pay_deliveries")
    op.drop_index(op.f("ix_pay_cards_tenant_id"), table_name="pay_cards")
    op.drop_index(op.f("ix_pay_cards_customer_id"), table_name="pay_cards")
    op.drop_table("pay_cards")
    op.drop_index(op.f("ix_pay_notifications_tenant_id"), table_name="pay_notifications")
    op.drop_index(op.f("ix_pay_notifications_merchant_id"), table_name="pay_notifications")
    op.drop_index("ix_pay_notifications_due", table_name="pay_notifications")
    op.drop_table("pay_notifications")
    op.drop_index(op.f("ix_pay_merchants_tenant_id"), table_name="pay_merchants")
    op.drop_table("pay_merchants")
    op.drop_index(op.f("ix_pay_journals_tenant_id"), table_name="pay_journals")
    op.drop_index("ix_pay_journals_ref", table_name="pay_journals")
    op.drop_table("pay_journals")
    op.drop_index(op.f("ix_pay_idempotency_tenant_id"), table_name="pay_idempotency")
    op.drop_table("pay_idempotency")
    op.drop_index(op.f("ix_pay_demo_worlds_tenant_id"), table_name="pay_demo_worlds")
    op.drop_table("pay_demo_worlds")
    op.drop_index(op.f("ix_pay_customers_tenant_id"), table_name="pay_customers")
    op.drop_table("pay_customers")
    op.drop_index(op.f("ix_pay_balances_tenant_id"), table_name="pay_balances")
    op.drop_table("pay_balances")
