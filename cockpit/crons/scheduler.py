"""The cron scheduler: claims due crons across tenants and starts their runs.

Every worker may run one; each fire still happens once. A fire is *claimed* by moving the
cron's ``next_run_date`` past now in the same transaction that finds it due (rows locked
with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite takes its write lock first), so a
second scheduler either skips the locked row or reads the moved date. Missed fires (the
server was down) are not replayed one by one: a due cron fires once and moves on.

A fire runs as the cron's owner key, re-read from the key table each time: a revoked key,
or one whose role the assistant no longer admits, gets the fire refused and recorded
(``last_status: failed``), never run with other rights. A busy thread records a skipped
fire. A worker that dies between the claim and the start loses that one fire (at most once).

This module must never start a run any other way than ``Runtime.start_run``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from cockpit.crons.models import CronRecord
from cockpit.crons.service import upcoming
from cockpit.db.base import utcnow
from cockpit.db.session import Database
from cockpit.errors import CockpitError, Conflict, InternalError, PermissionDenied
from cockpit.idempotency import lock_writes
from cockpit.runtime.records import RunRecord
from cockpit.runtime.runs import RunHandle, RunSpec
from cockpit.runtime.service import Runtime
from cockpit.tenancy.models import ApiKey
from cockpit.tenancy.principal import Principal, Role

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Claim:
    """What a fire needs from its cron row, read in the claiming transaction."""

    tenant_id: str
    cron_id: str
    thread_id: str | None
    assistant_id: str
    payload: dict[str, Any]
    meta: dict[str, Any]
    owner_key_id: str
    on_run_completed: str | None


@dataclass
class Fire:
    """One claimed fire and how it went."""

    tenant_id: str
    cron_id: str
    status: str
    """``started``, ``skipped`` (the thread was busy) or ``failed`` (refused or broken)."""
    thread_id: str | None = None
    run_id: str | None = None
    error: dict[str, Any] | None = None
    handle: RunHandle | None = field(default=None, repr=False)
    """The run in this process (``started`` only): tests and callers may await ``done``."""


def owner_principal(db: Database, tenant_id: str, key_id: str) -> Principal:
    """The principal the cron's key stands for now; refused when the key is gone or revoked."""
    with db.system_session() as s:
        row = s.get(ApiKey, key_id)
        if row is None or row.tenant_id != tenant_id or row.revoked_at is not None:
            raise PermissionDenied(
                "the key that set this cron is revoked; set the cron again with a valid key",
                code="cron_owner_revoked",
                param="cron_id",
            )
        return Principal(row.tenant_id, Role(row.role), row.id, row.merchant_id)


