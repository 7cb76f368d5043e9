"""Full garbage collections in a test worker: when its long-lived heap has doubled.

CPython 3.11 runs a full (generation 2) collection whenever the objects promoted since the last
one pass a quarter of those that survived it. A test worker's long-lived heap is large (1-2 M
objects: the libraries tests import, and their caches), so it pays for one every few seconds
of tests, each scanning the whole heap. :class:`FullCollections` leaves generations 0 and 1 as
they are and asks for generation 2 only once that generation has doubled since the last full
collection, checked between tests. The automatic full collection stays as a backstop for a
single test that allocates without end, at ``backstop`` times CPython's own threshold.

Explicit ``gc.collect()`` calls in tests are untouched, so a test that needs a finalizer to
run still gets it.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass, field


@dataclass(slots=True)
class FullCollections:
    growth: float = 1.0
    """Collect once generation 2 holds this much more than the last collection left (1.0:
    twice as many objects)."""
    check_every: int = 20
    """The fewest generation-1 collections between two looks at generation 2's size."""
    backstop: int = 100
    """The automatic full collection's threshold, as a multiple of CPython's own."""
    collections: int = 0
    _survivors: int = field(default=0, init=False)
    _next_check: int = field(default=0, init=False)
    _saved: tuple[int, int, int] | None = field(default=None, init=False)

    def install(self) -> None:
        """Raise the automatic threshold and take the current heap as the baseline."""
        young, middle, full = gc.get_threshold()
        self._saved = (young, middle, full)
        gc.set_threshold(young, middle, full * self.backstop)
        self._collect()

    def uninstall(self) -> None:
        if self._saved is not None:
            gc.set_threshold(*self._saved)
            self._saved = None

    def between_tests(self) -> None:
        """Collect generation 2 if it has doubled; cheap when it is not time to look.

        Counting generation 2 walks it (tens of milliseconds for a million objects), so after
        a look that finds it short of the limit the next look waits for half the young
        collections that, at the rate seen since the last full collection, would reach it."""
        young = gc.get_count()[2]
        if self._saved is None or young < self._next_check:
            return
        size = len(gc.get_objects(generation=2))
        limit = self._survivors * (1 + self.growth)
        if size > limit:
            self._collect()
            return
        per_young = max(size - self._survivors, 1) / max(young, 1)
        self._next_check = young + max(self.check_every, int((limit - size) / per_young / 2))

    def _collect(self) -> None:
        gc.collect()
        self.collections += 1
        self._survivors = len(gc.get_objects(generation=2))
        self._next_check = self.check_every
