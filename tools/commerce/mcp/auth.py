"""Who is calling ``/mcp``: the API key of every HTTP request, checked before the MCP SDK sees it.

The MCP binding of ACP leaves authentication to the connection ("handled at the MCP server
level, not per-request"), so the key travels as it does on REST: ``Authorization: Bearer`` or
``x-api-key``, resolved by the same :meth:`KeyService.principal_for` as REST. A request without a valid
key is answered ``401`` in Cockpit's error shape here, so no JSON-RPC message of it is ever
parsed, and no tool ever runs without a :class:`~cockpit.tenancy.principal.Principal`.

The server is stateless (every POST is its own connection), so each request is authenticated
on its own; the principal is also recorded as the SDK's ``scope["user"]``, which is what the
SDK compares when a stateful session is resumed, so a session could never change hands.

Never log or store the presented secret: only the key id leaves this module.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from starlette.types import Scope, Send

from cockpit.errors import AuthError, CockpitError
from cockpit.tenancy.principal import Principal

PRINCIPAL_KEY = "cockpit.principal"
"""Where the authenticated principal rides in the ASGI scope (read by :func:`principal_of`)."""


class Authenticator(Protocol):
    async def principal_for(self, presented: str) -> Principal: ...


def presented_key(scope: Scope) -> str:
    """The key a request carries (``x-api-key`` first, then ``Authorization: Bearer``)."""
    headers: dict[str, str] = {
        k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]
    }
    key = headers.get("x-api-key", "").strip()
    if not key:
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            key = auth[7:].strip()
    if not key:
        raise AuthError(
            "missing API key: send it as x-api-key or Authorization: Bearer", code="missing_api_key"
        )
    return key


async def authenticate(scope: Scope, keys: Authenticator) -> Principal:
    """The request's principal, or :class:`AuthError`; records it in ``scope``."""
    key = presented_key(scope)
    principal = await keys.principal_for(key)
    scope[PRINCIPAL_KEY] = principal
    return principal


def record_user(scope: Scope, principal: Principal) -> None:
    """Record ``principal`` as the SDK's ``scope["user"]``. Imports the SDK: call it once the
    session manager runs (:mod:`.mount` loads the SDK off the event loop)."""
    from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
    from mcp.server.auth.provider import AccessToken

    scope["user"] = AuthenticatedUser(
        AccessToken(
            token=principal.key_id,
            client_id=principal.key_id,
            scopes=[principal.role.value],
            subject=principal.tenant_id,
        )
    )


def principal_of(scope: Any) -> Principal:
    """The principal :func:`authenticate` recorded (a ``dict`` scope or a starlette request)."""
    raw = scope.scope if hasattr(scope, "scope") else scope
    principal = raw.get(PRINCIPAL_KEY) if isinstance(raw, dict) else None
    if not isinstance(principal, Principal):
        raise AuthError("the MCP request was not authenticated", code="missing_api_key")
    return principal


async def refuse(send: Send, exc: CockpitError) -> None:
    """Answer with the body a REST route gives for the same error (401 for a bad key)."""
    raw = json.dumps(exc.to_dict()).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(raw)).encode()),
    ]
    if isinstance(exc, AuthError):
        headers.append((b"www-authenticate", b'Bearer realm="cockpit"'))
    await send({"type": "http.response.start", "status": exc.status, "headers": headers})
    await send({"type": "http.response.body", "body": raw})


__all__ = [
    "PRINCIPAL_KEY",
    "Authenticator",
    "authenticate",
    "presented_key",
    "principal_of",
    "record_user",
    "refuse",
]
