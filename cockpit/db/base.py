"""Declarative base and the tenant-scoping mixin every tenant-owned table uses.

Every table that holds a tenant's data inherits :class:`TenantScoped`. A
session opened with :func:`cockpit.db.session.tenant_session` filters every
SELECT of such a table by the caller's tenant and stamps the tenant on every
insert; a session without a tenant refuses to touch them. There is no
unscoped query path.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from cockpit.clock import utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def iso(value: datetime) -> str:
    """ISO 8601 in UTC; SQLite hands back naive datetimes, which are UTC here."""
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, datetime: DateTime(timezone=True)}  # noqa: RUF012


class TenantScoped:
    """Mixin: a ``tenant_id`` column that scoped sessions filter and stamp."""

    tenant_id: Mapped[str] = mapped_column(String(64), index=True, nullable=False)


__all__ = ["Base", "TenantScoped", "iso", "utcnow"]
