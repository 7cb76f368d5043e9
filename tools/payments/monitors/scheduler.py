"""The monitors' cron: claims due (merchant, monitor) jobs and runs each once per due time.

Several API workers may share one database, each running this loop. A job is claimed and run
in one transaction: on PostgreSQL the due row is locked with ``FOR UPDATE SKIP LOCKED`` (a
second worker skips it and takes the next), on SQLite the transaction holds the write lock
(``BEGIN IMMEDIATE``). The run advances ``next_run_at`` before the transaction commits, so
once it is visible the job is no longer due; a worker dying mid-run rolls back, and the job
is still due for the next worker. Time is an input: :func:`tick` takes ``now``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cockpit.db.base import utcnow
from cockpit.db.session import Database
from cockpit.tenancy.models import Tenant
from tools.payments.money import FixedRates
from tools.payments.monitors.models import MonitorSchedule
from tools.payments.monitors.runner import run_job
from tools.payments.monitors.schedules import ensure_jobs
from tools.payments.tx import run_tx

log = logging.getLogger(__name__)

DEFAULT_POLL_S = 60.0
"""How often a worker looks for due jobs (monitors run hourly or daily: a minute is plenty)."""


@dataclass(frozen=True, slots=True)
class JobRun:
    tenant_id: str
    merchant_id: str
    monitor: str
    new_findings: list[str]
    status: str


def _claim_and_run(session: Session, *, now: datetime, rates: FixedRates | None) -> JobRun | None:
    stmt = (
        select(MonitorSchedule)
        .where(MonitorSchedule.enabled, MonitorSchedule.next_run_at <= now)
        .order_by(MonitorSchedule.next_run_at, MonitorSchedule.id)
        .limit(1)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    job = session.scalar(stmt)
    if job is None:
        return None
    new = run_job(session, job, now=now, rates=rates)
    return JobRun(
        tenant_id=job.tenant_id,
        merchant_id=job.merchant_id,
        monitor=job.monitor,
        new_findings=[f.id for f in new],
        status=job.last_status or "ok",
    )


def tenants(db: Database) -> list[str]:
    with db.system_session() as s:
        return list(s.scalars(select(Tenant.id).order_by(Tenant.id)))


def tick(
    db: Database,
    *,
    now: datetime,
    tenant_ids: list[str] | None = None,
    rates: FixedRates | None = None,
    limit: int = 500,
) -> list[JobRun]:
    """Run every job due at ``now`` that no other worker has taken (at most ``limit``)."""
    runs: list[JobRun] = []
    for tenant in tenant_ids if tenant_ids is not None else tenants(db):
        run_tx(db, tenant, lambda s: ensure_jobs(s, now=now))
        while len(runs) < limit:
            done = run_tx(db, tenant, lambda s: _claim_and_run(s, now=now, rates=rates))
            if done is None:
                break
            runs.append(done)
    return runs


@dataclass
class MonitorScheduler:
    """The background loop of one worker: every ``poll_s`` seconds, :func:`tick` at the
    platform clock's now, in a thread (the database work blocks)."""

    db: Database
    poll_s: float = DEFAULT_POLL_S
    rates: FixedRates | None = None
    _task: asyncio.Task[None] | None = field(default=None, repr=False)

    def start(self) -> None:
        """Start the loop on the running event loop (the app's lifespan)."""
        if self._task is not None or self.poll_s <= 0:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # called outside a server (a CLI hook): nothing to schedule on
            return
        self._task = loop.create_task(self._loop(), name="monitors")

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.poll_s)
            try:
                runs = await asyncio.to_thread(tick, self.db, now=utcnow(), rates=self.rates)
                if runs:
                    log.info("monitors ran %d jobs", len(runs))
            except Exception:  # a bad tick is logged; the next one tries again
                log.exception("monitor tick failed")

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def aclose(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


__all__ = ["DEFAULT_POLL_S", "JobRun", "MonitorScheduler", "tenants", "tick"]
