"""The official langgraph-sdk client drives a live Cockpit server: run → stream → approval → resume.

Also the durability test: the server is SIGKILLed while a thread waits for approval; after a
restart the thread and its pending approval are intact, and the approved write happens once.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.errors import ConflictError

from tests.support.live import LiveServer, ServedApp, spine_served
from tests.support.spinekit import read_payouts

pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", "postgres"])
def server_db(request: pytest.FixtureRequest) -> str | None:
    if request.param == "sqlite":
        return None
    url: str = request.getfixturevalue("fresh_pg_url")
    return url


async def _stream(client: Any, thread_id: str, **kwargs: Any) -> list[Any]:
    parts = []
    async for part in client.runs.stream(thread_id, "spine", **kwargs):
        parts.append(part)
    return parts


def test_sdk_run_stream_interrupt_resume(tmp_path: Path, server_db: str | None) -> None:
    # Served from this process: the subject is the protocol over HTTP (the SIGKILL test below
    # needs a server process; a child is one more process to start).
    with spine_served(tmp_path / "data", server_db) as server:
        asyncio.run(_sdk_flow(server))


async def _sdk_flow(server: ServedApp) -> None:
    client = get_client(url=server.url, api_key=server.key())
    assistants = await client.assistants.search()
    assert "spine" in [a["assistant_id"] for a in assistants]
    thread = await client.threads.create(metadata={"case": "sdk"})
    tid = thread["thread_id"]

    # A READ tool call, streamed in two modes.
    parts = await _stream(
        client,
        tid,
        input={"messages": [{"role": "user", "content": "note hi"}]},
        stream_mode=["values", "updates"],
    )
    events = [p.event for p in parts]
    assert events[0] == "metadata" and "values" in events and "updates" in events
    last_values = [p.data for p in parts if p.event == "values"][-1]
    assert '"note": "hi"' in last_values["messages"][-1]["content"]

    # A WRITE over the approval threshold stops at an interrupt.
    parts = await _stream(
        client,
        tid,
        input={"messages": [{"role": "user", "content": "pay 250.00 USD to acme"}]},
        stream_mode="updates",
    )
    interrupts = [
        p.data["__interrupt__"] for p in parts if p.event == "updates" and "__interrupt__" in p.data
    ]
    assert interrupts, [p.event for p in parts]
    request = interrupts[0][0]["value"]
    assert request["tool"] == "spine_payout" and request["amount"] == 25000
    state = await client.threads.get_state(tid)
    assert state["next"] == ["tools"]
    assert state["interrupts"][0]["value"]["approval_id"] == request["approval_id"]
    assert (await client.threads.get(tid))["status"] == "interrupted"
    assert read_payouts(server.data_dir) == []

    # Resume with approval: the payout happens, the thread goes idle.
    parts = await _stream(
        client, tid, command={"resume": {"action": "approve"}}, stream_mode="values"
    )
    final = [p.data for p in parts if p.event == "values"][-1]
    assert "po_1" in final["messages"][-1]["content"]
    assert (await client.threads.get(tid))["status"] == "idle"
    assert len(read_payouts(server.data_dir)) == 1

    # wait + join + history through the same client.
    out = await client.runs.wait(
        tid, "spine", input={"messages": [{"role": "user", "content": "note x"}]}
    )
    assert isinstance(out, dict) and out["messages"][-1]["type"] == "ai"
    runs = await client.runs.list(tid)
    assert len(runs) == 4 and {r["status"] for r in runs} == {"success", "interrupted"}
    history = await client.threads.get_history(tid, limit=3)
    assert len(history) == 3
    run = await client.runs.create(
        tid, "spine", input={"messages": [{"role": "user", "content": "note y"}]}
    )
    joined = await client.runs.join(tid, run["run_id"])
    assert '"note": "y"' in joined["messages"][-1]["content"]


def test_sigkill_keeps_thread_and_pending_approval(tmp_path: Path, server_db: str | None) -> None:
    data = tmp_path / "data"
    server = LiveServer(data, database_url=server_db).start()
    try:
        tid, approval_id = asyncio.run(_until_interrupt(server))
        server.kill()
    finally:
        server.stop()
    # The restart is a new app on the same data dir and database, served from this process
    # (what it finds is the subject; a second server child would be one more process to start).
    with spine_served(data, server_db) as restarted:
        asyncio.run(_resume_once(restarted, tid, approval_id))
    assert len(read_payouts(data)) == 1


async def _until_interrupt(server: LiveServer) -> tuple[str, str]:
    client = get_client(url=server.url, api_key=server.key())
    tid = (await client.threads.create())["thread_id"]
    out = await client.runs.wait(
        tid, "spine", input={"messages": [{"role": "user", "content": "pay 300.00 USD to zed"}]}
    )
    return tid, out["__interrupt__"][0]["value"]["approval_id"]


async def _resume_once(server: ServedApp, tid: str, approval_id: str) -> None:
    client = get_client(url=server.url, api_key=server.key())
    thread = await client.threads.get(tid)
    assert thread["status"] == "interrupted"
    state = await client.threads.get_state(tid)
    assert state["interrupts"][0]["value"]["approval_id"] == approval_id
    assert [m["type"] for m in state["values"]["messages"]] == ["human", "ai"]
    pending = await client.http.get("/v1/approvals")
    assert [a["approval_id"] for a in pending] == [approval_id]

    await client.runs.wait(tid, "spine", command={"resume": {"action": "approve"}})
    # A retried resume (the client never saw the answer) changes nothing.
    with pytest.raises((ConflictError, httpx.HTTPStatusError)) as err:
        await client.runs.wait(tid, "spine", command={"resume": {"action": "approve"}})
    response = getattr(err.value, "response", None)
    assert response is not None and response.status_code == 409
    assert response.json()["code"] == "no_pending_interrupt"
    assert (await client.http.get(f"/v1/approvals/{approval_id}"))["status"] == "approved"
    assert len(read_payouts(server.data_dir)) == 1
