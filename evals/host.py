"""Serve a world: the real app on its own data dir, over HTTP (uvicorn on 127.0.0.1, a free
port, in a thread of this process) or in-process (ASGI, no socket). Either way the
``langgraph-sdk`` client drives it, exactly as a partner's client would."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

import httpx
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from langgraph_sdk.client import SyncLangGraphClient

from cockpit.app import create_app
from cockpit.runtime.graph import ModelFactory
from cockpit.tls import client_context
from evals.world import World


@dataclass
class Hosted:
    """A running world app and an SDK client holding the task user's key."""

    app: FastAPI
    client: SyncLangGraphClient
    url: str

    @property
    def services(self) -> Any:
        return self.app.state.services


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def host_world(
    world: World,
    *,
    in_process: bool = False,
    model_factory: ModelFactory | None = None,
    model: str | None = None,
    timeout_s: float = 120.0,
) -> Iterator[Hosted]:
    """Run the world's app until the block ends; ``model`` replaces every agent's own model."""
    settings = world.settings(model_override=model) if model else world.settings()
    app = create_app(settings, model_factory=model_factory)
    headers = {"x-api-key": world.key}
    if in_process:
        with TestClient(app, raise_server_exceptions=False, headers=headers) as tc:
            tc.timeout = timeout_s
            http = cast(httpx.Client, tc)  # a TestClient is an httpx.Client over ASGI
            yield Hosted(app, SyncLangGraphClient(http), str(tc.base_url))
        return
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, name=f"eval-world-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the world's server did not start")
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    client = httpx.Client(base_url=url, headers=headers, timeout=timeout_s, verify=client_context())
    try:
        yield Hosted(app, SyncLangGraphClient(client), url)
    finally:
        client.close()
        server.should_exit = True
        thread.join(timeout=30)


__all__ = ["Hosted", "free_port", "host_world"]
