"""Idempotent writes: one request fingerprint, one replay rule, one rule for races.

A write that takes an idempotency key (an ``Idempotency-Key`` header, a payments request
id, an agent tool call's key) stores three things with the row it writes: the key, the
:func:`fingerprint` of the request and the response it answered. A later request with
that key is answered by :func:`replay`:

* the same request → the stored response, unchanged (the same JSON, byte for byte);
* another request  → 409 ``idempotency_key_reused``.

The record is the domain row itself (a payment, a capture, a credit decision) under a
unique constraint on its key, so the row and its record commit together and no second
table has to be kept in step. Requests racing on one key are settled by that constraint
(:func:`write_once`): on SQLite writers queue behind a write lock taken up front, so the
later one reads the winner's record; on PostgreSQL the loser's insert waits for the
winner's commit and fails, and the loser answers from the winner's record. A race is
never a 500. A write that changes a row another keyed request may change too (a
capture on a payment) locks that row *before* reading the record, so a retry that waited
for the lock sees the committed success rather than the state it leaves behind.

This module never decides what a request means: callers pass the validated request.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cockpit.db.session import Database
from cockpit.errors import Conflict, InternalError

REUSED = "idempotency_key_reused"
"""The error code of a key sent again with another request."""


def canonical_json(value: Any) -> str:
    """Key-sorted, whitespace-free JSON; what is not JSON (dates, decimals) becomes ``str``."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def fingerprint(request: Mapping[str, Any], *, operation: str | None = None) -> str:
    """SHA-256 of the canonical JSON of ``{"operation", "request"}``.

    Without ``operation`` the request alone is hashed: for tables that hold the records of
    one operation only (payments, captures, refunds), whose stored fingerprints predate this
    module and must keep matching.
    """
    body: Any = request if operation is None else {"operation": operation, "request": request}
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()


def key_reused(
    key: str, *, param: str = "idempotency_key", details: dict[str, Any] | None = None
) -> Conflict:
    """The 409 for a key that was already used with another request."""
    return Conflict(
        f"{param} {key!r} was already used for a different request",
        code=REUSED,
        param=param,
        details=details,
    )


@dataclass(frozen=True, slots=True)
class Record:
    """What a keyed write stored beside its row."""

    fingerprint: str | None
    """The request's fingerprint; ``None`` on rows stored before their table kept one
    (nothing to compare: replayed)."""
    response: Mapping[str, Any]
    """The response the first request was given."""


def replay(
    record: Record | None,
    request_fingerprint: str,
    *,
    key: str,
    param: str = "idempotency_key",
    details: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """The stored response for the same request, ``None`` when nothing is stored yet; 409 for
    another request under the key."""
    if record is None:
        return None
    if record.fingerprint is not None and record.fingerprint != request_fingerprint:
        raise key_reused(key, param=param, details=details)
    return dict(record.response)


@dataclass(frozen=True, slots=True)
class Outcome:
    """The answer of :func:`write_once`."""

    response: dict[str, Any]
    """The response: this request's own, or the stored one of the request that came first."""
    replayed: bool
    """True when an earlier request with the key answered (nothing was written now)."""


def lock_writes(session: Session) -> None:
    """Take the database's write lock now, on SQLite, where writers queue anyway.

    A deferred SQLite transaction that reads and then writes fails outright ("database is
    locked") when another writer committed in between; taking the lock before the first read
    makes it wait its turn instead, and then read what the other one committed.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.connection().exec_driver_sql("BEGIN IMMEDIATE")


def write_once(
    db: Database,
    tenant_id: str,
    *,
    key: str | None,
    request_fingerprint: str,
    find: Callable[[Session], Record | None],
    write: Callable[[Session], dict[str, Any]],
    param: str = "idempotency_key",
) -> Outcome:
    """Run ``write`` once per key in one tenant transaction; repeats get the first response.

    ``find`` reads the record stored under ``key`` (or ``None``); ``write`` does the work and
    stores its row with the key, ``request_fingerprint`` and the response it returns, under a
    unique constraint on the key. Without a key ``write`` simply runs.
    """
    try:
        with db.tenant_session(tenant_id) as session:
            lock_writes(session)
            if key:
                stored = replay(find(session), request_fingerprint, key=key, param=param)
                if stored is not None:
                    return Outcome(stored, replayed=True)
            return Outcome(write(session), replayed=False)
    except IntegrityError as exc:
        if not key:
            raise
        # Another request with this key committed first (PostgreSQL held this insert until it
        # did): answer from its record.
        with db.tenant_session(tenant_id) as session:
            stored = replay(find(session), request_fingerprint, key=key, param=param)
        if stored is None:
            raise InternalError(
                "the write conflicted with another one; retry with the same key",
                code="idempotent_write_conflict",
            ) from exc
        return Outcome(stored, replayed=True)


__all__ = [
    "REUSED",
    "Outcome",
    "Record",
    "canonical_json",
    "fingerprint",
    "key_reused",
    "lock_writes",
    "replay",
    "write_once",
]
