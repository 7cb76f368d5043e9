"""The durable run queue: claims and leases on ``runs`` rows, shared by every worker.

A worker *claims* a run by taking a lease on its row. Two kinds of rows are due:

- ``pending`` runs whose time has come (``not_before``), oldest first per thread, whose
  thread is free — claiming one also marks the thread busy, in the same transaction;
- ``running`` runs whose lease lapsed: their worker died or stalled. The claimer
  continues them from the thread's checkpoint (``attempt`` + 1).

On PostgreSQL candidates are locked ``FOR UPDATE SKIP LOCKED`` so workers never wait
on each other, and every change is also a compare-and-set, which is what keeps a
single SQLite process right. Leases are measured by the database's own clock on
PostgreSQL, so workers whose clocks differ still agree on who holds what.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, exists, func, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import aliased

from cockpit.db.base import utcnow
from cockpit.db.session import Database
from cockpit.runtime.records import RunRecord, ThreadRecord

MAX_ATTEMPTS = 3
"""A run whose worker died this many times is failed, not retried again."""

_RUNS = cast(Table, RunRecord.__table__)
_THREADS = cast(Table, ThreadRecord.__table__)


@dataclass(frozen=True)
class Claim:
    tenant_id: str
    run_id: str
    thread_id: str
    attempt: int
    takeover: bool
    """True when the run was running on a worker whose lease lapsed."""


class RunQueue:
    def __init__(self, db: Database, *, lease_s: float) -> None:
        self._db = db
        self.lease_s = lease_s

    def _now(self) -> Any:
        return func.now() if self._db.dialect == "postgresql" else utcnow()

    def lease_end(self) -> Any:
        if self._db.dialect == "postgresql":
            return func.now() + timedelta(seconds=self.lease_s)
        return utcnow() + timedelta(seconds=self.lease_s)

    def lease_values(self, worker_id: str) -> dict[str, Any]:
        """Column values that give ``worker_id`` a fresh lease (for a row written here)."""
        return {"worker_id": worker_id, "lease_until": self.lease_end()}

    def claim(self, worker_id: str, *, limit: int = 20) -> Claim | None:
        """Take the next due run, or None."""
        older = aliased(RunRecord)
        earlier_pending = exists().where(
            older.tenant_id == RunRecord.tenant_id,
            older.thread_id == RunRecord.thread_id,
            older.status == "pending",
            older.created_at < RunRecord.created_at,
        )
        due_pending = and_(
            RunRecord.status == "pending",
            or_(RunRecord.not_before.is_(None), RunRecord.not_before <= utcnow()),
            ~earlier_pending,
        )
        lapsed = and_(
            RunRecord.status == "running",
            RunRecord.lease_until < self._now(),
        )
        q = (
            select(
                RunRecord.tenant_id,
                RunRecord.run_id,
                RunRecord.thread_id,
                RunRecord.status,
                RunRecord.attempt,
            )
            .where(or_(due_pending, lapsed))
            .order_by(RunRecord.created_at)
            .limit(limit)
        )
        if self._db.dialect == "postgresql":
            q = q.with_for_update(skip_locked=True, of=_RUNS)
        with self._db.engine.begin() as conn:
            for tenant, run_id, thread_id, status, attempt in conn.execute(q).all():
                claim = self._take(conn, worker_id, tenant, run_id, thread_id, status, attempt)
                if claim is not None:
                    return claim
        return None

    def _take(
        self,
        conn: Connection,
        worker_id: str,
        tenant: str,
        run_id: str,
        thread_id: str,
        status: str,
        attempt: int,
    ) -> Claim | None:
        if status == "pending":
            held = conn.execute(
                update(_THREADS)
                .where(
                    _THREADS.c.tenant_id == tenant,
                    _THREADS.c.thread_id == thread_id,
                    _THREADS.c.status != "busy",
                )
                .values(status="busy", updated_at=utcnow())
            ).rowcount
            if not held:
                return None
        taken = conn.execute(
            update(_RUNS)
            .where(_RUNS.c.run_id == run_id, _RUNS.c.status == status)
            .values(
                status="running",
                worker_id=worker_id,
                lease_until=self.lease_end(),
                attempt=attempt + 1,
                updated_at=utcnow(),
            )
        ).rowcount
        if not taken:
            return None
        return Claim(tenant, run_id, thread_id, attempt + 1, takeover=status == "running")

    def renew(self, worker_id: str, run_ids: list[str]) -> tuple[set[str], dict[str, str]]:
        """Extend this worker's leases: (runs still held, {run: cancel asked})."""
        if not run_ids:
            return set(), {}
        with self._db.engine.begin() as conn:
            conn.execute(
                update(_RUNS)
                .where(
                    _RUNS.c.run_id.in_(run_ids),
                    _RUNS.c.worker_id == worker_id,
                    _RUNS.c.status == "running",
                )
                .values(lease_until=self.lease_end())
            )
            rows = conn.execute(
                select(_RUNS.c.run_id, _RUNS.c.worker_id, _RUNS.c.status, _RUNS.c.cancel).where(
                    _RUNS.c.run_id.in_(run_ids)
                )
            ).all()
        held = {r.run_id for r in rows if r.worker_id == worker_id and r.status == "running"}
        cancels = {r.run_id: r.cancel for r in rows if r.cancel}
        return held, cancels

    def depth(self) -> dict[str, int]:
        """Runs by queue state, for metrics."""
        with self._db.engine.connect() as conn:
            rows = conn.execute(
                select(_RUNS.c.status, func.count())
                .where(_RUNS.c.status.in_(("pending", "running")))
                .group_by(_RUNS.c.status)
            ).all()
        return {str(status): int(n) for status, n in rows}


__all__ = ["MAX_ATTEMPTS", "Claim", "RunQueue"]
