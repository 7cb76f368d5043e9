"""Sections that drop out leave single spaces, whatever sits next to them."""

from __future__ import annotations

import pytest

from cockpit.planner.template import render


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        ({"a": 1, "b": 2}, "x A1B2 C"),
        ({"a": 1}, "x A1 C"),  # the space after a dropped section that follows another
        ({"b": 2}, "x B2 C"),
        ({}, "x C"),
    ],
)
def test_adjacent_sections(context: dict[str, int], expected: str) -> None:
    assert render("x {[A{a}]}{[B{b}]} C", context) == expected


def test_a_dropped_section_between_words_leaves_one_space() -> None:
    assert render("one {[two {n}]} three", {}) == "one three"
    assert render("one {[two {n}]} three", {"n": 2}) == "one two 2 three"
