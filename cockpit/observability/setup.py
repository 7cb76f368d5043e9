"""Wiring into the app: the request middleware, ``/metrics``, and trace export for the lifespan.

Export starts when the app starts (not when it is built: building an app must not open
connections) and is flushed when it stops, so the last spans of a run are not lost.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig
from opentelemetry.sdk.trace import TracerProvider
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cockpit.api.routing import add_routes
from cockpit.config import Settings
from cockpit.observability import tracing
from cockpit.observability.middleware import ObservabilityMiddleware
from cockpit.observability.router import router

FASTAPI_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}
"""FastAPI's own OpenTelemetry hooks, off: Cockpit's middleware traces and counts every request
on Cockpit's provider (:mod:`cockpit.observability.tracing`), and FastAPI's hooks would only
look up OpenTelemetry's global providers on every request (~12 % of a fraud score's server CPU)
or, with ``FASTAPI_OTEL_AUTO_CONFIGURE``, record each request a second time."""


class TraceExport:
    """Starts OTLP export at lifespan start-up and flushes it at shutdown (``otel_enabled``)."""

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.provider: TracerProvider | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan" or not self.settings.otel_enabled:
            await self.app(scope, receive, send)
            return

        async def receive_starting() -> Message:
            message = await receive()
            if message["type"] == "lifespan.startup" and self.provider is None:
                self.provider = tracing.start_export(self.settings.otel_exporter_otlp_endpoint)
            return message

        async def send_stopping(message: Message) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                self._stop()
            await send(message)

        try:
            await self.app(scope, receive_starting, send_stopping)
        finally:
            self._stop()

    def _stop(self) -> None:
        provider, self.provider = self.provider, None
        if provider is not None:
            tracing.stop_export(provider)


def install_observability(app: FastAPI, settings: Settings) -> None:
    """Add ``/metrics``, the request middleware and trace export; call it last in create_app
    (the middleware must be outermost to see every request, 413s included)."""
    add_routes(app.router, router)
    app.add_middleware(ObservabilityMiddleware)
    app.add_middleware(TraceExport, settings=settings)


__all__ = ["FASTAPI_TELEMETRY", "TraceExport", "install_observability"]
