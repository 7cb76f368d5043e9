"""Agent team benchmark: intent accuracy per agent on held-out paraphrases, and per-turn latency
through HTTP with the local planner.

Intent figures run every ``agents/<id>/eval/heldout.yaml`` through the real local planner bound
to the agent's real tools (as the runtime binds them). Latency drives a real ``cockpit serve``
process on 127.0.0.1 (seeded demo world, offline MiniLM) with a bounded number of turns. A
baseline from the same run: the same HTTP path with a trivial READ-less turn (an out-of-scope
request, which calls no tool).

    python benchmarks/agents.py [--turns 60]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cockpit.planner.evaluation import Case, Suite, evaluate  # noqa: E402
from cockpit.runtime.graph import _handoff_schema, tool_schema  # noqa: E402
from cockpit.specs.registry import load_builtin_specs  # noqa: E402
from cockpit.toolkit import default_registry  # noqa: E402
from tests.support.agentkit import build_template  # noqa: E402
from tests.support.live import free_port  # noqa: E402


def suites() -> dict[str, Suite]:
    default_registry.load_entry_points()
    specs = load_builtin_specs([ROOT / "agents"])
    out: dict[str, Suite] = {}
    for agent_id, spec in sorted(specs.items()):
        path = ROOT / "agents" / agent_id / "eval" / "heldout.yaml"
        if not path.exists() or spec.planner is None:
            continue
        doc = yaml.safe_load(path.read_text())
        rows = doc if isinstance(doc, list) else doc.get("cases", [])
        oos = [] if isinstance(doc, list) else list(doc.get("out_of_scope") or [])
        cases = [
            Case(r["text"], r["intent"], dict(r.get("slots") or {}))
            for r in rows
            if r.get("intent")
        ]
        oos += [r["text"] for r in rows if not r.get("intent")]
        tools = [
            tool_schema(
                t.name,
                default_registry.get(t.name).description,
                default_registry.get(t.name).json_schema(),
            )
            for t in spec.tools
        ]
        tools += [_handoff_schema(specs[h]) for h in spec.handoffs if h in specs]
        today = (
            date.fromisoformat(str(doc.get("today")))
            if isinstance(doc, dict) and doc.get("today")
            else date.today()
        )
        out[agent_id] = Suite(
            tools=tools, planner=spec.planner, cases=cases, out_of_scope=oos, today=today
        )
    return out


def intent_figures() -> dict[str, Any]:
    figures = {}
    for agent_id, suite in suites().items():
        report = evaluate(suite)
        figures[agent_id] = {
            **report.summary(),
            "planner_p50_ms": round(statistics.median(report.latencies_ms), 1),
        }
    return figures


def http_latency(turns: int) -> dict[str, Any]:
    utterances = [c.text for s in suites().values() for c in s.cases]
    with tempfile.TemporaryDirectory() as d:
        template = build_template(Path(d))
        data = Path(d) / "serve"
        shutil.copytree(template["dir"], data)
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("COCKPIT_")}
        env.update(
            {
                "COCKPIT_DATA_DIR": str(data),
                "COCKPIT_WARMUP": "false",
                "COCKPIT_LOG_LEVEL": "WARNING",
            }
        )
        proc = subprocess.Popen(
            [sys.executable, "-m", "cockpit", "serve", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                try:
                    if httpx.get(url + "/ok", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.3)
            key = (data / "demo.key").read_text().strip()
            with httpx.Client(base_url=url, headers={"x-api-key": key}, timeout=120) as c:

                def turn(text: str) -> float:
                    tid = c.post("/threads", json={}).json()["thread_id"]
                    t0 = time.perf_counter()
                    r = c.post(
                        f"/threads/{tid}/runs/wait",
                        json={
                            "assistant_id": "cockpit",
                            "input": {"messages": [{"role": "user", "content": text}]},
                        },
                    )
                    r.raise_for_status()
                    return time.perf_counter() - t0

                for text in utterances[:3]:  # warm-up: model load, index build
                    turn(text)
                agent = sorted(turn(utterances[i % len(utterances)]) for i in range(turns))
                baseline = sorted(turn("tell me a joke") for _ in range(max(5, turns // 4)))
        finally:
            proc.terminate()
            proc.wait(timeout=30)

    def pct(xs: list[float], q: float) -> float:
        return round(xs[min(len(xs) - 1, int(q * len(xs)))] * 1000, 1)

    return {
        "turns": len(agent),
        "p50_ms": pct(agent, 0.5),
        "p95_ms": pct(agent, 0.95),
        "baseline_no_tool_p50_ms": pct(baseline, 0.5),
        "baseline_no_tool_p95_ms": pct(baseline, 0.95),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=60)
    parser.add_argument("--skip-http", action="store_true")
    args = parser.parse_args()
    result: dict[str, Any] = {"benchmark": "agents", "intent": intent_figures()}
    if not args.skip_http:
        result["http_turn_latency"] = http_latency(args.turns)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
