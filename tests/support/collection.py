"""Checks on what pytest collected, before any test runs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable


def duplicate_ids(node_ids: Iterable[str]) -> list[str]:
    """Node ids that name more than one collected test, in first-seen order.

    pytest-xdist schedules tests by id, so of several tests sharing one it runs a single one and
    reports nothing about the rest: schemathesis's eager per-operation tests all took the test
    function's id under pytest 9, and CI ran one API operation of 200 for several sessions."""
    counts = Counter(node_ids)
    return [node_id for node_id, n in counts.items() if n > 1]
