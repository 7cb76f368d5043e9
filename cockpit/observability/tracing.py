"""The tracer provider: spans always, exported over OTLP/HTTP only when configured.

Cockpit keeps its own current provider rather than OpenTelemetry's global one, which can be set
only once per process: tests swap in an in-memory exporter (:func:`capture_spans`) and an app
with ``otel_enabled`` swaps in its exporting provider, each restorable. When export is off the
provider has no processor at all, so nothing leaves the process — but spans still get real
trace ids, which the logs carry and ``traceparent`` headers propagate.

This module must never reach the network unless ``otel_enabled`` is set.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Span, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from cockpit import __version__

log = logging.getLogger(__name__)

TRACER_NAME = "cockpit"
DEFAULT_OTLP_ENDPOINT = "http://127.0.0.1:4318"
"""Where spans go when export is on and no endpoint is configured (the collector's default
port, on loopback)."""

_propagator = TraceContextTextMapPropagator()


def _resource(service_name: str) -> Resource:
    return Resource.create({"service.name": service_name, "service.version": __version__})


@dataclass
class _State:
    provider: TracerProvider
    exporting: bool = False
    tracer: Tracer | None = None
    """The provider's Cockpit tracer, made on first use (a lookup per span cost as much as the
    span)."""


_state = _State(TracerProvider(resource=_resource("cockpit")))


def tracer() -> Tracer:
    """Cockpit's tracer on the current provider (tests swap providers)."""
    if _state.tracer is None:
        _state.tracer = _state.provider.get_tracer(TRACER_NAME, __version__)
    return _state.tracer


def exporting() -> bool:
    """Whether the current provider sends spans anywhere (only with ``otel_enabled``)."""
    return _state.exporting


def use_provider(provider: TracerProvider, *, exporting: bool = False) -> TracerProvider:
    """Make ``provider`` current; returns the one it replaces (to restore it)."""
    previous = _state.provider
    _state.provider, _state.exporting, _state.tracer = provider, exporting, None
    return previous


def otlp_traces_url(endpoint: str) -> str:
    """The OTLP/HTTP traces URL for an ``OTEL_EXPORTER_OTLP_ENDPOINT``-style base URL."""
    base = endpoint.rstrip("/")
    return base if base.endswith("/v1/traces") else base + "/v1/traces"


def exporting_provider(endpoint: str, *, service_name: str = "cockpit") -> TracerProvider:
    """A provider that batches spans to an OTLP/HTTP collector at ``endpoint``."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    provider = TracerProvider(resource=_resource(service_name))
    exporter = OTLPSpanExporter(endpoint=otlp_traces_url(endpoint), timeout=10)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def start_export(endpoint: str | None, *, service_name: str = "cockpit") -> TracerProvider:
    """Export spans from now on (``endpoint`` or the loopback default); returns the provider."""
    url = endpoint or DEFAULT_OTLP_ENDPOINT
    provider = exporting_provider(url, service_name=service_name)
    use_provider(provider, exporting=True)
    log.info("exporting traces over OTLP/HTTP to %s", otlp_traces_url(url))
    return provider


def stop_export(provider: TracerProvider) -> None:
    """Flush and close ``provider``; the current provider falls back to a non-exporting one."""
    try:
        provider.shutdown()
    finally:
        if _state.provider is provider:
            use_provider(TracerProvider(resource=provider.resource))


@contextmanager
def capture_spans() -> Iterator[InMemorySpanExporter]:
    """Record every finished span in memory for the block (tests; nothing leaves the process)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=_resource("cockpit"))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    previous = use_provider(provider)
    try:
        yield exporter
    finally:
        use_provider(previous)
        provider.shutdown()


def extract(carrier: Mapping[str, str]) -> otel_context.Context:
    """The remote parent named by a W3C ``traceparent`` (and ``tracestate``) in ``carrier``."""
    return _propagator.extract(carrier=dict(carrier))


def traceparent(span: Span | None = None) -> str | None:
    """The W3C ``traceparent`` of ``span`` (default: the current span), None when there is none.

    Store it with a queued run so the worker that picks the run up links its trace to it.
    """
    carrier: dict[str, str] = {}
    ctx = trace.set_span_in_context(span) if span is not None else None
    _propagator.inject(carrier, context=ctx)
    return carrier.get("traceparent")


__all__ = [
    "DEFAULT_OTLP_ENDPOINT",
    "TRACER_NAME",
    "capture_spans",
    "exporting",
    "exporting_provider",
    "extract",
    "otlp_traces_url",
    "start_export",
    "stop_export",
    "traceparent",
    "tracer",
    "use_provider",
]
