"""Progress bars for long CLI work, drawn only when stderr is a terminal.

Domain code never imports rich: it takes a plain :data:`Progress` callable and calls
``progress(done, total)`` as it goes. The CLI makes one with :func:`progress_bar`::

    with progress_bar("Training") as progress:
        train(..., progress=progress)

Off a terminal (pipes, CI, tests) the callable does nothing, so output stays clean.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol, TextIO

Progress = Callable[[int, int], None]
"""``progress(done, total)``: ``done`` of ``total`` steps finished (a step is the caller's unit)."""


class Bar(Protocol):
    """What :func:`progress_bar` yields: a :data:`Progress` that may also say what it is on."""

    def __call__(self, done: int, total: int, note: str | None = None) -> None: ...


def quiet(done: int, total: int, note: str | None = None) -> None:
    """A :data:`Progress` that reports nothing (the default for domain functions)."""


def interactive(stream: TextIO | None = None) -> bool:
    """True when ``stream`` (default stderr) is a terminal someone watches."""
    stream = stream or sys.stderr
    return hasattr(stream, "isatty") and stream.isatty()


@contextmanager
def progress_bar(description: str, *, stream: TextIO | None = None) -> Iterator[Bar]:
    """A :data:`Progress` drawing one bar on ``stream`` (stderr) while the block runs.

    The bar appears on the first call (so a step that reports nothing draws nothing) and is
    removed at the end, leaving the command's own output. A ``note`` replaces the description
    (``"refund-1 · copilot · ok"``).
    """
    stream = stream or sys.stderr
    if not interactive(stream):
        yield quiet
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.progress import (
        Progress as RichProgress,
    )

    bar = RichProgress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(file=stream),
        transient=True,
    )
    task: list[Any] = []

    def update(done: int, total: int, note: str | None = None) -> None:
        if not task:
            bar.start()
            task.append(bar.add_task(description, total=total))
        bar.update(task[0], completed=done, total=total, description=note or description)

    try:
        yield update
    finally:
        if task:
            bar.stop()


__all__ = ["Bar", "Progress", "interactive", "progress_bar", "quiet"]
