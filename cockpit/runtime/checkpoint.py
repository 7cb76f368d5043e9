"""Checkpointer from config: SQLite file by default, PostgreSQL when the database is PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver


@asynccontextmanager
async def open_checkpointer(url: str) -> AsyncIterator[BaseCheckpointSaver[Any]]:
    """An async checkpointer for ``url`` (a SQLite path / ``sqlite:///`` URL, or ``postgresql://``)."""
    if url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
        from psycopg.rows import dict_row
        from psycopg_pool import AsyncConnectionPool

        conninfo = url.replace("postgresql+psycopg://", "postgresql://")
        async with AsyncConnectionPool(
            conninfo,
            min_size=1,
            max_size=8,
            open=False,
            kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
        ) as pool:
            saver = AsyncPostgresSaver(pool)  # type: ignore[arg-type]
            await _setup_once(pool, saver)
            yield saver
        return
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    path = url.removeprefix("sqlite:///")
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    async with AsyncSqliteSaver.from_conn_string(path) as lite:
        await lite.conn.execute("PRAGMA journal_mode=WAL")
        await lite.conn.execute("PRAGMA synchronous=NORMAL")
        # Tables now, not at the first write: deleting a thread before any run touches them.
        await lite.setup()
        yield lite


async def _setup_once(pool: Any, saver: BaseCheckpointSaver[Any]) -> None:
    """Run the saver's own migrations while holding :data:`SETUP_LOCK_KEY`: two workers starting
    together otherwise build its indexes at once, and those builds deadlock.

    The lock is polled, not waited on: ``CREATE INDEX CONCURRENTLY`` in the holder's setup waits
    for every open transaction to end, and a session blocked in ``pg_advisory_lock`` is one.
    """
    async with pool.connection() as conn:
        while not await _try_lock(conn):
            await asyncio.sleep(0.1)
        try:
            await saver.setup()  # type: ignore[attr-defined]
        finally:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (SETUP_LOCK_KEY,))


async def _try_lock(conn: Any) -> bool:
    cursor = await conn.execute("SELECT pg_try_advisory_lock(%s) AS taken", (SETUP_LOCK_KEY,))
    row = await cursor.fetchone()
    return bool(row["taken"])


SETUP_LOCK_KEY = 0x636B7074736176
"""The PostgreSQL advisory lock key the checkpointer's setup holds (the bytes of "ckptsav"); not the
migration lock, which a process may hold on another connection while it opens its checkpointer."""

__all__ = ["open_checkpointer"]
