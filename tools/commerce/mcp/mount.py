"""``/mcp`` on the app itself: the ASGI endpoint and the session manager's lifetime.

The composition root adds :meth:`McpEndpoint.route` to the app's routes and runs
:meth:`McpEndpoint.serving` inside the app's lifespan, so MCP is served by the same process,
port and middleware as the REST API (no second server). The transport is streamable HTTP in
the SDK's stateless JSON mode: every POST stands alone (no session held in memory, so any API
worker can answer any request), and each request is authenticated by :mod:`.auth` before the
SDK reads a byte of it.

DNS-rebinding protection (the SDK's Host/Origin allowlist for servers on localhost) is off:
every request must carry an API key, which a rebound browser page does not have.

The SDK's server side (and the protocol's types, ~0.4 s of CPU to import) and the session
manager start with the first authenticated request, in a task of their own that the lifespan
stops: most processes that build the app (CLI commands, test servers) never serve MCP.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from cockpit.errors import AuthError, InternalError
from cockpit.toolkit.registry import ToolRegistry
from tools.commerce.mcp.auth import authenticate, record_user, refuse

if TYPE_CHECKING:
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

log = logging.getLogger(__name__)

MCP_PATH = "/mcp"


class McpEndpoint:
    """The ``/mcp`` ASGI app; serves only while :meth:`serving` is entered."""

    def __init__(self, registry: ToolRegistry) -> None:
        self._registry = registry
        self._services: Any = None
        self._manager: StreamableHTTPSessionManager | None = None
        self._starting: asyncio.Lock | None = None
        self._stop: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    def route(self, path: str = MCP_PATH) -> Route:
        """The route to add to the app (not an OpenAPI operation: it speaks JSON-RPC)."""
        return Route(
            path, endpoint=self, methods=["GET", "POST", "DELETE"], include_in_schema=False
        )

    @asynccontextmanager
    async def serving(self, services: Any) -> AsyncIterator[None]:
        """Serve MCP over ``services`` for the app's lifetime: the session manager starts with
        the first request and stops when the block ends."""
        self._services, self._starting, self._stop = services, asyncio.Lock(), asyncio.Event()
        try:
            yield
        finally:
            self._stop.set()
            task, self._task = self._task, None
            self._services = self._manager = None
            if task is not None:
                try:
                    await task
                except Exception:
                    log.exception("the MCP session manager failed")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._services is None:
            await refuse(send, _unavailable())
            return
        try:
            principal = await authenticate(scope, self._services.keys)
        except AuthError as exc:
            await refuse(send, exc)
            return
        manager = self._manager or await self._start()
        if manager is None:
            await refuse(send, _unavailable())
            return
        record_user(scope, principal)
        await manager.handle_request(scope, receive, send)

    async def _start(self) -> StreamableHTTPSessionManager | None:
        """The running session manager, started by the first request that needs it (None when
        the app is stopping, or the manager could not start)."""
        starting, stop = self._starting, self._stop
        if starting is None or stop is None:
            return None
        async with starting:
            if self._manager is not None or stop.is_set():
                return self._manager
            # Importing the SDK's server side takes a while: not on the event loop.
            await asyncio.to_thread(_load)
            manager = _new_manager(self._registry, self._services)
            ready = asyncio.Event()
            # Its own task, not the request's: the manager's task group outlives every request.
            task = asyncio.create_task(self._run(manager, ready, stop))
            waiting = asyncio.create_task(ready.wait())
            await asyncio.wait({task, waiting}, return_when=asyncio.FIRST_COMPLETED)
            waiting.cancel()
            if not ready.is_set():
                log.error("the MCP session manager did not start", exc_info=task.exception())
                return None
            self._manager, self._task = manager, task
            return manager

    @staticmethod
    async def _run(
        manager: StreamableHTTPSessionManager, ready: asyncio.Event, stop: asyncio.Event
    ) -> None:
        async with manager.run():
            ready.set()
            await stop.wait()


def _load() -> None:
    """Import what :func:`_new_manager` and :func:`.auth.record_user` need: the SDK's server side
    and the protocol's types."""
    for module in (
        "mcp.server.auth.middleware.bearer_auth",
        "mcp.server.auth.provider",
        "mcp.server.streamable_http_manager",
        "tools.commerce.mcp.server",
    ):
        importlib.import_module(module)


def _new_manager(registry: ToolRegistry, services: Any) -> StreamableHTTPSessionManager:
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

    from tools.commerce.acp.service import CheckoutService
    from tools.commerce.mcp.server import Backend, build_server

    backend = Backend(
        db=services.db,
        audit=services.audit,
        keys=services.keys,
        extras=services.extras,
        registry=registry,
        checkout=CheckoutService(services.db, services.extras),
    )
    return StreamableHTTPSessionManager(
        app=build_server(backend), json_response=True, stateless=True
    )


def _unavailable() -> InternalError:
    return InternalError("the MCP server is not running", code="mcp_unavailable")


__all__ = ["MCP_PATH", "McpEndpoint"]
