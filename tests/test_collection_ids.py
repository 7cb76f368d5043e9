"""Every collected test has an id of its own (xdist runs only one test of each id)."""

from __future__ import annotations

from tests.support.collection import duplicate_ids


def test_shared_ids_are_found_once_each_in_first_seen_order() -> None:
    ids = ["a.py::t", "b.py::u", "a.py::t", "c.py::v", "b.py::u", "a.py::t"]
    assert duplicate_ids(ids) == ["a.py::t", "b.py::u"]


def test_distinct_ids_pass() -> None:
    assert duplicate_ids(["a.py::t[1]", "a.py::t[2]", "a.py::u"]) == []
    assert duplicate_ids([]) == []
