"""FastAPI dependencies every router uses: the authenticated caller and the services.

A router declares ``ctx: Ctx`` and gets a :class:`RequestContext` whose
principal came from the API key (``x-api-key`` or ``Authorization: Bearer``).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from concurrent.futures import ThreadPoolExecutor
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


_KEY_READS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="key-reads")
"""Where a key the cache has not admitted is read. Two threads, not the shared pool of 40: a
flood of unknown keys (``benchmarks/api_overhead.py``, section bad_keys) then queues here instead
of filling the pool with threads that fight the event loop for the GIL (and, on SQLite, open
connections beyond the engine's pool). Beside 8 connections of unknown keys, ``/info`` p50/p99
went from 6.9/14 ms (read on the loop) or 1.2/88 ms (the shared pool) to 0.5/4.7 ms on SQLite,
and from 18/45 ms to 0.7/5.2 ms on PostgreSQL. The refusals themselves cost more server CPU
(1.3 against 0.8 ms each on SQLite, 2.2 against 1.6 on PostgreSQL): a bad key may wait."""


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
    key = _api_key(request)
    principal = keys.admitted(key)
    if principal is None:
        # A key not admitted lately is read from the database off the event loop: a stream of
        # unknown or revoked keys must not stall every other request the loop serves.
        # In this request's context (its trace span, the clock), as run_in_threadpool would.
        read = functools.partial(contextvars.copy_context().run, keys.authenticate, key)
        principal = await asyncio.get_running_loop().run_in_executor(_KEY_READS, read)
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
