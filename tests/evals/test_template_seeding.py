"""A world template is seeded once, however many processes of a run ask for it at once.

Worker processes (``--workers N``) each look the template up; when it is missing (a new
seed or clock, or seeding code changed since the cache was filled) one seeds it while the
others wait for it, instead of seeding into each other's half-built folder.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest

from evals import world
from evals.world import Template, build_template

CLOCK = datetime(2026, 11, 25, 12, tzinfo=UTC)


def test_concurrent_lookups_seed_a_missing_template_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeded: list[Path] = []

    def seed(data: Path, *, seed: int, clock: datetime) -> None:
        seeded.append(data)
        time.sleep(0.2)  # a seeding in progress, long enough for every other lookup to arrive
        data.mkdir(parents=True)  # a second seeding of the same folder would fail here
        meta = {"seed": seed, "clock": clock.isoformat(), "merchants": {"sg": "m_sg"}}
        (data / "eval-template.json").write_text(json.dumps(meta))

    monkeypatch.setattr(world, "_seed_template", seed)
    start = threading.Barrier(4)

    def look_up(_: int) -> Template:
        start.wait()
        return build_template(tmp_path, seed=7, clock=CLOCK)

    with ThreadPoolExecutor(4) as pool:
        templates = list(pool.map(look_up, range(4)))
    assert len(seeded) == 1
    assert {t.dir for t in templates} == {seeded[0]}
    assert all(t.merchants == {"sg": "m_sg"} for t in templates)
