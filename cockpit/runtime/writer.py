"""Where the runtime's database work runs: on the event loop on SQLite, beside it on PostgreSQL.

SQLite takes one writer at a time. There the runtime keeps its run bookkeeping on the event loop:
each piece is one synchronous transaction, so two of them never hold and wait for the database
lock at once. PostgreSQL takes many writers, and each statement is a round trip: there the work
goes to a worker thread (in the caller's context: its trace span, its clock), and the runs and
requests that share the loop go on while the database answers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from cockpit.db.session import Database

_T = TypeVar("_T")


async def db_work(db: Database, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> _T:
    """``fn(*args, **kwargs)``, where :mod:`this module <cockpit.runtime.writer>` says ``db``'s
    work belongs."""
    if db.dialect == "sqlite":
        return fn(*args, **kwargs)
    return await asyncio.to_thread(fn, *args, **kwargs)


__all__ = ["db_work"]
