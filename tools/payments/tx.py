"""Transactions with retry: the one place that turns write races into re-reads.

A payments operation runs as ``fn(session)`` in one tenant transaction. When
two writers race on the same request id the loser hits a unique constraint
(``IntegrityError``) or a stale row version; when the database is busy it
raises a lock / serialisation error. Either way the whole transaction is
rolled back and run again, and the second run finds the winner's row and
returns its stored result — so retries never duplicate money.
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import queue
import random
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import nullcontext, suppress
from typing import Any, Generic, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from starlette.concurrency import run_in_threadpool

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


async def write_tx(db: Database, tenant_id: str, fn: Callable[[Session], T]) -> T:
    """:func:`run_tx` awaited from the event loop, never running on it.

    On SQLite the work goes to the database's writer thread (:class:`_Writer`), which
    commits the writes queued together in one transaction; elsewhere to the thread pool,
    where writers run side by side. The result (or error) is what :func:`run_tx` returns
    (or raises) for ``fn`` alone, and it is known only once ``fn``'s writes are committed.
    """
    if db.dialect != "sqlite":
        return await run_in_threadpool(run_tx, db, tenant_id, fn)
    writer = _WRITER_THREADS.get(db)
    if writer is None:
        with _WRITERS_GUARD:
            writer = _WRITER_THREADS.setdefault(db, _Writer())
    job = _Job(db, tenant_id, fn, asyncio.get_running_loop())
    writer.submit(job)
    return await job.future


WRITER_IDLE_S = 30.0
"""Seconds a writer thread waits for work before it ends (the next write starts another)."""
WRITER_BATCH = 16
"""Writes committed together at most: bounds how long one transaction holds SQLite's lock."""


class _Job(Generic[T]):
    """One :func:`write_tx` call: its work, and the event loop waiting for the outcome."""

    __slots__ = ("context", "db", "fn", "future", "loop", "tenant_id")

    def __init__(
        self,
        db: Database,
        tenant_id: str,
        fn: Callable[[Session], T],
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.db = db
        self.tenant_id = tenant_id
        self.fn = fn
        self.loop = loop
        self.future: asyncio.Future[T] = loop.create_future()
        self.context = contextvars.copy_context()  # the request's log context, as the pool does

    def within(self, session: Session) -> T:
        """``fn`` in the caller's transaction, in the request's context."""
        return self.context.run(self.fn, session)

    def alone(self) -> None:
        """``fn`` in its own transaction, retried as :func:`run_tx` retries; then answered."""
        try:
            result = self.context.run(run_tx, self.db, self.tenant_id, self.fn)
        except BaseException as exc:  # the caller hears every failure, as from the pool
            self.answer(None, exc)
        else:
            self.answer(result, None)

    def answer(self, result: T | None, exc: BaseException | None) -> None:
        _call_soon(self.loop, _settle, self.future, result, exc)


def _call_soon(loop: asyncio.AbstractEventLoop, fn: Callable[..., None], *args: Any) -> None:
    with suppress(RuntimeError):  # the loop is closed: nobody is left waiting for the answer
        loop.call_soon_threadsafe(fn, *args)


def _settle(future: asyncio.Future[Any], result: Any, exc: BaseException | None) -> None:
    if future.done():  # the request was cancelled; its write stands, as a pool call's does
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)


class _Writer:
    """One thread that runs a SQLite database's :func:`write_tx` work, in arrival order.

    SQLite admits one writer at a time, so writes sent to the thread pool only queued on
    the process's writer lock (:func:`_writer_turn`): every handoff woke another thread,
    and four threads fought over the GIL where one could do the work. This thread takes
    the writes from a queue in the same order, with the event loop handing each over by a
    queue put and hearing back by ``call_soon_threadsafe``, cheaper than a pool hop.

    The writes that queued while one transaction ran are run back to back in the next one,
    each as it would run alone, and committed together (a tenth of the rows' cost went to
    opening, beginning and committing a transaction per write). No answer leaves before
    that commit. If any of them raises, the transaction is rolled back and each write is
    run again in its own transaction, so a failure (or a race lost to another process)
    reaches only its own caller, and exactly as :func:`run_tx` would have raised it.
    """

    __slots__ = ("_guard", "_jobs", "_running")

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[_Job[Any]] = queue.SimpleQueue()
        self._guard = threading.Lock()
        self._running = False

    def submit(self, job: _Job[Any]) -> None:
        self._jobs.put(job)
        with self._guard:
            if not self._running:
                self._running = True
                threading.Thread(target=self._work, name="payments-writer", daemon=True).start()

    def _work(self) -> None:
        while True:
            try:
                batch = [self._jobs.get(timeout=WRITER_IDLE_S)]
            except queue.Empty:
                with self._guard:
                    if self._jobs.empty():  # a job put after this check starts a new thread
                        self._running = False
                        return
                continue
            while len(batch) < WRITER_BATCH:
                try:
                    batch.append(self._jobs.get_nowait())
                except queue.Empty:
                    break
            for _, group in itertools.groupby(batch, key=lambda j: (j.db, j.tenant_id)):
                _commit_together(list(group))
            del batch  # an idle thread keeps no database alive


def _commit_together(jobs: list[_Job[Any]]) -> None:
    """Run ``jobs`` (one database and tenant) in one transaction and answer each; if any
    raises, run each alone instead."""
    if len(jobs) > 1:
        first = jobs[0]
        try:
            results = run_tx(
                first.db, first.tenant_id, lambda s: [j.within(s) for j in jobs], attempts=1
            )
        except BaseException:  # rolled back, nothing of it written: each runs alone below
            pass
        else:
            # One wake-up of each waiting event loop for the whole batch, not one per write.
            by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Any]]] = {}
            for job, result in zip(jobs, results, strict=True):
                by_loop.setdefault(job.loop, []).append((job.future, result))
            for loop, answers in by_loop.items():
                _call_soon(loop, _settle_all, answers)
            return
    for job in jobs:
        job.alone()


def _settle_all(answers: list[tuple[asyncio.Future[Any], Any]]) -> None:
    for future, result in answers:
        _settle(future, result, None)


_WRITER_THREADS: WeakKeyDictionary[Database, _Writer] = WeakKeyDictionary()
"""A writer per database (a writer holds no reference to its database: jobs carry it)."""


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


__all__ = ["idempotent", "read_tx", "recall", "remember", "run_tx", "write_tx"]
