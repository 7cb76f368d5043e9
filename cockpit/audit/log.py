"""Append-only, hash-chained audit log, one chain per tenant.

Each record's hash is an HMAC (keyed with the newest audit key, :mod:`cockpit.audit.keys`) over
its sequence number, time, kind, actor, subject, redacted payload, key id and the previous
record's hash. Checking a chain lives in :mod:`cockpit.audit.verify`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from cockpit.audit.chain import CURRENT_VERSION, GENESIS, canonical, record_hash
from cockpit.audit.keys import AuditKeyring, keyring_for
from cockpit.audit.models import AuditHead, AuditRecord
from cockpit.audit.verify import SignedHead, VerifyResult, signed_head, verify
from cockpit.clock import utcnow
from cockpit.db.session import Database, session_tenant
from cockpit.guardrails.redact import redact

_sqlite_lock = threading.Lock()


def append(
    session: Session,
    *,
    kind: str,
    actor: str,
    subject: str,
    payload: dict[str, Any] | None = None,
    keys: AuditKeyring | None = None,
) -> AuditRecord:
    """Append a record inside the caller's tenant transaction (it commits with the caller's work)."""
    tenant = session_tenant(session)
    key = (keys or keyring_for(str(session.get_bind().engine.url))).newest
    clean: dict[str, Any] = redact(payload or {})
    # JSON round-trip so the stored payload hashes the same when read back.
    clean = json.loads(canonical(clean))
    head = session.scalars(select(AuditHead).with_for_update()).one_or_none()
    if head is None:
        head = AuditHead(tenant_id=tenant, seq=0, hash=GENESIS)
        session.add(head)
    seq = head.seq + 1
    ts = utcnow().isoformat(timespec="microseconds")
    digest = record_hash(
        tenant_id=tenant,
        seq=seq,
        ts=ts,
        kind=kind,
        actor=actor,
        subject=subject,
        payload=clean,
        prev_hash=head.hash,
        version=CURRENT_VERSION,
        key=key,
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
        version=CURRENT_VERSION,
        kid=key.kid,
    )
    session.add(rec)
    head.seq = seq
    head.hash = digest
    session.flush()
    return rec


class AuditLog:
    """Convenience over :func:`append` for callers without an open transaction."""

    def __init__(self, db: Database, *, keys: AuditKeyring | None = None) -> None:
        self._db = db
        self._keys = keys

    @property
    def keys(self) -> AuditKeyring:
        """The keyring given, else the database's (``COCKPIT_AUDIT_KEYS`` or the key file)."""
        if self._keys is None:
            self._keys = keyring_for(self._db.url)
        return self._keys

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
        keys = self.keys
        fields: dict[str, Any] = {
            "kind": kind,
            "actor": actor,
            "subject": subject,
            "payload": payload,
        }
        for attempt in range(20):
            try:
                if self._db.dialect == "sqlite":
                    with _sqlite_lock, self._db.tenant_session(tenant_id) as s:
                        return append(s, keys=keys, **fields).seq
                with self._db.tenant_session(tenant_id) as s:
                    return append(s, keys=keys, **fields).seq
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

    def verify(self, tenant_id: str, *, anchor: SignedHead | None = None) -> VerifyResult:
        """Check the tenant's chain with this log's keys (and against an anchor, if given)."""
        return verify(self._db, tenant_id, keys=self.keys, anchor=anchor)

    def head(self, tenant_id: str, *, now: datetime | None = None) -> SignedHead:
        """The verified chain's newest record, signed: keep it elsewhere as an anchor."""
        return signed_head(self._db, tenant_id, keys=self.keys, now=now)

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
        "v": r.version,
        "kid": r.kid,
    }


__all__ = [
    "GENESIS",
    "AuditLog",
    "SignedHead",
    "VerifyResult",
    "append",
    "record_hash",
    "verify",
]
