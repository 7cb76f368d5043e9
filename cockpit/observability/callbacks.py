"""Spans for LangGraph nodes and tool calls, children of the run span.

:class:`NodeSpans` is a LangChain callback handler: LangGraph reports each node as a chain run
whose name equals its ``langgraph_node`` metadata and whose tags hold ``graph:step:N``; that run
gets a span ``node <name>`` under the run's span. Tools run inside the ``tools`` node by our
executor (not as LangChain tools), so :func:`observe_tool` finds its parent through the node's
config (``langgraph.config.get_config()``: its callback manager's ``parent_run_id`` is the node
run) — OpenTelemetry's own context cannot be carried from one callback to the next.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, Status, StatusCode

from cockpit.observability import tracing
from cockpit.observability.metrics import metrics
from cockpit.observability.run import close_node, node_span, open_node, run_span


class NodeSpans(BaseCallbackHandler):
    """Opens a span per LangGraph node of one run; ends it with the node (error if it raised)."""

    run_inline = True  # called in the graph's own context, in order, never from a thread pool
    raise_error = False

    def __init__(self, *, run_id: str, tenant_id: str) -> None:
        self.run_id = run_id
        self.tenant_id = tenant_id
        self._mine: set[UUID] = set()

    def _parent(self, parent_run_id: UUID | None) -> Context | None:
        span = node_span(parent_run_id) if parent_run_id else None
        span = span or run_span(self.run_id)
        return trace.set_span_in_context(span) if span is not None else None

    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        node = (metadata or {}).get("langgraph_node")
        is_node = any(t.startswith("graph:step:") for t in tags or ())
        if not node or kwargs.get("name") != node or not is_node:
            return
        span = tracing.tracer().start_span(
            f"node {node}",
            context=self._parent(parent_run_id),
            attributes={
                "cockpit.node": str(node),
                "cockpit.step": int((metadata or {}).get("langgraph_step", 0)),
                "cockpit.tenant_id": self.tenant_id,
                "cockpit.run_id": self.run_id,
            },
        )
        open_node(run_id, run_id=self.run_id, span=span)
        self._mine.add(run_id)

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, None)

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, error)

    def _end(self, run_id: UUID, error: BaseException | None) -> None:
        if run_id not in self._mine:
            return
        self._mine.discard(run_id)
        span = close_node(run_id)
        if span is None:
            return
        if error is not None:
            if type(error).__name__ in ("GraphInterrupt", "ParentCommand"):
                # An approval pause or a handoff is control flow, not a failure.
                span.set_attribute("cockpit.interrupted", True)
            else:
                span.record_exception(error)
                span.set_status(Status(StatusCode.ERROR, type(error).__name__))
        span.end()


def run_callbacks(*, run_id: str, tenant_id: str) -> list[BaseCallbackHandler]:
    """The callback handlers to add to a run's ``config["callbacks"]`` (node spans)."""
    return [NodeSpans(run_id=run_id, tenant_id=tenant_id)]


def _node_parent() -> tuple[Context | None, dict[str, str]]:
    """The span of the LangGraph node this code runs in (if any) and the run's ids."""
    try:
        from langgraph.config import get_config

        config = get_config()
    except (RuntimeError, ImportError):
        return None, {}
    conf = config.get("configurable") or {}
    ids = {
        f"cockpit.{name}": str(conf[key])
        for name, key in (("tenant_id", "tenant_id"), ("run_id", "run_id"))
        if conf.get(key)
    }
    parent = getattr(config.get("callbacks"), "parent_run_id", None)
    span = node_span(parent) if parent is not None else None
    return (trace.set_span_in_context(span) if span is not None else None), ids


@dataclass
class ToolObservation:
    """What the executor reports about a call's end."""

    span: Span
    outcome: str = "ok"
    """``ok``, ``error`` (the tool refused or crashed) or ``replayed`` (an idempotent repeat)."""


@contextmanager
def observe_tool(tool: str, *, kind: str) -> Iterator[ToolObservation]:
    """Span ``tool <name>`` under its node, plus tool metrics, around one tool call."""
    parent, ids = _node_parent()
    span = tracing.tracer().start_span(
        f"tool {tool}",
        context=parent,
        attributes={"cockpit.tool": tool, "cockpit.tool_kind": kind, **ids},
    )
    obs = ToolObservation(span)
    started = time.perf_counter()
    try:
        with trace.use_span(span, end_on_exit=False, record_exception=False):
            yield obs
    except BaseException as exc:
        obs.outcome = "error"
        span.record_exception(exc)
        raise
    finally:
        span.set_attribute("cockpit.outcome", obs.outcome)
        if obs.outcome == "error":
            span.set_status(Status(StatusCode.ERROR, "tool error"))
        span.end()
        seconds = time.perf_counter() - started
        metrics().tool_called(tool, kind=kind, outcome=obs.outcome, seconds=seconds)


__all__ = ["NodeSpans", "ToolObservation", "observe_tool", "run_callbacks"]
