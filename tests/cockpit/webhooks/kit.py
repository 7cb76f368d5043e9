"""Test kit for webhooks: a real receiver on loopback, and the documented verify function."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.docs.guides import blocks
from tests.support.live import ROOT
from tests.support.threaded import served_in_thread

SQLITE_ONLY = pytest.mark.parametrize("migrated_backend_url", ["sqlite"], indirect=True)
"""For tests where the backend does not matter (claims and migrations run on both)."""


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    """Lower-case names."""
    body: bytes


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1 in a thread: answers each POST with the next status of
    ``script`` (then 200) and records what arrived."""

    script: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    delay_s: float = 0.0
    """How long each answer waits (a receiver slower than the dispatcher's timeout)."""
    url: str = ""
    _arrived: threading.Condition = field(default_factory=threading.Condition)

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> int:
        with self._arrived:
            self.received.append(Received(path, headers, body))
            status = self.script.pop(0) if self.script else 200
            self._arrived.notify_all()
        return status

    def wait_for(self, count: int, *, timeout: float = 30.0) -> list[Received]:
        """Block until ``count`` requests arrived (a bound, not a timing assertion)."""
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.received) >= count, timeout=timeout)
            assert len(self.received) >= count, f"{len(self.received)} of {count} arrived"
            return list(self.received)


def documented_verifier() -> Callable[..., bool]:
    """``verify_webhook`` exactly as docs/webhooks.md shows it (the block runs, asserts and all)."""
    text = (ROOT / "docs" / "webhooks.md").read_text(encoding="utf-8")
    marker = "<!-- webhooks:verify -->"
    (block,) = [b for b in blocks(text.split(marker, 1)[1])[:1] if b.lang == "python"]
    namespace: dict[str, Any] = {}
    exec(compile(block.body, "docs/webhooks.md", "exec"), namespace)
    verify: Callable[..., bool] = namespace["verify_webhook"]
    return verify


@contextmanager
def serving_receiver() -> Iterator[Receiver]:
    """A :class:`Receiver` listening until the block ends."""
    got = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            status = got.handle(self.path, headers, body)
            time.sleep(got.delay_s)
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    got.url = f"http://127.0.0.1:{server.server_address[1]}"
    with served_in_thread(server):
        yield got


__all__ = ["SQLITE_ONLY", "Received", "Receiver", "documented_verifier", "serving_receiver"]
