"""Tables of the credit package: strategy versions, deployments, decisions.

Versions are immutable (nothing updates a row after insert). A deployment row
points a strategy slot at a champion (and optionally a challenger); the live
deployment of a slot is its newest row not rolled back, so rollback only
stamps ``rolled_back_at`` and the history stays auditable. Decisions keep the
applicant, the score, the reasons and the node trace, and the merchant they are for
(a merchant-bound key reads only its own merchant's decisions). A keyed deployment or
decision is its own idempotency record: key, request fingerprint and first response.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from cockpit.db.base import Base, TenantScoped, utcnow


class StrategyVersionRow(TenantScoped, Base):
    __tablename__ = "credit_strategy_versions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name", "version", name="uq_credit_strategy_versions_slot"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text, default="")
    scorecard_name: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    scorecard: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    tests_passed: Mapped[bool] = mapped_column(Boolean)
    test_report: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DeploymentRow(TenantScoped, Base):
    __tablename__ = "credit_deployments"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    champion_id: Mapped[str] = mapped_column(ForeignKey("credit_strategy_versions.id"))
    challenger_id: Mapped[str | None] = mapped_column(
        ForeignKey("credit_strategy_versions.id"), nullable=True
    )
    challenger_share: Mapped[float] = mapped_column(Float, default=0.0)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    rolled_back_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    request_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """Fingerprint of the request stored under ``idempotency_key`` (``cockpit.idempotency``)."""
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    """The response the keyed request was given; its retries get it again."""

    __table_args__ = (
        UniqueConstraint("tenant_id", "idempotency_key", name="uq_credit_deployments_idem"),
    )


class DecisionRow(TenantScoped, Base):
    __tablename__ = "credit_decisions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "idempotency_key", name="uq_credit_decisions_idem"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    application_id: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    merchant_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    """Merchant the decision is for (``None``: a tenant-level decision of an admin or partner)."""
    strategy: Mapped[str] = mapped_column(String(64))
    version_id: Mapped[str] = mapped_column(ForeignKey("credit_strategy_versions.id"))
    deployment_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    arm: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(16))
    limit_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    price_apr: Mapped[float | None] = mapped_column(Float, nullable=True)
    score: Mapped[int] = mapped_column(Integer)
    pd: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    points: Mapped[dict[str, Any]] = mapped_column(JSON)
    applicant: Mapped[dict[str, Any]] = mapped_column(JSON)
    trace: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    shadow: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    request_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """Fingerprint of the request stored under ``idempotency_key`` (``cockpit.idempotency``)."""
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    """The response the keyed request was given; its retries get it again."""
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


__all__ = ["DecisionRow", "DeploymentRow", "StrategyVersionRow"]
