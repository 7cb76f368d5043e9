"""The PSP's 3-D Secure authentication sessions (``com_3ds_sessions``).

One row per delegate-authentication session: the delegated token (``spt_…``) and card it
authenticates, the checkout, merchant and amount it was created for, the directory server, and
— once the simulated ACS has answered — the 3DS result (``trans_status``, ECI, cryptogram,
directory-server transaction id). The seller checks an agent's ``authentication_result``
against this row (never trusting the agent's word) and consumes it with the payment, so one
authentication pays for at most one authorisation. Idempotency of the create/authenticate
calls is the ACP checkout's (``com_idempotency``). No PAN is stored; the cryptogram is a
simulated single-use value.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cockpit.db.base import Base, TenantScoped
from tools.payments.models import TS


class AuthenticationSession(TenantScoped, Base):
    __tablename__ = "com_3ds_sessions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "ds_trans_id", name="uq_com_3ds_sessions_ds_trans"),
        Index("ix_com_3ds_sessions_acs", "tenant_id", "acs_trans_id"),
        Index("ix_com_3ds_sessions_checkout", "tenant_id", "checkout_session_id"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    """``authentication_session_id`` (``auth_…``)."""
    key_id: Mapped[str] = mapped_column(String(64))
    """The agent platform's API key that created it (only it may drive or read it)."""
    token_id: Mapped[str] = mapped_column(String(64))
    """The delegated vault token (``spt_…``) whose card is authenticated."""
    card_id: Mapped[str] = mapped_column(String(64))
    merchant_id: Mapped[str] = mapped_column(String(64))
    checkout_session_id: Mapped[str] = mapped_column(String(255))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    """Uppercase ISO 4217."""
    directory_server: Mapped[str] = mapped_column(String(24))
    """``visa``, ``mastercard`` or ``american_express``."""
    acquirer: Mapped[dict[str, Any]] = mapped_column(JSON)
    flow_preference: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    status: Mapped[str] = mapped_column(String(24))
    """The delegate-authentication status (``action_required``, ``authenticated``, …)."""
    step: Mapped[str] = mapped_column(String(16))
    """Where the ACS is: ``fingerprint``, ``areq`` (awaiting authenticate), ``challenge``,
    ``final``."""
    version: Mapped[str] = mapped_column(String(8))
    server_trans_id: Mapped[str] = mapped_column(String(64))
    ds_trans_id: Mapped[str] = mapped_column(String(64))
    acs_trans_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    trans_status: Mapped[str | None] = mapped_column(String(1), nullable=True)
    trans_status_reason: Mapped[str | None] = mapped_column(String(2), nullable=True)
    eci: Mapped[str | None] = mapped_column(String(2), nullable=True)
    cryptogram: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[datetime] = mapped_column(TS)
    expires_at: Mapped[datetime] = mapped_column(TS)
    """An unfinished session expires then; a finished result may be used until then too."""
    finished_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    consumed_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    consumed_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
    """The checkout session whose payment used this authentication."""


__all__ = ["AuthenticationSession"]
