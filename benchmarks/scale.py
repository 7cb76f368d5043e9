"""Scale-out: conversation turns per second and latency with 1 and with 3 API workers.

Both set-ups run in the same invocation against PostgreSQL on 127.0.0.1 (a fresh database
each, dropped afterwards): the 1-worker figures are the baseline the 3-worker figures are
compared with. Workers are real ``cockpit`` server processes (the test kit's app: the
spine agent and its rule model, so the figures are the platform's own cost — queue,
leases, checkpoints, events — not a language model's). Three workers sit behind a
round-robin balancer on loopback. Each of ``--clients`` clients runs ``--turns`` turns
(``runs.wait`` through the official ``langgraph-sdk``) on its own thread; every turn is a
tool call and an answer. Bounded in count; nothing leaves the machine.

    python benchmarks/scale.py [--clients 12] [--turns 8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from langgraph_sdk import get_client  # noqa: E402

from tests.support.balancer import balanced  # noqa: E402
from tests.support.live import LiveServer  # noqa: E402

PG_ADMIN = os.environ.get(
    "COCKPIT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@contextmanager
def fresh_database() -> Iterator[str]:
    name = f"cockpit_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


async def _client(url: str, key: str, n: int, turns: int) -> list[float]:
    client = get_client(url=url, api_key=key)
    thread = await client.threads.create(metadata={"bench": n})
    latencies = []
    for t in range(turns):
        started = time.perf_counter()
        state: Any = await client.runs.wait(
            thread["thread_id"],
            "spine",
            input={"messages": [{"role": "user", "content": f"note client {n} turn {t}"}]},
        )
        latencies.append(time.perf_counter() - started)
        reply = state["messages"][-1]["content"]
        if not str(reply).startswith("Done:"):
            raise SystemExit(f"unexpected answer: {reply!r}")
    return latencies


async def _load(url: str, key: str, clients: int, turns: int) -> dict[str, float]:
    started = time.perf_counter()
    per_client = await asyncio.gather(*(_client(url, key, n, turns) for n in range(clients)))
    wall = time.perf_counter() - started
    latencies = sorted(x for xs in per_client for x in xs)
    return {
        "turns": len(latencies),
        "seconds": round(wall, 2),
        "turns_per_s": round(len(latencies) / wall, 2),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))] * 1000, 1),
    }


def measure(workers: int, clients: int, turns: int) -> dict[str, float]:
    with fresh_database() as db, tempfile.TemporaryDirectory() as tmp:
        env = {"COCKPIT_CRON_POLL_S": "0", "COCKPIT_MONITORS_POLL_S": "0"}
        data = Path(tmp) / "data"
        servers = [LiveServer(data, database_url=db, extra_env=env).start(timeout=120)]
        try:
            servers += [
                LiveServer(data, database_url=db, extra_env=env).start(timeout=120)
                for _ in range(workers - 1)
            ]
            key = servers[0].key()
            with balanced([s.port for s in servers]) as lb:
                asyncio.run(_load(lb.url, key, 2, 2))  # warm every worker's graph cache
                return asyncio.run(_load(lb.url, key, clients, turns))
        finally:
            for s in servers:
                s.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=12)
    parser.add_argument("--turns", type=int, default=8)
    args = parser.parse_args()
    if not (1 <= args.clients <= 64 and 1 <= args.turns <= 50):
        raise SystemExit("--clients must be 1..64 and --turns 1..50 (the load is bounded)")
    one = measure(1, args.clients, args.turns)
    three = measure(3, args.clients, args.turns)
    print(
        json.dumps(
            {
                "benchmark": "scale",
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "clients": args.clients,
                "turns_per_client": args.turns,
                "one_worker": one,
                "three_workers": three,
                "throughput_ratio": round(three["turns_per_s"] / one["turns_per_s"], 2),
                "p95_ratio": round(three["p95_ms"] / one["p95_ms"], 2),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
