"""Observability: traces HTTP → run → node → tool, Prometheus metrics, ids on every log line.

What others call:

* ``observe_run(tenant_id=, run_id=, thread_id=, assistant_id=, traceparent=None)`` — a context
  manager around a run's execution: its span, its ids in the log context, run metrics. Set
  ``obs.status`` to the run's final status before leaving it.
* ``run_callbacks(run_id=, tenant_id=)`` — LangChain handlers for ``config["callbacks"]``: a span
  per LangGraph node, child of the run span.
* ``observe_tool(name, kind=)`` — the executor's span and metrics around one tool call.
* ``metrics()`` and its ``approval_requested`` / ``approval_decided``; ``set_queue_depth_source``.
* ``traceparent()`` — the current span's W3C header, to store with a queued run.
* ``cockpit.observability.setup.install_observability(app, settings)`` — the composition
  root's one call (kept out of this package's imports: it pulls in the API layer).

Nothing here sends anything over the network unless ``otel_enabled`` is set.
"""

from cockpit.observability.callbacks import NodeSpans, ToolObservation, observe_tool, run_callbacks
from cockpit.observability.logcontext import LogContextFilter, log_context
from cockpit.observability.metrics import Metrics, metrics, set_queue_depth_source, use_metrics
from cockpit.observability.run import RunObservation, observe_run
from cockpit.observability.tracing import capture_spans, traceparent

__all__ = [
    "LogContextFilter",
    "Metrics",
    "NodeSpans",
    "RunObservation",
    "ToolObservation",
    "capture_spans",
    "log_context",
    "metrics",
    "observe_run",
    "observe_tool",
    "run_callbacks",
    "set_queue_depth_source",
    "traceparent",
    "use_metrics",
]
