"""AP2 tables: merchant signing keys, the trust list, checkouts we signed, presentations
(the replay store) and open-mandate usage (budget / recurrence).

Merchant private keys live in the tenant's database row (``private_jwk``). That is the
simulator's trade-off: no KMS/HSM, so anyone who can read the database can sign checkouts and
receipts as the merchant; it keeps the keys tenant-scoped, backed up and migrated with the
data they sign. A production deployment would keep only a KMS key reference here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cockpit.db.base import Base, TenantScoped
from tools.payments.models import TS


class MerchantKey(TenantScoped, Base):
    """The ES256 key a merchant signs checkout JWTs and receipts with (one per merchant)."""

    __tablename__ = "com_ap2_merchant_keys"
    __table_args__ = (UniqueConstraint("tenant_id", "merchant_id", name="uq_com_ap2_mkey"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    """Also the JWK ``kid``."""
    merchant_id: Mapped[str] = mapped_column(String(64))
    private_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(TS)


class TrustedKey(TenantScoped, Base):
    """A root-mandate issuer the tenant trusts: a user's wallet / trusted surface or an agent
    provider. Root SD-JWTs must verify under one of these (AP2 step 1)."""

    __tablename__ = "com_ap2_trusted_keys"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    """Public EC P-256 JWK (``kid`` optional)."""
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(TS)


class IssuedCheckout(TenantScoped, Base):
    """A checkout JWT this merchant signed for a checkout session (mandates must bind one)."""

    __tablename__ = "com_ap2_checkouts"
    __table_args__ = (UniqueConstraint("tenant_id", "checkout_hash", name="uq_com_ap2_chash"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(64))
    session_id: Mapped[str] = mapped_column(String(64), index=True)
    key_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The shopper key it was issued to."""
    checkout_hash: Mapped[str] = mapped_column(String(128))
    checkout_jwt: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(TS)


class Presentation(TenantScoped, Base):
    """A closed mandate leaf we accepted (replay store, keyed by the leaf JWT's hash)."""

    __tablename__ = "com_ap2_presentations"
    __table_args__ = (UniqueConstraint("tenant_id", "leaf_hash", name="uq_com_ap2_leaf"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    leaf_hash: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))
    """``checkout`` or ``payment``."""
    merchant_id: Mapped[str] = mapped_column(String(64))
    session_id: Mapped[str] = mapped_column(String(64), index=True)
    checkout_hash: Mapped[str] = mapped_column(String(128))
    open_mandate_hash: Mapped[str | None] = mapped_column(String(128), nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    """``approved`` (money moved or held) or ``declined`` (verified, payment refused)."""
    payment_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    receipt: Mapped[str | None] = mapped_column(Text, nullable=True)
    """The signed receipt JWT we answered with."""
    created_at: Mapped[datetime] = mapped_column(TS)


class MandateUsage(TenantScoped, Base):
    """Approved spend and uses of one open payment mandate (by its JWT hash)."""

    __tablename__ = "com_ap2_usage"
    __table_args__ = (UniqueConstraint("tenant_id", "mandate_hash", name="uq_com_ap2_usage"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    mandate_hash: Mapped[str] = mapped_column(String(128))
    currency: Mapped[str] = mapped_column(String(3))
    total_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    last_used_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)


__all__ = ["IssuedCheckout", "MandateUsage", "MerchantKey", "Presentation", "TrustedKey"]
