"""Tables: the append-only audit chain and its per-tenant head."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cockpit.db.base import Base, TenantScoped


class AuditRecord(TenantScoped, Base):
    __tablename__ = "audit_records"
    __table_args__ = (UniqueConstraint("tenant_id", "seq", name="uq_audit_records_tenant_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    seq: Mapped[int] = mapped_column(Integer)
    ts: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(60), index=True)
    actor: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(200), index=True)
    payload: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    """Hash scheme: 1 = bare SHA-256 (records from before keyed chains), 2 = HMAC-SHA256."""
    kid: Mapped[str | None] = mapped_column(String(64), default=None)
    """Id of the key a version-2 record was chained with; ``None`` on version 1."""


class AuditHead(TenantScoped, Base):
    """Last sequence number and hash of a tenant's chain; a row lock serialises appends."""

    __tablename__ = "audit_heads"

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text, default=None)
