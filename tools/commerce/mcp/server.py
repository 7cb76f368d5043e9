"""The MCP server: one catalogue per caller, built from the key that made the request.

Built on the SDK's low-level :class:`mcp.server.lowlevel.Server` (``on_list_tools`` /
``on_call_tool``) rather than :class:`~mcp.server.mcpserver.MCPServer`: ``MCPServer`` lists one
global set of tools whose schemas it derives from Python signatures, while here what a caller
may see depends on its key, and the registry tools already carry their own argument schemas.

* a shopper key (an agent platform) sees the five ACP checkout tools, and nothing else;
* a merchant or partner key sees the registry's READ tools its role may run (the ones its REST
  twins admit, inside the tenant's tool allowlist); a merchant key also sees
  ``get_checkout_session`` (the service lets a merchant read its own sessions, as REST does);
  an admin key sees all of these;
* nobody sees a tool the same key could not use by REST.

Calls run in a worker thread (the services are synchronous and use the database); the time of
a checkout call is read once, here, from :func:`cockpit.clock.utcnow` and passed down.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from functools import partial
from typing import Any

import anyio
import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.shared.exceptions import MCPError

from cockpit import __version__
from cockpit.audit.log import AuditLog
from cockpit.clock import utcnow
from cockpit.db.session import Database
from cockpit.tenancy import rights
from cockpit.tenancy.principal import Principal
from cockpit.toolkit.registry import ToolRegistry
from tools.commerce.acp.service import CheckoutService
from tools.commerce.mcp import checkout_tools, registry_tools
from tools.commerce.mcp.auth import principal_of

log = logging.getLogger(__name__)

SERVER_NAME = "cockpit"
INSTRUCTIONS = (
    "Cockpit's MCP server. Agent platforms (shopper keys) buy through the ACP checkout tools "
    "(create/get/update/complete/cancel_checkout_session; 'meta' carries the ACP header values, "
    "'payload' the REST body). Merchant keys read their payments, disputes and risk data "
    "through read-only tools; changes go through the REST API or a Cockpit agent run."
)


@dataclass(frozen=True, slots=True)
class Backend:
    """Everything a call needs, taken from the app's services at start."""

    db: Database
    audit: AuditLog
    keys: Any
    """The :class:`~cockpit.tenancy.keys.KeyService` (authentication, tenant allowlists)."""
    extras: dict[str, Any]
    registry: ToolRegistry
    checkout: CheckoutService

    def allowlist(self, principal: Principal) -> Collection[str] | None:
        settings = self.keys.tenant_settings(principal.tenant_id)
        allowed = settings.get("tool_allowlist")
        return list(allowed) if isinstance(allowed, list) else None

    def catalogue(self, principal: Principal) -> list[types.Tool]:
        """The tools ``principal`` may call, in a stable order."""
        listed = [t.describe() for t in checkout_tools.TOOLS if rights.permits(principal, t.roles)]
        reads = registry_tools.visible(self.registry, principal, self.allowlist(principal))
        return listed + [registry_tools.describe(t) for t in reads]

    def call(
        self, principal: Principal, name: str, arguments: dict[str, Any]
    ) -> types.CallToolResult:
        if name in checkout_tools.BY_NAME:
            # The service checks the role and the merchant binding, as it does for REST.
            return checkout_tools.call(
                self.checkout, name, arguments, principal=principal, at=utcnow()
            )
        return registry_tools.call(
            self.registry,
            name,
            arguments,
            principal=principal,
            allowlist=self.allowlist(principal),
            db=self.db,
            audit=self.audit,
            extras=self.extras,
        )


def build_server(backend: Backend) -> Server[Any]:
    """The low-level MCP server whose handlers answer for the request's principal."""

    async def list_tools(
        ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        principal = principal_of(ctx.request)
        tools = await anyio.to_thread.run_sync(backend.catalogue, principal)
        return types.ListToolsResult(tools=tools)

    async def call_tool(
        ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        principal = principal_of(ctx.request)
        run = partial(backend.call, principal, params.name, dict(params.arguments or {}))
        try:
            return await anyio.to_thread.run_sync(run)
        except MCPError:
            raise
        except Exception:
            log.exception("MCP tool %s failed unexpectedly", params.name)
            raise checkout_tools.tool_error(
                {
                    "type": "processing_error",
                    "code": "internal_error",
                    "message": f"{params.name} failed unexpectedly",
                }
            ) from None

    return Server(
        SERVER_NAME,
        version=__version__,
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


__all__ = ["INSTRUCTIONS", "SERVER_NAME", "Backend", "build_server"]
