"""The order-event outbox and its delivery log.

An event row is written in the same transaction as the order change it reports (a crash
never loses or invents one) and holds the exact bytes that are signed and sent, so every
retry carries the same body. The worker (:mod:`.delivery`) moves a row through
``pending`` → ``delivered``, or ``failed`` (retry scheduled at ``next_attempt_at``) and at
last ``dead`` after the last allowed attempt; each attempt leaves a :class:`EventDelivery`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cockpit.db.base import Base, TenantScoped, utcnow
from tools.payments.models import TS

EVENT_STATUSES = ("pending", "failed", "delivered", "dead")
"""``pending``: not tried yet; ``failed``: tried, retry due at ``next_attempt_at``;
``delivered``: acknowledged with a 2xx; ``dead``: given up (attempts exhausted or the
endpoint is not allowed)."""
DUE_STATUSES = ("pending", "failed")


class OrderEvent(TenantScoped, Base):
    """One ``order_create`` / ``order_update`` event owed to an agent platform."""

    __tablename__ = "com_order_events"
    __table_args__ = (Index("ix_com_order_events_due", "status", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    """``evt_…``; sent as ``Request-Id`` so the receiver can drop duplicates."""
    key_id: Mapped[str] = mapped_column(String(64))
    """The shopper key whose platform receives the event."""
    platform_id: Mapped[str] = mapped_column(String(64), index=True)
    order_id: Mapped[str] = mapped_column(String(64), index=True)
    event_type: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    """The JSON ``WebhookEvent`` exactly as signed and sent."""
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    """When the next attempt is due (also a lease while a worker sends it); None once final."""
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    created_at: Mapped[datetime] = mapped_column(TS, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(TS, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)


class EventDelivery(TenantScoped, Base):
    """One attempt to deliver an event (the delivery log)."""

    __tablename__ = "com_event_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("com_order_events.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    attempted_at: Mapped[datetime] = mapped_column(TS)
    url: Mapped[str] = mapped_column(String(600))
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """The receiver's HTTP status; None when no answer came (timeout, refused, not allowed)."""
    error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str] = mapped_column(String(16))
    """``delivered``, ``retry`` or ``dead``: what this attempt left the event as."""


__all__ = ["DUE_STATUSES", "EVENT_STATUSES", "EventDelivery", "OrderEvent"]
