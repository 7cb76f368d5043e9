"""A tiny OpenAI-compatible chat-completions server on 127.0.0.1, for tests.

It speaks just enough of ``POST /v1/chat/completions`` for the real ``openai``
client (through ``langchain-openai``): scripted replies per model, tool calls,
the ``usage`` block, and injected HTTP errors (e.g. 500 for one model, to test
fallback chains). Requests are recorded for assertions. Standard library only.

With ``"stream": true`` the reply goes out as server-sent ``chat.completion.chunk``
events the way OpenAI sends them: the text word by word, each tool call as a
header delta (id, name) then its arguments in pieces, a ``finish_reason`` chunk,
the usage chunk when ``stream_options.include_usage`` asks for it, then
``[DONE]``. A reply can fail mid-stream (:attr:`FakeReply.fail_after`) or hold
after its first chunk until the test lets it go (:attr:`FakeReply.hold`), which
proves a chunk reached the far end before the model finished.
"""

from __future__ import annotations

import itertools
import json
import re
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cockpit.clock import utcnow


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
    fail_after: int | None = None
    """Streaming only: after this many chunks, send an error event instead of the rest."""
    hold: threading.Event | None = None
    """Streaming only: after the first chunk, wait (at most :attr:`hold_s`) for this event."""
    hold_s: float = 10.0
    report_usage: bool = True
    """Streaming only: False sends no usage chunk (some OpenAI-compatible servers send none)."""


Responder = Callable[[dict[str, Any]], FakeReply]
"""Computes the reply to one request body (e.g. :class:`~cockpit.testing.planner_server.PlannerResponder`)."""


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (a model call that timed out, a stream the test stopped
        reading) ends its request quietly; anything else is printed as usual."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


@dataclass
class FakeOpenAIServer:
    """Scripted replies keyed by model name (unknown models get 404), or, for the models in
    ``responders``, a reply computed from the request."""

    replies: dict[str, list[FakeReply]] = field(default_factory=dict)
    responders: dict[str, Responder] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0
    _server: _Server | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _calls: itertools.count[int] = field(default_factory=itertools.count)
    """Numbers generated tool-call ids: unique per server, no clock involved."""
    holds_released: int = 0
    """How many :attr:`FakeReply.hold` waits ended because the test set the event."""
    holds_timed_out: int = 0
    """How many ended because nobody set it in time."""

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _next(self, model: str) -> FakeReply | None:
        with self._lock:
            queue = self.replies.get(model)
            if not queue:
                return None
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def _tool_calls(self, reply: FakeReply) -> list[dict[str, Any]]:
        return [
            {
                "id": c.get("id") or f"call_{next(self._calls)}",
                "type": "function",
                "function": {"name": c["name"], "arguments": json.dumps(c.get("arguments", {}))},
            }
            for c in reply.tool_calls
        ]

    def _completion(self, model: str, reply: FakeReply) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": reply.content}
        if reply.tool_calls:
            message["tool_calls"] = self._tool_calls(reply)
        return {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion",
            "created": int(utcnow().timestamp()),
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

    def _deltas(self, reply: FakeReply) -> Iterator[dict[str, Any]]:
        """The ``delta`` of each streamed chunk, in order."""
        yield {"role": "assistant", "content": ""}
        for word in re.findall(r"\s*\S+|\s+$", reply.content or ""):
            yield {"content": word}
        for index, call in enumerate(self._tool_calls(reply)):
            header = {"name": call["function"]["name"], "arguments": ""}
            yield {
                "tool_calls": [
                    {"index": index, "id": call["id"], "type": "function", "function": header}
                ]
            }
            args = call["function"]["arguments"]
            step = max(1, len(args) // 3)
            for start in range(0, len(args), step):
                piece = {"arguments": args[start : start + step]}
                yield {"tool_calls": [{"index": index, "function": piece}]}

    def _chunks(self, model: str, reply: FakeReply, usage: bool) -> Iterator[dict[str, Any]]:
        """Every streamed event (``{"error": ...}`` where the reply fails mid-stream)."""
        base = {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion.chunk",
            "created": int(utcnow().timestamp()),
            "model": model,
        }
        for n, delta in enumerate(self._deltas(reply)):
            if reply.fail_after is not None and n >= reply.fail_after:
                yield {"error": {"message": "scripted failure mid-stream", "type": "server_error"}}
                return
            yield {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
        finish = "tool_calls" if reply.tool_calls else "stop"
        yield {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]}
        if usage and reply.report_usage:
            yield {
                **base,
                "choices": [],
                "usage": {
                    "prompt_tokens": reply.prompt_tokens,
                    "completion_tokens": reply.completion_tokens,
                    "total_tokens": reply.prompt_tokens + reply.completion_tokens,
                },
            }

    def _hold(self, reply: FakeReply) -> None:
        if reply.hold is None:
            return
        released = reply.hold.wait(reply.hold_s)
        with self._lock:
            if released:
                self.holds_released += 1
            else:
                self.holds_timed_out += 1

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
                if body.get("stream"):
                    usage = bool((body.get("stream_options") or {}).get("include_usage"))
                    self._stream(owner._chunks(model, reply, usage), reply)
                    return
                self._send(200, owner._completion(model, reply))

            def _stream(self, chunks: Iterator[dict[str, Any]], reply: FakeReply) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                for n, chunk in enumerate(chunks):
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                    if n == 1:  # the first chunk with words in it is out
                        owner._hold(reply)
                    if "error" in chunk:
                        return
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

        self._server = _Server(("127.0.0.1", self.port), Handler)
        self.port = int(self._server.server_address[1])
        # Polled every 0.05 s for stop(): the default 0.5 s made each stop wait up to that long.
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

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
