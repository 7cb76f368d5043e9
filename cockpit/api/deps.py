"""FastAPI dependencies every router uses: the authenticated caller and the services.

A router declares ``ctx: Ctx`` and gets a :class:`RequestContext` whose
principal came from the API key (``x-api-key`` or ``Authorization: Bearer``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request

from cockpit.config import Settings
from cockpit.db.session import Database
from cockpit.errors import AuthError
from cockpit.tenancy import rights
from cockpit.tenancy.principal import Principal, Role

if TYPE_CHECKING:
    from cockpit.tenancy.keys import KeyService


@dataclass(frozen=True, slots=True)
class RequestContext:
    principal: Principal
    db: Database
    settings: Settings
    extras: dict[str, Any]
    """Shared services by name (set up by the composition root)."""

    def require(self, *roles: Role) -> None:
        """Raise 403 unless the caller has one of ``roles`` (admin always passes)."""
        rights.require(self.principal, roles)


def _api_key(request: Request) -> str:
    key = request.headers.get("x-api-key")
    if not key:
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            key = auth[7:].strip()
    if not key:
        raise AuthError(
            "missing API key: send it as x-api-key or Authorization: Bearer", code="missing_api_key"
        )
    return key


async def request_context(request: Request) -> RequestContext:
    services = request.app.state.services
    keys: KeyService = services.keys
    principal = await keys.principal_for(_api_key(request))
    request.state.principal = principal
    return RequestContext(
        principal=principal,
        db=services.db,
        settings=services.settings,
        extras=services.extras,
    )


Ctx = Annotated[RequestContext, Depends(request_context)]
"""Any authenticated caller. Routes declare who may call them with one of the aliases below."""


def allow(roles: frozenset[Role]) -> Any:
    """A dependency that admits only ``roles`` (and admins); the set rides on it as ``.roles``.

    The role check runs before the body is validated, so a key without the role learns
    nothing about the route's input; the authorisation matrix test reads ``.roles``.
    """

    async def check(ctx: Ctx) -> RequestContext:
        rights.require(ctx.principal, roles)
        return ctx

    check.roles = roles  # type: ignore[attr-defined]
    return Depends(check)


AdminCtx = Annotated[RequestContext, allow(rights.ADMINS)]
"""Tenant administration (keys, tenants)."""
MerchantCtx = Annotated[RequestContext, allow(rights.MERCHANTS)]
"""Merchant operations: money movement, disputes, blocks."""
PartnerCtx = Annotated[RequestContext, allow(rights.PARTNERS)]
"""Partner work: agent specs, credit strategies."""
StaffCtx = Annotated[RequestContext, allow(rights.STAFF)]
"""Merchants and partners: reads, conversations, approvals."""
AnyCtx = Annotated[RequestContext, allow(rights.EVERYONE)]
"""Every authenticated key, shoppers included."""

__all__ = [
    "AdminCtx",
    "AnyCtx",
    "Ctx",
    "MerchantCtx",
    "PartnerCtx",
    "RequestContext",
    "StaffCtx",
    "allow",
    "request_context",
]
