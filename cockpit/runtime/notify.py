"""Wake-ups between workers: "run X has new events", "the queue has work", "cancel".

In one process (SQLite) a notification only wakes local waiters. On PostgreSQL it is
also sent with ``NOTIFY`` inside the transaction that made the change, so it is
delivered when — and only if — that change commits; each worker ``LISTEN``s on one
connection and wakes its own waiters. A notification is only a hint: every waiter
also wakes on a timeout and reads the database, so a lost one costs latency, never
correctness.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

CHANNEL = "cockpit_runs"
QUEUE = "queue"
"""Key notified when a run is queued or a cancel is asked."""


def run_key(run_id: str) -> str:
    return f"run:{run_id}"


class Waiter:
    """One wait for a key, armed before the caller reads the database (no lost wake-up)."""

    def __init__(self, flag: asyncio.Event) -> None:
        self._flag = flag

    async def wait(self, *, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._flag.wait(), timeout)


class Notifier:
    """Local wake-ups; :class:`PostgresNotifier` adds other workers."""

    def __init__(self) -> None:
        self._flags: dict[str, asyncio.Event] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handlers: list[tuple[str, Callable[[str], None]]] = []

    def subscribe(self, prefix: str, handler: Callable[[str], None]) -> None:
        """Also call ``handler(key)`` on the loop for every wake-up whose key starts with
        ``prefix`` — from this process and, on PostgreSQL, from every other worker (e.g. a
        revoked API key that each worker must forget)."""
        self._handlers.append((prefix, handler))

    def waiter(self, key: str) -> Waiter:
        flag = self._flags.get(key)
        if flag is None:
            flag = self._flags[key] = asyncio.Event()
        with contextlib.suppress(RuntimeError):
            self._loop = asyncio.get_running_loop()
        return Waiter(flag)

    def wake(self, key: str) -> None:
        """Wake this process's waiters on ``key`` (thread-safe)."""
        loop = self._loop
        if loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._wake_now(key)
        elif not loop.is_closed():
            loop.call_soon_threadsafe(self._wake_now, key)

    def _wake_now(self, key: str) -> None:
        flag = self._flags.pop(key, None)
        if flag is not None:
            flag.set()
        for prefix, handler in self._handlers:
            if key.startswith(prefix):
                try:
                    handler(key)
                except Exception:
                    log.exception("notification handler for %r failed", prefix)

    def notify_in(self, session: Session, key: str) -> None:
        """Wake waiters on ``key`` once ``session``'s transaction commits."""
        event.listen(session, "after_commit", lambda _s: self.wake(key), once=True)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()

    async def stop(self) -> None:
        return None


class PostgresNotifier(Notifier):
    """Also ``NOTIFY``/``LISTEN`` on PostgreSQL, so every worker's waiters wake."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self._url = url
        self._task: asyncio.Task[None] | None = None

    def notify_in(self, session: Session, key: str) -> None:
        super().notify_in(session, key)
        session.execute(text("SELECT pg_notify(:channel, :key)"), {"channel": CHANNEL, "key": key})

    async def start(self) -> None:
        await super().start()
        self._task = asyncio.create_task(self._listen())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def _listen(self) -> None:
        import psycopg

        while True:
            try:
                conn: Any = await psycopg.AsyncConnection.connect(self._url, autocommit=True)
                async with conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    async for note in conn.notifies():
                        self._wake_now(note.payload)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("LISTEN %s lost its connection; reconnecting", CHANNEL, exc_info=True)
                await asyncio.sleep(1.0)


def notifier_for(url: str) -> Notifier:
    """The notifier for a database URL (SQLAlchemy form)."""
    if url.startswith("postgresql"):
        plain = url.split("://", 1)[1]
        return PostgresNotifier("postgresql://" + plain)
    return Notifier()


__all__ = ["CHANNEL", "QUEUE", "Notifier", "PostgresNotifier", "Waiter", "notifier_for", "run_key"]
