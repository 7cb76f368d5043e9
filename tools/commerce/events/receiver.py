"""A reference order-event RECEIVER: what an agent platform runs to hear from a merchant.

:class:`OrderEventReceiver` implements ``POST /agentic_checkout/webhooks/order_events`` of
``openapi.agentic_checkout_webhook.yaml``: it verifies ``Merchant-Signature`` (401
``invalid_signature`` otherwise), parses the ``WebhookEvent`` (400 on a bad payload), keeps
each event once (a retry with the same ``Request-Id`` is acknowledged again, not recorded
twice) and answers ``{"received": true, "request_id": …}``. :class:`ReceiverServer` serves it
on a loopback port from a thread (stdlib ``http.server``), with an optional script of faults
(error statuses, slow answers) so tests and the ``cockpit shop`` demo can watch retries.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pydantic import ValidationError

from cockpit.clock import utcnow
from tools.commerce.events.delivery import WEBHOOK_PATH
from tools.commerce.events.signing import SIGNATURE_HEADER, TOLERANCE_S, SignatureError, verify
from tools.commerce.events.wire import WebhookEvent


@dataclass(frozen=True, slots=True)
class ReceivedEvent:
    request_id: str | None
    type: str
    order: dict[str, Any]
    """The event's ``data`` (the full order)."""
    body: bytes
    """The raw body as signed."""


@dataclass
class OrderEventReceiver:
    """Verifies and records order events (thread-safe)."""

    secret: str
    clock: Callable[[], datetime] = utcnow
    tolerance_s: int = TOLERANCE_S
    events: list[ReceivedEvent] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    """Why requests were refused (``SignatureError.reason`` or ``bad_payload``)."""
    duplicates: int = 0
    _seen: set[str] = field(default_factory=set, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _arrived: threading.Condition = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._arrived = threading.Condition(self._lock)

    def handle(self, headers: Mapping[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        """``(status, JSON body)`` for one request; ``headers`` match case-insensitively."""
        lower = {k.lower(): v for k, v in headers.items()}
        request_id = lower.get("request-id")
        try:
            verify(
                self.secret,
                body,
                lower.get(SIGNATURE_HEADER.lower()),
                now=int(self.clock().timestamp()),
                tolerance_s=self.tolerance_s,
            )
        except SignatureError as exc:
            with self._lock:
                self.rejected.append(exc.reason)
            return 401, exc.wire_body()
        try:
            event = WebhookEvent.model_validate(json.loads(body))
        except (ValueError, ValidationError):
            with self._lock:
                self.rejected.append("bad_payload")
            return 400, {
                "type": "invalid_request",
                "code": "invalid_payload",
                "message": "The body is not an order event.",
            }
        with self._arrived:
            if request_id is not None and request_id in self._seen:
                self.duplicates += 1
            else:
                if request_id is not None:
                    self._seen.add(request_id)
                data = event.data.model_dump(mode="json", exclude_none=True)
                self.events.append(ReceivedEvent(request_id, event.type, data, body))
                self._arrived.notify_all()
        answer: dict[str, Any] = {"received": True}
        if request_id is not None:
            answer["request_id"] = request_id
        return 200, answer

    def orders(self) -> dict[str, dict[str, Any]]:
        """The latest state of every order heard of, by order id."""
        with self._lock:
            return {e.order["id"]: e.order for e in self.events}

    def wait_for(self, count: int, *, timeout_s: float = 10.0) -> list[ReceivedEvent]:
        """Block until ``count`` events arrived (or the timeout); returns those received."""
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.events) >= count, timeout=timeout_s)
            return list(self.events)


Fault = int | float
"""A scripted answer: an int is an HTTP status to return; a float, seconds to stall first."""


class ReceiverServer:
    """Serves an :class:`OrderEventReceiver` on ``127.0.0.1`` from a daemon thread.

    Use as a context manager; ``url`` is the base to register as a platform's
    ``webhook_url``. Faults queued in ``faults`` are consumed one per request.
    """

    def __init__(self, receiver: OrderEventReceiver, *, port: int = 0) -> None:
        self.receiver = receiver
        self.faults: deque[Fault] = deque()
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                server.requests += 1
                fault = server.faults.popleft() if server.faults else None
                if isinstance(fault, float):
                    time.sleep(fault)
                if self.path.split("?", 1)[0] != WEBHOOK_PATH:
                    status, answer = (
                        404,
                        {
                            "type": "invalid_request",
                            "code": "not_found",
                            "message": "No such endpoint.",
                        },
                    )
                elif isinstance(fault, int):
                    status, answer = (
                        fault,
                        {
                            "type": "processing_error",
                            "code": "injected",
                            "message": "Injected failure.",
                        },
                    )
                else:
                    status, answer = server.receiver.handle(dict(self.headers.items()), body)
                payload = json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a scripted stall): nothing to answer

            def log_message(self, format: str, *args: Any) -> None:
                return  # quiet: tests and the demo print what they need

        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> ReceiverServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="order-event-receiver", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> ReceiverServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


__all__ = ["Fault", "OrderEventReceiver", "ReceivedEvent", "ReceiverServer"]
