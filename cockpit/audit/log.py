"""Append-only, hash-chained audit log, one chain per tenant.

Each record's hash is an HMAC (keyed with the newest audit key, :mod:`cockpit.audit.keys`) over
its sequence number, time, kind, actor, subject, redacted payload, key id and the previous
record's hash. Checking a chain lives in :mod:`cockpit.audit.verify`.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from cockpit.audit.chain import CURRENT_VERSION, GENESIS, canonical, record_hash
from cockpit.audit.keys import AuditKey, AuditKeyring, keyring_for
from cockpit.audit.models import AuditHead, AuditRecord
from cockpit.audit.verify import SignedHead, VerifyResult, signed_head, verify
from cockpit.clock import utcnow
from cockpit.db.session import Database, session_tenant
from cockpit.errors import InternalError
from cockpit.guardrails.redact import redact

_sqlite_lock = threading.Lock()
_RECORDS = cast(Table, AuditRecord.__table__)
_HEADS = cast(Table, AuditHead.__table__)
_HEAD_FOR_UPDATE = (
    select(_HEADS.c.seq, _HEADS.c.hash)
    .where(_HEADS.c.tenant_id == bindparam("tenant"))
    .with_for_update()
)
_INSERT_RECORD = insert(_RECORDS)
_INSERT_HEAD = insert(_HEADS)
_MOVE_HEAD = (
    update(_HEADS)
    .where(
        _HEADS.c.tenant_id == bindparam("tenant"),
        _HEADS.c.seq == bindparam("prev_seq"),
        _HEADS.c.hash == bindparam("prev_hash"),
    )
    .values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))
)


def append(
    session: Session,
    *,
    kind: str,
    actor: str,
    subject: str,
    payload: dict[str, Any] | None = None,
    keys: AuditKeyring | None = None,
) -> AuditRecord:
    """Append a record inside the caller's tenant transaction (it commits with the caller's work).

    The record returned is not attached to the session.
    """
    row = _append(
        session.connection(),
        session_tenant(session),
        kind=kind,
        actor=actor,
        subject=subject,
        payload=payload,
        keys=keys or keyring_for(str(session.get_bind().engine.url)),
    )
    return AuditRecord(**row)


def _append(
    conn: Connection,
    tenant: str,
    *,
    kind: str,
    actor: str,
    subject: str,
    payload: dict[str, Any] | None,
    keys: AuditKeyring,
) -> dict[str, Any]:
    """The record's row, appended with two fixed statements when this process wrote the chain's
    head last (move the head from the one it remembers, insert the record), else three (read the
    head under a row lock first). Each is built once and scoped to the tenant by its own WHERE:
    the ORM's unit of work would spend more than the database does, on a path every tool call
    takes."""
    clean: dict[str, Any] = redact(payload or {})
    # JSON round-trip so the stored payload hashes the same when read back.
    clean = json.loads(canonical(clean))
    fields = {"tenant_id": tenant, "kind": kind, "actor": actor, "subject": subject}
    ts = utcnow().isoformat(timespec="microseconds")
    place = (str(conn.engine.url), tenant)
    remembered = _last_heads.get(place)
    row = None
    if remembered is not None:
        row = _chained(remembered, fields, ts=ts, payload=clean, key=keys.newest)
        if not _move_head(conn, row):
            row = None  # another writer moved the head since: read it
    if row is None:
        head = conn.execute(_HEAD_FOR_UPDATE, {"tenant": tenant}).one_or_none()
        prev = (0, GENESIS) if head is None else (int(head.seq), str(head.hash))
        row = _chained(prev, fields, ts=ts, payload=clean, key=keys.newest)
        if head is None:
            # Two first appends racing: one insert fails on the key and the caller retries.
            conn.execute(
                _INSERT_HEAD, {"tenant_id": tenant, "seq": row["seq"], "hash": row["hash"]}
            )
        else:
            # Under the row lock: a writer that raced it anyway collides on the record's key.
            _move_head(conn, row)
    conn.execute(_INSERT_RECORD, row)
    _last_heads[place] = (row["seq"], row["hash"])
    return row


_last_heads: dict[tuple[str, str], tuple[int, str]] = {}
"""(database URL, tenant) -> the head this process's last append left. Only a guess that saves
reading the head: the head moves only from exactly that sequence number and hash, or not at all."""


def _chained(
    prev: tuple[int, str],
    fields: dict[str, str],
    *,
    ts: str,
    payload: dict[str, Any],
    key: AuditKey,
) -> dict[str, Any]:
    """The row that follows ``prev`` (sequence number, hash) in its tenant's chain."""
    prev_seq, prev_hash = prev
    seq = prev_seq + 1
    digest = record_hash(
        tenant_id=fields["tenant_id"],
        seq=seq,
        ts=ts,
        kind=fields["kind"],
        actor=fields["actor"],
        subject=fields["subject"],
        payload=payload,
        prev_hash=prev_hash,
        version=CURRENT_VERSION,
        key=key,
    )
    return {
        **fields,
        "seq": seq,
        "ts": ts,
        "payload": payload,
        "prev_hash": prev_hash,
        "hash": digest,
        "version": CURRENT_VERSION,
        "kid": key.kid,
    }


def _move_head(conn: Connection, row: dict[str, Any]) -> bool:
    """Move the tenant's head onto ``row`` if it still is ``row``'s previous record."""
    moved = conn.execute(
        _MOVE_HEAD,
        {
            "tenant": row["tenant_id"],
            "prev_seq": row["seq"] - 1,
            "prev_hash": row["prev_hash"],
            "new_seq": row["seq"],
            "new_hash": row["hash"],
        },
    )
    return bool(moved.rowcount == 1)


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
        if not tenant_id:
            raise InternalError("an audit record needs a tenant id", code="tenant_missing")
        lock = _sqlite_lock if self._db.dialect == "sqlite" else contextlib.nullcontext()
        for attempt in range(20):
            try:
                with lock, self._db.engine.begin() as conn:
                    return int(_append(conn, tenant_id, keys=keys, **fields)["seq"])
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
