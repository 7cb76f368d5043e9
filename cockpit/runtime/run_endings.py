"""How an attempt of a run ends on this worker: its end recorded, rolled back, or handed back.

A run's end — its status, its thread's, usage, the webhook and the stream's last event —
is written in one transaction, and only while this worker still holds the run's lease. A
run whose lease was lost, or that this worker lets go of on shutdown, is handed back to
the queue: whoever claims it next continues it from the thread's checkpoint.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import Table, delete, update

from cockpit.audit.log import AuditLog
from cockpit.db.base import utcnow
from cockpit.db.session import Database
from cockpit.runtime.events import RunEvents
from cockpit.runtime.execution import Outcome, RunHandle, api_error
from cockpit.runtime.notify import QUEUE, Notifier, run_key
from cockpit.runtime.records import RunRecord, ThreadRecord
from cockpit.runtime.runspec import run_json
from cockpit.webhooks import RUN_COMPLETED, enqueue

log = logging.getLogger(__name__)
_RUNS = cast(Table, RunRecord.__table__)


class RunEndings:
    """The end of each attempt of the run manager's runs (it owns these attributes)."""

    _db: Database
    _audit: AuditLog
    _active: dict[str, RunHandle]
    worker_id: str
    journal: RunEvents
    notifier: Notifier

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


__all__ = ["RunEndings"]
