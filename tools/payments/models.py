"""SQLAlchemy tables of the payments world (all tenant-scoped, prefixed ``pay_``).

Amounts are integer minor units beside an uppercase currency. Uniqueness that
makes retries safe (request ids, idempotency keys, one balance row per account
and currency) is enforced by the database, not by reading first.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from cockpit.db.base import Base, TenantScoped, utcnow


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


TS = UTCDateTime()


class Merchant(TenantScoped, Base):
    __tablename__ = "pay_merchants"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    legal_name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    mcc: Mapped[str] = mapped_column(String(4))
    markets: Mapped[list[str]] = mapped_column(JSON, default=list)
    settlement_currency: Mapped[str] = mapped_column(String(3))
    kyb_state: Mapped[str] = mapped_column(String(32))
    kyb_detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    webhook_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    webhook_secret: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(TS, default=utcnow)


class Customer(TenantScoped, Base):
    __tablename__ = "pay_customers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(200), nullable=True)
    country: Mapped[str] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(TS, default=utcnow)


class Device(TenantScoped, Base):
    __tablename__ = "pay_devices"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("pay_customers.id"), index=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(45))
    created_at: Mapped[datetime] = mapped_column(TS, default=utcnow)


class Card(TenantScoped, Base):
    """A stored card credential (never a full PAN: BIN and last four only)."""

    __tablename__ = "pay_cards"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str | None] = mapped_column(
        ForeignKey("pay_customers.id"), index=True, nullable=True
    )
    brand: Mapped[str] = mapped_column(String(16))
    bin: Mapped[str] = mapped_column(String(8))
    last4: Mapped[str] = mapped_column(String(4))
    funding: Mapped[str] = mapped_column(String(16))
    issuer: Mapped[str] = mapped_column(String(64))
    issuing_country: Mapped[str] = mapped_column(String(2))
    exp_month: Mapped[int] = mapped_column(Integer)
    exp_year: Mapped[int] = mapped_column(Integer)
    network_token: Mapped[bool] = mapped_column(Boolean, default=False)


class Payment(TenantScoped, Base):
    __tablename__ = "pay_payments"
    __table_args__ = (
        UniqueConstraint("tenant_id", "merchant_id", "request_id", name="uq_pay_payments_request"),
        Index("ix_pay_payments_merchant_created", "merchant_id", "created_at"),
        Index("ix_pay_payments_card_created", "card_id", "created_at"),
        # The scheme retry caps read a card's recent declines at a merchant before each card
        # payment (statements.recent_card_declines); only failed payments are indexed.
        Index(
            "ix_pay_payments_card_declines",
            "card_id",
            "merchant_id",
            "created_at",
            sqlite_where=text("state = 'FAILED'"),
            postgresql_where=text("state = 'FAILED'"),
        ),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("pay_merchants.id"))
    request_id: Mapped[str] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    method_type: Mapped[str] = mapped_column(String(40))
    method_category: Mapped[str] = mapped_column(String(32))
    market: Mapped[str] = mapped_column(String(2))
    card_id: Mapped[str | None] = mapped_column(ForeignKey("pay_cards.id"), nullable=True)
    customer_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    device_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    brand: Mapped[str | None] = mapped_column(String(16), nullable=True)
    issuer: Mapped[str | None] = mapped_column(String(64), nullable=True)
    issuing_country: Mapped[str | None] = mapped_column(String(2), nullable=True)
    three_ds: Mapped[bool] = mapped_column(Boolean, default=False)
    eci: Mapped[str | None] = mapped_column(String(2), nullable=True)
    network_token: Mapped[bool] = mapped_column(Boolean, default=False)
    capture_mode: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(16), index=True)
    result_status: Mapped[str] = mapped_column(String(1))
    result_code: Mapped[str] = mapped_column(String(40))
    decline_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    decline_soft: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    merchant_advice_code: Mapped[str | None] = mapped_column(String(2), nullable=True)
    authorization_code: Mapped[str | None] = mapped_column(String(6), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    captured_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    capture_closed: Mapped[bool] = mapped_column(Boolean, default=False)
    disputed: Mapped[bool] = mapped_column(Boolean, default=False)
    auth_expires_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    created_at: Mapped[datetime] = mapped_column(TS, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    """The first final response, returned again to a repeated request."""
    description: Mapped[str | None] = mapped_column(String(500), nullable=True)
    """The merchant's free-text note (≤ 500 chars). Untrusted: agents read it as data."""
    metadata_: Mapped[dict[str, str] | None] = mapped_column("metadata", JSON, nullable=True)
    """The merchant's key/value notes (≤ 20 string pairs); ``metadata`` is taken by SQLAlchemy."""
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy API


