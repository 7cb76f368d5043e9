"""The test workers' full-collection schedule (``tests/support/heap.py``)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from tests.support.heap import FullCollections


class _Node:
    __slots__ = ("__weakref__", "other")

    def __init__(self) -> None:
        self.other: _Node | None = None


def _garbage_in_generation_2(pairs: int) -> weakref.ref[_Node]:
    """``pairs`` unreachable two-node cycles, promoted to generation 2; a weak ref to one node."""
    keep = []
    for _ in range(pairs):
        a, b = _Node(), _Node()
        a.other, b.other = b, a
        keep.append(a)
    gc.collect(1)  # survivors of generations 0 and 1 move to generation 2
    probe = weakref.ref(keep[0])
    del keep, a, b
    return probe


@pytest.fixture(autouse=True)
def _small_heap() -> Iterator[None]:
    """The worker's heap set aside (``gc.freeze``) while each test runs. By now it holds 1-2 M
    objects, and every full collection and generation count here would walk them all: ~1 s
    apiece, 13 CPU-s for this file. The schedule works on proportions, which a small heap shows
    as well: 50,000 live objects stand for the heap."""
    gc.freeze()
    ballast: list[list[int]] = [[] for _ in range(50_000)]
    yield
    del ballast
    gc.unfreeze()


@pytest.fixture
def schedule(request: pytest.FixtureRequest) -> Iterator[FullCollections]:
    heap = FullCollections(**getattr(request, "param", {}))
    heap.install()
    yield heap
    heap.uninstall()
    gc.collect()


def _pairs_for(share: float) -> int:
    return int(len(gc.get_objects(generation=2)) * share / 2) + 1_000


def test_install_raises_the_automatic_threshold_and_uninstall_restores_it() -> None:
    before = gc.get_threshold()
    heap = FullCollections(backstop=100)
    heap.install()
    try:
        assert gc.get_threshold() == (before[0], before[1], before[2] * 100)
    finally:
        heap.uninstall()
    assert gc.get_threshold() == before


@pytest.mark.parametrize("schedule", [{"growth": 0.05, "check_every": 0}], indirect=True)
def test_a_grown_generation_is_collected_between_tests(schedule: FullCollections) -> None:
    probe = _garbage_in_generation_2(_pairs_for(0.2))
    assert probe() is not None, "the cycle was freed before the schedule looked"
    schedule.between_tests()
    assert probe() is None
    assert schedule.collections == 2  # install's baseline, then this one


@pytest.mark.parametrize("schedule", [{"growth": 10.0, "check_every": 0}], indirect=True)
def test_a_generation_that_has_not_grown_enough_is_left(schedule: FullCollections) -> None:
    probe = _garbage_in_generation_2(_pairs_for(0.2))
    schedule.between_tests()
    assert probe() is not None
    assert schedule.collections == 1


@pytest.mark.parametrize("schedule", [{"growth": 0.05, "check_every": 10**6}], indirect=True)
def test_it_does_not_look_before_enough_young_collections(schedule: FullCollections) -> None:
    probe = _garbage_in_generation_2(_pairs_for(0.2))
    schedule.between_tests()
    assert probe() is not None
    assert schedule.collections == 1


@pytest.mark.parametrize("schedule", [{"growth": 10.0, "check_every": 0}], indirect=True)
def test_a_look_far_from_the_limit_puts_the_next_one_off(
    schedule: FullCollections, monkeypatch: pytest.MonkeyPatch
) -> None:
    looks = []
    walk = gc.get_objects

    def counted(generation: int | None = None) -> list[object]:
        looks.append(generation)
        return walk(generation)

    _garbage_in_generation_2(_pairs_for(0.2))
    monkeypatch.setattr(gc, "get_objects", counted)
    schedule.between_tests()
    schedule.between_tests()
    assert looks == [2]
