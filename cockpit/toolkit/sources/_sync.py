"""Running the async clients from the runtime's synchronous tool calls."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio

T = TypeVar("T")


def run_async(fn: Callable[[], Awaitable[T]]) -> T:
    """``fn()`` to completion on a fresh event loop, in another thread when this one has a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        # A fresh context: the caller's may carry an async library marker copied from the
        # event loop that scheduled this thread (LangGraph runs sync nodes that way).
        result: T = contextvars.Context().run(anyio.run, fn)
        return result
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = anyio.run(fn)
        except BaseException as exc:  # handed to the caller's thread below
            box["error"] = exc

    worker = threading.Thread(target=target, name="tool-source-call", daemon=True)
    worker.start()
    worker.join()
    if "error" in box:
        raise box["error"]
    value: T = box["value"]
    return value


def leaf(error: BaseException) -> BaseException:
    """The one error inside nested task-group wrappers (or the group itself)."""
    while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    return error


def describe(error: BaseException, limit: int = 300) -> str:
    """A short, header-free description of a client error for the model and the audit."""
    inner = leaf(error)
    text = str(inner) or type(inner).__name__
    return (type(inner).__name__ + ": " + text)[:limit]


__all__ = ["describe", "leaf", "run_async"]
