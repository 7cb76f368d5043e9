"""Fixtures: spans kept in memory and a fresh metrics registry, each restored after the test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from cockpit.observability import Metrics, capture_spans, use_metrics


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    with capture_spans() as exporter:
        yield exporter


@pytest.fixture
def fresh_metrics() -> Iterator[Metrics]:
    fresh = Metrics()
    previous = use_metrics(fresh)
    try:
        yield fresh
    finally:
        use_metrics(previous)
