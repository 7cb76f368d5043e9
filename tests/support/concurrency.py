"""Race helpers: release many threads at once and collect what each got back."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


def released_together(n: int, fn: Callable[[int], Any], *, timeout: float = 120) -> list[Any]:
    """Run ``fn(i)`` in ``n`` threads released by one barrier; an exception is returned in its
    slot, not raised, so the caller can assert on every outcome."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = fn(i)
        except Exception as exc:  # asserted on by the caller
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    return results


__all__ = ["released_together"]
