"""The platform clock: the one place that reads the time.

Every ``now`` in Cockpit comes from :func:`utcnow`, which asks the installed
clock. Production uses the system clock. Tests, evals and reproducible demos
install a clock that *starts* at a fixed instant and then advances with real
time (``COCKPIT_CLOCK_START``), so a seeded world, its deadlines and every
"last 30 days" window mean the same thing on any calendar day, while records
written one after another still get increasing timestamps.

This module must never import anything else from Cockpit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """Something that tells the current instant (timezone-aware, UTC)."""

    def now(self) -> datetime: ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class StartedClock:
    """Starts at ``start`` when created and advances with the machine's monotonic time."""

    start: datetime
    """The instant this clock reads when it is created."""
    _origin: float = field(default_factory=time.monotonic, repr=False)

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            self.start = self.start.replace(tzinfo=UTC)

    def now(self) -> datetime:
        from datetime import timedelta

        return self.start + timedelta(seconds=time.monotonic() - self._origin)


@dataclass
class FixedClock:
    """Always the same instant (unit tests); :meth:`advance` moves it."""

    at: datetime

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        from datetime import timedelta

        self.at = self.at + timedelta(**delta)


_clock: Clock = SystemClock()


def utcnow() -> datetime:
    """The current instant according to the installed clock."""
    return _clock.now()


def current() -> Clock:
    return _clock


def install(clock: Clock) -> Clock:
    """Make ``clock`` the process clock; returns the previous one (to restore it)."""
    global _clock
    previous, _clock = _clock, clock
    return previous


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant; a naive one is read as UTC."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


__all__ = [
    "Clock",
    "FixedClock",
    "StartedClock",
    "SystemClock",
    "current",
    "install",
    "parse_instant",
    "utcnow",
]
