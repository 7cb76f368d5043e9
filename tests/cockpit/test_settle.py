"""Settling after start-up: it waits for the start-up jobs, then freezes and trims once."""

from __future__ import annotations

import gc
import threading

import pytest

from cockpit import settle as settling


def test_settle_freezes_what_is_alive_and_trims() -> None:
    try:
        done = settling.settle()
        assert done.frozen == gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()  # this test process is no server: give the objects back to the GC


def test_settling_waits_for_the_start_up_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    release, settled = threading.Event(), threading.Event()
    calls: list[int] = []

    def fake_settle() -> settling.Settled:
        calls.append(1)
        settled.set()
        return settling.Settled(frozen=0, trimmed=False)

    monkeypatch.setattr(settling, "settle", fake_settle)
    job = threading.Thread(target=release.wait, daemon=True)
    job.start()
    settling.settle_after([job])
    assert not settled.wait(0.2) and calls == []  # the job is still running
    release.set()
    assert settled.wait(10) and calls == [1]
