"""Transactions with retry: the one place that turns write races into re-reads.

A payments operation runs as ``fn(session)`` in one tenant transaction. When
two writers race on the same request id the loser hits a unique constraint
(``IntegrityError``) or a stale row version; when the database is busy it
raises a lock / serialisation error. Either way the whole transaction is
rolled back and run again, and the second run finds the winner's row and
returns its stored result — so retries never duplicate money.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from cockpit.db.session import Database
from cockpit.errors import InternalError
from cockpit.idempotency import Record, fingerprint, replay
from tools.payments.models import IdempotencyRecord

T = TypeVar("T")
_REPEAT_INCONSISTENT = {"resultCode": "REPEAT_REQ_INCONSISTENT", "resultStatus": "F"}
"""The payments protocol's result for a request id reused with another body."""

_RETRYABLE_MESSAGES = ("locked", "busy", "deadlock", "could not serialize", "serialization")


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, IntegrityError | StaleDataError):
        return True
    if isinstance(exc, OperationalError):
        text = str(exc.orig if exc.orig is not None else exc).lower()
        return any(m in text for m in _RETRYABLE_MESSAGES)
    return False


_WRITERS: WeakKeyDictionary[Engine, threading.RLock] = WeakKeyDictionary()
_WRITERS_GUARD = threading.Lock()


def _writer_turn(db: Database) -> threading.RLock:
    """This process's queue for SQLite's single writer lock.

    SQLite admits one writer; the others poll for its lock with sleeps that grow to
    tens of milliseconds, so under concurrent requests the lock sat free while every
    waiter slept. Threads of one process queue here instead and are woken the moment
    the writer commits; other processes still meet at SQLite's lock (busy timeout).
    """
    with _WRITERS_GUARD:
        lock = _WRITERS.get(db.engine)
        if lock is None:
            lock = _WRITERS[db.engine] = threading.RLock()
        return lock


def run_tx(
    db: Database,
    tenant_id: str,
    fn: Callable[[Session], T],
    *,
    attempts: int = 40,
    write: bool = True,
) -> T:
    """Run ``fn`` in a tenant transaction, retrying races; CockpitErrors pass through."""
    sqlite_write = write and db.dialect == "sqlite"
    for attempt in range(attempts):
        try:
            with (
                _writer_turn(db) if sqlite_write else nullcontext(),
                db.tenant_session(tenant_id) as session,
            ):
                if sqlite_write:
                    # Take the write lock up front: a deferred SQLite transaction that reads
                    # and then writes fails outright if another writer committed meanwhile.
                    session.connection().exec_driver_sql("BEGIN IMMEDIATE")
                return fn(session)
        except (IntegrityError, StaleDataError, OperationalError) as exc:
            if not _retryable(exc) or attempt == attempts - 1:
                raise InternalError(
                    "the payments store is busy; retry with the same request id",
                    code="payments_store_busy",
                ) from exc
            time.sleep(min(0.2, 0.005 * (2 ** min(attempt, 5))) * (0.5 + random.random()))
    raise InternalError("unreachable", code="payments_store_busy")  # pragma: no cover


def read_tx(db: Database, tenant_id: str, fn: Callable[[Session], T]) -> T:
    """A read-only transaction (no write lock taken up front on SQLite)."""
    return run_tx(db, tenant_id, fn, write=False)


def recall(session: Session, scope: str, key: str, fp: str) -> dict[str, Any] | None:
    """The stored response for ``(scope, key)``; a different body is a conflict."""
    record = session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.scope == scope, IdempotencyRecord.key == key
        )
    )
    stored = None if record is None else Record(record.fingerprint, record.response)
    return replay(stored, fp, key=key, details=_REPEAT_INCONSISTENT)


def remember(session: Session, scope: str, key: str, fp: str, response: dict[str, Any]) -> None:
    """Store the first response; a concurrent twin makes this flush fail and the tx retry."""
    session.add(IdempotencyRecord(scope=scope, key=key, fingerprint=fp, response=response))
    session.flush()


def idempotent(
    db: Database,
    tenant_id: str,
    *,
    scope: str,
    key: str | None,
    body: Mapping[str, Any],
    fn: Callable[[Session], dict[str, Any]],
) -> dict[str, Any]:
    """Run ``fn`` once per ``(scope, key)``; repeats with the same body get the first result."""
    if not key:
        return run_tx(db, tenant_id, fn)
    fp = fingerprint(body)

    def once(session: Session) -> dict[str, Any]:
        stored = recall(session, scope, key, fp)
        if stored is not None:
            return stored
        response = fn(session)
        remember(session, scope, key, fp, response)
        return response

    return run_tx(db, tenant_id, once)


__all__ = ["idempotent", "read_tx", "recall", "remember", "run_tx"]
