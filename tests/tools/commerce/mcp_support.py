"""A real Cockpit server on 127.0.0.1 (uvicorn, the app's own lifespan) and the official MCP
client (``mcp.client.streamable_http`` + ``ClientSession``) talking to its ``/mcp``.

The server runs in a thread of the test process, so a test can reach the app's services (keys,
database) directly while every MCP and REST request goes over real HTTP.
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import anyio
import httpx
import httpx2
import uvicorn
from fastapi import FastAPI
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client

from cockpit.app import create_app
from cockpit.config import Settings
from cockpit.tls import client_context
from tests.support.live import free_port
from tests.support.spinekit import AGENTS_DIR, rule_model_factory

T = TypeVar("T")


@dataclass
class Live:
    app: FastAPI
    base_url: str

    @property
    def mcp_url(self) -> str:
        return self.base_url + "/mcp"

    @property
    def services(self) -> Any:
        return self.app.state.services

    def rest(self, key: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url,
            headers={"x-api-key": key},
            timeout=30,
            verify=client_context(),
        )


@contextmanager
def live_server(tmp: Path, database_url: str | None = None) -> Iterator[Live]:
    """The real app under uvicorn on a free loopback port, for as long as the block runs."""
    settings = Settings(
        data_dir=tmp / "data",
        database_url=database_url,
        agents_path=[AGENTS_DIR],
        tool_modules=["tests.support.spinekit"],
        warmup=False,
    )
    app = create_app(settings, model_factory=rule_model_factory())
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="mcp-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield Live(app, f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@asynccontextmanager
async def mcp_session(url: str, headers: dict[str, str]) -> AsyncIterator[ClientSession]:
    """An initialised official MCP client session sending ``headers`` on every request."""
    async with (
        httpx2.AsyncClient(headers=headers, timeout=60) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


def with_session(
    live: Live, key: str, fn: Callable[[ClientSession], Awaitable[T]], *, bearer: bool = True
) -> T:
    """Run ``fn(session)`` in a fresh MCP session authenticated with ``key``."""
    headers = {"Authorization": f"Bearer {key}"} if bearer else {"x-api-key": key}

    async def go() -> T:
        async with mcp_session(live.mcp_url, headers) as session:
            return await fn(session)

    try:
        return anyio.run(go)
    except BaseExceptionGroup as group:
        raise _leaf(group) from None


def _leaf(error: BaseException) -> BaseException:
    """The one error inside the client's nested task-group wrappers (or the group itself)."""
    while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    return error


__all__ = ["Live", "live_server", "mcp_session", "with_session"]
