"""A tiny OpenAI-compatible chat-completions server on 127.0.0.1, for tests.

It speaks just enough of ``POST /v1/chat/completions`` for the real ``openai``
client (through ``langchain-openai``): scripted replies per model, tool calls,
the ``usage`` block, and injected HTTP errors (e.g. 500 for one model, to test
fallback chains). Requests are recorded for assertions. Standard library only.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class FakeReply:
    """One scripted completion."""

    content: str | None = None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    """Each ``{"name": ..., "arguments": {...}}``, optionally with its ``"id"`` (else generated)."""
    prompt_tokens: int = 11
    completion_tokens: int = 7
    status: int = 200
    """Anything but 200 returns an OpenAI-style error body with this status."""


Responder = Callable[[dict[str, Any]], FakeReply]
"""Computes the reply to one request body (e.g. :class:`~cockpit.testing.planner_server.PlannerResponder`)."""


@dataclass
class FakeOpenAIServer:
    """Scripted replies keyed by model name (unknown models get 404), or, for the models in
    ``responders``, a reply computed from the request."""

    replies: dict[str, list[FakeReply]] = field(default_factory=dict)
    responders: dict[str, Responder] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _calls: itertools.count[int] = field(default_factory=itertools.count)
    """Numbers generated tool-call ids: unique per server, no clock involved."""

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _next(self, model: str) -> FakeReply | None:
        with self._lock:
            queue = self.replies.get(model)
            if not queue:
                return None
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def _completion(self, model: str, reply: FakeReply) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": reply.content}
        if reply.tool_calls:
            message["tool_calls"] = [
                {
                    "id": c.get("id") or f"call_{next(self._calls)}",
                    "type": "function",
                    "function": {
                        "name": c["name"],
                        "arguments": json.dumps(c.get("arguments", {})),
                    },
                }
                for i, c in enumerate(reply.tool_calls)
            ]
        return {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": "tool_calls" if reply.tool_calls else "stop",
                }
            ],
            "usage": {
                "prompt_tokens": reply.prompt_tokens,
                "completion_tokens": reply.completion_tokens,
                "total_tokens": reply.prompt_tokens + reply.completion_tokens,
            },
        }

    def start(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet in tests
                return

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with owner._lock:
                    owner.requests.append(body)
                if not self.path.endswith("/chat/completions"):
                    self._send(
                        404, {"error": {"message": "not found", "type": "invalid_request_error"}}
                    )
                    return
                model = str(body.get("model", ""))
                responder = owner.responders.get(model)
                reply = responder(body) if responder is not None else owner._next(model)
                if reply is None:
                    self._send(
                        404,
                        {
                            "error": {
                                "message": f"model {model} not found",
                                "type": "invalid_request_error",
                            }
                        },
                    )
                    return
                if reply.status != 200:
                    self._send(
                        reply.status,
                        {"error": {"message": "scripted failure", "type": "server_error"}},
                    )
                    return
                self._send(200, owner._completion(model, reply))

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = int(self._server.server_address[1])
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@contextmanager
def fake_openai_server(
    replies: dict[str, list[FakeReply]], responders: dict[str, Responder] | None = None
) -> Iterator[FakeOpenAIServer]:
    """Run a :class:`FakeOpenAIServer` on a free port for the duration of the block."""
    server = FakeOpenAIServer(replies=replies, responders=dict(responders or {}))
    server.start()
    try:
        yield server
    finally:
        server.stop()


__all__ = ["FakeOpenAIServer", "FakeReply", "fake_openai_server"]
