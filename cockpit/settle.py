"""After the start-up jobs: freeze what start-up built out of the GC's way, and hand freed heap back.

Start-up leaves ~500k long-lived objects (modules, routes, models, the demo world's caches);
every full collection afterwards walks all of them again (~0.3 s of CPU each on this machine)
though none of them is garbage. :func:`gc.freeze` moves them to the permanent generation, so
later collections look only at what requests create. Start-up jobs (demo seeding, model and
corpus loading) also free much of what they allocate, but glibc keeps freed pages in its
per-thread arenas; ``malloc_trim`` returns them to the system (~60 MB here).

Only a server that runs its warm-ups settles: an app in a test process is one of many, and
objects frozen there would outlive the app they belong to.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

log = logging.getLogger(__name__)

#: Start-up jobs finish in well under this; past it the server settles anyway.
JOBS_TIMEOUT_S = 600.0


@dataclass(frozen=True, slots=True)
class Settled:
    """What settling did (for the log line and tests)."""

    frozen: int
    """Objects moved to the permanent generation."""
    trimmed: bool
    """Whether the C allocator was asked to return free memory."""


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has none (musl, macOS)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim: Callable[[int], int] = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


def trim_heap() -> bool:
    """Return freed heap pages to the system; False where the C library cannot.

    For one-off loads after start-up (a model built on the first query): what they allocated
    only while loading stays resident otherwise.
    """
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


def settle() -> Settled:
    """Collect once, freeze what is left, and return freed heap pages to the system."""
    gc.collect()
    gc.freeze()
    trimmed = trim_heap()
    return Settled(frozen=gc.get_freeze_count(), trimmed=trimmed)


def settle_after(jobs: Sequence[threading.Thread], *, timeout_s: float = JOBS_TIMEOUT_S) -> None:
    """Settle on a daemon thread once every thread in ``jobs`` has ended (or ``timeout_s``)."""

    def wait_then_settle() -> None:
        for job in jobs:
            job.join(timeout=timeout_s)
        done = settle()
        log.info(
            "settled after start-up: %d objects frozen, heap trimmed: %s", done.frozen, done.trimmed
        )

    threading.Thread(target=wait_then_settle, name="settle-after-startup", daemon=True).start()


__all__ = ["JOBS_TIMEOUT_S", "Settled", "settle", "settle_after", "trim_heap"]
