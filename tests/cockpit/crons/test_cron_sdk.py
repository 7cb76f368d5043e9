"""The official ``langgraph-sdk`` CronClient drives Cockpit's crons over HTTP, unchanged."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import NotFoundError, UnprocessableEntityError

from cockpit.app import create_app
from cockpit.config import Settings
from tests.support.live import served
from tests.support.spinekit import AGENTS_DIR, rule_model_factory

NOTE = {"messages": [{"role": "user", "content": "note hi"}]}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """A served app: its URL and two tenant admin keys."""
    data = tmp_path / "data"
    settings = Settings(
        data_dir=data,
        agents_path=[AGENTS_DIR],
        tool_modules=["tests.support.spinekit"],
        warmup=False,
        cron_poll_s=0,
    )
    app = create_app(settings, model_factory=rule_model_factory())
    with served(app, name="crons") as url:
        admin = {"x-api-key": (data / "admin.key").read_text().strip()}
        keys = []
        for tenant in ("sdk-a", "sdk-b"):
            httpx.post(f"{url}/v1/tenants", json={"tenant_id": tenant}, headers=admin)
            r = httpx.post(
                f"{url}/v1/keys", json={"role": "admin", "tenant_id": tenant}, headers=admin
            )
            keys.append(r.json()["key"])
        yield url, keys[0], keys[1]


def test_the_sdk_creates_searches_counts_updates_and_deletes_crons(
    server: tuple[str, str, str],
) -> None:
    url, key_a, key_b = server
    asyncio.run(_flow(get_client(url=url, api_key=key_a), get_client(url=url, api_key=key_b)))


async def _flow(a: LangGraphClient, b: LangGraphClient) -> None:
    thread = await a.threads.create()
    tid = thread["thread_id"]
    on_thread = await a.crons.create_for_thread(
        tid,
        "spine",
        schedule="0 9 * * mon-fri",
        input=NOTE,
        metadata={"team": "ops"},
        timezone="Europe/Berlin",
    )
    assert on_thread["thread_id"] == tid and on_thread["schedule"] == "0 9 * * mon-fri"
    # 09:00 in Berlin (CET) is 08:00 UTC; the clock stands at Wednesday 2026-11-25 12:00.
    assert on_thread["next_run_date"] == "2026-11-26T08:00:00+00:00"
    assert on_thread["timezone"] == "Europe/Berlin" and on_thread["enabled"] is True
    ends = datetime(2027, 1, 1, tzinfo=UTC)
    stateless = await a.crons.create(
        "spine", schedule="*/30 * * * *", input=NOTE, on_run_completed="keep", end_time=ends
    )
    assert stateless["thread_id"] is None and stateless["on_run_completed"] == "keep"
    assert stateless["end_time"] == ends.isoformat()
    assert stateless["payload"]["input"] == NOTE

    assert await a.crons.count() == 2
    assert await a.crons.count(thread_id=tid) == 1
    assert await a.crons.count(metadata={"team": "ops"}) == 1
    assert await b.crons.count() == 0
    found = await a.crons.search(assistant_id="spine", sort_by="next_run_date", sort_order="asc")
    assert [c["cron_id"] for c in found] == [stateless["cron_id"], on_thread["cron_id"]]
    slim = await a.crons.search(thread_id=tid, select=["cron_id", "schedule"])
    assert slim == [{"cron_id": on_thread["cron_id"], "schedule": "0 9 * * mon-fri"}]
    assert len(await a.crons.search(limit=1, offset=1)) == 1
    assert await b.crons.search() == []

    changed = await a.crons.update(
        on_thread["cron_id"], schedule="15 10 * * *", enabled=False, metadata={"team": "risk"}
    )
    assert (changed["schedule"], changed["enabled"], changed["metadata"]) == (
        "15 10 * * *",
        False,
        {"team": "risk"},
    )
    assert [c["cron_id"] for c in await a.crons.search(enabled=False)] == [changed["cron_id"]]
    cleared = await a.crons.update(stateless["cron_id"], end_time=None)
    assert cleared["end_time"] is None

    with pytest.raises(UnprocessableEntityError) as bad:
        await a.crons.create("spine", schedule="every day", input=NOTE)
    assert bad.value.response.json()["code"] == "invalid_schedule"
    with pytest.raises(NotFoundError):
        await b.crons.update(on_thread["cron_id"], enabled=True)
    with pytest.raises(NotFoundError):
        await b.crons.delete(on_thread["cron_id"])

    await a.crons.delete(on_thread["cron_id"])
    await a.crons.delete(stateless["cron_id"])
    assert await a.crons.count() == 0
    with pytest.raises(NotFoundError):
        await a.crons.delete(stateless["cron_id"])
