"""Scale-out: three API workers share PostgreSQL and a Chroma server behind a balancer.

One worker is SIGKILLed while conversations are in flight. Its runs are continued by the
others from their checkpoints once its leases lapse; the official ``langgraph-sdk``
client, unchanged, reconnects its streams through the balancer (``Location`` +
``Last-Event-ID``). The test counts what matters: no run lost, no payout written twice,
every stream ends with the agent's answer.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client
from sqlalchemy import create_engine, text

from tests.support.balancer import balanced
from tests.support.live import LiveServer, start_together
from tests.support.spinekit import read_calls, read_payouts

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]

CONVERSATIONS = 9
LEASE_S = "3"


def _runs(url: str) -> list[Any]:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            return list(
                conn.execute(
                    text("SELECT run_id, status, attempt, worker_id, error FROM runs")
                ).all()
            )
    finally:
        engine.dispose()


async def _conversation(url: str, key: str, i: int) -> dict[str, Any]:
    client = get_client(url=url, api_key=key, timeout=httpx.Timeout(60.0))
    thread = await client.threads.create(metadata={"conversation": i})
    tid = thread["thread_id"]
    turns = []
    for text_ in (f"slowpay 1.{i:02d} USD to payee{i}", f"note conversation {i} done"):
        parts = [
            part
            async for part in client.runs.stream(
                tid,
                "spine",
                input={"messages": [{"role": "user", "content": text_}]},
                stream_mode=["values", "updates"],
            )
        ]
        turns.append(parts)
    return {"thread_id": tid, "turns": turns}


def _last_reply(parts: list[Any]) -> str:
    values = [p.data for p in parts if p.event == "values"]
    assert values, f"the stream carried no state: {[p.event for p in parts]}"
    return str(values[-1]["messages"][-1]["content"])


def test_a_worker_dies_mid_run_and_nothing_is_lost_or_repeated(
    tmp_path: Path, fresh_pg_url: str, fresh_chroma_url: str
) -> None:
    data = tmp_path / "data"
    env = {
        "COCKPIT_RUN_LEASE_S": LEASE_S,
        "SPINE_SLOW_S": "2.5",
        "COCKPIT_CHROMA_URL": fresh_chroma_url,
        "COCKPIT_CRON_POLL_S": "0",
        "COCKPIT_MONITORS_POLL_S": "0",
    }
    # All three start at once on the fresh database: they race to migrate and bootstrap it.
    workers = [LiveServer(data, database_url=fresh_pg_url, extra_env=env) for _ in range(3)]
    first = workers[0]
    start_together(workers)
    try:
        with balanced([w.port for w in workers]) as lb:
            key = first.key()
            _knowledge_is_shared(workers, key)
            asyncio.run(_drive(lb.url, key, workers, fresh_pg_url, data))
    finally:
        for w in workers:
            w.stop()


def _knowledge_is_shared(workers: list[LiveServer], key: str) -> None:
    """A document added through one worker is found through another: one Chroma server."""
    h = {"Authorization": f"Bearer {key}"}
    a, b, c = (w.url for w in workers)
    r = httpx.post(f"{a}/v1/knowledge/collections", json={"name": "scale-out"}, headers=h)
    assert r.status_code == 201, r.text
    doc = {"filename": "lease.md", "content": "A lease lapses after three seconds of silence."}
    r = httpx.post(
        f"{b}/v1/knowledge/collections/scale-out/documents", json=doc, headers=h, timeout=60
    )
    assert r.status_code == 201, r.text
    r = httpx.post(
        f"{c}/v1/knowledge/query",
        json={"query": "when does a lease lapse", "collections": ["scale-out"]},
        headers=h,
        timeout=60,
    )
    assert r.status_code == 200, r.text
    assert any("lease lapses" in hit["text"] for hit in r.json()["data"]), r.json()


async def _drive(url: str, key: str, workers: list[LiveServer], pg: str, data: Path) -> None:
    tasks = [asyncio.create_task(_conversation(url, key, i)) for i in range(CONVERSATIONS)]
    victim = await _kill_a_busy_worker(workers, pg)
    results = await asyncio.wait_for(asyncio.gather(*tasks), timeout=240)

    runs = _runs(pg)
    statuses = Counter(r.status for r in runs)
    # 0 runs lost: every run of every conversation succeeded, none left behind.
    assert statuses == {"success": 2 * CONVERSATIONS}, (statuses, [r.error for r in runs])
    continued = [r for r in runs if r.attempt >= 2]
    assert continued, "no run was continued: the worker died between runs (test proves nothing)"
    assert all(str(victim) not in str(r.worker_id) for r in continued)

    # 0 duplicate writes: one payout per conversation, whoever executed it and how often.
    payouts = read_payouts(data)
    assert len(payouts) == CONVERSATIONS
    assert len({p["key"] for p in payouts}) == CONVERSATIONS
    assert sorted(p["payee"] for p in payouts) == sorted(f"payee{i}" for i in range(CONVERSATIONS))
    started = Counter(c["key"] for c in read_calls(data))
    assert set(started) == {p["key"] for p in payouts}

    # Every stream completed: each turn ends with the agent's answer, on any worker.
    for i, result in enumerate(results):
        pay, note = result["turns"]
        assert _last_reply(pay).startswith("Done:"), pay
        assert f'"amount": {100 + i}' in _last_reply(pay)
        assert _last_reply(note).startswith("Done:"), note
    attempts = [
        p.data["attempt"]
        for result in results
        for p in result["turns"][0]
        if p.event == "metadata" and "attempt" in p.data
    ]
    assert max(attempts) >= 2, "no client saw its run continued on another worker"


async def _kill_a_busy_worker(workers: list[LiveServer], pg: str) -> int:
    """SIGKILL a worker that holds a running run (whichever gets one first)."""
    pids = {w.proc.pid: w for w in workers if w.proc is not None}
    for _ in range(300):
        for run in _runs(pg):
            if run.status != "running" or not run.worker_id:
                continue
            pid = int(str(run.worker_id).split(":")[1])
            if pid in pids:
                await asyncio.sleep(0.8)  # into the slow payout
                pids[pid].kill()
                return pid
        await asyncio.sleep(0.1)
    raise AssertionError("no run was ever running")
