"""Runs: execute a team graph on a thread, stream its events, wait, join, cancel.

Every run is an asyncio task that publishes its stream events to
subscribers (an SSE response, a waiter). A thread runs one run at a time:
the thread row is claimed with a compare-and-set, so two workers cannot run
the same thread at once. Clients may only add user messages or resume an
interrupt; they cannot write agent state (that would bypass policy).

What each ``stream_mode`` sends (SSE event name, then data), after a first
``metadata`` event ``{run_id, attempt}``:

- ``values`` — ``values``: the whole thread state after each step;
- ``updates`` — ``updates``: ``{node: what it wrote}`` after each step, e.g. the
  agent's reply with its ``tool_calls``, or ``{"__interrupt__": [{value, id}]}``
  when a call waits for an approval;
- ``messages-tuple`` — ``messages``: ``[message, metadata]`` for every token chunk
  of a streaming model (``type: "AIMessageChunk"``, one stable ``id`` per reply,
  the last chunk with ``chunk_position: "last"``) and every whole message a node
  returns (tool results; replies of models that do not stream);
- ``messages`` — ``messages/metadata`` ``{id: {metadata}}`` once per message,
  ``messages/partial`` ``[message so far]`` after each chunk, ``messages/complete``
  ``[message]`` when it is whole;
- ``custom`` / ``debug`` — LangGraph's own.

Chunks go out as the model produces them, in order, redacted like the reply they
add up to (:mod:`cockpit.runtime.streaming`). A failure ends the stream with an
``error`` event ``{error: code, message}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command, Interrupt
from sqlalchemy import select

from cockpit.audit.log import AuditLog
from cockpit.db.base import iso, utcnow
from cockpit.db.session import Database
from cockpit.errors import CockpitError, Conflict, NotFound, ValidationFailed
from cockpit.guardrails.redact import redact_text
from cockpit.models.accounting import UsageTracker
from cockpit.runtime.records import RunRecord
from cockpit.runtime.serialize import to_json
from cockpit.runtime.streaming import MessageStream
from cockpit.runtime.threads import ThreadStore, checkpoint_key
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
RUN_STATUSES = ("pending", "running", "success", "error", "timeout", "interrupted")
ResumeGuard = Callable[[Principal, str, list[Interrupt]], None]
"""``guard(principal, thread_id, pending_interrupts)``: raises when the principal may not resume."""
_END = object()


@dataclass
class RunSpec:
    """A validated run request."""

    assistant_id: str
    input: dict[str, Any] | None = None
    resume: Any = None
    has_resume: bool = False
    stream_mode: list[str] = field(default_factory=lambda: ["values"])
    metadata: dict[str, Any] = field(default_factory=dict)
    multitask_strategy: str = "reject"
    on_disconnect: str = "cancel"


def check_input(value: Any) -> dict[str, Any]:
    """Only user messages may come in from a client."""
    if not isinstance(value, dict):
        raise ValidationFailed("input must be an object", code="invalid_input", param="input")
    extra = set(value) - {"messages"}
    if extra:
        raise ValidationFailed(
            f"input may only carry 'messages' (got {sorted(extra)})",
            code="invalid_input",
            param=f"input.{sorted(extra)[0]}",
        )
    msgs = value.get("messages")
    if not isinstance(msgs, list) or not msgs:
        raise ValidationFailed(
            "input.messages must be a non-empty list", code="invalid_input", param="input.messages"
        )
    clean = []
    for i, m in enumerate(msgs):
        if isinstance(m, str):
            m = {"role": "user", "content": m}
        if not isinstance(m, dict):
            raise ValidationFailed(
                "each message must be an object", code="invalid_input", param=f"input.messages.{i}"
            )
        role = m.get("role") or m.get("type")
        if role not in ("user", "human"):
            raise ValidationFailed(
                "clients may only send user messages",
                code="invalid_input",
                param=f"input.messages.{i}.role",
            )
        content = m.get("content")
        if not isinstance(content, str) or not content.strip():
            raise ValidationFailed(
                "message content must be non-empty text",
                code="invalid_input",
                param=f"input.messages.{i}.content",
            )
        if len(content) > 20_000:
            raise ValidationFailed(
                "message content is longer than 20,000 characters",
                code="input_too_long",
                param=f"input.messages.{i}.content",
            )
        # Redact at the boundary: the raw text never reaches a checkpoint, not even as input.
        clean.append({"role": "user", "content": redact_text(content)})
    return {"messages": clean}


def check_stream_modes(value: Any) -> list[str]:
    modes = [value] if isinstance(value, str) else value
    if modes is None:
        return ["values"]
    if not isinstance(modes, list) or not all(isinstance(m, str) for m in modes):
        raise ValidationFailed(
            "stream_mode must be a string or a list of strings",
            code="invalid_stream_mode",
            param="stream_mode",
        )
    for m in modes:
        if m not in STREAM_MODES:
            raise ValidationFailed(
                f"unsupported stream_mode {m!r}; use one of {sorted(STREAM_MODES)}",
                code="invalid_stream_mode",
                param="stream_mode",
            )
    return modes or ["values"]


def run_json(rec: RunRecord) -> dict[str, Any]:
    return {
        "run_id": rec.run_id,
        "thread_id": rec.thread_id,
        "assistant_id": rec.assistant_id,
        "created_at": iso(rec.created_at),
        "updated_at": iso(rec.updated_at),
        "status": rec.status,
        "metadata": rec.meta,
        "multitask_strategy": rec.multitask_strategy,
        "kwargs": rec.kwargs,
        "error": rec.error,
        "usage": rec.usage,
    }


class RunHandle:
    """A run in progress in this process: its task and its event subscribers."""

    def __init__(self, record: RunRecord, principal: Principal, modes: list[str]) -> None:
        self.record = record
        self.principal = principal
        self.modes = modes
        self.task: asyncio.Task[None] | None = None
        self.done = asyncio.Event()
        self.final: dict[str, Any] = {}
        self.error: dict[str, Any] | None = None
        """The run's failure as ``{type, code, message, param}`` (None when it did not fail)."""
        self.error_status = 200
        """HTTP status a waiting client gets for that failure."""
        self.usage: UsageTracker | None = None
        self._subs: list[asyncio.Queue[Any]] = []
        self._messages = MessageStream(modes, self._send)

    def subscribe(self) -> asyncio.Queue[Any]:
        q: asyncio.Queue[Any] = asyncio.Queue()
        self._subs.append(q)
        if self.done.is_set():
            q.put_nowait(_END)
        return q

    def unsubscribe(self, q: asyncio.Queue[Any]) -> None:
        with contextlib.suppress(ValueError):
            self._subs.remove(q)

    @property
    def subscribers(self) -> int:
        return len(self._subs)

    def publish(self, event: str, data: Any) -> None:
        """Send an event; replies still streaming are closed first, so events stay in order."""
        self._messages.flush()
        self._send(event, data)

    def _send(self, event: str, data: Any) -> None:
        for q in self._subs:
            q.put_nowait((event, data))

    def publish_chunk(self, mode: str, chunk: Any) -> None:
        if mode == "messages":
            msg, meta = chunk
            self._messages.add(msg, meta or {})
            return
        self.publish(mode, to_json(chunk))

    def finish(self) -> None:
        self._messages.flush()
        self.done.set()
        for q in self._subs:
            q.put_nowait(_END)


