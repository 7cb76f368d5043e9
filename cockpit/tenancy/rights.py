"""Who may do what: the role sets every path (REST route, agent tool, approval, MCP) checks.

One source of truth. A route declares one of these sets through its context dependency
(``cockpit.api.deps``), a tool declares one when it is registered, an assistant names the
roles that may run it in its spec; the runtime checks a tool call against the *caller's*
principal, so an agent acting for a key can do exactly what that key can do by REST.

An admin key of a tenant passes every check of its tenant. A merchant-bound key is further
confined to its merchant's records by the services themselves (``Principal.merchant_id``).
"""

from __future__ import annotations

from collections.abc import Iterable

from cockpit.errors import PermissionDenied
from cockpit.tenancy.principal import Principal, Role

ADMINS: frozenset[Role] = frozenset({Role.ADMIN})
"""Tenant administration only."""
MERCHANTS: frozenset[Role] = frozenset({Role.MERCHANT})
"""Merchant operations: money movement, disputes, blocks (and admins)."""
PARTNERS: frozenset[Role] = frozenset({Role.PARTNER})
"""Partner work: agent specs, credit strategies (and admins)."""
STAFF: frozenset[Role] = frozenset({Role.MERCHANT, Role.PARTNER})
"""Anyone working for the tenant: reads, agent chat (and admins)."""
EVERYONE: frozenset[Role] = frozenset(Role)
"""Every authenticated key, shoppers included (commerce surfaces)."""


def permits(principal: Principal, roles: Iterable[Role]) -> bool:
    """True when ``principal`` has one of ``roles``; a tenant admin always does."""
    return principal.role is Role.ADMIN or principal.role in frozenset(roles)


def require(principal: Principal, roles: Iterable[Role], *, what: str = "this operation") -> None:
    """Raise :class:`PermissionDenied` (403 ``role_required``) unless :func:`permits`."""
    allowed = frozenset(roles)
    if not permits(principal, allowed):
        names = " or ".join(sorted(r.value for r in allowed | ADMINS))
        raise PermissionDenied(
            f"{what} needs a key with role {names} (this key is {principal.role.value})",
            code="role_required",
        )


def owns(principal: Principal, owner: str | None) -> bool:
    """May ``principal`` see a conversational record (thread, run, approval) of ``owner``?

    A key bound to no merchant sees every record of its tenant; a merchant-bound key sees
    only records of its own merchant (not even tenant-wide ones: they may hold any
    merchant's data).
    """
    return principal.merchant_id is None or owner == principal.merchant_id


__all__ = [
    "ADMINS",
    "EVERYONE",
    "MERCHANTS",
    "PARTNERS",
    "STAFF",
    "owns",
    "permits",
    "require",
]
