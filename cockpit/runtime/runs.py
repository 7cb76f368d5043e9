"""Runs: start, queue, execute, stream, wait, join and cancel — on any of N workers.

Every run is a row in ``runs`` (:mod:`cockpit.runtime.queue`). A run whose thread is free
starts at once on the worker that received it, under a lease; a run that must wait (its
thread is busy and it asked to ``enqueue``, ``interrupt`` or ``rollback``, or it was
created with ``after_seconds``, or by a cron) waits ``pending`` until some worker's
queue loop claims it. A worker renews its leases while it executes; when one dies,
its leases lapse and another worker continues each of its runs from the thread's last
checkpoint. Agent writes are idempotent per thread and tool call, so a continued run
never repeats a payment, a refund or any other write.

A run's events are numbered and stored (:mod:`cockpit.runtime.events`), so a client
can follow a stream from any worker and resume it with ``Last-Event-ID``. What each
``stream_mode`` sends (SSE event name, then data), after a ``metadata`` event
``{run_id, attempt}`` at the start of each attempt:

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
import os
import socket
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar, cast

from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command, Interrupt
from sqlalchemy import Table, delete, select, update

from cockpit.audit.log import AuditLog
from cockpit.db.base import utcnow
from cockpit.db.session import Database
from cockpit.errors import CockpitError, Conflict, ValidationFailed
from cockpit.models.accounting import UsageTracker
from cockpit.observability import (
    logcontext,
    observe_run,
    run_callbacks,
    set_queue_depth_source,
    traceparent,
)
from cockpit.runtime.events import RunEvents
from cockpit.runtime.execution import (
    Outcome,
    RunHandle,
    api_error,
    cancelled,
    execute,
)
from cockpit.runtime.notify import QUEUE, Notifier, run_key
from cockpit.runtime.queue import MAX_ATTEMPTS, Claim, RunQueue
from cockpit.runtime.records import RunRecord, ThreadRecord
from cockpit.runtime.run_control import RunControl
from cockpit.runtime.runspec import (
    MULTITASK_STRATEGIES,
    RUN_STATUSES,
    RunSpec,
    check_input,
    check_stream_modes,
    run_json,
)
from cockpit.runtime.threads import ThreadStore, checkpoint_key
from cockpit.tenancy.principal import Principal, Role
from cockpit.webhooks import RUN_COMPLETED, check_destination, enqueue

log = logging.getLogger(__name__)
_RUNS = cast(Table, RunRecord.__table__)
_T = TypeVar("_T")

ResumeGuard = Callable[[Principal, str, list[Interrupt]], None]
"""``guard(principal, thread_id, pending_interrupts)``: raises when the principal may not resume."""
GraphSource = Callable[[str, str, Principal], CompiledStateGraph[Any]]
"""``source(tenant_id, assistant_ref, principal)``: the compiled graph a queued run executes."""


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class RunManager(RunControl):
    def __init__(
        self,
        *,
        db: Database,
        threads: ThreadStore,
        timeout_s: float,
        audit: AuditLog,
        lease_s: float = 30.0,
        notifier: Notifier | None = None,
        poll_s: float = 0.5,
        max_claimed: int = 8,
    ) -> None:
        self._db = db
        self._audit = audit
        self._threads = threads
        self._timeout = timeout_s
        self._poll_s = poll_s
        self._max_claimed = max_claimed
        self.worker_id = worker_name()
        self.queue = RunQueue(db, lease_s=lease_s)
        self.notifier = notifier or Notifier()
        self.journal = RunEvents(db, self.notifier)
        self._active: dict[str, RunHandle] = {}
        self._loops: list[asyncio.Task[None]] = []
        self.resume_guard: ResumeGuard | None = None
        """Checks that a principal may decide the approvals a resume would answer."""
        self.graph_source: GraphSource | None = None

    # ---- lifecycle -----------------------------------------------------------------
    def recover(self, *, single_node: bool) -> int:
        """On a single node, runs left running by a previous server are continued now
        (their leases are lapsed on purpose); with several workers, leases lapse alone."""
        if not single_node:
            return 0
        with self._db.engine.begin() as conn:
            res = conn.execute(
                update(_RUNS)
                .where(_RUNS.c.status == "running")
                .values(lease_until=utcnow() - timedelta(seconds=1))
            )
        return int(res.rowcount or 0)

    async def refresh_thread_statuses(self) -> None:
        """After recovery: an idle thread whose checkpoint holds an interrupt is 'interrupted'."""
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

    async def start_worker(self) -> None:
        """Start this worker's queue loop and lease heartbeat."""
        await self.notifier.start()
        set_queue_depth_source(self.queue.depth)
        self._loops = [
            asyncio.create_task(self._queue_loop(), name="cockpit-run-queue"),
            asyncio.create_task(self._heartbeat(), name="cockpit-run-leases"),
        ]

    async def shutdown(self) -> None:
        """Stop: runs executing here are handed back to the queue, not failed."""
        for task in self._loops:
            task.cancel()
        for handle in list(self._active.values()):
            if handle.task and not handle.task.done():
                handle.cancel_reason = "shutdown"
                handle.task.cancel()
        for handle in list(self._active.values()):
            if handle.task is not None:
                with contextlib.suppress(BaseException):
                    await asyncio.wait_for(asyncio.shield(handle.task), timeout=5)
        for task in self._loops:
            with contextlib.suppress(BaseException):
                await task
        await self.notifier.stop()

    # ---- start ------------------------------------------------------------------
    async def start(
        self,
        principal: Principal,
        thread_id: str,
        spec: RunSpec,
        graph: CompiledStateGraph[Any] | None = None,
    ) -> RunHandle:
        """Create the run; start it here when its thread is free, else queue it."""
        tenant = principal.tenant_id
        thread = self._threads.get_record(tenant, thread_id, principal)
        if spec.multitask_strategy not in MULTITASK_STRATEGIES:
            raise ValidationFailed(
                f"multitask_strategy must be one of {list(MULTITASK_STRATEGIES)}",
                code="invalid_multitask_strategy",
                param="multitask_strategy",
            )
        if (spec.input is None) == (not spec.has_resume):
            raise ValidationFailed(
                "send exactly one of input or command.resume", code="invalid_run", param="input"
            )
        if spec.after_seconds < 0 or spec.after_seconds > 86_400 * 7:
            raise ValidationFailed(
                "after_seconds must be between 0 and 604800",
                code="invalid_value",
                param="after_seconds",
            )
        snap = await self._threads.state(tenant, thread_id)
        if spec.has_resume and not snap.interrupts and spec.multitask_strategy == "reject":
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
        if spec.webhook:
            self._check_webhook(principal, spec.webhook)
        now_ok = spec.after_seconds == 0 and graph is not None
        claimed = now_ok and self._threads.claim(tenant, thread_id)
        if not claimed and spec.after_seconds == 0 and spec.multitask_strategy == "reject":
            raise Conflict(
                "the thread already has a run in progress", code="thread_busy", param="thread_id"
            )
        try:
            rec = self._insert(principal, thread.thread_id, spec, claimed=claimed)
        except Exception:
            if claimed:
                self._threads.release(tenant, thread_id, thread.status, assistant_id=None)
            raise
        if not claimed and spec.multitask_strategy in ("interrupt", "rollback"):
            self._supersede(tenant, thread_id, rec, spec.multitask_strategy)
        self._audit.record(
            tenant,
            kind="run_started",
            actor=f"key:{principal.key_id}",
            subject=thread_id,
            payload={
                "run_id": rec.run_id,
                "assistant_id": spec.assistant_id,
                "resume": spec.has_resume,
                "queued": not claimed,
            },
        )
        handle = RunHandle(rec, principal, spec.stream_mode)
        if claimed and graph is not None:
            self._launch(handle, graph, Claim(tenant, rec.run_id, thread_id, 1, takeover=False))
        return handle

    def _check_webhook(self, principal: Principal, url: str) -> None:
        with self._db.tenant_session(principal.tenant_id) as s:
            check_destination(s, principal.tenant_id, url, merchant_id=principal.merchant_id)

    def _insert(
        self, principal: Principal, thread_id: str, spec: RunSpec, *, claimed: bool
    ) -> RunRecord:
        tenant = principal.tenant_id
        rec = RunRecord(
            run_id=str(uuid.uuid4()),
            thread_id=thread_id,
            assistant_id=spec.assistant_id,
            status="running" if claimed else "pending",
            meta=spec.metadata,
            kwargs={"stream_mode": spec.stream_mode, "resume": spec.has_resume},
            multitask_strategy=spec.multitask_strategy,
            payload={
                **spec.payload(),
                "traceparent": traceparent(),
                "request_id": logcontext.current().get("request_id"),
            },
            principal={
                "role": principal.role.value,
                "key_id": principal.key_id,
                "merchant_id": principal.merchant_id,
            },
            not_before=utcnow() + timedelta(seconds=spec.after_seconds)
            if spec.after_seconds
            else None,
            webhook=spec.webhook,
            attempt=1 if claimed else 0,
        )
        with self._db.tenant_session(tenant) as s:
            s.add(rec)
            if claimed:
                s.flush()
                s.execute(
                    update(RunRecord)
                    .where(RunRecord.run_id == rec.run_id)
                    .values(**self.queue.lease_values(self.worker_id))
                    .execution_options(synchronize_session=False)
                )
            else:
                self.notifier.notify_in(s, QUEUE)
        return rec

    def _supersede(self, tenant: str, thread_id: str, new: RunRecord, how: str) -> None:
        """``interrupt``/``rollback``: stop the thread's other runs so ``new`` runs next."""
        fork: str | None = None
        with self._db.tenant_session(tenant) as s:
            others = list(
                s.scalars(
                    select(RunRecord).where(
                        RunRecord.thread_id == thread_id,
                        RunRecord.status.in_(("pending", "running")),
                        RunRecord.run_id != new.run_id,
                    )
                )
            )
            for run in others:
                if run.status == "pending":
                    if how == "rollback":
                        s.delete(run)
                    else:
                        run.status = "interrupted"
                        run.error = api_error("run_cancelled", "superseded by a newer run")
                    continue
                run.cancel = how
                if how == "rollback" and run.start_checkpoint:
                    fork = run.start_checkpoint
            if fork:
                row = s.get(RunRecord, new.run_id)
                if row is not None:
                    row.payload = {**row.payload, "checkpoint_id": fork}
            self.notifier.notify_in(s, QUEUE)
        for run in others:
            handle = self._active.get(run.run_id)
            if handle is not None and handle.task is not None and run.status == "running":
                handle.cancel_reason = how
                handle.task.cancel()

    # ---- executing -----------------------------------------------------------------
    def _launch(self, handle: RunHandle, graph: CompiledStateGraph[Any], claim: Claim) -> None:
        handle.local = True
        self._active[handle.record.run_id] = handle
        handle.task = asyncio.create_task(self._run(handle, graph, claim))

    async def _run(self, handle: RunHandle, graph: CompiledStateGraph[Any], claim: Claim) -> None:
        rec, tenant = handle.record, handle.principal.tenant_id
        handle.stream = self.journal.open(tenant, rec.run_id)
        handle.publish("metadata", {"run_id": rec.run_id, "attempt": claim.attempt})
        tracker = UsageTracker(tenant_id=tenant, run_id=rec.run_id, thread_id=rec.thread_id)
        handle.usage = tracker
        config: RunnableConfig = {
            "configurable": {
                "thread_id": checkpoint_key(tenant, rec.thread_id),
                "public_thread_id": rec.thread_id,
                "tenant_id": tenant,
                "role": handle.principal.role.value,
                "key_id": handle.principal.key_id,
                "merchant_id": handle.principal.merchant_id,
                "run_id": rec.run_id,
                "assistant_id": rec.assistant_id,
            },
            "recursion_limit": 50,
            "callbacks": [tracker, *run_callbacks(run_id=rec.run_id, tenant_id=tenant)],
            "run_id": uuid.UUID(rec.run_id),
        }
        with observe_run(
            tenant_id=tenant,
            run_id=rec.run_id,
            thread_id=rec.thread_id,
            assistant_id=rec.assistant_id,
            traceparent=rec.payload.get("traceparent"),
            request_id=rec.payload.get("request_id"),
        ) as observed:
            try:
                payload = await self._payload(handle, graph, config, claim)
                outcome = await execute(handle, graph, payload, config, timeout_s=self._timeout)
            except asyncio.CancelledError:
                if handle.cancel_reason in ("lost", "shutdown"):
                    observed.status = "interrupted"
                    self._hand_back(handle)
                    return
                # Cancelled before the graph started (a cancel right after create).
                outcome = cancelled()
            except Exception:
                log.exception("run %s could not start", rec.run_id)
                outcome = Outcome(
                    "error",
                    error=api_error("run_failed", "the run could not start"),
                    http_status=500,
                )
            observed.status = outcome.status
            self._finish(handle, outcome)
        if (
            rec.payload.get("on_completion") == "delete"
            and outcome.status == "success"
            and handle.cancel_reason is None
        ):
            with contextlib.suppress(CockpitError):
                await self._threads.delete(tenant, rec.thread_id)

    async def _payload(
        self,
        handle: RunHandle,
        graph: CompiledStateGraph[Any],
        config: RunnableConfig,
        claim: Claim,
    ) -> Any:
        """The input of this attempt: the request's on a first start, or nothing — continue
        from the checkpoint — when an earlier attempt already got the thread moving."""
        rec = handle.record
        p = rec.payload
        original: Any = Command(resume=p.get("resume")) if p.get("has_resume") else p.get("input")
        snap = await graph.aget_state(config)
        current = str((snap.config or {}).get("configurable", {}).get("checkpoint_id") or "")
        if rec.start_checkpoint is None:
            rec.start_checkpoint = current
            with self._db.tenant_session(handle.principal.tenant_id) as s:
                s.execute(
                    update(RunRecord)
                    .where(RunRecord.run_id == rec.run_id, RunRecord.worker_id == self.worker_id)
                    .values(start_checkpoint=current)
                    .execution_options(synchronize_session=False)
                )
        elif current != rec.start_checkpoint:
            self._audit.record(
                handle.principal.tenant_id,
                kind="run_continued",
                actor=f"worker:{self.worker_id}",
                subject=rec.thread_id,
                payload={"run_id": rec.run_id, "attempt": claim.attempt},
            )
            return None
        if p.get("checkpoint_id"):
            config["configurable"]["checkpoint_id"] = p["checkpoint_id"]
        return original

    def _finish(self, handle: RunHandle, outcome: Outcome) -> None:
        """Record the end — status, thread, usage, webhook — in one transaction, only while
        this worker still holds the run (synchronous: nothing interleaves with it)."""
        rec, tenant = handle.record, handle.principal.tenant_id
        if outcome.error is not None:
            handle.publish(
                "error", {"error": outcome.error["code"], "message": outcome.error["message"]}
            )
        if handle.cancel_reason == "rollback":
            self._roll_back(handle)
            return
        thread_status = {"success": "idle", "interrupted": "interrupted"}.get(
            outcome.status, "error"
        )
        if outcome.status == "interrupted" and outcome.error is not None:
            thread_status = "idle"
        usage = self._save_usage(handle)
        handle.flush_messages()
        assert handle.stream is not None
        with self._db.tenant_session(tenant) as s:
            kwargs = {**rec.kwargs, "error_status": outcome.http_status}
            res = s.execute(
                update(RunRecord)
                .where(RunRecord.run_id == rec.run_id, RunRecord.worker_id == self.worker_id)
                .values(
                    status=outcome.status,
                    error=outcome.error,
                    usage=usage,
                    kwargs=kwargs,
                    cancel=None,
                    updated_at=utcnow(),
                )
                .execution_options(synchronize_session=False)
            )
            held = getattr(res, "rowcount", 0)
            if not held:
                handle.cancel_reason = "lost"
            else:
                s.execute(
                    update(ThreadRecord)
                    .where(ThreadRecord.thread_id == rec.thread_id)
                    .values(
                        status=thread_status, assistant_id=rec.assistant_id, updated_at=utcnow()
                    )
                    .execution_options(synchronize_session=False)
                )
                rec.status, rec.error, rec.usage = outcome.status, outcome.error, usage
                if rec.webhook:
                    # Told in the same transaction that records the end: never lost, never twice.
                    enqueue(
                        s,
                        tenant,
                        RUN_COMPLETED.name,
                        run_json(rec),
                        merchant_id=handle.principal.merchant_id,
                        url=rec.webhook,
                    )
                self.journal.end_in(s, handle.stream, status=outcome.status)
                self.notifier.notify_in(s, QUEUE)
        if handle.cancel_reason == "lost":
            self._hand_back(handle)
            return
        self._audit.record(
            tenant,
            kind="run_finished",
            actor=f"key:{handle.principal.key_id}",
            subject=rec.thread_id,
            payload={"run_id": rec.run_id, "status": outcome.status, "error": outcome.error},
        )
        self.journal.release(handle.stream)
        handle.settle(outcome)
        self._active.pop(rec.run_id, None)

    def _roll_back(self, handle: RunHandle) -> None:
        """A run superseded by ``rollback`` leaves no trace but the audit log."""
        rec, tenant = handle.record, handle.principal.tenant_id
        with self._db.tenant_session(tenant) as s:
            s.execute(
                delete(RunRecord)
                .where(RunRecord.run_id == rec.run_id, RunRecord.worker_id == self.worker_id)
                .execution_options(synchronize_session=False)
            )
            s.execute(
                update(ThreadRecord)
                .where(ThreadRecord.thread_id == rec.thread_id)
                .values(status="idle", updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            self.notifier.notify_in(s, QUEUE)
            self.notifier.notify_in(s, run_key(rec.run_id))
        self._audit.record(
            tenant,
            kind="run_rolled_back",
            actor=f"key:{handle.principal.key_id}",
            subject=rec.thread_id,
            payload={"run_id": rec.run_id},
        )
        assert handle.stream is not None
        self.journal.close(handle.stream, status="interrupted")
        self.journal.drop(tenant, [rec.run_id])
        handle.settle(
            Outcome("interrupted", error=api_error("run_cancelled", "rolled back"), http_status=409)
        )
        self._active.pop(rec.run_id, None)

    def _hand_back(self, handle: RunHandle) -> None:
        """This worker stops executing the run; whoever claims it next continues it."""
        rec = handle.record
        if handle.cancel_reason == "shutdown":
            with self._db.engine.begin() as conn:
                conn.execute(
                    update(_RUNS)
                    .where(
                        _RUNS.c.run_id == rec.run_id,
                        _RUNS.c.worker_id == self.worker_id,
                        _RUNS.c.status == "running",
                    )
                    .values(lease_until=utcnow() - timedelta(seconds=1))
                )
        if handle.stream is not None:
            self.journal.abandon(handle.stream)
        self._active.pop(rec.run_id, None)

    def _save_usage(self, handle: RunHandle) -> dict[str, Any] | None:
        if handle.usage is None:
            return None
        try:
            handle.usage.save(self._db)
            return handle.usage.summary().to_dict()
        except Exception:
            log.exception("usage for run %s could not be saved", handle.record.run_id)
            return None

    # ---- the queue ------------------------------------------------------------------
    async def _queue_loop(self) -> None:
        while True:
            waiter = self.notifier.waiter(QUEUE)
            claimed = sum(1 for h in self._active.values() if h.local)
            claim = None
            if claimed < self._max_claimed:
                try:
                    claim = await self._background(self.queue.claim, self.worker_id)
                except Exception:
                    log.exception("claiming from the run queue failed")
            if claim is None:
                await waiter.wait(timeout=self._poll_s)
                continue
            try:
                await self._start_claimed(claim)
            except Exception:
                log.exception("claimed run %s could not start", claim.run_id)

    async def _start_claimed(self, claim: Claim) -> None:
        with self._db.tenant_session(claim.tenant_id) as s:
            rec = s.scalars(select(RunRecord).where(RunRecord.run_id == claim.run_id)).one()
        who = rec.principal
        principal = Principal(
            tenant_id=claim.tenant_id,
            role=Role(who.get("role", "admin")),
            key_id=str(who.get("key_id", "system")),
            merchant_id=who.get("merchant_id"),
        )
        handle = RunHandle(rec, principal, list(rec.kwargs.get("stream_mode") or ["values"]))
        if claim.takeover:
            log.warning("continuing run %s (attempt %d)", rec.run_id, claim.attempt)
        if rec.cancel:
            # Asked to stop while its worker was gone: it ends here, as it would have there.
            handle.cancel_reason = rec.cancel
            self._end_unstarted(handle, cancelled())
            return
        if claim.attempt > MAX_ATTEMPTS:
            lost = api_error("run_lost", f"the run's worker stopped {MAX_ATTEMPTS} times")
            self._end_unstarted(handle, Outcome("error", error=lost, http_status=500))
            return
        try:
            if self.graph_source is None:
                raise RuntimeError("no graph source")
            graph = self.graph_source(claim.tenant_id, rec.assistant_id, principal)
        except CockpitError as exc:
            self._end_unstarted(
                handle, Outcome("error", error=exc.to_dict(), http_status=exc.status)
            )
            return
        self._launch(handle, graph, claim)

    def _end_unstarted(self, handle: RunHandle, outcome: Outcome) -> None:
        """End a claimed run without executing it."""
        handle.stream = self.journal.open(handle.principal.tenant_id, handle.record.run_id)
        handle.local = True
        self._active[handle.record.run_id] = handle
        self._finish(handle, outcome)

    async def _background(self, fn: Callable[..., _T], *args: Any) -> _T:
        """Queue work in a worker thread on PostgreSQL, so it never blocks the loop the runs'
        own requests use; on SQLite on the loop, one writer at a time (from another thread it
        would race the loop's writes for the database lock)."""
        if self._db.dialect == "sqlite":
            return fn(*args)
        return await asyncio.to_thread(fn, *args)

    async def _heartbeat(self) -> None:
        every = max(0.2, self.queue.lease_s / 3)
        while True:
            waiter = self.notifier.waiter(QUEUE)
            running = {
                rid: h
                for rid, h in self._active.items()
                if h.task is not None and not h.task.done() and h.cancel_reason is None
            }
            try:
                held, cancels = await self._background(
                    self.queue.renew, self.worker_id, list(running)
                )
            except Exception:
                log.exception("renewing run leases failed")
                held, cancels = set(running), {}
            for rid, handle in running.items():
                reason = "lost" if rid not in held else cancels.get(rid)
                task = handle.task if self._active.get(rid) is handle else None
                # A run that ended while its lease was renewed is not stopped after the fact.
                if reason and task is not None and not task.done():
                    handle.cancel_reason = reason
                    task.cancel()
            await waiter.wait(timeout=every)


__all__ = [
    "RUN_STATUSES",
    "GraphSource",
    "ResumeGuard",
    "RunHandle",
    "RunManager",
    "RunSpec",
    "check_input",
    "check_stream_modes",
    "run_json",
]
