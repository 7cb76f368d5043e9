"""One attempt of a run on this worker: its config, its input, the observed graph loop.

A run's first attempt starts from the request's input. A later one — the run was
claimed again after its worker stopped — continues from the thread's last checkpoint
once an earlier attempt got the thread moving, so no step runs twice. How an attempt
ends is :mod:`cockpit.runtime.run_endings`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command
from sqlalchemy import update

from cockpit.errors import CockpitError
from cockpit.models.accounting import UsageTracker
from cockpit.observability import observe_run, run_callbacks
from cockpit.runtime.execution import Outcome, RunHandle, api_error, cancelled, execute
from cockpit.runtime.queue import Claim
from cockpit.runtime.records import RunRecord
from cockpit.runtime.run_endings import RunEndings
from cockpit.runtime.threads import ThreadStore, checkpoint_key
from cockpit.runtime.writer import db_work

log = logging.getLogger(__name__)


class RunAttempts(RunEndings):
    """Executing the run manager's runs on this worker (it owns these attributes)."""

    _threads: ThreadStore
    _timeout: float

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
            await db_work(
                self._db, self._store_start, handle.principal.tenant_id, rec.run_id, current
            )
        elif current != rec.start_checkpoint:
            await db_work(
                self._db,
                self._audit.record,
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

    def _store_start(self, tenant_id: str, run_id: str, checkpoint: str) -> None:
        """The checkpoint this run started from (a later attempt continues past it)."""
        with self._db.tenant_session(tenant_id) as s:
            s.execute(
                update(RunRecord)
                .where(RunRecord.run_id == run_id, RunRecord.worker_id == self.worker_id)
                .values(start_checkpoint=checkpoint)
                .execution_options(synchronize_session=False)
            )


__all__ = ["RunAttempts"]
