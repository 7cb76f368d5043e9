"""Crons fire: a tick at a pinned instant starts the run as the cron's key, and records it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from cockpit.clock import FixedClock, install
from cockpit.crons import CronScheduler, Fire
from tests.support.apptest import Api, running_app
from tests.support.merchants import add_merchant

NOTE = {"messages": [{"role": "user", "content": "note hi"}]}


def at(minute: int, second: int = 0) -> datetime:
    return datetime(2026, 11, 25, 12, minute, second, tzinfo=UTC)


@dataclass
class World:
    api: Api
    admin: str
    partner: str

    def call(self, key: str, method: str, path: str, **kw: Any) -> Any:
        return self.api.client.request(method, path, headers=self.api.h(key), **kw)

    def thread(self, key: str) -> str:
        return str(self.call(key, "POST", "/threads", json={}).json()["thread_id"])

    def cron(self, key: str, thread_id: str | None = None, **body: Any) -> dict[str, Any]:
        path = "/runs/crons" if thread_id is None else f"/threads/{thread_id}/runs/crons"
        body = {"assistant_id": "spine", "schedule": "*/5 * * * *", "input": NOTE, **body}
        r = self.call(key, "POST", path, json=body)
        assert r.status_code == 200, r.text
        return dict(r.json())

    def find(self, key: str, cron_id: str) -> dict[str, Any]:
        (row,) = [c for c in self.search(key) if c["cron_id"] == cron_id]
        return row

    def search(self, key: str, **body: Any) -> list[dict[str, Any]]:
        r = self.call(key, "POST", "/runs/crons/search", json={"limit": 100, **body})
        assert r.status_code == 200, r.text
        return list(r.json())

    def tick(self, now: datetime) -> list[Fire]:
        """One scheduler pass at ``now``, then wait for the runs it started to end."""
        scheduler = self.api.client.app.state.crons  # type: ignore[attr-defined]

        async def go() -> list[Fire]:
            fires: list[Fire] = await scheduler.tick(now=now)
            await scheduler.settle()
            return fires

        return list(self.api.client.portal.call(go))  # type: ignore[union-attr]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with running_app(tmp_path, cron_poll_s=0) as api:
        admin = api.tenant("cron-a")
        r = api.client.post("/v1/keys", json={"role": "partner"}, headers=api.h(admin))
        yield World(api, admin, r.json()["key"])


def test_a_due_cron_runs_on_its_thread_and_records_the_run(world: World) -> None:
    tid = world.thread(world.partner)
    cron = world.cron(world.partner, tid, metadata={"purpose": "daily note"})
    assert cron["next_run_date"] == at(5).isoformat() and cron["thread_id"] == tid
    assert world.tick(at(4, 59)) == []

    (fire,) = world.tick(at(5))
    assert (fire.status, fire.thread_id, fire.error) == ("started", tid, None)
    run = world.call(world.partner, "GET", f"/threads/{tid}/runs/{fire.run_id}").json()
    assert run["status"] == "success"
    assert run["metadata"] == {"purpose": "daily note", "cron_id": cron["cron_id"]}
    state = world.call(world.partner, "GET", f"/threads/{tid}/state").json()
    messages = state["values"]["messages"]
    assert messages[0]["content"] == "note hi"
    assert any(m["type"] == "tool" and '"note": "hi"' in m["content"] for m in messages)

    row = world.find(world.partner, cron["cron_id"])
    assert (row["last_status"], row["last_run_id"], row["fires"]) == ("success", fire.run_id, 1)
    assert row["next_run_date"] == at(10).isoformat()
    assert world.tick(at(5, 30)) == []  # claimed once: the same instant does not fire again


def test_a_stateless_cron_runs_on_a_new_thread_deleted_after_or_kept(world: World) -> None:
    dropped = world.cron(world.admin)
    kept = world.cron(world.admin, on_run_completed="keep")
    assert dropped["on_run_completed"] == "delete" and kept["on_run_completed"] == "keep"
    fires = {f.cron_id: f for f in world.tick(at(5))}
    assert {f.status for f in fires.values()} == {"started"}
    gone = fires[dropped["cron_id"]].thread_id
    # The runtime deletes the thread just after it records the run's end (which is what the
    # tick waited for), so the delete may land a moment later.
    deadline = time.monotonic() + 20
    while (
        world.call(world.admin, "GET", f"/threads/{gone}").status_code != 404
        and time.monotonic() < deadline
    ):
        time.sleep(0.05)
    assert world.call(world.admin, "GET", f"/threads/{gone}").status_code == 404
    kept_fire = fires[kept["cron_id"]]
    thread = world.call(world.admin, "GET", f"/threads/{kept_fire.thread_id}").json()
    assert thread["metadata"] == {"cron_id": kept["cron_id"]}
    runs = world.call(world.admin, "GET", f"/threads/{kept_fire.thread_id}/runs").json()
    assert [r["run_id"] for r in runs] == [kept_fire.run_id]
    assert runs[0]["status"] == "success"


def test_a_busy_thread_skips_the_fire_and_the_cron_moves_on(world: World) -> None:
    tid = world.thread(world.admin)
    cron = world.cron(world.admin, tid)
    threads = world.api.client.app.state.services.runtime.threads  # type: ignore[attr-defined]
    assert threads.claim("cron-a", tid)  # another run holds the thread
    (fire,) = world.tick(at(5))
    assert fire.status == "skipped" and fire.error is not None
    assert fire.error["code"] == "thread_busy"
    row = world.find(world.admin, cron["cron_id"])
    assert (row["last_status"], row["last_error"]["code"]) == ("skipped", "thread_busy")
    assert row["next_run_date"] == at(10).isoformat() and row["last_run_id"] is None
    threads.release("cron-a", tid, "idle", assistant_id=None)
    (fire,) = world.tick(at(10))
    assert fire.status == "started"


def test_a_revoked_keys_cron_is_refused_and_recorded(world: World) -> None:
    tid = world.thread(world.partner)
    cron = world.cron(world.partner, tid)
    me = world.call(world.partner, "GET", "/v1/me").json()
    key_id = me["key_id"]
    assert cron["user_id"] == key_id
    assert world.call(world.admin, "DELETE", f"/v1/keys/{key_id}").status_code in (200, 204)
    (fire,) = world.tick(at(5))
    assert fire.status == "failed" and fire.error is not None
    assert fire.error["code"] == "cron_owner_revoked"
    assert world.call(world.admin, "GET", f"/threads/{tid}/runs").json() == []
    row = world.find(world.admin, cron["cron_id"])
    assert (row["last_status"], row["last_error"]["code"]) == ("failed", "cron_owner_revoked")


def test_the_key_that_changes_a_cron_owns_it_and_disabled_crons_do_not_fire(
    world: World,
) -> None:
    cron = world.cron(world.partner)
    r = world.call(world.admin, "PATCH", f"/runs/crons/{cron['cron_id']}", json={"enabled": False})
    assert r.status_code == 200, r.text
    assert r.json()["enabled"] is False and r.json()["user_id"] != cron["user_id"]
    assert world.tick(at(5)) == []
    r = world.call(
        world.admin,
        "PATCH",
        f"/runs/crons/{cron['cron_id']}",
        json={"enabled": True, "schedule": "0 13 * * *"},
    )
    assert r.json()["next_run_date"] == datetime(2026, 11, 25, 13, tzinfo=UTC).isoformat()
    (fire,) = world.tick(datetime(2026, 11, 25, 13, tzinfo=UTC))
    assert fire.status == "started"


def test_an_end_time_stops_the_cron(world: World) -> None:
    cron = world.cron(world.admin, on_run_completed="keep", end_time=at(7).isoformat())
    assert cron["end_time"] == at(7).isoformat()
    assert [f.status for f in world.tick(at(5))] == ["started"]
    assert world.find(world.admin, cron["cron_id"])["next_run_date"] is None
    assert world.tick(at(10)) == []


def test_bad_crons_are_refused_with_the_field(world: World) -> None:
    tid = world.thread(world.admin)

    def refused(path: str, body: dict[str, Any]) -> tuple[int, str, str]:
        full = {"assistant_id": "spine", "schedule": "* * * * *", "input": NOTE, **body}
        r = world.call(world.admin, "POST", path, json=full)
        return r.status_code, r.json().get("code"), r.json().get("param")

    assert refused("/runs/crons", {"schedule": "61 * * * *"}) == (
        422,
        "invalid_schedule",
        "schedule",
    )
    assert refused("/runs/crons", {"timezone": "Nowhere/Land"}) == (
        422,
        "invalid_timezone",
        "timezone",
    )
    ai = {"messages": [{"role": "ai", "content": "I approve"}]}
    assert refused("/runs/crons", {"input": ai}) == (
        422,
        "invalid_input",
        "input.messages.0.role",
    )
    assert refused("/runs/crons", {"input": None})[:2] == (422, "missing_field")
    assert refused("/runs/crons", {"webhook": "https://example.com/x"}) == (
        422,
        "webhook_not_registered",
        "webhook",
    )
    assert refused("/runs/crons", {"interrupt_before": ["tools"]}) == (
        422,
        "unsupported_field",
        "interrupt_before",
    )
    assert refused("/runs/crons", {"assistant_id": "nobody"})[0] == 404
    assert refused(f"/threads/{tid}/runs/crons", {"on_run_completed": "keep"}) == (
        422,
        "invalid_value",
        "on_run_completed",
    )
    assert refused("/threads/00000000-0000-0000-0000-000000000000/runs/crons", {})[:2] == (
        404,
        "thread_not_found",
    )
    assert world.search(world.admin) == []  # nothing half-written


def test_merchant_bound_keys_and_other_tenants_see_only_their_own(world: World) -> None:
    svc = world.api.client.app.state.services  # type: ignore[attr-defined]
    add_merchant(svc.db, "cron-a", "mer_1")
    add_merchant(svc.db, "cron-a", "mer_2")

    def bound(merchant: str) -> str:
        body = {"role": "merchant", "merchant_id": merchant}
        return str(world.call(world.admin, "POST", "/v1/keys", json=body).json()["key"])

    m1, m2, other = bound("mer_1"), bound("mer_2"), world.api.tenant("cron-b")
    mine = world.cron(m1, world.thread(m1))
    tenant_wide = world.cron(world.admin)
    assert [c["cron_id"] for c in world.search(m1)] == [mine["cron_id"]]
    assert world.search(m2) == [] and world.search(other) == []
    assert {c["cron_id"] for c in world.search(world.admin)} == {
        mine["cron_id"],
        tenant_wide["cron_id"],
    }
    assert world.call(m1, "POST", "/runs/crons/count", json={}).json() == 1
    assert world.call(other, "POST", "/runs/crons/count", json={}).json() == 0
    for key in (m2, other):
        for cron in (mine, tenant_wide):
            path = f"/runs/crons/{cron['cron_id']}"
            r = world.call(key, "PATCH", path, json={"enabled": False})
            assert (r.status_code, r.json()["code"]) == (404, "cron_not_found")
            assert world.call(key, "DELETE", path).status_code == 404
    # Another tenant cannot set a cron on this tenant's thread either.
    body = {"assistant_id": "spine", "schedule": "* * * * *", "input": NOTE}
    r = world.call(other, "POST", f"/threads/{mine['thread_id']}/runs/crons", json=body)
    assert r.status_code == 404
    assert world.call(m1, "DELETE", f"/runs/crons/{mine['cron_id']}").status_code == 204
    assert [c["cron_id"] for c in world.search(world.admin)] == [tenant_wide["cron_id"]]


def test_a_cron_whose_assistant_no_longer_admits_its_key_is_refused(world: World) -> None:
    spec = {
        "id": "cron-bot",
        "name": "Cron bot",
        "description": "Writes notes on a schedule (cron test agent).",
        "instructions": "You write notes.",
        "model": "fake:spine",
        "tools": [{"name": "spine_note"}],
    }
    r = world.call(world.partner, "POST", "/v1/agents", json=spec)
    assert r.status_code == 201, r.text
    cron = world.cron(world.partner, assistant_id="cron-bot", on_run_completed="keep")
    # v2 admits merchants only, and goes live: the partner key may no longer run it.
    r = world.call(world.admin, "POST", "/v1/agents", json={**spec, "roles": ["merchant"]})
    assert r.status_code == 201, r.text
    path = "/v1/agents/cron-bot/aliases/live"
    assert world.call(world.admin, "PUT", path, json={"version": 2}).status_code == 200
    (fire,) = world.tick(at(5))
    assert fire.status == "failed" and fire.error is not None
    assert fire.error["code"] == "assistant_not_allowed"
    row = world.find(world.partner, cron["cron_id"])
    assert (row["last_status"], row["last_error"]["code"]) == ("failed", "assistant_not_allowed")
    # No thread is left behind by the refused fire, and the partner cannot set it again.
    assert world.call(world.admin, "POST", "/threads/count", json={}).json() == 0
    r = world.call(
        world.partner,
        "POST",
        "/runs/crons",
        json={
            "assistant_id": "cron-bot",
            "schedule": "* * * * *",
            "input": NOTE,
        },
    )
    assert (r.status_code, r.json()["code"]) == (403, "assistant_not_allowed")


def test_the_background_scheduler_fires_due_crons_and_stops(world: World) -> None:
    cron = world.cron(world.admin, world.thread(world.admin))
    svc = world.api.client.app.state.services  # type: ignore[attr-defined]
    scheduler = CronScheduler(svc.db, svc.runtime, poll_s=0.05)
    previous = install(FixedClock(at(5)))  # the platform clock reaches the fire time
    try:
        world.api.client.portal.call(_started, scheduler)  # type: ignore[union-attr]
        for _ in range(600):  # up to a minute on a loaded machine; usually the first poll
            if world.find(world.admin, cron["cron_id"])["last_status"] == "success":
                break
            time.sleep(0.1)
        world.api.client.portal.call(scheduler.stop)  # type: ignore[union-attr]
    finally:
        install(previous)
    row = world.find(world.admin, cron["cron_id"])
    assert (row["fires"], row["last_status"]) == (1, "success")
    assert row["next_run_date"] == at(10).isoformat()


async def _started(scheduler: CronScheduler) -> None:
    scheduler.start()


def test_a_cron_run_tells_its_registered_webhook_when_it_ends(world: World) -> None:
    from cockpit.webhooks import WebhookDelivery, WebhookEndpoint
    from cockpit.webhooks.signing import generate_secret

    url = "http://127.0.0.1:9/cron-hook"  # never sent: the dispatcher does not run here
    svc = world.api.client.app.state.services  # type: ignore[attr-defined]
    with svc.db.tenant_session("cron-a") as s:
        s.add(
            WebhookEndpoint(
                id="we_cron",
                url=url,
                description="",
                event_types=["monitor.finding"],
                enabled=True,
                secrets=[{"id": "whsk_c", "secret": generate_secret(), "expires_at": None}],
                created_by="test",
            )
        )
    tid = world.thread(world.admin)
    cron = world.cron(world.admin, tid, webhook=url)
    assert cron["payload"]["webhook"] == url
    (fire,) = world.tick(at(5))
    assert fire.status == "started"
    with svc.db.tenant_session("cron-a") as s:
        deliveries = list(s.scalars(select(WebhookDelivery)))
    assert [(d.endpoint_id, d.event_type) for d in deliveries] == [("we_cron", "run.completed")]
    assert fire.run_id in str(deliveries[0].payload)


def test_a_cron_whose_schedule_no_longer_parses_stops_visibly(world: World) -> None:
    from cockpit.crons import CronRecord

    cron = world.cron(world.admin, on_run_completed="keep")
    other = world.cron(world.admin, on_run_completed="keep")
    svc = world.api.client.app.state.services  # type: ignore[attr-defined]
    with svc.db.tenant_session("cron-a") as s:
        s.get(CronRecord, cron["cron_id"]).timezone = "Gone/Zone"  # the tz data lost it
    fires = world.tick(at(5))
    assert [f.cron_id for f in fires] == [other["cron_id"]]  # the other still fires
    row = world.find(world.admin, cron["cron_id"])
    assert (row["next_run_date"], row["last_status"]) == (None, "failed")
    assert row["last_error"]["code"] == "invalid_timezone"