class CronScheduler:
    """Polls for due crons every ``poll_s`` seconds; :meth:`tick` does one pass."""

    def __init__(
        self, db: Database, runtime: Runtime, *, poll_s: float = 10.0, batch: int = 50
    ) -> None:
        self._db = db
        self._runtime = runtime
        self.poll_s = poll_s
        self.batch = batch
        self._task: asyncio.Task[None] | None = None
        self._followups: set[asyncio.Task[None]] = set()

    # ---- lifecycle -----------------------------------------------------------------------
    def start(self) -> None:
        """Poll in the background (no-op when ``poll_s`` is 0: the operator turned it off)."""
        if self.poll_s > 0 and self._task is None:
            self._task = asyncio.create_task(self._loop(), name="cron-scheduler")

    async def stop(self) -> None:
        """Stop polling; runs already started are the run manager's to stop (a stateless
        fire's thread whose run outlives the server is then kept, not deleted)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for task in list(self._followups):
            task.cancel()
        await asyncio.gather(*self._followups, return_exceptions=True)

    async def settle(self) -> None:
        """Wait until every started fire's run has ended and been recorded."""
        while self._followups:
            await asyncio.gather(*list(self._followups), return_exceptions=True)

    async def _loop(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:
                log.exception("cron scheduler pass failed; trying again next poll")
            await asyncio.sleep(self.poll_s)

    # ---- one pass ------------------------------------------------------------------------
    async def tick(self, *, now: datetime | None = None) -> list[Fire]:
        """Claim and start every cron due at ``now`` (default: the platform clock)."""
        at = now or utcnow()
        fires = []
        for tenant_id in self._tenants_with_due(at):
            for claim in self._claim(tenant_id, at):
                fire = await self._fire(claim)
                self._record(fire, at)
                fires.append(fire)
        return fires

    def _tenants_with_due(self, at: datetime) -> list[str]:
        # The one cross-tenant read: which tenants have a due cron (ids only, no cron data).
        table = CronRecord.__table__
        stmt = (
            select(table.c.tenant_id)
            .where(table.c.enabled.is_(True), table.c.next_run_date <= at)
            .distinct()
        )
        with self._db.engine.connect() as conn:
            return sorted(str(t) for t in conn.execute(stmt).scalars())

    def _claim(self, tenant_id: str, at: datetime) -> list[_Claim]:
        with self._db.tenant_session(tenant_id) as s:
            lock_writes(s)
            stmt = (
                select(CronRecord)
                .where(CronRecord.enabled.is_(True), CronRecord.next_run_date <= at)
                .order_by(CronRecord.next_run_date, CronRecord.cron_id)
                .limit(self.batch)
            )
            if self._db.dialect == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            claims = []
            for rec in s.scalars(stmt):
                try:
                    rec.next_run_date = upcoming(rec, at)
                except CockpitError as exc:
                    # A schedule that no longer parses (a zone gone from the system's tz
                    # data) stops this cron, visibly, instead of failing every pass.
                    rec.next_run_date, rec.last_status = None, "failed"
                    rec.last_error = exc.to_dict()
                    continue
                rec.fires += 1
                rec.last_fired_at = at
                claims.append(
                    _Claim(
                        tenant_id=tenant_id,
                        cron_id=rec.cron_id,
                        thread_id=rec.thread_id,
                        assistant_id=rec.assistant_id,
                        payload=dict(rec.payload),
                        meta=dict(rec.meta),
                        owner_key_id=rec.owner_key_id,
                        on_run_completed=rec.on_run_completed,
                    )
                )
        return claims

    async def _fire(self, claim: _Claim) -> Fire:
        fire = Fire(claim.tenant_id, claim.cron_id, "failed", thread_id=claim.thread_id)
        created: str | None = None
        try:
            principal = owner_principal(self._db, claim.tenant_id, claim.owner_key_id)
            thread_id = claim.thread_id
            if thread_id is None:
                # Refuse before making a thread the fire would only leave behind.
                self._runtime.graph_for(claim.tenant_id, claim.assistant_id, principal)
                thread = self._runtime.threads.create(
                    claim.tenant_id, owner=principal, metadata={"cron_id": claim.cron_id}
                )
                thread_id = created = fire.thread_id = thread.thread_id
            handle = await self._runtime.start_run(principal, thread_id, _spec(claim))
        except CockpitError as exc:
            busy = isinstance(exc, Conflict) and exc.code == "thread_busy"
            fire.status, fire.error = ("skipped" if busy else "failed"), exc.to_dict()
        except Exception:
            log.exception("cron %s could not start its run", claim.cron_id)
            fire.error = InternalError(
                "the cron's run could not be started; see the server log", code="cron_fire_failed"
            ).to_dict()
        else:
            fire.status, fire.run_id, fire.handle = "started", handle.record.run_id, handle
            task = asyncio.create_task(self._after_run(claim, handle))
            self._followups.add(task)
            task.add_done_callback(self._followups.discard)
            return fire
        if created is not None:
            await self._drop_thread(claim.tenant_id, created)
        return fire

    async def _after_run(self, claim: _Claim, handle: RunHandle) -> None:
        """When the run ends, wherever it executes: record its status on the cron."""
        body, status = await self._runtime.runs.finished(handle)
        with self._db.tenant_session(claim.tenant_id) as s:
            run = s.get(RunRecord, handle.record.run_id)
            rec = s.get(CronRecord, claim.cron_id)
            if rec is not None and rec.last_run_id == handle.record.run_id:
                # A stateless run on success takes its thread (and row) with it.
                rec.last_status = run.status if run is not None else "success"
                rec.last_error = body if status != 200 else None

    async def _drop_thread(self, tenant_id: str, thread_id: str) -> None:
        try:
            await self._runtime.threads.delete(tenant_id, thread_id)
        except Exception:
            # Clean-up only: the fire's outcome is already recorded; a kept thread is harmless.
            log.warning("cron thread %s could not be deleted", thread_id, exc_info=True)

    def _record(self, fire: Fire, at: datetime) -> None:
        with self._db.tenant_session(fire.tenant_id) as s:
            rec = s.get(CronRecord, fire.cron_id)
            if rec is None:
                return  # deleted while it fired
            rec.last_status = fire.status
            rec.last_error = fire.error
            if fire.run_id is not None:
                rec.last_run_id = fire.run_id
        if fire.status != "started":
            log.warning(
                "cron %s fire at %s %s: %s",
                fire.cron_id,
                at.isoformat(),
                fire.status,
                (fire.error or {}).get("code"),
            )


def _spec(claim: _Claim) -> RunSpec:
    payload = claim.payload
    return RunSpec(
        assistant_id=claim.assistant_id,
        input=payload.get("input"),
        stream_mode=list(payload.get("stream_mode") or ["values"]),
        metadata={**claim.meta, "cron_id": claim.cron_id},
        multitask_strategy=payload.get("multitask_strategy") or "reject",
        webhook=payload.get("webhook"),
        # LangGraph's on_run_completed: the runtime deletes a stateless fire's thread.
        on_completion="delete"
        if claim.thread_id is None and claim.on_run_completed != "keep"
        else "keep",
    )


__all__ = ["CronScheduler", "Fire", "owner_principal"]
