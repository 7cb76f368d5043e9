"""An exclusive lock on a file, shared by processes on one machine (``flock``).

For work that several processes may start at once and only one must do: a SQLite
migration, seeding a world template. The lock is the file's, not the process's: it is
released when the holder leaves the block or dies.
"""

from __future__ import annotations

import fcntl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


def exclusive(fd: int) -> None:
    """Block until this process holds the exclusive lock on ``fd``."""
    fcntl.flock(fd, fcntl.LOCK_EX)


@contextmanager
def file_lock(path: Path, *, acquire: Callable[[int], None] = exclusive) -> Iterator[None]:
    """Hold the exclusive lock on ``path`` (created, with its folder, when missing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        acquire(handle.fileno())
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


__all__ = ["exclusive", "file_lock"]