class Capture(TenantScoped, Base):
    __tablename__ = "pay_captures"
    __table_args__ = (
        UniqueConstraint("tenant_id", "merchant_id", "request_id", name="uq_pay_captures_request"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(64))
    payment_id: Mapped[str] = mapped_column(ForeignKey("pay_payments.id"), index=True)
    request_id: Mapped[str] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    is_last: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(TS, default=utcnow)
    fingerprint: Mapped[str] = mapped_column(String(64))
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    settled_at: Mapped[datetime | None] = mapped_column(TS, nullable=True, index=True)


class Refund(TenantScoped, Base):
    __tablename__ = "pay_refunds"
    __table_args__ = (
        UniqueConstraint("tenant_id", "merchant_id", "request_id", name="uq_pay_refunds_request"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(64))
    payment_id: Mapped[str] = mapped_column(ForeignKey("pay_payments.id"), index=True)
    request_id: Mapped[str] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(TS, default=utcnow)
    fingerprint: Mapped[str] = mapped_column(String(64))
    response: Mapped[dict[str, Any]] = mapped_column(JSON)


class Cancel(TenantScoped, Base):
    __tablename__ = "pay_cancels"
    __table_args__ = (UniqueConstraint("tenant_id", "payment_id", name="uq_pay_cancels_payment"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    payment_id: Mapped[str] = mapped_column(ForeignKey("pay_payments.id"))
    reversed_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(TS, default=utcnow)
    fingerprint: Mapped[str] = mapped_column(String(64))
    response: Mapped[dict[str, Any]] = mapped_column(JSON)


class Dispute(TenantScoped, Base):
    __tablename__ = "pay_disputes"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(64), index=True)
    payment_id: Mapped[str] = mapped_column(ForeignKey("pay_payments.id"), index=True)
    network: Mapped[str] = mapped_column(String(16))
    reason_code: Mapped[str] = mapped_column(String(16))
    reason_msg: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(16))
    dispute_type: Mapped[str] = mapped_column(String(24))
    stage: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(24), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    funds_held: Mapped[int] = mapped_column(BigInteger, default=0)
    """Amount currently moved to the merchant's dispute reserve (settlement currency)."""
    funds_currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    opened_at: Mapped[datetime] = mapped_column(TS)
    defense_due_at: Mapped[datetime] = mapped_column(TS)
    defense_submitted_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    defense: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)
    accept_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    history: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class DisputeEvidence(TenantScoped, Base):
    __tablename__ = "pay_dispute_evidence"
    __table_args__ = (
        UniqueConstraint("tenant_id", "dispute_id", "tag", name="uq_pay_evidence_tag"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dispute_id: Mapped[str] = mapped_column(ForeignKey("pay_disputes.id"), index=True)
    tag: Mapped[str] = mapped_column(String(40))
    contribution: Mapped[str] = mapped_column(String(8))
    obtained: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(16))
    """``system`` (we hold it) or ``merchant`` (supplied in a response)."""
    content: Mapped[str | None] = mapped_column(Text, nullable=True)


class Journal(TenantScoped, Base):
    """One balanced movement of money: a set of entries that sum to zero per currency."""

    __tablename__ = "pay_journals"
    __table_args__ = (Index("ix_pay_journals_ref", "ref_type", "ref_id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    ref_type: Mapped[str] = mapped_column(String(16))
    ref_id: Mapped[str] = mapped_column(String(64))
    memo: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(TS, default=utcnow)


class LedgerEntry(TenantScoped, Base):
    __tablename__ = "pay_ledger_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    journal_id: Mapped[str] = mapped_column(ForeignKey("pay_journals.id"), index=True)
    account: Mapped[str] = mapped_column(String(120), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInteger)
    """Signed change to the account's balance."""
    created_at: Mapped[datetime] = mapped_column(TS, default=utcnow)


class Balance(TenantScoped, Base):
    __tablename__ = "pay_balances"
    __table_args__ = (
        UniqueConstraint("tenant_id", "account", "currency", name="uq_pay_balances_account"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account: Mapped[str] = mapped_column(String(120))
    currency: Mapped[str] = mapped_column(String(3))
    balance: Mapped[int] = mapped_column(BigInteger, default=0)


class IdempotencyRecord(TenantScoped, Base):
    """The first final result of a request id or tool idempotency key."""

    __tablename__ = "pay_idempotency"
    __table_args__ = (UniqueConstraint("tenant_id", "scope", "key", name="uq_pay_idempotency_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(120))
    key: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(TS, default=utcnow)


class Notification(TenantScoped, Base):
    """Outbox row: written in the same transaction as the event it reports."""

    __tablename__ = "pay_notifications"
    __table_args__ = (Index("ix_pay_notifications_due", "status", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(64), index=True)
    notify_type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    created_at: Mapped[datetime] = mapped_column(TS, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)


class Delivery(TenantScoped, Base):
    """One delivery attempt of a notification (the delivery log)."""

    __tablename__ = "pay_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    notification_id: Mapped[str] = mapped_column(ForeignKey("pay_notifications.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    attempted_at: Mapped[datetime] = mapped_column(TS)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    acknowledged: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(String(300), nullable=True)


class PaymentDocument(TenantScoped, Base):
    """A record another system attached to a payment as evidence (an agentic checkout, a signed
    mandate, a receipt), with the dispute-evidence text it supports per tag."""

    __tablename__ = "pay_payment_documents"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    payment_id: Mapped[str] = mapped_column(ForeignKey("pay_payments.id"), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    """What it is, e.g. ``agentic_checkout`` or ``ap2_mandates``."""
    evidence: Mapped[dict[str, str]] = mapped_column(JSON)
    """Evidence tag → the fact this document proves, ready for a dispute response."""
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The document itself (checkout JSON, mandates, receipts), as the attacher stored it."""
    created_at: Mapped[datetime] = mapped_column(TS, default=utcnow)


class DemoWorld(TenantScoped, Base):
    """Marks a seeded demo world so seeding twice changes nothing."""

    __tablename__ = "pay_demo_worlds"
    __table_args__ = (UniqueConstraint("tenant_id", "seed", name="uq_pay_demo_worlds_seed"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    seed: Mapped[int] = mapped_column(Integer)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(TS, default=utcnow)


__all__ = [
    "Balance",
    "Cancel",
    "Capture",
    "Card",
    "Customer",
    "Delivery",
    "DemoWorld",
    "Device",
    "Dispute",
    "DisputeEvidence",
    "IdempotencyRecord",
    "Journal",
    "LedgerEntry",
    "Merchant",
    "Notification",
    "Payment",
    "PaymentDocument",
    "Refund",
]
