"""ASGI middleware: request id, HTTP server span, HTTP metrics — for every request.

Pure ASGI (no ``BaseHTTPMiddleware``) so streaming responses pass through untouched and the span
ends when the last byte is sent. Written here rather than pulled from an instrumentation package:
it needs twenty lines of what those packages do, plus our request id and tenant attribute.

The route label is the matched route's template (``/threads/{thread_id}/runs``), never the raw
path; a request no route matched is ``unmatched``.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cockpit.observability import logcontext, tracing
from cockpit.observability.metrics import metrics

REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:@-]{1,128}$")
"""An incoming request id we echo and log: bounded, and nothing that could forge a log field."""
UNMATCHED = "unmatched"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""Methods counted by name; anything else a client sends is ``OTHER`` (bounded labels)."""


def request_id_from(headers: list[tuple[bytes, bytes]]) -> str:
    """The caller's ``X-Request-Id`` when it is well formed, else a new ``req_…`` id."""
    for name, value in headers:
        if name.lower() == REQUEST_ID_HEADER.encode():
            text = value.decode("latin-1")
            if _REQUEST_ID.match(text):
                return text
            break
    return f"req_{uuid.uuid4().hex}"


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if isinstance(template, str) and template:
        return template
    return UNMATCHED


def _tenant(scope: Scope) -> str | None:
    state = scope.get("state")
    principal: Any = state.get("principal") if isinstance(state, dict) else None
    tenant = getattr(principal, "tenant_id", None)
    return tenant if isinstance(tenant, str) else None


class ObservabilityMiddleware:
    """Binds the request id, opens the server span, counts the request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = list(scope.get("headers", []))
        request_id = request_id_from(headers)
        carrier = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in headers}
        method = str(scope.get("method", "GET"))
        method = method if method in METHODS else "OTHER"
        span = tracing.tracer().start_span(
            f"{method} {scope.get('path', '')}",
            context=tracing.extract(carrier),
            kind=SpanKind.SERVER,
            attributes={
                "http.request.method": method,
                "url.path": str(scope.get("path", "")),
                "cockpit.request_id": request_id,
            },
        )
        status = 500
        echo = (REQUEST_ID_HEADER.encode(), request_id.encode("latin-1"))

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message = {**message, "headers": [*message.get("headers", []), echo]}
            await send(message)

        token = logcontext.bind(request_id=request_id)
        started = time.perf_counter()
        try:
            with trace.use_span(span, end_on_exit=False, record_exception=False):
                await self.app(scope, receive, send_with_id)
        except BaseException as exc:
            span.record_exception(exc)
            raise
        finally:
            logcontext.reset(token)
            route = _route_template(scope)
            span.update_name(f"{method} {route}")
            span.set_attributes({"http.route": route, "http.response.status_code": status})
            tenant = _tenant(scope)
            if tenant is not None:
                span.set_attribute("cockpit.tenant_id", tenant)
            if status >= 500:
                span.set_status(Status(StatusCode.ERROR, f"HTTP {status}"))
            span.end()
            metrics().http_request(method, route, status, time.perf_counter() - started)


__all__ = ["REQUEST_ID_HEADER", "ObservabilityMiddleware", "request_id_from"]
