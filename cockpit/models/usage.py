"""Table: one row per model call, with its tokens and cost (tenant-scoped)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cockpit.db.base import Base, TenantScoped, utcnow


class ModelUsage(TenantScoped, Base):
    """Tokens and cost of one chat-model call, attributed to an agent and a run."""

    __tablename__ = "model_usage"
    __table_args__ = (
        Index("ix_model_usage_tenant_run", "tenant_id", "run_id"),
        Index("ix_model_usage_tenant_agent", "tenant_id", "agent_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agent_id: Mapped[str | None] = mapped_column(String(120), nullable=True)
    run_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    thread_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    model: Mapped[str] = mapped_column(String(160))
    input_tokens: Mapped[int] = mapped_column(Integer)
    output_tokens: Mapped[int] = mapped_column(Integer)
    total_tokens: Mapped[int] = mapped_column(Integer)
    cost_micros: Mapped[int] = mapped_column(BigInteger)
    """Cost in millionths of a US dollar (integers: no float money)."""
    priced: Mapped[bool] = mapped_column(Boolean)
    """False when the model had no price in the table (cost recorded as 0)."""
    estimated: Mapped[bool] = mapped_column(Boolean)
    """True when tokens were estimated locally instead of reported by the provider."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


__all__ = ["ModelUsage"]
