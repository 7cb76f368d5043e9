"""The ``webhook_endpoints`` and ``webhook_deliveries`` tables.

An endpoint is where a tenant (or one of its merchants) wants events; a delivery is one event
owed to one endpoint, with every attempt to send it. The delivery id is the Standard Webhooks
``webhook-id``: a receiver deduplicates on it, so a retry or a manual replay keeps it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cockpit.db.base import Base, TenantScoped, utcnow


class WebhookEndpoint(TenantScoped, Base):
    """A registered destination with the event types it wants and its signing secrets."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    """``we_…``."""
    merchant_id: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    """Set: the endpoint hears only this merchant's events (and only its keys see it)."""
    url: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    event_types: Mapped[list[Any]] = mapped_column(JSON)
    """Event type names, or ``["*"]`` for every type."""
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    secrets: Mapped[list[Any]] = mapped_column(JSON)
    """``[{id, secret, created_at, expires_at}]`` newest first; expired ones no longer sign."""
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookDelivery(TenantScoped, Base):
    """One event owed to one endpoint, and the log of every attempt to send it."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    """``msg_…``: the ``webhook-id`` header, the same on every attempt and replay."""
    endpoint_id: Mapped[str] = mapped_column(String(40), index=True)
    merchant_id: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    """The endpoint's merchant, copied so merchant-bound keys filter without a join."""
    event_type: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The envelope ``{type, timestamp, data}`` sent as the body (canonical JSON)."""
    status: Mapped[str] = mapped_column(String(12), default="pending")
    """``pending`` (not tried yet), ``failed`` (retry due at ``next_attempt_at``),
    ``succeeded`` or ``dead`` (retries exhausted)."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    """Attempts made in all (replays included)."""
    retry_step: Mapped[int] = mapped_column(Integer, default=0)
    """Failed attempts since the delivery was queued or replayed: the backoff schedule index."""
    next_attempt_at: Mapped[datetime | None] = mapped_column(index=True, nullable=True)
    """When a dispatcher may next take it; a claim pushes it one lease ahead."""
    claim_token: Mapped[str | None] = mapped_column(String(40), nullable=True)
    """The dispatcher that holds the delivery; only that one may record the attempt."""
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempt_log: Mapped[list[Any]] = mapped_column(JSON)
    """``[{at, status_code, error, duration_ms}]`` oldest first."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


__all__ = ["WebhookDelivery", "WebhookEndpoint"]
