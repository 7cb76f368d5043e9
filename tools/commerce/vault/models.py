"""The vault's tables: delegated payment tokens and the agent-initiated charges risk reads.

``com_vault_tokens`` holds one row per delegated card (``spt_…``): the ``pay_cards`` row it
wraps, the allowance it may be spent under, and its one use. The row is also the idempotency
record of the delegate call that created it (key, request fingerprint, response), under a unique
constraint, so the token and its key commit together. No PAN or CVC is ever stored here: only a
keyed hash of the number (:mod:`tools.commerce.vault.cards`).

``com_agent_charges`` keeps one row per charge a payment handler attempted for an agent
platform (captured, held for review or declined, by risk or by the issuer): what
:mod:`tools.commerce.vault.risk` counts as a platform's past declines and, through the payment,
its disputes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cockpit.db.base import Base, TenantScoped, utcnow
from tools.payments.models import TS

TOKEN_ACTIVE = "active"
TOKEN_USED = "used"


class VaultToken(TenantScoped, Base):
    __tablename__ = "com_vault_tokens"
    __table_args__ = (
        UniqueConstraint("tenant_id", "key_id", "idempotency_key", name="uq_com_vault_tokens_key"),
        Index("ix_com_vault_tokens_pan", "tenant_id", "pan_hash"),
        Index("ix_com_vault_tokens_card", "card_id"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    """``spt_…``: the credential token the agent sends on complete."""
    key_id: Mapped[str] = mapped_column(String(64))
    """The API key (agent platform) that delegated the card: the idempotency scope."""
    idempotency_key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    """Fingerprint of the delegate request (PAN and CVC hashed in, never stored)."""
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The 201 body, replayed to the same request."""
    card_id: Mapped[str] = mapped_column(ForeignKey("pay_cards.id"))
    pan_hash: Mapped[str] = mapped_column(String(64))
    """HMAC-SHA256 of the card number under the vault key (duplicate detection only)."""
    card_number_type: Mapped[str] = mapped_column(String(16))
    """``fpan`` or ``network_token``."""
    checks_performed: Mapped[list[str]] = mapped_column(JSON, default=list)
    reason: Mapped[str] = mapped_column(String(16))
    """Allowance ``reason`` (``one_time``)."""
    max_amount: Mapped[int] = mapped_column(BigInteger)
    """Allowance ceiling in minor units of ``currency``."""
    currency: Mapped[str] = mapped_column(String(3))
    """Allowance currency, lowercase as sent."""
    merchant_id: Mapped[str] = mapped_column(String(64), index=True)
    checkout_session_id: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime] = mapped_column(TS)
    """The token is refused at or after this instant."""
    billing_address: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    risk_signals: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    """The agent platform's own signals (``card_testing`` score and action)."""
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(TS, default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default=TOKEN_ACTIVE)
    """``active`` until its one use, then ``used`` (whatever that use's outcome)."""
    used_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    used_by_payment_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The gateway payment of its use (None when risk declined before the gateway)."""

    def allowance(self) -> dict[str, Any]:
        """The allowance as the agent sent it (ACP ``Allowance``)."""
        return {
            "reason": self.reason,
            "max_amount": self.max_amount,
            "currency": self.currency,
            "checkout_session_id": self.checkout_session_id,
            "merchant_id": self.merchant_id,
            "expires_at": self.expires_at.isoformat().replace("+00:00", "Z"),
        }


class AgentCharge(TenantScoped, Base):
    """One charge a payment handler attempted for an agent platform's checkout."""

    __tablename__ = "com_agent_charges"
    __table_args__ = (Index("ix_com_agent_charges_key", "tenant_id", "key_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(64))
    platform_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    merchant_id: Mapped[str] = mapped_column(String(64))
    checkout_session_id: Mapped[str] = mapped_column(String(255))
    handler_id: Mapped[str] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    risk_action: Mapped[str] = mapped_column(String(16))
    risk_score: Mapped[float] = mapped_column(Float)
    outcome: Mapped[str] = mapped_column(String(16))
    """The charge's status: ``captured``, ``review`` or ``declined``."""
    decline_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    payment_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(TS, default=utcnow)


__all__ = ["TOKEN_ACTIVE", "TOKEN_USED", "AgentCharge", "VaultToken"]
