"""FastAPI dependencies every router uses: the authenticated caller and the services.

A router declares ``ctx: Ctx`` and gets a :class:`RequestContext` whose
principal came from the API key (``x-api-key`` or ``Authorization: Bearer``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from cockpit.config import Settings
from cockpit.db.session import Database
from cockpit.errors import AuthError, PermissionDenied
from cockpit.tenancy.principal import Principal, Role


@dataclass(frozen=True, slots=True)
class RequestContext:
    principal: Principal
    db: Database
    settings: Settings
    extras: dict[str, Any]
    """Shared services by name (set up by the composition root)."""

    def require(self, *roles: Role) -> None:
        """Raise 403 unless the caller has one of ``roles`` (admin always passes)."""
        if not self.principal.has_role(*roles):
            raise PermissionDenied(
                f"this operation needs role {' or '.join(r.value for r in roles)}",
                code="role_required",
            )


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
    principal: Principal = services.keys.authenticate(_api_key(request))
    request.state.principal = principal
    return RequestContext(
        principal=principal,
        db=services.db,
        settings=services.settings,
        extras=services.extras,
    )


Ctx = Annotated[RequestContext, Depends(request_context)]

__all__ = ["Ctx", "RequestContext", "request_context"]
