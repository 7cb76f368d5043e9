"""Run events, numbered and shared: a stream can be followed or resumed from any worker.

A run executing here keeps its events in memory (:class:`RunStream`); subscribers in
this process read them from there as they come. The same events are written to
``run_events`` in small batches, so a client connected to another worker — or one
reconnecting with ``Last-Event-ID`` after the worker it used died — reads them from
the database, woken by the :class:`~cockpit.runtime.notify.Notifier` when a batch
lands. Sequence numbers carry over a takeover: the next worker continues after the
last stored event.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from cockpit.db.session import Database
from cockpit.runtime.notify import Notifier, run_key
from cockpit.runtime.records import RunEvent

log = logging.getLogger(__name__)

END = "end"
"""Stored after a run's last event; never sent to a client as part of a live stream."""
FINAL_STATUSES = ("success", "error", "timeout", "interrupted")
Event = tuple[int, str, Any]
"""``(seq, event, data)``."""


@dataclass
class RunStream:
    """The events of one run executing in this process."""

    tenant_id: str
    run_id: str
    next_seq: int
    events: list[Event] = field(default_factory=list)
    unflushed: list[Event] = field(default_factory=list)
    closed: bool = False
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    writing: threading.Lock = field(default_factory=threading.Lock)
    """Held while a batch is taken and stored, so batches land in order (the periodic flush
    stores from a worker thread; the end marker is stored from the event loop)."""
    _pending: threading.Lock = field(default_factory=threading.Lock)

    def add(self, event: str, data: Any) -> int:
        seq = self.next_seq
        self.next_seq += 1
        item = (seq, event, data)
        self.events.append(item)
        with self._pending:
            self.unflushed.append(item)
        self._wake()
        return seq

    def take(self) -> list[Event]:
        """The events not stored yet; they are the caller's to store."""
        with self._pending:
            batch, self.unflushed = self.unflushed, []
        return batch

    def put_back(self, batch: list[Event]) -> None:
        """A batch that could not be stored goes first in the next one."""
        with self._pending:
            self.unflushed = batch + self.unflushed

    def close(self) -> None:
        self.closed = True
        self._wake()

    def _wake(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()


class RunEvents:
    """Writes streams to the database and reads them back, locally or from any worker."""

    def __init__(self, db: Database, notifier: Notifier, *, flush_s: float = 0.05) -> None:
        self._db = db
        self._notifier = notifier
        self._flush_s = flush_s
        self._local: dict[str, RunStream] = {}
        self._flusher: asyncio.Task[None] | None = None

    # ---- writer ----------------------------------------------------------------------
    def open(self, tenant_id: str, run_id: str) -> RunStream:
        """A stream for a run starting here; numbering continues after what is stored."""
        with self._db.tenant_session(tenant_id) as s:
            last = s.scalar(select(func.max(RunEvent.seq)).where(RunEvent.run_id == run_id))
        stream = RunStream(tenant_id, run_id, next_seq=(last or 0) + 1)
        self._local[run_id] = stream
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_loop())
        return stream

    def close(self, stream: RunStream, *, status: str) -> None:
        """Store the end marker and whatever is left, then let readers finish."""
        stream.add(END, {"run_id": stream.run_id, "status": status})
        self.flush(stream)
        self.release(stream)

    def end_in(self, session: Session, stream: RunStream, *, status: str) -> None:
        """Write the end marker and whatever is left in ``session``: the transaction that
        records the run's end, so no reader ever sees a final run with events missing."""
        stream.add(END, {"run_id": stream.run_id, "status": status})
        with stream.writing:  # a flush under way stores its batch first
            self._write(session, stream)

    def release(self, stream: RunStream) -> None:
        """Readers in this process finish; the stream is no longer written here."""
        stream.close()
        self._local.pop(stream.run_id, None)

    def abandon(self, stream: RunStream) -> None:
        """The run went to another worker (lost lease): stop without an end marker."""
        stream.close()
        self._local.pop(stream.run_id, None)

    def flush(self, stream: RunStream) -> None:
        """Store the events not stored yet (safe from any thread)."""
        with stream.writing:
            batch = stream.take()
            if not batch:
                return
            try:
                with self._db.tenant_session(stream.tenant_id) as s:
                    self._store(s, stream, batch)
            except Exception:
                stream.put_back(batch)
                raise

    def _write(self, session: Session, stream: RunStream) -> None:
        batch = stream.take()
        if batch:
            self._store(session, stream, batch)

    def _store(self, session: Session, stream: RunStream, batch: list[Event]) -> None:
        session.add_all(
            RunEvent(run_id=stream.run_id, seq=seq, event=event, data=data)
            for seq, event, data in batch
        )
        self._notifier.notify_in(session, run_key(stream.run_id))

    async def _flush_loop(self) -> None:
        while self._local:
            await asyncio.sleep(self._flush_s)
            for stream in list(self._local.values()):
                if not stream.unflushed:
                    continue
                try:
                    if self._db.dialect == "sqlite":
                        # One writer at a time: from another thread this would race the loop's
                        # own writes for SQLite's lock.
                        self.flush(stream)
                    else:
                        # In a worker thread: the runs on this loop go on while it is stored.
                        await asyncio.to_thread(self.flush, stream)
                except Exception:
                    log.exception("events of run %s could not be stored", stream.run_id)

    def drop(self, tenant_id: str, run_ids: list[str]) -> None:
        with self._db.tenant_session(tenant_id) as s:
            s.execute(delete(RunEvent).where(RunEvent.run_id.in_(run_ids)))

    # ---- reader ----------------------------------------------------------------------
    def local(self, run_id: str) -> RunStream | None:
        return self._local.get(run_id)

    async def follow(
        self, tenant_id: str, run_id: str, *, after: int, status: Any
    ) -> AsyncIterator[Event]:
        """Events after ``after`` until the run ends. ``status()`` gives the run's status now
        (None once it is gone): a stream whose writer died without an end marker stops when
        the run is final and nothing more is stored."""
        while True:
            stream = self._local.get(run_id)
            if stream is not None and stream.events and stream.events[0][0] <= after + 1:
                async for item in _read_local(stream, after):
                    if item[1] == END:
                        return
                    after = item[0]
                    yield item
                if self._local.get(run_id) is not stream:
                    # The stream closed without an end marker (lease lost); keep following.
                    continue
                return
            waiter = self._notifier.waiter(run_key(run_id))
            rows = self._stored(tenant_id, run_id, after)
            for item in rows:
                if item[1] == END:
                    return
                after = item[0]
                yield item
            if not rows:
                current = status()
                if current is None or (
                    current in FINAL_STATUSES and not self._stored(tenant_id, run_id, after)
                ):
                    return
                await waiter.wait(timeout=0.5)

    def _stored(self, tenant_id: str, run_id: str, after: int) -> list[Event]:
        with self._db.tenant_session(tenant_id) as s:
            rows = s.execute(
                select(RunEvent.seq, RunEvent.event, RunEvent.data)
                .where(RunEvent.run_id == run_id, RunEvent.seq > after)
                .order_by(RunEvent.seq)
                .limit(500)
            ).all()
        return [(int(seq), str(event), data) for seq, event, data in rows]


async def _read_local(stream: RunStream, after: int) -> AsyncIterator[Event]:
    index = next((i for i, item in enumerate(stream.events) if item[0] > after), None)
    if index is None:
        index = len(stream.events)
    while True:
        while index < len(stream.events):
            yield stream.events[index]
            index += 1
        if stream.closed:
            return
        await stream.changed.wait()


__all__ = ["END", "FINAL_STATUSES", "Event", "RunEvents", "RunStream"]
