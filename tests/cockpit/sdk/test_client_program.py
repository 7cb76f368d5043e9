"""A LangGraph client program, written against the SDK's documentation, runs unchanged on
Cockpit: it makes its own assistant from a built-in graph, keeps per-user memories in the store,
ships a new assistant version, finds it worse and sets the previous one back as latest, and
has a cron run it every minute.

Also: the store API keeps tenants and merchant-bound keys apart, through plain HTTP.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from tests.support.apptest import running_app
from tests.support.live import LiveServer
from tests.support.merchants import add_merchant


async def remember(client: LangGraphClient, user: str, fact: str) -> None:
    """The program's memory: one item per fact under ("users", user, "facts")."""
    key = f"fact-{len((await client.store.search_items(['users', user, 'facts']))['items'])}"
    await client.store.put_item(["users", user, "facts"], key=key, value={"text": fact})


async def chat(client: LangGraphClient, assistant_id: str, text: str) -> dict[str, Any]:
    thread = await client.threads.create(metadata={"program": "notes"})
    out = await client.runs.wait(
        thread["thread_id"],
        assistant_id,
        input={"messages": [{"role": "user", "content": text}]},
    )
    assert isinstance(out, dict)
    return out


async def program(url: str, api_key: str) -> None:
    async with get_client(url=url, api_key=api_key) as client:
        graphs = {a["graph_id"] for a in await client.assistants.search(limit=100)}
        assert "spine" in graphs
        bot = await client.assistants.create(
            "spine",
            name="Note taker",
            context={"instructions": "Take notes."},
            metadata={"owner": "program"},
        )
        aid = bot["assistant_id"]
        await remember(client, "ada", "prefers short answers")
        await remember(client, "ada", "ships from Lisbon")

        first = await chat(client, aid, "note hello")
        assert first["messages"][-1]["type"] == "ai"

        v2 = await client.assistants.update(aid, context={"instructions": "Take long notes."})
        assert v2["version"] == 2
        assert (await client.assistants.get(aid))["context"]["instructions"] == "Take long notes."
        assert [v["version"] for v in await client.assistants.get_versions(aid)] == [2, 1]

        back = await client.assistants.set_latest(aid, 1)
        assert back["version"] == 1 and back["context"]["instructions"] == "Take notes."
        again = await chat(client, aid, "note again")
        assert again["messages"][-1]["type"] == "ai"

        facts = await client.store.search_items(["users", "ada"], query="Lisbon")
        assert [i["value"]["text"] for i in facts["items"]] == ["ships from Lisbon"]
        spaces = await client.store.list_namespaces(prefix=["users"], max_depth=2)
        assert spaces["namespaces"] == [["users", "ada"]]
        mine = await client.assistants.search(metadata={"owner": "program"})
        assert [a["assistant_id"] for a in mine] == [aid]
        await digest_every_minute(client, aid)


async def digest_every_minute(client: LangGraphClient, assistant_id: str) -> None:
    """A cron on a thread: it fires on the server's schedule, as the key that set it."""
    thread = await client.threads.create(metadata={"program": "digest"})
    tid = thread["thread_id"]
    cron = await client.crons.create_for_thread(
        tid,
        assistant_id,
        schedule="* * * * *",
        input={"messages": [{"role": "user", "content": "note daily digest"}]},
    )
    assert await client.crons.count(assistant_id=assistant_id) == 1
    runs: list[Any] = []
    for _ in range(900):  # the server's clock starts ten seconds before a minute turns
        runs = await client.runs.list(tid)
        if runs and runs[0]["status"] == "success":
            break
        await asyncio.sleep(0.1)
    assert [r["status"] for r in runs] == ["success"], runs
    state = await client.threads.get_state(tid)
    assert "daily digest" in str(state["values"]["messages"][-1]["content"])
    await client.crons.delete(cron["cron_id"])
    assert await client.crons.count(assistant_id=assistant_id) == 0


def test_a_client_program_runs_unchanged(tmp_path: Path) -> None:
    # Crons are polled every second; the platform clock starts just before a minute turns.
    clock = {"COCKPIT_CRON_POLL_S": "1", "COCKPIT_CLOCK_START": "2026-11-25T11:59:50+00:00"}
    server = LiveServer(tmp_path / "data", extra_env=clock).start()
    try:
        asyncio.run(program(server.url, server.key()))
    finally:
        server.stop()


def test_store_scopes_over_http(tmp_path: Path, module_database_url: str | None) -> None:
    with running_app(tmp_path, module_database_url) as api:
        c = api.client
        admin = api.tenant("st-http")
        other = api.tenant("st-http-other")
        add_merchant(c.app.state.services.db, "st-http", "mer_1")  # type: ignore[attr-defined]
        r = c.post(
            "/v1/keys", json={"role": "merchant", "merchant_id": "mer_1"}, headers=api.h(admin)
        )
        bound = r.json()["key"]
        item = {"namespace": ["prefs"], "key": "k", "value": {"who": "tenant"}}
        assert c.put("/store/items", json=item, headers=api.h(admin)).status_code == 204
        mine = {**item, "value": {"who": "merchant"}}
        assert c.put("/store/items", json=mine, headers=api.h(bound)).status_code == 204
        get = {"namespace": "prefs", "key": "k"}
        seen = {
            who: c.get("/store/items", params=get, headers=api.h(key)).json()
            for who, key in (("admin", admin), ("bound", bound), ("other", other))
        }
        assert seen["admin"]["value"] == {"who": "tenant"}
        assert seen["bound"]["value"] == {"who": "merchant"}
        assert seen["other"]["code"] == "item_not_found"
        r = c.post("/store/namespaces", json={}, headers=api.h(other))
        assert r.json() == {"namespaces": []}
        r = c.put("/store/items", json={**item, "extra": 1}, headers=api.h(admin))
        assert r.status_code == 422
        r = c.put("/store/items", json={**item, "namespace": ["a.b"]}, headers=api.h(admin))
        assert (r.status_code, r.json()["param"]) == (422, "namespace.0")
