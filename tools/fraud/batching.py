"""Concurrent single-transaction score requests, scored together in the thread pool.

An HTTP score request only enqueues its transaction on the event loop and awaits its own
outcome. One drain task per event loop and database takes everything queued, scores it with
one call in the thread pool (one DB transaction, one model call: see
:meth:`tools.fraud.service.FraudService.score_each`) and resolves each request with its own
result or its own error. Nothing waits for a batch to fill: a lone request is scored at once;
under load, the requests that arrived while one batch ran form the next.

What each request gets is what it would get alone: a batch never holds a ``txn_id`` twice (a
repeat waits for the next batch, where it replays the first), and one request's error is never
another's. A request whose caller went away before its batch started is not scored.

It must never run database or model work on the event loop: that is what the thread is for.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool

from cockpit.db.session import Database
from cockpit.errors import CockpitError
from tools.fraud.schema import Transaction

Outcome = dict[str, Any] | CockpitError
"""A request's result, or the error it alone would have raised."""

ScoreMany = Callable[[Database, list[Transaction], list[str | None]], Sequence[Outcome]]
"""Scores independent requests (transactions, each caller's merchant binding) in one call."""

MAX_BATCH = 256
"""Requests per call at most: keeps one batch's latency near a single request's under load."""


@dataclass(slots=True)
class _Request:
    txn: Transaction
    merchant_id: str | None
    future: asyncio.Future[dict[str, Any]]


class ScoreQueue:
    """The requests of one event loop and one database, drained by one task at a time."""

    def __init__(self, db: Database, score_many: ScoreMany, *, max_batch: int = MAX_BATCH) -> None:
        self._db = db
        self._score_many = score_many
        self._max_batch = max_batch
        self._pending: deque[_Request] = deque()
        self._drainer: asyncio.Task[None] | None = None

    async def score(self, txn: Transaction, *, merchant_id: str | None) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        request = _Request(txn=txn, merchant_id=merchant_id, future=loop.create_future())
        self._pending.append(request)
        if self._drainer is None or self._drainer.done():
            self._drainer = loop.create_task(self._drain())
        # A cancelled request cancels its own future only: the drain goes on for the others.
        return await request.future

    def _take(self) -> list[_Request]:
        batch: list[_Request] = []
        ids: set[str] = set()
        while self._pending and len(batch) < self._max_batch:
            txn_id = self._pending[0].txn.txn_id
            if txn_id in ids:
                break
            request = self._pending.popleft()
            if request.future.done():  # the caller went away: not scored
                continue
            ids.add(txn_id)
            batch.append(request)
        return batch

    async def _drain(self) -> None:
        batch: list[_Request] = []
        try:
            while self._pending:
                batch = self._take()
                if not batch:
                    continue
                try:
                    outcomes: Sequence[Outcome | BaseException] = await run_in_threadpool(
                        self._score_many,
                        self._db,
                        [r.txn for r in batch],
                        [r.merchant_id for r in batch],
                    )
                except Exception as exc:  # the whole call failed: every request hears why
                    outcomes = [exc] * len(batch)
                for request, outcome in zip(batch, outcomes, strict=True):
                    if request.future.done():
                        continue
                    if isinstance(outcome, BaseException):
                        request.future.set_exception(outcome)
                    else:
                        request.future.set_result(outcome)
                batch = []
        finally:  # the loop is shutting down: nobody is left to answer the rest
            for request in [*batch, *self._pending]:
                request.future.cancel()
            self._pending.clear()


class ScoreQueues:
    """One :class:`ScoreQueue` per running event loop and database (futures and tasks belong
    to one loop; a service may be reached from several, as tests and eval worlds do)."""

    def __init__(self, score_many: ScoreMany) -> None:
        self._score_many = score_many
        self._queues: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[Database, ScoreQueue]
        ] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    async def score(
        self, db: Database, txn: Transaction, *, merchant_id: str | None
    ) -> dict[str, Any]:
        """The outcome of scoring ``txn`` for a caller bound to ``merchant_id`` (or its error)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            by_db = self._queues.setdefault(loop, {})
            queue = by_db.get(db)
            if queue is None:
                queue = by_db[db] = ScoreQueue(db, self._score_many)
        return await queue.score(txn, merchant_id=merchant_id)


__all__ = ["MAX_BATCH", "Outcome", "ScoreMany", "ScoreQueue", "ScoreQueues"]
