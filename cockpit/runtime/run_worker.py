"""This worker's part in the shared run queue: claim due runs, keep their leases, let go.

The queue loop claims what :mod:`cockpit.runtime.queue` says is due — ``pending`` runs
whose time has come, ``running`` runs whose lease lapsed — up to ``max_claimed`` at
once, and starts each with the graph :data:`GraphSource` gives. The heartbeat renews
the leases of the runs executing here and stops any whose lease was lost or that was
cancelled on another worker. On shutdown the runs executing here are handed back to the
queue, not failed; after a restart of a single node they are continued at once.
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
from typing import Any, cast

from langgraph.graph.state import CompiledStateGraph
from sqlalchemy import Table, select, update

from cockpit.db.base import utcnow
from cockpit.errors import CockpitError
from cockpit.observability import set_queue_depth_source
from cockpit.runtime.execution import Outcome, RunHandle, api_error, cancelled
from cockpit.runtime.notify import QUEUE
from cockpit.runtime.queue import MAX_ATTEMPTS, Claim, RunQueue
from cockpit.runtime.records import RunRecord, ThreadRecord
from cockpit.runtime.run_attempts import RunAttempts
from cockpit.runtime.writer import db_work
from cockpit.tenancy.principal import Principal, Role

log = logging.getLogger(__name__)
_RUNS = cast(Table, RunRecord.__table__)

GraphSource = Callable[[str, str, Principal], CompiledStateGraph[Any]]
"""``source(tenant_id, assistant_ref, principal)``: the compiled graph a queued run executes."""


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class RunWorker(RunAttempts):
    """The run manager's queue loop and lease heartbeat (it owns these attributes)."""

    queue: RunQueue
    graph_source: GraphSource | None
    _loops: list[asyncio.Task[None]]
    _poll_s: float
    _max_claimed: int

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

    # ---- the queue ------------------------------------------------------------------
    async def _queue_loop(self) -> None:
        while True:
            waiter = self.notifier.waiter(QUEUE)
            claimed = sum(1 for h in self._active.values() if h.local)
            claim = None
            if claimed < self._max_claimed:
                try:
                    claim = await db_work(self._db, self.queue.claim, self.worker_id)
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
        rec = await db_work(self._db, self._claimed_record, claim)
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
            graph = await db_work(
                self._db, self.graph_source, claim.tenant_id, rec.assistant_id, principal
            )
        except CockpitError as exc:
            self._end_unstarted(
                handle, Outcome("error", error=exc.to_dict(), http_status=exc.status)
            )
            return
        self._launch(handle, graph, claim)

    def _claimed_record(self, claim: Claim) -> RunRecord:
        with self._db.tenant_session(claim.tenant_id) as s:
            return s.scalars(select(RunRecord).where(RunRecord.run_id == claim.run_id)).one()

    def _end_unstarted(self, handle: RunHandle, outcome: Outcome) -> None:
        """End a claimed run without executing it."""
        handle.stream = self.journal.open(handle.principal.tenant_id, handle.record.run_id)
        handle.local = True
        self._active[handle.record.run_id] = handle
        self._finish(handle, outcome)

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
                held, cancels = await db_work(
                    self._db, self.queue.renew, self.worker_id, list(running)
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


__all__ = ["GraphSource", "RunWorker", "worker_name"]
