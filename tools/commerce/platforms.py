"""Agent platforms: who stands behind a shopper key.

A shopping agent reaches a merchant's ACP surface with a shopper API key (role ``shopper``,
bound to that merchant). The key's *platform* record holds what the protocol needs beyond the
key: the public key (ES256 JWK) its requests are signed with (``Signature`` + ``Timestamp``),
the URL and HMAC secret order events are delivered to, and the identity fraud scoring sees.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from cockpit.db.base import Base, TenantScoped, utcnow
from tools.payments.models import TS


class Platform(TenantScoped, Base):
    __tablename__ = "com_platforms"
    __table_args__ = (UniqueConstraint("tenant_id", "key_id", name="uq_com_platforms_key"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(64))
    """The shopper API key this platform calls with."""
    name: Mapped[str] = mapped_column(String(200))
    signing_jwk: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    """Public EC P-256 key its requests are signed with; when set, signatures are required."""
    webhook_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    """Where order events go (``POST …/agentic_checkout/webhooks/order_events``)."""
    webhook_secret: Mapped[str] = mapped_column(String(128))
    """HMAC-SHA256 secret of ``Merchant-Signature``."""
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(TS, default=utcnow)


def platform_for_key(session: Session, key_id: str) -> Platform | None:
    """The platform registered for ``key_id`` in the session's tenant, if any."""
    return session.scalar(select(Platform).where(Platform.key_id == key_id))


__all__ = ["Platform", "platform_for_key"]
