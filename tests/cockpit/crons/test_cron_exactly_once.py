"""Two workers on one database tick at the same instant: every due cron fires exactly once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cockpit.crons import Fire
from cockpit.crons import scheduler as scheduler_module
from tests.support.apptest import Api, running_app

NOTE = {"messages": [{"role": "user", "content": "note hi"}]}
DUE = datetime(2026, 11, 25, 12, 5, tzinfo=UTC)
CRONS = 4


@pytest.fixture(params=["sqlite", "postgres"])
def workers(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Api, Api]]:
    url = None if request.param == "sqlite" else request.getfixturevalue("migrated_pg_url")
    with ExitStack() as stack:
        # Two apps (two runtimes, two engines) on the same data dir and database.
        first = stack.enter_context(running_app(tmp_path, url, cron_poll_s=0))
        second = stack.enter_context(running_app(tmp_path, url, cron_poll_s=0))
        yield first, second


def _tick(api: Api, out: list[Fire]) -> None:
    scheduler = api.client.app.state.crons  # type: ignore[attr-defined]

    async def go() -> list[Fire]:
        fires: list[Fire] = await scheduler.tick(now=DUE)
        await scheduler.settle()
        return fires

    out.extend(api.client.portal.call(go))  # type: ignore[union-attr]


def test_a_cron_claimed_by_one_worker_is_not_fired_by_another(
    workers: tuple[Api, Api], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Worker 1 is stopped inside its claiming transaction while worker 2 ticks at the same
    instant: worker 2 must fire nothing (PostgreSQL skips the locked rows; SQLite waits for
    the write lock and then reads the moved dates), and worker 1 fires every cron once."""
    first, second = workers
    key = first.tenant("once-a")
    h = first.h(key)
    crons = []
    for _ in range(CRONS):
        tid = first.client.post("/threads", json={}, headers=h).json()["thread_id"]
        body = {"assistant_id": "spine", "schedule": "*/5 * * * *", "input": NOTE}
        r = first.client.post(f"/threads/{tid}/runs/crons", json=body, headers=h)
        assert r.status_code == 200, r.text
        crons.append(r.json()["cron_id"])

    holding, release = threading.Event(), threading.Event()
    real = scheduler_module.upcoming
    calls = []

    def held(rec: Any, after: datetime) -> datetime | None:
        calls.append(rec.cron_id)
        if len(calls) == 1:  # the first worker to claim stops here, its rows claimed
            holding.set()
            release.wait(timeout=20)
        return real(rec, after)

    monkeypatch.setattr(scheduler_module, "upcoming", held)
    fired_first: list[Fire] = []
    fired_second: list[Fire] = []
    worker = threading.Thread(target=_tick, args=(first, fired_first))
    worker.start()
    assert holding.wait(timeout=120)
    if first.client.app.state.services.db.dialect == "sqlite":  # type: ignore[attr-defined]
        # The second worker waits for SQLite's write lock, which the first holds until then.
        threading.Timer(1.0, release.set).start()
    _tick(second, fired_second)
    release.set()
    worker.join(timeout=300)

    assert fired_second == []
    assert sorted(f.cron_id for f in fired_first) == sorted(crons)
    assert {f.status for f in fired_first} == {"started"}
    rows = second.client.post("/runs/crons/search", json={"limit": 100}, headers=h).json()
    assert len(rows) == CRONS
    for row in rows:
        assert (row["fires"], row["last_status"]) == (1, "success")
        runs = second.client.get(f"/threads/{row['thread_id']}/runs", headers=h).json()
        assert [r["run_id"] for r in runs] == [row["last_run_id"]]
