"""The ``crons`` table: one scheduled run per row, owned by a tenant and run as a key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cockpit.db.base import Base, TenantScoped, utcnow


class CronRecord(TenantScoped, Base):
    """A cron: what to run (``payload``), when (``schedule``), and as whom (the owner key).

    The owner is the key that last created or changed the cron; every fire re-reads that key,
    so a revoked key or one whose role the assistant no longer admits stops the cron's runs
    (each refused fire is recorded in ``last_status``/``last_error``) rather than running with
    rights nobody holds any more.
    """

    __tablename__ = "crons"

    cron_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    thread_id: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    """The thread every fire runs on; None: each fire runs on a new thread."""
    assistant_id: Mapped[str] = mapped_column(String(120))
    schedule: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str | None] = mapped_column(String(64), default=None)
    """IANA zone the schedule's wall times are in (None: UTC)."""
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """The run request every fire starts: input, config, context, stream_mode, strategy."""
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    on_run_completed: Mapped[str | None] = mapped_column(String(10), default=None)
    """Stateless crons: ``delete`` (default) removes each fire's thread when its run ends."""
    end_time: Mapped[datetime | None] = mapped_column(default=None)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    next_run_date: Mapped[datetime | None] = mapped_column(default=None, index=True)
    """When the cron fires next; None once it has ended. Claiming a fire moves it forward."""
    owner_key_id: Mapped[str] = mapped_column(String(64))
    owner_role: Mapped[str] = mapped_column(String(20))
    merchant_id: Mapped[str | None] = mapped_column(String(64), default=None)
    """Merchant of the owner key: a key bound to another merchant does not see the cron."""
    fires: Mapped[int] = mapped_column(Integer, default=0)
    """How many fires were claimed (started, skipped or refused)."""
    last_fired_at: Mapped[datetime | None] = mapped_column(default=None)
    last_status: Mapped[str | None] = mapped_column(String(20), default=None)
    """Outcome of the last fire: a run status, ``skipped`` (thread busy) or ``failed``."""
    last_run_id: Mapped[str | None] = mapped_column(String(64), default=None)
    last_error: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    """``{type, code, message, param}`` of the last fire that did not start (or failed)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


__all__ = ["CronRecord"]
