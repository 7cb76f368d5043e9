"""One run, observed: its span, its ids on every log line, its counts and duration.

:func:`observe_run` wraps a run's execution. Started inside a request, the run span is a child
of the HTTP span (asyncio copies the context into the run's task); started by a queue worker
(no span is current) with the ``traceparent`` stored when the run was queued, it starts a new
trace *linked* to the request's (a run may outlive its request by far, and a worker's trace is
its own). Pass the stored ``traceparent`` and ``request_id`` always: which case applies is
decided here.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from uuid import UUID

from opentelemetry import trace
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode

from cockpit.observability import logcontext, tracing
from cockpit.observability.metrics import metrics

FAILED = frozenset({"error", "timeout"})
"""Run statuses that mark the run span as an error."""

_open_runs: dict[str, Span] = {}
"""Run id → its open span, so node spans (LangChain callbacks) find their parent."""
_open_nodes: dict[UUID, tuple[str, Span]] = {}
"""LangChain run id of a graph node → (our run id, its open span): tool calls find their node
here, and a run that ends ends whatever node spans it left open (a cancelled node may never
report its end)."""


def run_span(run_id: str) -> Span | None:
    """The open span of run ``run_id`` in this process, if any."""
    return _open_runs.get(run_id)


def open_node(node_run_id: UUID, *, run_id: str, span: Span) -> None:
    """Track a node's open span (see :mod:`cockpit.observability.callbacks`)."""
    _open_nodes[node_run_id] = (run_id, span)


def node_span(node_run_id: UUID) -> Span | None:
    """The open span of the node whose LangChain run id is ``node_run_id``, if any."""
    found = _open_nodes.get(node_run_id)
    return found[1] if found is not None else None


def close_node(node_run_id: UUID) -> Span | None:
    """Stop tracking a node's span and return it (the caller ends it)."""
    found = _open_nodes.pop(node_run_id, None)
    return found[1] if found is not None else None


def _close_nodes_of(run_id: str) -> None:
    for key in [k for k, (owner, _span) in list(_open_nodes.items()) if owner == run_id]:
        span = close_node(key)
        if span is not None:
            span.set_attribute("cockpit.unfinished", True)
            span.end()


@dataclass
class RunObservation:
    """What the caller tells :func:`observe_run` about the run's end."""

    span: Span
    status: str | None = None
    """The run's final status (``success``, ``interrupted``, ``error``, ``timeout``); unset
    means ``success``, or ``error``/``interrupted`` when the block raised / was cancelled."""
    attributes: dict[str, str] = field(default_factory=dict)

    @property
    def traceparent(self) -> str | None:
        """This run's ``traceparent`` (for a webhook's headers or a follow-up queued run)."""
        return tracing.traceparent(self.span)


@contextmanager
def observe_run(
    *,
    tenant_id: str,
    run_id: str,
    thread_id: str | None,
    assistant_id: str,
    traceparent: str | None = None,
    request_id: str | None = None,
) -> Iterator[RunObservation]:
    """Span ``run`` + run ids in the log context + run metrics, around one run's execution.

    Set ``obs.status`` before leaving the block (the run's final status). ``traceparent`` and
    ``request_id``: those of the request that asked for the run, stored with it (see
    :func:`cockpit.observability.traceparent`); outside a request the span starts a new trace
    linked to ``traceparent``, and the run's log lines carry ``request_id`` either way.
    """
    attributes = {
        "cockpit.tenant_id": tenant_id,
        "cockpit.run_id": run_id,
        "cockpit.thread_id": thread_id or "",
        "cockpit.assistant_id": assistant_id,
    }
    if request_id:
        attributes["cockpit.request_id"] = request_id
    links: list[Link] = []
    parent = None
    in_request = trace.get_current_span().get_span_context().is_valid
    if traceparent and not in_request:
        remote = trace.get_current_span(tracing.extract({"traceparent": traceparent}))
        if remote.get_span_context().is_valid:
            links.append(Link(remote.get_span_context()))
            parent = trace.set_span_in_context(trace.INVALID_SPAN)  # a new trace, not a child
    span = tracing.tracer().start_span(
        "run", context=parent, kind=SpanKind.INTERNAL, attributes=attributes, links=links
    )
    obs = RunObservation(span)
    token = logcontext.bind(
        run_id=run_id, tenant_id=tenant_id, thread_id=thread_id, request_id=request_id
    )
    _open_runs[run_id] = span
    metrics().run_started(assistant_id)
    started = time.perf_counter()
    try:
        with trace.use_span(span, end_on_exit=False, record_exception=False):
            yield obs
    except asyncio.CancelledError:
        obs.status = obs.status or "interrupted"
        raise
    except BaseException as exc:
        obs.status = obs.status or "error"
        span.record_exception(exc)
        raise
    finally:
        status = obs.status or "success"
        span.set_attributes({"cockpit.run_status": status, **obs.attributes})
        if status in FAILED:
            span.set_status(Status(StatusCode.ERROR, status))
        _close_nodes_of(run_id)
        span.end()
        _open_runs.pop(run_id, None)
        logcontext.reset(token)
        metrics().run_finished(assistant_id, status, time.perf_counter() - started)


__all__ = [
    "RunObservation",
    "close_node",
    "node_span",
    "observe_run",
    "open_node",
    "run_span",
]
