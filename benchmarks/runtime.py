"""Runtime overhead: our stack vs a bare LangGraph graph doing the same tool call, and HTTP turns/s.

Prints one JSON object. Both graphs use the same rule model and the same SQLite checkpointer
kind, so the ratio isolates what Cockpit adds per turn: input redaction, policy, audit-chain
appends, exactly-once bookkeeping, the injection screen and thread/run records (HTTP part only).

With ``COCKPIT_TEST_POSTGRES_URL`` set, a single client's turn over HTTP is also timed on a
PostgreSQL database of its own (created and dropped here), beside the same figure on SQLite.

    python benchmarks/runtime.py [--turns 200] [--http-turns 200] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, TypedDict

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from langchain_core.messages import AIMessage, AnyMessage, ToolMessage  # noqa: E402
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver  # noqa: E402
from langgraph.graph import END, START, StateGraph  # noqa: E402
from langgraph.graph.message import add_messages  # noqa: E402

from cockpit.audit.log import AuditLog  # noqa: E402
from cockpit.db.migrate import upgrade  # noqa: E402
from cockpit.db.session import Database  # noqa: E402
from cockpit.runtime.graph import Team, build_graph  # noqa: E402
from cockpit.specs.registry import load_builtin_specs  # noqa: E402
from cockpit.tenancy.keys import KeyService  # noqa: E402
from cockpit.toolkit import default_registry  # noqa: E402
from tests.support.live import LiveServer  # noqa: E402
from tests.support.spinekit import AGENTS_DIR, RuleModel, rule_model_factory  # noqa: E402

TARGET_RATIO = 1.2
"""Issue 19: an agent turn with one tool call within 1.2x of bare LangGraph doing the same."""


class BareState(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


def bare_graph(saver: Any) -> Any:
    model = RuleModel()
    note = default_registry.get("spine_note")

    async def agent(state: BareState) -> dict[str, Any]:
        return {"messages": [await model.ainvoke(state["messages"])]}

    def tools(state: BareState) -> dict[str, Any]:
        last = state["messages"][-1]
        assert isinstance(last, AIMessage)
        out = []
        for call in last.tool_calls:
            args = note.args.model_validate(call["args"])
            out.append(
                ToolMessage(content=json.dumps({"note": args.text}), tool_call_id=call["id"])
            )
        return {"messages": out}

    g = StateGraph(BareState)
    g.add_node("agent", agent)
    g.add_node("tools", tools)
    g.add_edge(START, "agent")
    g.add_conditional_edges(
        "agent", lambda s: "tools" if s["messages"][-1].tool_calls else END, ["tools", END]
    )
    g.add_edge("tools", "agent")
    return g.compile(checkpointer=saver)


async def one_turn(graph: Any, config: dict[str, Any], i: int) -> tuple[float, float]:
    """One turn: (wall seconds, CPU seconds of this process, every thread)."""
    w0, c0 = time.perf_counter(), time.process_time()
    await graph.ainvoke({"messages": [{"role": "user", "content": f"note hello {i}"}]}, config)
    return time.perf_counter() - w0, time.process_time() - c0


async def time_turns(graph: Any, config_for: Any, turns: int) -> list[float]:
    return [(await one_turn(graph, config_for(i), i))[0] for i in range(turns)]


async def interleaved(
    ours: tuple[Any, Any], bare: tuple[Any, Any], *, turns: int, first: int
) -> dict[str, list[tuple[float, float]]]:
    """Turn by turn, alternating which graph goes first: load that comes and goes on a shared
    machine then falls on both alike, and the ratio of medians stays a fair comparison."""
    out: dict[str, list[tuple[float, float]]] = {"ours": [], "bare": []}
    for i in range(first, first + turns):
        order = [("ours", ours), ("bare", bare)]
        for name, (graph, config_for) in order if i % 2 else order[::-1]:
            out[name].append(await one_turn(graph, config_for(i), i))
    return out


async def in_process(turns: int, tmp: Path) -> dict[str, Any]:
    db = Database(f"sqlite:///{tmp / 'bench.db'}")
    upgrade(db)
    keys = KeyService(db)
    keys.ensure_tenant("bench")
    specs = load_builtin_specs([AGENTS_DIR])
    team = Team(
        entry="spine",
        specs=specs,
        registry=default_registry,
        db=db,
        audit=AuditLog(db),
        model_factory=rule_model_factory(),
    )
    async with (
        AsyncSqliteSaver.from_conn_string(str(tmp / "ours.ckpt")) as ours_saver,
        AsyncSqliteSaver.from_conn_string(str(tmp / "bare.ckpt")) as bare_saver,
    ):
        ours = build_graph(team, ours_saver)
        bare = bare_graph(bare_saver)
        tid = str(uuid.uuid4())

        def ours_cfg(i: int) -> dict[str, Any]:
            return {
                "configurable": {
                    "thread_id": f"bench:{tid}-{i % 20}",
                    "public_thread_id": tid,
                    "tenant_id": "bench",
                    "role": "admin",
                    "key_id": "bench",
                }
            }

        def bare_cfg(i: int) -> dict[str, Any]:
            return {"configurable": {"thread_id": f"{tid}-{i % 20}"}}

        await time_turns(ours, ours_cfg, 10)  # warm-up both
        await time_turns(bare, bare_cfg, 10)
        timed = await interleaved((ours, ours_cfg), (bare, bare_cfg), turns=turns, first=10)
    db.dispose()
    t_ours, t_bare = [w for w, _ in timed["ours"]], [w for w, _ in timed["bare"]]
    cpu_ours = statistics.median(c for _, c in timed["ours"])
    cpu_bare = statistics.median(c for _, c in timed["bare"])
    median_ours, median_bare = statistics.median(t_ours), statistics.median(t_bare)
    ratio = median_ours / median_bare
    return {
        "turns": turns,
        "cockpit_ms_per_turn": round(statistics.mean(t_ours) * 1000, 3),
        "bare_langgraph_ms_per_turn": round(statistics.mean(t_bare) * 1000, 3),
        "cockpit_median_ms": round(median_ours * 1000, 3),
        "bare_langgraph_median_ms": round(median_bare * 1000, 3),
        "overhead_ratio": round(ratio, 2),
        "overhead_ms_per_turn": round((median_ours - median_bare) * 1000, 3),
        "cockpit_cpu_ms_per_turn": round(cpu_ours * 1000, 3),
        "bare_langgraph_cpu_ms_per_turn": round(cpu_bare * 1000, 3),
        "cpu_ratio": round(cpu_ours / cpu_bare, 2),
        "cockpit_p95_ms": round(sorted(t_ours)[int(0.95 * len(t_ours)) - 1] * 1000, 3),
        "target_ratio": TARGET_RATIO,
        "verdict": "met" if ratio <= TARGET_RATIO else "not met",
    }


async def http_turns(
    turns: int, concurrency: int, data_dir: Path, database_url: str | None = None
) -> dict[str, Any]:
    """``/runs/wait`` turns over HTTP from ``concurrency`` clients, each on its own thread, while
    one more client times ``GET /info`` (no database work) every 10 ms: how long the server's
    event loop keeps a request waiting beside the runs."""
    server = LiveServer(data_dir, database_url=database_url).start(timeout=180)
    try:
        key = server.key()
        async with httpx.AsyncClient(
            base_url=server.url, headers={"x-api-key": key}, timeout=60
        ) as c:
            threads = [
                (await c.post("/threads", json={})).json()["thread_id"] for _ in range(concurrency)
            ]
            latencies: list[float] = []
            errors = 0

            async def worker(tid: str, n: int) -> None:
                nonlocal errors
                for i in range(n):
                    t0 = time.perf_counter()
                    r = await c.post(
                        f"/threads/{tid}/runs/wait",
                        json={
                            "assistant_id": "spine",
                            "input": {"messages": [{"role": "user", "content": f"note t{i}"}]},
                        },
                    )
                    latencies.append(time.perf_counter() - t0)
                    errors += r.status_code != 200

            info: list[float] = []

            async def probe(done: asyncio.Event) -> None:
                while not done.is_set():
                    t0 = time.perf_counter()
                    await c.get("/info")
                    info.append(time.perf_counter() - t0)
                    await asyncio.sleep(0.01)

            per = max(1, turns // concurrency)
            await asyncio.gather(*(worker(t, 3) for t in threads))  # warm-up
            latencies.clear()
            done = asyncio.Event()
            prober = asyncio.create_task(probe(done))
            t0 = time.perf_counter()
            await asyncio.gather(*(worker(t, per) for t in threads))
            wall = time.perf_counter() - t0
            done.set()
            await prober
    finally:
        server.stop()
    lat = sorted(latencies)
    info.sort()
    return {
        "http_turns": len(lat),
        "concurrency": concurrency,
        "workers": 1,
        "turns_per_s": round(len(lat) / wall, 1),
        "p50_ms": round(lat[len(lat) // 2] * 1000, 1),
        "p95_ms": round(lat[int(0.95 * len(lat)) - 1] * 1000, 1),
        "errors": errors,
        "info_beside_p50_ms": round(info[len(info) // 2] * 1000, 2),
        "info_beside_p99_ms": round(info[int(0.99 * len(info)) - 1] * 1000, 2),
    }


@contextlib.contextmanager
def postgres_database() -> Iterator[str | None]:
    """A PostgreSQL database of its own for the run (None without COCKPIT_TEST_POSTGRES_URL)."""
    admin = os.environ.get("COCKPIT_TEST_POSTGRES_URL")
    if not admin:
        yield None
        return
    import psycopg

    name = f"cockpit_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def over_http(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    """One client alone (a turn's latency: what the run queue adds) on SQLite and, when
    configured, PostgreSQL; then several clients at once on SQLite (throughput), and on
    PostgreSQL (``concurrent_postgres``)."""
    single = min(args.http_turns, 40)
    out: dict[str, Any] = {
        "single_client_sqlite": asyncio.run(http_turns(single, 1, tmp / "http-sqlite-1")),
        "single_client_postgres": None,
        "concurrent_postgres": None,
    }
    with postgres_database() as url:
        if url is not None:
            out["single_client_postgres"] = asyncio.run(
                http_turns(single, 1, tmp / "http-postgres-1", database_url=url)
            )
    with postgres_database() as url:
        if url is not None:
            out["concurrent_postgres"] = asyncio.run(
                http_turns(args.http_turns, args.concurrency, tmp / "http-pg", database_url=url)
            )
    out.update(asyncio.run(http_turns(args.http_turns, args.concurrency, tmp / "http")))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--http-turns", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    import tests.support.spinekit  # noqa: F401

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        result = {"benchmark": "runtime", **asyncio.run(in_process(args.turns, tmp))}
        result.update(over_http(args, tmp))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
