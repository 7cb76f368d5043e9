"""The monitors' cron: every merchant gets the default jobs, and each due job runs exactly once
per due time even with two runners ticking at the same instant on one database."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from cockpit.db.session import Database
from cockpit.webhooks import WebhookDelivery
from tests.tools.payments.conftest import migrate, sqlite_db
from tests.tools.payments.monitors import world
from tests.tools.payments.monitors.test_runs import MISSING, endpoint
from tests.tools.payments.monitors.world import NOW, TENANT
from tools.payments.monitors import MONITORS, tick
from tools.payments.monitors.models import MonitorFinding, MonitorSchedule
from tools.payments.monitors.scheduler import JobRun


@pytest.fixture(params=["sqlite", "postgres"])
def shared_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        db = sqlite_db(tmp_path)
    else:
        db = Database(request.getfixturevalue("fresh_pg_url"))
        migrate(db, tmp_path / "stub_versions")
    yield db
    db.dispose()


def _jobs(db: Database) -> list[MonitorSchedule]:
    with db.tenant_session(TENANT) as s:
        return list(s.scalars(select(MonitorSchedule)))


def test_two_runners_at_the_same_instant_run_each_due_job_once(shared_db: Database) -> None:
    db = shared_db
    for n in range(4):
        world.merchant(db, f"mer_{n}")
    world.merchant(db, "mer_kyb", kyb_state="IN_REVIEW", kyb_detail=MISSING)
    endpoint(db)
    results: list[list[JobRun]] = [[], []]
    start = threading.Barrier(2)

    def runner(slot: int) -> None:
        start.wait()
        results[slot] = tick(db, now=NOW, tenant_ids=[TENANT])

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    ran = Counter((r.merchant_id, r.monitor) for r in results[0] + results[1])
    assert len(ran) == 5 * len(MONITORS) and set(ran.values()) == {1}
    jobs = _jobs(db)
    assert len(jobs) == 5 * len(MONITORS)
    assert all(j.runs == 1 and j.next_run_at > NOW and j.last_status == "ok" for j in jobs)
    with db.tenant_session(TENANT) as s:
        findings = list(s.scalars(select(MonitorFinding)))
        sent = list(s.scalars(select(WebhookDelivery)))
    assert [f.monitor for f in findings] == ["kyb_missing_documents"]
    assert [d.payload["data"]["id"] for d in sent] == [findings[0].id]


def test_nothing_runs_again_until_it_is_due(db: Database) -> None:
    world.merchant(db)
    assert len(tick(db, now=NOW, tenant_ids=[TENANT])) == len(MONITORS)
    assert tick(db, now=NOW + timedelta(minutes=59), tenant_ids=[TENANT]) == []
    hourly = {n for n, m in MONITORS.items() if m.interval_seconds == 3600}
    later = tick(db, now=NOW + timedelta(hours=1), tenant_ids=[TENANT])
    assert {r.monitor for r in later} == hourly
    # A disabled job is never claimed.
    with db.tenant_session(TENANT) as s:
        for job in s.scalars(select(MonitorSchedule)):
            job.enabled = False
    assert tick(db, now=NOW + timedelta(days=2), tenant_ids=[TENANT]) == []


def test_a_new_merchant_gets_the_default_jobs_at_the_next_tick(db: Database) -> None:
    world.merchant(db)
    tick(db, now=NOW, tenant_ids=[TENANT])
    world.merchant(db, "mer_new")
    runs = tick(db, now=NOW + timedelta(minutes=1), tenant_ids=[TENANT])
    assert {(r.merchant_id, r.monitor) for r in runs} == {("mer_new", m) for m in MONITORS}


def test_the_background_loop_runs_due_jobs_and_stops(db: Database) -> None:
    """The worker's loop ticks on its own (here every 10 ms) until stopped."""
    import asyncio

    from cockpit.tenancy.models import Tenant
    from tools.payments.monitors import MonitorScheduler

    with db.system_session() as s:
        s.add(Tenant(id=TENANT, name="monitors"))
    world.merchant(db, kyb_state="IN_REVIEW", kyb_detail=MISSING)

    async def run() -> None:
        scheduler = MonitorScheduler(db, poll_s=0.01)
        scheduler.start()
        try:
            for _ in range(3000):  # a bound, not a timing assertion
                if len(_jobs(db)) == len(MONITORS) and all(j.runs for j in _jobs(db)):
                    break
                await asyncio.sleep(0.01)
        finally:
            await scheduler.aclose()

    asyncio.run(run())
    assert all(j.runs >= 1 for j in _jobs(db)) and len(_jobs(db)) == len(MONITORS)
    with db.tenant_session(TENANT) as s:
        assert [f.monitor for f in s.scalars(select(MonitorFinding))] == ["kyb_missing_documents"]
