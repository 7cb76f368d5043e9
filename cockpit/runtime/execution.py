"""Executing one run on this worker: the graph loop, its events, and how it ended.

:class:`RunHandle` is a run as the worker executing it sees it (and, for a run that
executes here, as the request that started it sees it). :func:`execute` drives the
graph and classifies the outcome; it never writes the run's row — the manager does,
and only while this worker still holds the run's lease.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph

from cockpit.errors import CockpitError
from cockpit.models.accounting import UsageTracker
from cockpit.runtime.events import RunStream
from cockpit.runtime.records import RunRecord
from cockpit.runtime.serialize import to_json
from cockpit.runtime.streaming import MessageStream
from cockpit.tenancy.principal import Principal

log = logging.getLogger(__name__)

STREAM_MODES = {
    "values": "values",
    "updates": "updates",
    "messages": "messages",
    "messages-tuple": "messages",
    "custom": "custom",
    "debug": "debug",
}


_RUN_ENDED: ContextVar[threading.Event | None] = ContextVar("cockpit_run_ended", default=None)


def run_ended() -> threading.Event:
    """The event set when the run executing in this context ends, whether it finished or was
    stopped (cancelled, interrupted by a newer run, timed out, its worker shutting down): what a
    tool call still going after its run stopped waits on, to stop too. Outside a run, an event
    nobody sets. The graph's nodes see it through the context LangGraph copies into them."""
    return _RUN_ENDED.get() or threading.Event()


def api_error(code: str, message: str) -> dict[str, Any]:
    return {"type": "api_error", "code": code, "message": message, "param": None}


@dataclass
class Outcome:
    """How an attempt ended."""

    status: str
    """``success``, ``interrupted``, ``error`` or ``timeout`` (a run's final status)."""
    error: dict[str, Any] | None = None
    http_status: int = 200
    final: dict[str, Any] | None = None


class RunHandle:
    """A run executing in this process, or the view a caller holds of one it started."""

    def __init__(self, record: RunRecord, principal: Principal, modes: list[str]) -> None:
        self.record = record
        self.principal = principal
        self.modes = modes
        self.task: asyncio.Task[None] | None = None
        self.done = asyncio.Event()
        """Set when the run ended (for a run executing here)."""
        self.local = False
        """True when this process executes the run."""
        self.final: dict[str, Any] = {}
        self.error: dict[str, Any] | None = None
        """The run's failure as ``{type, code, message, param}`` (None when it did not fail)."""
        self.error_status = 200
        """HTTP status a waiting client gets for that failure."""
        self.usage: UsageTracker | None = None
        self.stream: RunStream | None = None
        self.cancel_reason: str | None = None
        """``interrupt``/``rollback`` when asked to stop; ``lost`` when the lease went elsewhere;
        ``shutdown`` when this worker stops (another worker continues the run)."""
        self._messages = MessageStream(modes, self._send)

    def publish(self, event: str, data: Any) -> None:
        """Send an event; replies still streaming are closed first, so events stay in order."""
        self._messages.flush()
        self._send(event, data)

    def _send(self, event: str, data: Any) -> None:
        if self.stream is not None:
            self.stream.add(event, data)

    def publish_chunk(self, mode: str, chunk: Any) -> None:
        if mode == "messages":
            msg, meta = chunk
            self._messages.add(msg, meta or {})
            return
        self.publish(mode, to_json(chunk))

    def flush_messages(self) -> None:
        """Close replies still streaming, so their last events are in the stream."""
        self._messages.flush()

    def settle(self, outcome: Outcome) -> None:
        """Record how the run ended for callers in this process, and wake them."""
        self._messages.flush()
        self.final = outcome.final or {}
        self.error, self.error_status = outcome.error, outcome.http_status
        self.done.set()


async def execute(
    handle: RunHandle,
    graph: CompiledStateGraph[Any],
    payload: Any,
    config: RunnableConfig,
    *,
    timeout_s: float,
) -> Outcome:
    """Run the graph to its end (or an interrupt) and say how it went; never raises except
    for cancellation by this worker (a lost lease or a shutdown), which the caller handles."""
    modes = sorted({STREAM_MODES[m] for m in handle.modes})
    ended = threading.Event()
    token = _RUN_ENDED.set(ended)
    try:
        async with asyncio.timeout(timeout_s):
            async for mode, chunk in graph.astream(payload, config, stream_mode=modes):  # type: ignore[arg-type]
                handle.publish_chunk(mode, chunk)
        snap = await graph.aget_state(config)
        final = to_json(snap.values)
        if snap.interrupts:
            final["__interrupt__"] = to_json(list(snap.interrupts))
            return Outcome("interrupted", final=final)
        return Outcome("success", final=final)
    except asyncio.CancelledError:
        if handle.cancel_reason in ("lost", "shutdown"):
            raise
        return cancelled()
    except TimeoutError:
        return Outcome(
            "timeout",
            error=api_error("run_timeout", f"run took longer than {timeout_s:.0f}s"),
            http_status=504,
        )
    except CockpitError as exc:
        return Outcome("error", error=exc.to_dict(), http_status=exc.status)
    except Exception:
        log.exception("run %s failed", handle.record.run_id)
        return Outcome(
            "error",
            error=api_error("run_failed", "the run failed; see the server log"),
            http_status=500,
        )
    finally:
        ended.set()
        _RUN_ENDED.reset(token)


def cancelled() -> Outcome:
    """How a run that was asked to stop ends (409 to a client waiting on it)."""
    return Outcome(
        "interrupted", error=api_error("run_cancelled", "run was cancelled"), http_status=409
    )


def error_body(outcome: Outcome) -> dict[str, Any]:
    """What ``wait``/``join`` return for a failed run (LangGraph's ``__error__`` shape)."""
    assert outcome.error is not None
    return {"__error__": {"error": outcome.error["code"], "message": outcome.error["message"]}}


__all__ = [
    "STREAM_MODES",
    "Outcome",
    "RunHandle",
    "api_error",
    "cancelled",
    "error_body",
    "execute",
    "run_ended",
]
