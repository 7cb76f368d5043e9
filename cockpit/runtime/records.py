"""Tables: threads, runs, tool executions (write idempotency) and approvals."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String, UniqueConstraint
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
    """A run, and its place in the durable queue.

    A worker owns a running run while its lease holds (``worker_id``, ``lease_until``); a run
    whose lease lapsed is taken over by another worker (``attempt`` + 1) and continued from
    the thread's checkpoint. Everything a worker needs to execute it is stored here.
    """

    __tablename__ = "runs"
    __table_args__ = (Index("ix_runs_status_lease", "status", "lease_until"),)

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
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """What to execute: ``input`` or ``resume``, ``checkpoint_id`` to start from."""
    principal: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """The key the run acts for (``role``, ``key_id``, ``merchant_id``): its rights, on any worker."""
    worker_id: Mapped[str | None] = mapped_column(String(80), default=None)
    lease_until: Mapped[datetime | None] = mapped_column(default=None)
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime | None] = mapped_column(default=None)
    """A run created with ``after_seconds`` waits in the queue until then."""
    cancel: Mapped[str | None] = mapped_column(String(20), default=None)
    """``interrupt`` or ``rollback`` once asked; the worker holding the run acts on it."""
    start_checkpoint: Mapped[str | None] = mapped_column(String(64), default=None)
    """The thread's checkpoint when the run first started (a takeover compares against it)."""
    webhook: Mapped[str | None] = mapped_column(String(2000), default=None)


class RunEvent(TenantScoped, Base):
    """One streamed event of a run, numbered: any worker can replay or follow a stream."""

    __tablename__ = "run_events"
    __table_args__ = (UniqueConstraint("run_id", "seq", name="uq_run_events_run_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(64), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(40))
    data: Mapped[Any] = mapped_column(JSON, default=None, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


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
