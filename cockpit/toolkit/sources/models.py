"""The ``tool_sources`` table: a tenant's registered MCP servers and OpenAPI endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cockpit.db.base import Base, TenantScoped, utcnow


class ToolSourceRecord(TenantScoped, Base):
    """One tool source of a tenant, with what discovery last found there."""

    __tablename__ = "tool_sources"
    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_tool_sources_name"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    """Prefix of the source's tools in the registry: ``<name>__<tool>``."""
    kind: Mapped[str] = mapped_column(String(10))
    """``mcp`` or ``openapi``."""
    url: Mapped[str] = mapped_column(Text)
    """The MCP endpoint or the OpenAPI document."""
    headers: Mapped[dict[str, Any]] = mapped_column(JSON)
    """Sent with every request to the source (credentials): stored, never returned."""
    tools: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The partner's declarations per remote tool: kind, amount/currency fields, roles."""
    discovered: Mapped[list[Any]] = mapped_column(JSON)
    """The remote tools as discovery found them (name, description, schema, call plan)."""
    timeout_s: Mapped[float] = mapped_column(Float)
    revision: Mapped[str] = mapped_column(String(64))
    """Hash of everything the source's tool definitions are built from."""
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    refreshed_at: Mapped[datetime] = mapped_column(default=utcnow)


__all__ = ["ToolSourceRecord"]
