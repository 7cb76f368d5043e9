"""Prometheus metrics: runs, tool calls, approvals, HTTP requests, run-queue depth.

Metrics live in Cockpit's own :class:`~prometheus_client.CollectorRegistry`, not the client's
global one, so a test can install a fresh :class:`Metrics` and read exact counts
(:func:`use_metrics`). Labels are bounded on purpose: route templates, never raw paths; no run,
thread or tenant ids; names a tenant can mint (assistants, tools of its own tool sources) are
kept for the first :data:`MAX_LABEL_VALUES` distinct values and counted as ``other`` after.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

MAX_LABEL_VALUES = 200
"""Distinct values one open-ended label keeps before the rest become ``other``."""
OTHER = "other"
RUN_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
"""Run durations: a planner turn takes milliseconds, an LLM turn with tools up to minutes."""
CALL_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
"""Tool calls and HTTP requests."""

QueueDepthSource = Callable[[], Mapping[str, int]]
"""Returns the run queue's depth by status (``{"queued": 3, "leased": 1}``)."""


class BoundedLabel:
    """Keeps the first ``limit`` distinct values of a label; later ones read as ``other``."""

    def __init__(self, limit: int = MAX_LABEL_VALUES) -> None:
        self._limit = limit
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, value: str | None) -> str:
        text = (value or "unknown")[:100]
        with self._lock:
            if text in self._seen:
                return text
            if len(self._seen) < self._limit:
                self._seen.add(text)
                return text
        return OTHER


class _QueueDepth(Collector):
    """Reads the queue depth from the process's source at scrape time (nothing when unset)."""

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily(
            "cockpit_run_queue_depth", "Runs in the durable run queue by status", labels=["status"]
        )
        source = _queue_source
        if source is not None:
            try:
                depth = dict(source())
            except Exception:
                # A scrape must not fail because the queue could not be read; the log says why.
                log.exception("queue depth source failed")
                depth = {}
            for status, count in sorted(depth.items()):
                family.add_metric([str(status)], float(count))
        yield family


@dataclass
class Metrics:
    """Every metric Cockpit exports, in one registry."""

    registry: CollectorRegistry = field(
        default_factory=lambda: CollectorRegistry(auto_describe=True)
    )
    assistants: BoundedLabel = field(default_factory=BoundedLabel)
    tools: BoundedLabel = field(default_factory=BoundedLabel)

    def __post_init__(self) -> None:
        r = self.registry
        self.runs_started = Counter(
            "cockpit_runs_started", "Runs started", ["assistant"], registry=r
        )
        self.runs_finished = Counter(
            "cockpit_runs_finished", "Runs finished by status", ["assistant", "status"], registry=r
        )
        self.runs_active = Gauge(
            "cockpit_runs_active", "Runs executing in this process", registry=r
        )
        self.run_seconds = Histogram(
            "cockpit_run_duration_seconds",
            "Run duration",
            ["assistant"],
            buckets=RUN_BUCKETS,
            registry=r,
        )
        self.tool_calls = Counter(
            "cockpit_tool_calls",
            "Tool calls by outcome (ok, error, replayed)",
            ["tool", "kind", "outcome"],
            registry=r,
        )
        self.tool_seconds = Histogram(
            "cockpit_tool_duration_seconds",
            "Tool call duration",
            ["tool"],
            buckets=CALL_BUCKETS,
            registry=r,
        )
        self.approvals_requested = Counter(
            "cockpit_approvals_requested", "Approvals asked of a human", ["tool"], registry=r
        )
        self.approvals_decided = Counter(
            "cockpit_approvals_decided",
            "Approvals decided by outcome (approved, edited, rejected)",
            ["tool", "outcome"],
            registry=r,
        )
        self.http_requests = Counter(
            "cockpit_http_requests",
            "HTTP requests by route template and status",
            ["method", "route", "status"],
            registry=r,
        )
        self.http_seconds = Histogram(
            "cockpit_http_request_duration_seconds",
            "HTTP request duration",
            ["method", "route"],
            buckets=CALL_BUCKETS,
            registry=r,
        )
        r.register(_QueueDepth())

    # ---- recording --------------------------------------------------------------------
    def run_started(self, assistant_id: str) -> None:
        self.runs_started.labels(self.assistants(assistant_id)).inc()
        self.runs_active.inc()

    def run_finished(self, assistant_id: str, status: str, seconds: float) -> None:
        label = self.assistants(assistant_id)
        self.runs_finished.labels(label, status).inc()
        self.run_seconds.labels(label).observe(seconds)
        self.runs_active.dec()

    def tool_called(self, tool: str, *, kind: str, outcome: str, seconds: float) -> None:
        label = self.tools(tool)
        self.tool_calls.labels(label, kind, outcome).inc()
        self.tool_seconds.labels(label).observe(seconds)

    def approval_requested(self, tool: str) -> None:
        self.approvals_requested.labels(self.tools(tool)).inc()

    def approval_decided(self, tool: str, outcome: str) -> None:
        self.approvals_decided.labels(self.tools(tool), outcome).inc()

    def http_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.http_requests.labels(method, route, str(status)).inc()
        self.http_seconds.labels(method, route).observe(seconds)

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)

    def value(self, name: str, labels: Mapping[str, str] | None = None) -> float:
        """One sample's value (0 when absent): what tests and health checks read."""
        found = self.registry.get_sample_value(name, dict(labels or {}))
        return 0.0 if found is None else found


_queue_source: QueueDepthSource | None = None
_current = Metrics()


def metrics() -> Metrics:
    """The metrics this process records into."""
    return _current


def use_metrics(replacement: Metrics) -> Metrics:
    """Record into ``replacement`` from now on; returns the previous one (to restore it)."""
    global _current
    previous, _current = _current, replacement
    return previous


def set_queue_depth_source(source: QueueDepthSource | None) -> QueueDepthSource | None:
    """Where ``cockpit_run_queue_depth`` comes from: the run queue sets a function at start.

    It is called at each scrape, in a worker thread (it may query the database); ``None``
    removes it. One source per process, whichever :class:`Metrics` is current; the one it
    replaces is returned (to restore it).
    """
    global _queue_source
    previous, _queue_source = _queue_source, source
    return previous


__all__ = [
    "MAX_LABEL_VALUES",
    "BoundedLabel",
    "Metrics",
    "QueueDepthSource",
    "metrics",
    "set_queue_depth_source",
    "use_metrics",
]
