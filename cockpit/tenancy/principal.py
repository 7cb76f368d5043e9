"""Who is calling: the identity every scoped operation receives."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    MERCHANT = "merchant"
    PARTNER = "partner"
    SHOPPER = "shopper"


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller. Taken from the API key, never from a request body."""

    tenant_id: str
    """Tenant every read and write of this caller is scoped to."""
    role: Role
    """What the caller may do."""
    key_id: str
    """Id of the API key used (``"system"`` for host-side CLI work)."""
    merchant_id: str | None = None
    """Merchant this key acts for, when the key is bound to one."""
