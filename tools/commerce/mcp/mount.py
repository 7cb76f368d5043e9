"""``/mcp`` on the app itself: the ASGI endpoint and the session manager's lifetime.

The composition root adds :meth:`McpEndpoint.route` to the app's routes and runs
:meth:`McpEndpoint.serving` inside the app's lifespan, so MCP is served by the same process,
port and middleware as the REST API (no second server). The transport is streamable HTTP in
the SDK's stateless JSON mode: every POST stands alone (no session held in memory, so any API
worker can answer any request), and each request is authenticated by :mod:`.auth` before the
SDK reads a byte of it.

DNS-rebinding protection (the SDK's Host/Origin allowlist for servers on localhost) is off:
every request must carry an API key, which a rebound browser page does not have.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from cockpit.errors import AuthError, InternalError
from cockpit.toolkit.registry import ToolRegistry
from tools.commerce.acp.service import CheckoutService
from tools.commerce.mcp.auth import authenticate, refuse
from tools.commerce.mcp.server import Backend, build_server

MCP_PATH = "/mcp"


class McpEndpoint:
    """The ``/mcp`` ASGI app; serves only while :meth:`serving` is entered."""

    def __init__(self, registry: ToolRegistry) -> None:
        self._registry = registry
        self._manager: StreamableHTTPSessionManager | None = None
        self._keys: Any = None

    def route(self, path: str = MCP_PATH) -> Route:
        """The route to add to the app (not an OpenAPI operation: it speaks JSON-RPC)."""
        return Route(
            path, endpoint=self, methods=["GET", "POST", "DELETE"], include_in_schema=False
        )

    @asynccontextmanager
    async def serving(self, services: Any) -> AsyncIterator[None]:
        """Run the MCP session manager for the app's lifetime over its ``services``."""
        backend = Backend(
            db=services.db,
            audit=services.audit,
            keys=services.keys,
            extras=services.extras,
            registry=self._registry,
            checkout=CheckoutService(services.db, services.extras),
        )
        manager = StreamableHTTPSessionManager(
            app=build_server(backend), json_response=True, stateless=True
        )
        async with manager.run():
            self._manager, self._keys = manager, services.keys
            try:
                yield
            finally:
                self._manager, self._keys = None, None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        manager = self._manager
        if manager is None:
            await refuse(
                send, InternalError("the MCP server is not running", code="mcp_unavailable")
            )
            return
        try:
            await authenticate(scope, self._keys)
        except AuthError as exc:
            await refuse(send, exc)
            return
        await manager.handle_request(scope, receive, send)


__all__ = ["MCP_PATH", "McpEndpoint"]
