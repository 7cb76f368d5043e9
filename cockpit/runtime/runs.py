"""Runs: start, queue, execute, stream, wait, join and cancel — on any of N workers.

Every run is a row in ``runs`` (:mod:`cockpit.runtime.queue`). A run whose thread is free
starts at once on the worker that received it, under a lease; a run that must wait (its
thread is busy and it asked to ``enqueue``, ``interrupt`` or ``rollback``, or it was
created with ``after_seconds``, or by a cron) waits ``pending`` until some worker's
queue loop claims it. A worker renews its leases while it executes; when one dies,
its leases lapse and another worker continues each of its runs from the thread's last
checkpoint. Agent writes are idempotent per thread and tool call, so a continued run
never repeats a payment, a refund or any other write.

:class:`RunManager` starts runs — here, or queued — and is assembled from one part per
job: reading and controlling runs (:mod:`cockpit.runtime.run_control`), this worker's
queue loop and lease heartbeat (:mod:`cockpit.runtime.run_worker`), executing one
attempt (:mod:`cockpit.runtime.run_attempts`) and recording how it ended
(:mod:`cockpit.runtime.run_endings`).

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
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Interrupt
from sqlalchemy import select, update

from cockpit.audit.log import AuditLog
from cockpit.db.base import utcnow
from cockpit.db.session import Database
from cockpit.errors import Conflict, ValidationFailed
from cockpit.observability import logcontext, traceparent
from cockpit.runtime.events import RunEvents
from cockpit.runtime.execution import RunHandle, api_error
from cockpit.runtime.notify import QUEUE, Notifier
from cockpit.runtime.queue import Claim, RunQueue
from cockpit.runtime.records import RunRecord, ThreadRecord
from cockpit.runtime.run_control import RunControl
from cockpit.runtime.run_worker import GraphSource, RunWorker, worker_name
from cockpit.runtime.runspec import (
    MULTITASK_STRATEGIES,
    RUN_STATUSES,
    RunSpec,
    check_input,
    check_stream_modes,
    run_json,
)
from cockpit.runtime.threads import ThreadStore
from cockpit.runtime.writer import db_work
from cockpit.tenancy.principal import Principal
from cockpit.webhooks import check_destination

ResumeGuard = Callable[[Principal, str, list[Interrupt]], None]
"""``guard(principal, thread_id, pending_interrupts)``: raises when the principal may not resume."""


class RunManager(RunControl, RunWorker):
    """Starts runs; controls, queues, executes and ends them through its parts."""

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

    # ---- start ------------------------------------------------------------------
    async def start(
        self,
        principal: Principal,
        thread_id: str,
        spec: RunSpec,
        graph: CompiledStateGraph[Any] | None = None,
    ) -> RunHandle:
        """Create the run; start it here when its thread is free, else queue it.

        Its database work goes where :mod:`cockpit.runtime.writer` says (beside the loop on
        PostgreSQL); the run joins ``_active`` only once its row, claim and audit are stored."""
        tenant = principal.tenant_id
        thread = await db_work(self._db, self._threads.get_record, tenant, thread_id, principal)
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
            await db_work(self._db, self.resume_guard, principal, thread_id, list(snap.interrupts))
        if spec.input is not None and snap.interrupts:
            raise Conflict(
                "the thread is waiting for an approval; resume it with command.resume",
                code="thread_interrupted",
                param="input",
            )
        if spec.webhook:
            await db_work(self._db, self._check_webhook, principal, spec.webhook)
        now_ok = spec.after_seconds == 0 and graph is not None
        rec, claimed = await db_work(self._db, self._record, principal, thread, spec, now_ok)
        handle = RunHandle(rec, principal, spec.stream_mode)
        if claimed and graph is not None:
            self._launch(handle, graph, Claim(tenant, rec.run_id, thread_id, 1, takeover=False))
        return handle

    def _record(
        self, principal: Principal, thread: ThreadRecord, spec: RunSpec, now_ok: bool
    ) -> tuple[RunRecord, bool]:
        """Claim the thread if the run may start now, store the run (superseding the thread's
        others when asked) and audit it: the run, and whether it holds the thread. In one call,
        so no await falls between the claim and the run row; a failure hands the thread back."""
        tenant, thread_id = principal.tenant_id, thread.thread_id
        claimed = now_ok and self._threads.claim(tenant, thread_id)
        if not claimed and spec.after_seconds == 0 and spec.multitask_strategy == "reject":
            raise Conflict(
                "the thread already has a run in progress", code="thread_busy", param="thread_id"
            )
        try:
            rec = self._insert(principal, thread_id, spec, claimed=claimed)
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
        return rec, claimed

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
