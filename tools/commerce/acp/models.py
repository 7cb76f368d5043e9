"""Tables of the ACP merchant server (prefix ``com_``, all tenant-scoped).

Catalogue (``com_products`` + ``com_items``: a feed ``Product`` and its purchasable variants),
feeds (``com_feeds``: views of one merchant's catalogue), checkout sessions, orders and the
ACP idempotency records. Amounts are integer minor units beside an uppercase currency.
Every uniqueness that makes a retry safe is a database constraint, not a read-then-write.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cockpit.db.base import Base, TenantScoped
from tools.payments.models import TS


class Product(TenantScoped, Base):
    """A feed ``Product`` of one merchant (its variants are :class:`Item` rows)."""

    __tablename__ = "com_products"
    __table_args__ = (
        UniqueConstraint("tenant_id", "merchant_id", "product_id", name="uq_com_products_product"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(64), index=True)
    product_id: Mapped[str] = mapped_column(String(128))
    """``Product.id`` on the wire."""
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The product's own fields (title, description, url, media), variants excluded."""
    position: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(TS)


class Item(TenantScoped, Base):
    """A purchasable variant: what a checkout ``Item.id`` names."""

    __tablename__ = "com_items"
    __table_args__ = (
        UniqueConstraint("tenant_id", "merchant_id", "item_id", name="uq_com_items_item"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(64), index=True)
    item_id: Mapped[str] = mapped_column(String(128))
    """``Variant.id`` in the feed, ``Item.id`` in checkout."""
    product_id: Mapped[str] = mapped_column(String(128))
    title: Mapped[str] = mapped_column(String(300))
    unit_amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    stock: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """Units on hand; None = not tracked (always available)."""
    max_per_order: Mapped[int | None] = mapped_column(Integer, nullable=True)
    fulfillment: Mapped[str] = mapped_column(String(16))
    """``shipping`` (physical goods) or ``digital`` (codes, vouchers)."""
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    """False once a feed upsert dropped the variant (old sessions still render it)."""
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The variant's descriptive fields (description, url, media, options, categories)."""
    position: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(TS)


class Feed(TenantScoped, Base):
    """An ACP feed: metadata over its merchant's catalogue."""

    __tablename__ = "com_feeds"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(64), index=True)
    target_country: Mapped[str | None] = mapped_column(String(2), nullable=True)
    created_at: Mapped[datetime] = mapped_column(TS)
    updated_at: Mapped[datetime] = mapped_column(TS)


class CheckoutSessionRow(TenantScoped, Base):
    """One ACP checkout session: the agent's inputs and the JSON the merchant last returned."""

    __tablename__ = "com_checkout_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(64), index=True)
    key_id: Mapped[str] = mapped_column(String(64), index=True)
    """The shopper key that created it (only that key, or the merchant, may see it)."""
    status: Mapped[str] = mapped_column(String(32))
    currency: Mapped[str] = mapped_column(String(3))
    """Uppercase ISO 4217 (the wire shows it lowercase)."""
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    """What the agent set: items with quantities, buyer, fulfilment details and choices."""
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The ``CheckoutSession`` JSON as last returned (payment handlers check this)."""
    total: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(TS)
    updated_at: Mapped[datetime] = mapped_column(TS)
    expires_at: Mapped[datetime] = mapped_column(TS)


class OrderRow(TenantScoped, Base):
    """An order created by completing a checkout session (one per session)."""

    __tablename__ = "com_orders"
    __table_args__ = (
        UniqueConstraint("tenant_id", "checkout_session_id", name="uq_com_orders_session"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(64), index=True)
    key_id: Mapped[str] = mapped_column(String(64))
    checkout_session_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32))
    payment_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    handler_id: Mapped[str] = mapped_column(String(128))
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The payment handler's ``Charge.evidence`` (token, mandates, receipts, risk)."""
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The ACP ``Order`` JSON, current (order events update it)."""
    created_at: Mapped[datetime] = mapped_column(TS)
    updated_at: Mapped[datetime] = mapped_column(TS)


class Discount(TenantScoped, Base):
    """One discount a merchant offers: a code the agent submits, or an automatic rule.

    Amounts are minor units of :attr:`currency`; a percentage is in basis points (2000 = 20 %)
    so it stays exact. ``target`` says what it reduces: ``items`` (the goods, shown as
    ``items_discount`` with per-line allocations; ``method`` ``each`` = the percentage on each
    line, ``across`` = one amount split over the lines by value), ``order`` (an order-level
    ``discount`` after the subtotal) or ``shipping`` (the standard shipping price). Lower
    ``priority`` is computed first, on what earlier discounts left.
    """

    __tablename__ = "com_discounts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "merchant_id", "code", name="uq_com_discounts_code"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(64), index=True)
    code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """Uppercase code (codes are case-insensitive); None for an automatic discount."""
    coupon_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    target: Mapped[str] = mapped_column(String(16))
    """``items``, ``order`` or ``shipping``."""
    method: Mapped[str | None] = mapped_column(String(8), nullable=True)
    """``each`` or ``across`` (``items`` discounts)."""
    percent_bp: Mapped[int | None] = mapped_column(Integer, nullable=True)
    amount_off: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    currency: Mapped[str] = mapped_column(String(3))
    priority: Mapped[int] = mapped_column(Integer, default=1)
    min_spend: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    """The goods (``items_base_amount``) must come to at least this much."""
    exclusive: Mapped[bool] = mapped_column(Boolean, default=False)
    """Cannot be combined with any other discount of the session."""
    starts_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    ends_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(TS)


class IdempotencyRecord(TenantScoped, Base):
    """An ACP ``Idempotency-Key`` of one API key on one path: claimed, then answered."""

    __tablename__ = "com_idempotency"
    __table_args__ = (
        UniqueConstraint("tenant_id", "key_id", "scope", "idem_key", name="uq_com_idempotency_key"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(300))
    """The endpoint path (``/checkout_sessions/cs_…/complete``)."""
    idem_key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the JCS (RFC 8785) form of the request body."""
    owner: Mapped[str] = mapped_column(String(64))
    """Token of the request holding the claim (a stale claim is taken over with a new one)."""
    state: Mapped[str] = mapped_column(String(16))
    """``in_flight`` or ``done``."""
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(TS)
    lease_until: Mapped[datetime] = mapped_column(TS)


__all__ = [
    "CheckoutSessionRow",
    "Discount",
    "Feed",
    "IdempotencyRecord",
    "Item",
    "OrderRow",
    "Product",
]
