"""Reading and controlling runs, wherever they execute: get, list, wait, join, cancel, delete,
follow a stream. :class:`~cockpit.runtime.runs.RunManager` inherits this; starting runs
stays there, and executing them is in :mod:`~cockpit.runtime.run_worker`,
:mod:`~cockpit.runtime.run_attempts` and :mod:`~cockpit.runtime.run_endings`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import delete, select

from cockpit.db.session import Database
from cockpit.errors import Conflict, NotFound, ValidationFailed
from cockpit.runtime.events import FINAL_STATUSES, RunEvents
from cockpit.runtime.execution import Outcome, RunHandle, api_error, error_body
from cockpit.runtime.notify import QUEUE, Notifier, run_key
from cockpit.runtime.queue import RunQueue
from cockpit.runtime.records import RunRecord
from cockpit.runtime.runspec import RUN_STATUSES
from cockpit.runtime.serialize import to_json
from cockpit.runtime.threads import ThreadStore
from cockpit.runtime.writer import db_work
from cockpit.tenancy.principal import Principal


class RunControl:
    """The read and control half of the run manager (it owns these attributes)."""

    _db: Database
    _threads: ThreadStore
    _active: dict[str, RunHandle]
    journal: RunEvents
    notifier: Notifier
    queue: RunQueue

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
        """The run's handle when it executes in this process."""
        return self._active.get(run_id)

    def _row(self, tenant: str, run_id: str) -> RunRecord | None:
        with self._db.tenant_session(tenant) as s:
            return s.scalars(select(RunRecord).where(RunRecord.run_id == run_id)).one_or_none()

    async def finished(self, handle: RunHandle) -> tuple[dict[str, Any], int]:
        """Wait for the run's end, wherever it executes: (body for ``wait``, HTTP status)."""
        tenant, run_id = handle.principal.tenant_id, handle.record.run_id
        while True:
            if handle.done.is_set():
                if handle.error is not None:
                    return handle.error, handle.error_status
                return handle.final, 200
            if self._active.get(run_id) is handle:
                # Executing here: its end sets ``done``. Every stored batch of its events also
                # wakes ``run_key`` waiters, and reading the row on each would cost a round trip
                # per batch. Should the run move to another worker, it leaves ``_active``.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(handle.done.wait(), timeout=0.5)
                continue
            waiter = self.notifier.waiter(run_key(run_id))
            row = await asyncio.to_thread(self._row, tenant, run_id)
            if row is None:
                return api_error("run_cancelled", "the run was rolled back"), 409
            if row.status in FINAL_STATUSES and run_id not in self._active:
                if row.error is not None:
                    return row.error, int(row.kwargs.get("error_status") or 500)
                snap = await self._threads.state(tenant, row.thread_id)
                final = to_json(snap.values)
                if snap.interrupts:
                    final["__interrupt__"] = to_json(list(snap.interrupts))
                return final, 200
            await waiter.wait(timeout=0.5)

    async def join(
        self, principal: Principal, thread_id: str, run_id: str
    ) -> tuple[dict[str, Any], int]:
        """The thread's values once the run ended (its error body if it failed)."""
        rec = await asyncio.to_thread(self.get, principal, thread_id, run_id)
        handle = self._active.get(rec.run_id) or RunHandle(rec, principal, [])
        body, status = await self.finished(handle)
        if status != 200:
            return error_body(Outcome("error", error=body)), 200
        return body, 200

    async def cancel(
        self, principal: Principal, thread_id: str, run_id: str, *, wait: bool, action: str
    ) -> None:
        rec = await asyncio.to_thread(self.get, principal, thread_id, run_id)
        if await db_work(self._db, self._mark_cancelled, principal.tenant_id, rec.run_id, action):
            self._stop_here(rec.run_id, action)
        if wait and rec.status in ("pending", "running"):
            await self.finished(self._active.get(rec.run_id) or RunHandle(rec, principal, []))

    def _cancel(self, tenant: str, rec: RunRecord, action: str) -> None:
        if self._mark_cancelled(tenant, rec.run_id, action):
            self._stop_here(rec.run_id, action)

    def _mark_cancelled(self, tenant: str, run_id: str, action: str) -> bool:
        """The database's part of a cancel: a pending run ends (or goes, on ``rollback``), a
        running one is flagged for its worker. True when it was running."""
        with self._db.tenant_session(tenant) as s:
            row = s.scalars(select(RunRecord).where(RunRecord.run_id == run_id)).one_or_none()
            if row is None or row.status not in ("pending", "running"):
                return False
            if row.status == "pending":
                if action == "rollback":
                    s.delete(row)
                else:
                    row.status = "interrupted"
                    row.error = api_error("run_cancelled", "run was cancelled")
                    row.kwargs = {**row.kwargs, "error_status": 409}
                self.notifier.notify_in(s, run_key(run_id))
                return False
            row.cancel = action
            self.notifier.notify_in(s, QUEUE)
        return True

    def _stop_here(self, run_id: str, action: str) -> None:
        """Stop the run now if it executes on this worker (on the event loop: it owns the task;
        elsewhere the heartbeat finds the flag)."""
        handle = self._active.get(run_id)
        if handle is not None and handle.task is not None and not handle.task.done():
            handle.cancel_reason = action
            handle.task.cancel()

    async def cancel_many(
        self,
        principal: Principal,
        *,
        thread_id: str | None,
        run_ids: Sequence[str] | None,
        status: str,
        action: str,
    ) -> int:
        """Cancel the caller's runs by thread, ids or status (``pending``/``running``/``all``)."""
        ids = await db_work(self._db, self._cancellable, principal, thread_id, run_ids, status)
        running = await db_work(self._db, self._mark_all, principal.tenant_id, ids, action)
        for run_id in running:
            self._stop_here(run_id, action)
        return len(ids)

    def _cancellable(
        self,
        principal: Principal,
        thread_id: str | None,
        run_ids: Sequence[str] | None,
        status: str,
    ) -> Sequence[str]:
        """The runs :meth:`cancel_many` names that the caller may see, oldest first."""
        wanted = ("pending", "running") if status == "all" else (status,)
        if thread_id is not None:
            self._threads.get_record(principal.tenant_id, thread_id, principal)
        with self._db.tenant_session(principal.tenant_id) as s:
            q = select(RunRecord).where(RunRecord.status.in_(wanted))
            if thread_id is not None:
                q = q.where(RunRecord.thread_id == thread_id)
            if run_ids:
                q = q.where(RunRecord.run_id.in_(run_ids))
            rows = list(s.scalars(q))
        visible = {
            t.thread_id
            for t in self._threads.search(
                principal.tenant_id,
                metadata=None,
                status=None,
                limit=1_000_000,
                offset=0,
                viewer=principal,
            )
        }
        return [rec.run_id for rec in rows if rec.thread_id in visible]

    def _mark_all(self, tenant: str, run_ids: Sequence[str], action: str) -> Sequence[str]:
        """:meth:`_mark_cancelled` for each run; the ones that were running."""
        return [r for r in run_ids if self._mark_cancelled(tenant, r, action)]

    def delete(self, principal: Principal, thread_id: str, run_id: str) -> None:
        rec = self.get(principal, thread_id, run_id)
        if rec.status in ("pending", "running"):
            raise Conflict(
                "the run is still active; cancel it first", code="run_active", param="run_id"
            )
        with self._db.tenant_session(principal.tenant_id) as s:
            s.execute(delete(RunRecord).where(RunRecord.run_id == rec.run_id))
        self.journal.drop(principal.tenant_id, [rec.run_id])

    async def events(
        self, handle: RunHandle, *, after: int | None, cancel_on_disconnect: bool
    ) -> AsyncIterator[tuple[int, str, Any]]:
        """The run's events after ``after`` (all when None), from wherever it executes."""
        tenant, run_id = handle.principal.tenant_id, handle.record.run_id

        def status() -> str | None:
            row = self._row(tenant, run_id)
            return None if row is None else row.status

        completed = False
        try:
            async for item in self.journal.follow(tenant, run_id, after=after or 0, status=status):
                yield item
            completed = True
        finally:
            if not completed and cancel_on_disconnect:
                with contextlib.suppress(Exception):
                    self._cancel(tenant, handle.record, "interrupt")

    def depth(self) -> dict[str, int]:
        return self.queue.depth()


__all__ = ["RunControl"]
