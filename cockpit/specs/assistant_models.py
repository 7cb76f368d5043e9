"""What the LangGraph assistants API adds to agent versions: its metadata, config and context
per version, and the deletion of an assistant (versions are kept for audit)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cockpit.db.base import Base, TenantScoped, utcnow


class AssistantMeta(TenantScoped, Base):
    """The assistant fields of one agent version that the spec itself does not hold."""

    __tablename__ = "assistant_meta"
    __table_args__ = (
        UniqueConstraint("tenant_id", "agent_id", "version", name="uq_assistant_meta_version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agent_id: Mapped[str] = mapped_column(String(120))
    version: Mapped[int] = mapped_column(Integer)
    graph_id: Mapped[str] = mapped_column(String(120))
    """The agent the assistant was made from (its ``graph_id``)."""
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    context: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AssistantDeletion(TenantScoped, Base):
    """A deleted tenant agent: none of its versions resolves any more (a built-in of the same
    id resolves again); the versions stay for the audit trail."""

    __tablename__ = "assistant_deletions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "agent_id", name="uq_assistant_deletions_agent"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agent_id: Mapped[str] = mapped_column(String(120))
    deleted_by: Mapped[str] = mapped_column(String(64))
    deleted_at: Mapped[datetime] = mapped_column(default=utcnow)


__all__ = ["AssistantDeletion", "AssistantMeta"]