class RunManager:
    def __init__(
        self, *, db: Database, threads: ThreadStore, timeout_s: float, audit: AuditLog
    ) -> None:
        self._db = db
        self._audit = audit
        self._threads = threads
        self._timeout = timeout_s
        self._active: dict[str, RunHandle] = {}
        self.resume_guard: ResumeGuard | None = None
        """Checks that a principal may decide the approvals a resume would answer."""

    # ---- lifecycle -----------------------------------------------------------------
    def recover(self, *, single_node: bool) -> int:
        """Mark runs that died with a previous server as errors and free their threads."""
        fixed = 0
        tenants: set[tuple[str, str]] = set()
        from cockpit.tenancy.models import Tenant

        with self._db.system_session() as s:
            tenant_ids = list(s.scalars(select(Tenant.id)))
        for tenant in tenant_ids:
            with self._db.tenant_session(tenant) as s:
                stale = list(
                    s.scalars(select(RunRecord).where(RunRecord.status.in_(("pending", "running"))))
                )
                for run in stale:
                    if not single_node:
                        age = (utcnow() - _aware(run.updated_at)).total_seconds()
                        if age < self._timeout * 2:
                            continue
                    run.status = "error"
                    run.error = {
                        "type": "api_error",
                        "code": "server_restarted",
                        "message": "the server stopped while this run was in progress",
                        "param": None,
                    }
                    tenants.add((tenant, run.thread_id))
                    fixed += 1
        for tenant, thread_id in tenants:
            self._threads.release(tenant, thread_id, "idle", assistant_id=None)
        return fixed

    async def refresh_thread_statuses(self) -> None:
        """After recovery: a thread whose checkpoint holds an interrupt is 'interrupted'."""
        from cockpit.runtime.records import ThreadRecord
        from cockpit.tenancy.models import Tenant

        with self._db.system_session() as s:
            tenant_ids = list(s.scalars(select(Tenant.id)))
        for tenant in tenant_ids:
            with self._db.tenant_session(tenant) as s:
                ids = list(
                    s.scalars(select(ThreadRecord.thread_id).where(ThreadRecord.status == "idle"))
                )
            for tid in ids:
                snap = await self._threads.state(tenant, tid)
                if snap.interrupts:
                    self._threads.release(tenant, tid, "interrupted", assistant_id=None)

    # ---- start ------------------------------------------------------------------
    async def start(
        self, principal: Principal, thread_id: str, spec: RunSpec, graph: CompiledStateGraph[Any]
    ) -> RunHandle:
        tenant = principal.tenant_id
        thread = self._threads.get_record(tenant, thread_id, principal)
        if spec.multitask_strategy != "reject":
            raise ValidationFailed(
                "only multitask_strategy 'reject' is supported",
                code="unsupported_multitask_strategy",
                param="multitask_strategy",
            )
        if (spec.input is None) == (not spec.has_resume):
            raise ValidationFailed(
                "send exactly one of input or command.resume", code="invalid_run", param="input"
            )
        snap = await self._threads.state(tenant, thread_id)
        if spec.has_resume and not snap.interrupts:
            raise Conflict(
                "the thread has no pending interrupt to resume",
                code="no_pending_interrupt",
                param="command.resume",
            )
        if spec.has_resume and self.resume_guard is not None:
            # Deciding an approval by command.resume is held to the same rule as the route.
            self.resume_guard(principal, thread_id, list(snap.interrupts))
        if spec.input is not None and snap.interrupts:
            raise Conflict(
                "the thread is waiting for an approval; resume it with command.resume",
                code="thread_interrupted",
                param="input",
            )
        if not self._threads.claim(tenant, thread_id):
            raise Conflict(
                "the thread already has a run in progress", code="thread_busy", param="thread_id"
            )
        try:
            rec = RunRecord(
                run_id=str(uuid.uuid4()),
                thread_id=thread.thread_id,
                assistant_id=spec.assistant_id,
                status="pending",
                meta=spec.metadata,
                kwargs={"stream_mode": spec.stream_mode, "resume": spec.has_resume},
                multitask_strategy=spec.multitask_strategy,
            )
            with self._db.tenant_session(tenant) as s:
                s.add(rec)
        except Exception:
            self._threads.release(tenant, thread_id, thread.status, assistant_id=None)
            raise
        tracker = UsageTracker(tenant_id=tenant, run_id=rec.run_id, thread_id=thread_id)
        handle = RunHandle(rec, principal, spec.stream_mode)
        handle.usage = tracker
        self._active[rec.run_id] = handle
        self._audit.record(
            tenant,
            kind="run_started",
            actor=f"key:{principal.key_id}",
            subject=thread_id,
            payload={
                "run_id": rec.run_id,
                "assistant_id": spec.assistant_id,
                "resume": spec.has_resume,
            },
        )
        payload: Any = Command(resume=spec.resume) if spec.has_resume else spec.input
        config: RunnableConfig = {
            "configurable": {
                "thread_id": checkpoint_key(tenant, thread_id),
                "public_thread_id": thread_id,
                "tenant_id": tenant,
                "role": principal.role.value,
                "key_id": principal.key_id,
                "merchant_id": principal.merchant_id,
                "run_id": rec.run_id,
                "assistant_id": spec.assistant_id,
            },
            "recursion_limit": 50,
            "callbacks": [tracker],
            "run_id": uuid.UUID(rec.run_id),
        }
        lg_modes = sorted({STREAM_MODES[m] for m in spec.stream_mode})
        handle.task = asyncio.create_task(self._execute(handle, graph, payload, config, lg_modes))
        return handle

    async def _execute(
        self,
        handle: RunHandle,
        graph: CompiledStateGraph[Any],
        payload: Any,
        config: RunnableConfig,
        modes: list[str],
    ) -> None:
        rec, tenant = handle.record, handle.principal.tenant_id
        self._set_status(tenant, rec.run_id, "running")
        status, error, http_status = "success", None, 200
        try:
            async with asyncio.timeout(self._timeout):
                async for mode, chunk in graph.astream(payload, config, stream_mode=modes):  # type: ignore[arg-type]
                    handle.publish_chunk(mode, chunk)
            snap = await graph.aget_state(config)
            handle.final = to_json(snap.values)
            if snap.interrupts:
                status = "interrupted"
                handle.final["__interrupt__"] = to_json(list(snap.interrupts))
        except asyncio.CancelledError:
            status, http_status = "interrupted", 409
            error = {
                "type": "api_error",
                "code": "run_cancelled",
                "message": "run was cancelled",
                "param": None,
            }
        except TimeoutError:
            status, http_status = "timeout", 504
            error = {
                "type": "api_error",
                "code": "run_timeout",
                "message": f"run took longer than {self._timeout:.0f}s",
                "param": None,
            }
        except CockpitError as exc:
            status, error, http_status = "error", exc.to_dict(), exc.status
        except Exception:
            log.exception("run %s failed", rec.run_id)
            status, http_status = "error", 500
            error = {
                "type": "api_error",
                "code": "run_failed",
                "message": "the run failed; see the server log",
                "param": None,
            }
        if error is not None:
            handle.publish("error", {"error": error["code"], "message": error["message"]})
            handle.final = {"__error__": {"error": error["code"], "message": error["message"]}}
            handle.error, handle.error_status = error, http_status
        thread_status = {"success": "idle", "interrupted": "interrupted"}.get(status, "error")
        if status == "interrupted" and error is not None:
            thread_status = "idle"
        usage = None
        if handle.usage is not None:
            try:
                handle.usage.save(self._db)
                usage = handle.usage.summary().to_dict()
            except Exception:
                log.exception("usage for run %s could not be saved", rec.run_id)
        try:
            self._set_status(tenant, rec.run_id, status, error=error, usage=usage)
            self._audit.record(
                tenant,
                kind="run_finished",
                actor=f"key:{handle.principal.key_id}",
                subject=rec.thread_id,
                payload={"run_id": rec.run_id, "status": status, "error": error},
            )
            self._threads.release(
                tenant, rec.thread_id, thread_status, assistant_id=rec.assistant_id
            )
        finally:
            handle.finish()
            self._active.pop(rec.run_id, None)

    def _set_status(
        self,
        tenant: str,
        run_id: str,
        status: str,
        error: dict[str, Any] | None = None,
        usage: dict[str, Any] | None = None,
    ) -> None:
        with self._db.tenant_session(tenant) as s:
            run = s.scalars(select(RunRecord).where(RunRecord.run_id == run_id)).one()
            run.status = status
            run.updated_at = utcnow()
            if error is not None:
                run.error = error
            if usage is not None:
                run.usage = usage

    # ---- read / control ---------------------------------------------------------
    def get(self, principal: Principal, thread_id: str, run_id: str) -> RunRecord:
        self._threads.get_record(principal.tenant_id, thread_id, principal)
        with self._db.tenant_session(principal.tenant_id) as s:
            rec = s.scalars(
                select(RunRecord).where(
                    RunRecord.run_id == run_id, RunRecord.thread_id == thread_id
                )
            ).one_or_none()
        if rec is None:
            raise NotFound(
                f"no run {run_id} on thread {thread_id}", code="run_not_found", param="run_id"
            )
        return rec

    def list(
        self, principal: Principal, thread_id: str, *, limit: int, offset: int, status: str | None
    ) -> list[RunRecord]:
        self._threads.get_record(principal.tenant_id, thread_id, principal)
        if status is not None and status not in RUN_STATUSES:
            raise ValidationFailed(
                f"status must be one of {RUN_STATUSES}", code="invalid_value", param="status"
            )
        with self._db.tenant_session(principal.tenant_id) as s:
            q = select(RunRecord).where(RunRecord.thread_id == thread_id)
            if status:
                q = q.where(RunRecord.status == status)
            return list(
                s.scalars(q.order_by(RunRecord.created_at.desc()).offset(offset).limit(limit))
            )

    def handle(self, run_id: str) -> RunHandle | None:
        return self._active.get(run_id)

    async def cancel(
        self, principal: Principal, thread_id: str, run_id: str, *, wait: bool
    ) -> None:
        rec = self.get(principal, thread_id, run_id)
        handle = self._active.get(rec.run_id)
        if handle is None or handle.task is None:
            if rec.status in ("pending", "running"):
                raise Conflict(
                    "run is not running on this worker", code="run_not_local", param="run_id"
                )
            return
        handle.task.cancel()
        if wait:
            await handle.done.wait()

    async def join(
        self, principal: Principal, thread_id: str, run_id: str, final_values: Any
    ) -> dict[str, Any]:
        rec = self.get(principal, thread_id, run_id)
        handle = self._active.get(rec.run_id)
        if handle is not None:
            await handle.done.wait()
            return handle.final
        return final_values  # type: ignore[no-any-return]

    async def events(
        self, handle: RunHandle, *, cancel_on_disconnect: bool
    ) -> AsyncIterator[tuple[str, Any]]:
        q = handle.subscribe()
        completed = False
        try:
            yield "metadata", {"run_id": handle.record.run_id, "attempt": 1}
            while True:
                item = await q.get()
                if item is _END:
                    completed = True
                    return
                yield item
        finally:
            handle.unsubscribe(q)
            if not completed and cancel_on_disconnect and handle.task and not handle.task.done():
                handle.task.cancel()

    async def shutdown(self) -> None:
        for handle in list(self._active.values()):
            if handle.task:
                handle.task.cancel()
        for handle in list(self._active.values()):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(handle.done.wait(), timeout=5)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


__all__ = [
    "RUN_STATUSES",
    "ResumeGuard",
    "RunHandle",
    "RunManager",
    "RunSpec",
    "check_input",
    "check_stream_modes",
    "run_json",
]
