"""Tables of the proactive monitors: findings and the per-merchant schedule (``pay_monitor_*``).

A finding is unique per tenant and ``dedup_key``: the same condition in the same period is one
row, however often its monitor runs, so a merchant is notified once. A schedule row is one
"cron job" — one monitor for one merchant — with its interval (or cron expression), the next
time it is due and the monitor's parameters (thresholds such as the FX limit).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cockpit.db.base import Base, TenantScoped, utcnow
from tools.payments.models import TS


class MonitorFinding(TenantScoped, Base):
    """What a monitor detected for a merchant, and whether someone has acknowledged it."""

    __tablename__ = "pay_monitor_findings"
    __table_args__ = (
        UniqueConstraint("tenant_id", "dedup_key", name="uq_pay_monitor_findings_dedup"),
        Index("ix_pay_monitor_findings_merchant_detected", "merchant_id", "detected_at"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(64))
    monitor: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(16))
    """``info``, ``warning`` or ``critical``."""
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    """One plain sentence with the figures: what the merchant reads in the notification."""
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
    dedup_key: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="open")
    """``open`` until acknowledged."""
    detected_at: Mapped[datetime] = mapped_column(TS, default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The API key id that acknowledged it."""
    deliveries: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Webhook delivery ids written with the finding (one per matching endpoint)."""


class MonitorSchedule(TenantScoped, Base):
    """One monitor for one merchant: when it runs, when it is due next, and its parameters."""

    __tablename__ = "pay_monitor_schedules"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id", "merchant_id", "monitor", name="uq_pay_monitor_schedules_job"
        ),
        Index("ix_pay_monitor_schedules_due", "enabled", "next_run_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    merchant_id: Mapped[str] = mapped_column(String(64))
    monitor: Mapped[str] = mapped_column(String(40))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    interval_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cron: Mapped[str | None] = mapped_column(String(100), nullable=True)
    """A 5-field UTC cron expression; when set it wins over ``interval_seconds``."""
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """Overrides of the monitor's default parameters (only what the merchant changed)."""
    next_run_at: Mapped[datetime] = mapped_column(TS)
    last_run_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    last_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    """``ok`` or ``error`` for the last run."""
    last_error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    last_findings: Mapped[int] = mapped_column(Integer, default=0)
    """New findings the last run wrote (repeats of a known condition are not counted)."""
    runs: Mapped[int] = mapped_column(Integer, default=0)
    """How many times this job has run: each due time is claimed by exactly one runner."""
    updated_at: Mapped[datetime] = mapped_column(TS, default=utcnow)


__all__ = ["MonitorFinding", "MonitorSchedule"]
