"""A test server's clock runs with the test's, however long the server took to start."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cockpit.clock import StartedClock, current, install, parse_instant, utcnow
from tests.support import serve
from tests.support.live import clock_now

#: How far the machine's monotonic time is pinned past the server's (late) clock origin.
PINNED_LEAD = timedelta(seconds=125)


def test_the_server_clock_counts_from_the_test_instant(monkeypatch: pytest.MonkeyPatch) -> None:
    env = clock_now()
    started = parse_instant(env["COCKPIT_CLOCK_START"])
    # as if the server got through its imports two minutes after the test read its clock
    late = float(env["COCKPIT_TEST_CLOCK_ORIGIN"]) - 120.0
    monkeypatch.setenv("COCKPIT_CLOCK_START", env["COCKPIT_CLOCK_START"])
    monkeypatch.setenv("COCKPIT_TEST_CLOCK_ORIGIN", repr(late))
    previous = current()
    try:
        serve._clock_from_the_test()
        clock = current()
        # the machine's monotonic time, pinned: PINNED_LEAD after the server's clock origin
        lead = PINNED_LEAD.total_seconds()
        monkeypatch.setattr("cockpit.clock.time.monotonic", lambda: late + lead)
        reading = utcnow()
    finally:
        install(previous)
    assert isinstance(clock, StartedClock)
    assert (clock.start, clock._origin) == (started, late)
    assert reading == started + PINNED_LEAD


def test_without_an_origin_the_settings_start_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COCKPIT_TEST_CLOCK_ORIGIN", raising=False)
    before = current()
    serve._clock_from_the_test()
    assert current() is before
