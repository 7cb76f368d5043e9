"""Cron tests tick at instants a few minutes after the test clock's start (12:05, 12:10, …).

The process clock starts when the worker starts and advances with it, so a cron test that ran
more than five minutes into a long run created its cron after 12:05 and every expectation
moved (CI failed these tests in runs where they were scheduled late). Each test here gets a
clock that starts at the test clock's start when the test starts.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from cockpit.clock import StartedClock, install, parse_instant


@pytest.fixture(autouse=True)
def clock_starts_with_the_test() -> Iterator[None]:
    previous = install(StartedClock(parse_instant(os.environ["COCKPIT_CLOCK_START"])))
    yield
    install(previous)
