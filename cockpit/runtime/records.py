"""Tables: threads, runs, tool executions (write idempotency) and approvals."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cockpit.db.base import Base, TenantScoped, utcnow


class ThreadRecord(TenantScoped, Base):
    """A conversation. Thread ids are unique per tenant; the checkpointer keys on both."""

    __tablename__ = "threads"
    __table_args__ = (UniqueConstraint("tenant_id", "thread_id", name="uq_threads_tenant_thread"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    thread_id: Mapped[str] = mapped_column(String(64))
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    status: Mapped[str] = mapped_column(String(20), default="idle")
    assistant_id: Mapped[str | None] = mapped_column(String(120), default=None)
    merchant_id: Mapped[str | None] = mapped_column(String(64), default=None)
    """Merchant of the key that created the thread; a key bound to another merchant gets 404."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RunRecord(TenantScoped, Base):
    __tablename__ = "runs"

    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    thread_id: Mapped[str] = mapped_column(String(64), index=True)
    assistant_id: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    kwargs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    multitask_strategy: Mapped[str] = mapped_column(String(20), default="reject")
    error: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    usage: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ToolExecution(TenantScoped, Base):
    """The first result of a WRITE, keyed by its idempotency key; a repeat returns it."""

    __tablename__ = "tool_executions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "idempotency_key", name="uq_tool_executions_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(200))
    tool: Mapped[str] = mapped_column(String(120))
    thread_id: Mapped[str | None] = mapped_column(String(64), default=None)
    args: Mapped[dict[str, Any]] = mapped_column(default=dict)
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApprovalRecord(TenantScoped, Base):
    __tablename__ = "approvals"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    thread_id: Mapped[str] = mapped_column(String(64), index=True)
    run_id: Mapped[str | None] = mapped_column(String(64), default=None)
    agent_id: Mapped[str] = mapped_column(String(120))
    tool: Mapped[str] = mapped_column(String(120))
    request: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    decision: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    decided_by: Mapped[str | None] = mapped_column(String(64), default=None)
    merchant_id: Mapped[str | None] = mapped_column(String(64), default=None)
    """Merchant of the requesting key (the thread's owner)."""
    requester_key_id: Mapped[str | None] = mapped_column(String(64), default=None)
    """Key whose request caused the call; the write runs with its rights."""
    requester_role: Mapped[str | None] = mapped_column(String(20), default=None)
    four_eyes: Mapped[bool] = mapped_column(Boolean, default=False)
    """The spec demands an approver other than the requesting key."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
