"""The store's one table: items by tenant, scope, namespace and key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cockpit.db.base import Base, TenantScoped, utcnow


class StoreItem(TenantScoped, Base):
    """One JSON document of the LangGraph store.

    ``scope`` keeps merchant-bound keys apart: ``""`` is the tenant-wide store that unbound
    keys use; a key bound to a merchant reads and writes only rows whose scope is its merchant
    id, so it can neither see the tenant's items nor another merchant's.
    """

    __tablename__ = "store_items"
    __table_args__ = (
        UniqueConstraint("tenant_id", "scope", "namespace", "key", name="uq_store_items_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(64), default="")
    namespace: Mapped[str] = mapped_column(String(1024))
    """Labels joined by ``.`` (a label may not contain one), so a prefix is a string prefix."""
    depth: Mapped[int] = mapped_column(Integer)
    """How many labels the namespace has (``max_depth`` filters on it)."""
    key: Mapped[str] = mapped_column(String(255))
    value: Mapped[dict[str, Any]] = mapped_column(default=dict)
    index: Mapped[Any] = mapped_column("index_fields", JSON, default=None, nullable=True)
    """The ``index`` the writer asked for (``false`` or field paths); kept, not embedded."""
    ttl_minutes: Mapped[float | None] = mapped_column(Float, default=None)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


__all__ = ["StoreItem"]
