"""Append-only, hash-chained audit log, one chain per tenant.

Each record's hash covers its sequence number, time, kind, actor, subject,
redacted payload and the previous record's hash. :func:`verify` walks a
chain and reports the first record that was edited, removed or reordered;
the per-tenant head row catches removal of the newest records.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from cockpit.audit.models import AuditHead, AuditRecord
from cockpit.db.session import Database, session_tenant
from cockpit.guardrails.redact import redact

GENESIS = "0" * 64
_sqlite_lock = threading.Lock()


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)


def record_hash(
    *,
    tenant_id: str,
    seq: int,
    ts: str,
    kind: str,
    actor: str,
    subject: str,
    payload: dict[str, Any],
    prev_hash: str,
) -> str:
    body = _canonical(
        {
            "tenant": tenant_id,
            "seq": seq,
            "ts": ts,
            "kind": kind,
            "actor": actor,
            "subject": subject,
            "payload": payload,
        }
    )
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def append(
    session: Session,
    *,
    kind: str,
    actor: str,
    subject: str,
    payload: dict[str, Any] | None = None,
) -> AuditRecord:
    """Append a record inside the caller's tenant transaction (it commits with the caller's work)."""
    tenant = session_tenant(session)
    clean: dict[str, Any] = redact(payload or {})
    # JSON round-trip so the stored payload hashes the same when read back.
    clean = json.loads(_canonical(clean))
    head = session.scalars(select(AuditHead).with_for_update()).one_or_none()
    if head is None:
        head = AuditHead(tenant_id=tenant, seq=0, hash=GENESIS)
        session.add(head)
    seq = head.seq + 1
    ts = datetime.now(UTC).isoformat(timespec="microseconds")
    digest = record_hash(
        tenant_id=tenant,
        seq=seq,
        ts=ts,
        kind=kind,
        actor=actor,
        subject=subject,
        payload=clean,
        prev_hash=head.hash,
    )
    rec = AuditRecord(
        seq=seq,
        ts=ts,
        kind=kind,
        actor=actor,
        subject=subject,
        payload=clean,
        prev_hash=head.hash,
        hash=digest,
    )
    session.add(rec)
    head.seq = seq
    head.hash = digest
    session.flush()
    return rec


class AuditLog:
    """Convenience over :func:`append` for callers without an open transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def record(
        self,
        tenant_id: str,
        *,
        kind: str,
        actor: str,
        subject: str,
        payload: dict[str, Any] | None = None,
    ) -> int:
        """Append in its own transaction, retrying when a concurrent append won the race."""
        for attempt in range(20):
            try:
                if self._db.dialect == "sqlite":
                    with _sqlite_lock, self._db.tenant_session(tenant_id) as s:
                        return append(
                            s, kind=kind, actor=actor, subject=subject, payload=payload
                        ).seq
                with self._db.tenant_session(tenant_id) as s:
                    return append(s, kind=kind, actor=actor, subject=subject, payload=payload).seq
            except (IntegrityError, OperationalError):
                time.sleep(0.01 * (attempt + 1))
        raise RuntimeError("audit append kept conflicting")

    def records(
        self,
        tenant_id: str,
        *,
        kind: str | None = None,
        subject: str | None = None,
        after_seq: int = 0,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        with self._db.tenant_session(tenant_id) as s:
            q = select(AuditRecord).where(AuditRecord.seq > after_seq)
            if kind:
                q = q.where(AuditRecord.kind == kind)
            if subject:
                q = q.where(AuditRecord.subject == subject)
            rows = s.scalars(q.order_by(AuditRecord.seq).limit(limit))
            return [_as_dict(r) for r in rows]

    def export(self, tenant_id: str) -> Iterator[dict[str, Any]]:
        after = 0
        while True:
            batch = self.records(tenant_id, after_seq=after, limit=1000)
            if not batch:
                return
            yield from batch
            after = batch[-1]["seq"]


def _as_dict(r: AuditRecord) -> dict[str, Any]:
    return {
        "seq": r.seq,
        "ts": r.ts,
        "kind": r.kind,
        "actor": r.actor,
        "subject": r.subject,
        "payload": r.payload,
        "prev_hash": r.prev_hash,
        "hash": r.hash,
    }


@dataclass(frozen=True, slots=True)
class VerifyResult:
    tenant_id: str
    ok: bool
    records: int
    problem: str | None = None
    at_seq: int | None = None


def verify(db: Database, tenant_id: str) -> VerifyResult:
    """Walk one tenant's chain; the first broken link is reported."""
    with db.tenant_session(tenant_id) as s:
        head = s.scalars(select(AuditHead)).one_or_none()
        prev = GENESIS
        expected_seq = 1
        count = 0
        for r in s.scalars(select(AuditRecord).order_by(AuditRecord.seq)):
            if r.seq != expected_seq:
                return VerifyResult(tenant_id, False, count, "record missing", expected_seq)
            if r.prev_hash != prev:
                return VerifyResult(tenant_id, False, count, "chain link broken", r.seq)
            digest = record_hash(
                tenant_id=tenant_id,
                seq=r.seq,
                ts=r.ts,
                kind=r.kind,
                actor=r.actor,
                subject=r.subject,
                payload=r.payload,
                prev_hash=r.prev_hash,
            )
            if digest != r.hash:
                return VerifyResult(tenant_id, False, count, "record edited", r.seq)
            prev = r.hash
            expected_seq += 1
            count += 1
        if head is None:
            if count:
                return VerifyResult(tenant_id, False, count, "chain head missing", None)
            return VerifyResult(tenant_id, True, 0)
        if head.seq != count or head.hash != prev:
            return VerifyResult(tenant_id, False, count, "newest records removed", count + 1)
        return VerifyResult(tenant_id, True, count)


__all__ = ["AuditLog", "VerifyResult", "append", "record_hash", "verify"]
