"""Which database statements a request made on the event loop.

The app's async handlers and background loops share one event loop. A synchronous database call
made on it holds up every other request for as long as the database takes, so a handler that
reads or writes is a plain function (FastAPI runs it in a worker thread) or hands its database
work to one.

- :func:`statements_on_the_loop` lets a test check that for the requests it makes;
- :class:`LoopWatch` checks it for every request of every test: ``tests/conftest.py`` installs
  it, and a test that made such a statement fails with the route and the line that made it.

The watch spares the agent runtime (``cockpit/runtime/``) on SQLite only: there it keeps its
run bookkeeping on the loop by design, one writer at a time. On PostgreSQL that work goes to a
worker thread (:mod:`cockpit.runtime.writer`), and the watch holds the runtime to it like any
other code.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

#: FastAPI's functions that await a route's endpoint and dependencies, by module: a statement
#: with one of them on its stack was made for a request, not by the app's start-up (its
#: lifespan runs through the same modules) nor by a background loop sharing the event loop.
_SERVING = {
    "/fastapi/routing.py": frozenset({"run_endpoint_function", "serialize_response"}),
    "/fastapi/dependencies/utils.py": frozenset({"solve_dependencies", "_solve_generator"}),
}
_ROOT = str(Path(__file__).resolve().parents[2]) + "/"
_RUNTIME = _ROOT + "cockpit/runtime/"
_OURS = tuple(
    _ROOT + package + "/"
    for package in ("cockpit", "tools", "agents", "knowledge", "evals", "tests")
)


def _on_a_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _serving(frame: FrameType) -> bool:
    code = frame.f_code
    return any(
        code.co_filename.endswith(module) and code.co_name in names
        for module, names in _SERVING.items()
    )


def _request_site(frame: FrameType | None, *, runtime_spared: bool) -> str | None:
    """``route function <- line that ran the statement``, both in this project, when the
    statement was made for a request (outside the runtime, if ``runtime_spared``); otherwise
    None."""
    ours: list[str] = []
    while frame is not None:
        code = frame.f_code
        if runtime_spared and code.co_filename.startswith(_RUNTIME):
            return None
        if _serving(frame):
            return f"{ours[-1]} <- {ours[0]}" if ours else "<fastapi>"
        if code.co_filename.startswith(_OURS):
            where = code.co_filename.removeprefix(_ROOT)
            ours.append(f"{where}:{frame.f_lineno} {code.co_name}")
        frame = frame.f_back
    return None


@contextmanager
def statements_on_the_loop(engine: Engine) -> Iterator[list[str]]:
    """The SQL ``engine`` executes, while the block runs, for a request and on a thread with a
    running event loop, in order (the list fills as they run)."""
    seen: list[str] = []

    def check(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if _on_a_loop() and _request_site(sys._getframe(1), runtime_spared=False) is not None:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", check)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", check)


class LoopWatch:
    """Every statement any engine of this process makes for a request on the event loop, outside
    the runtime: ``site: SQL`` lines, from :meth:`install` on, until :meth:`take` empties them."""

    def __init__(self) -> None:
        self._seen: list[str] = []

    def install(self) -> None:
        event.listen(Engine, "before_cursor_execute", self._check)

    def uninstall(self) -> None:
        event.remove(Engine, "before_cursor_execute", self._check)

    def take(self) -> list[str]:
        seen, self._seen = self._seen, []
        return seen

    def _check(self, conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if not _on_a_loop():
            return
        site = _request_site(sys._getframe(1), runtime_spared=conn.dialect.name == "sqlite")
        if site is not None:
            self._seen.append(f"{site}: {' '.join(statement.split())[:120]}")


__all__ = ["LoopWatch", "statements_on_the_loop"]
