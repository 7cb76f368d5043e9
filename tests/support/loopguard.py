"""Which database statements a request made on the event loop.

The app's async handlers and background loops share one event loop. A synchronous database call
made on it holds up every other request for as long as the database takes, so a handler that
reads or writes is a plain function (FastAPI runs it in a worker thread) or hands its database
work to one. :func:`statements_on_the_loop` lets a test check that for a request.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

#: FastAPI's modules that run a route's dependencies and endpoint: a statement with one of them
#: on its stack was made for a request, not by a background loop sharing the event loop.
_SERVING = ("/fastapi/routing.py", "/fastapi/dependencies/utils.py")


def _on_a_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _for_a_request(frame: FrameType | None) -> bool:
    while frame is not None:
        if frame.f_code.co_filename.endswith(_SERVING):
            return True
        frame = frame.f_back
    return False


@contextmanager
def statements_on_the_loop(engine: Engine) -> Iterator[list[str]]:
    """The SQL ``engine`` executes, while the block runs, for a request and on a thread with a
    running event loop, in order (the list fills as they run)."""
    seen: list[str] = []

    def check(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if _on_a_loop() and _for_a_request(sys._getframe(1)):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", check)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", check)
