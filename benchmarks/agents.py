"""Agent team benchmark: end-state task success (pass^k) per agent on the built-in eval suites,
intent accuracy per agent on held-out paraphrases, and per-turn latency through HTTP.

- Tasks: every task of ``evals/suites`` run by the eval runner (HTTP by default), ``--trials``
  trials each (default 4), with the oracle and do-nothing controls in the same run: pass^1 and
  pass^4 per agent (held-out split apart), the same figures ``cockpit eval run evals/suites``
  prints. The slow part; ``--skip-tasks`` skips it, ``--report DIR`` keeps the full reports.
- Intent: ``evals/planner/data/agents/<id>.yaml`` through the real local planner bound to the
  agent's real tools (as the runtime binds them).
- Latency: a real ``cockpit serve`` process on 127.0.0.1 (the evals' seeded world, offline
  MiniLM, a merchant key) with a bounded number of turns. A baseline from the same run: the same
  HTTP path with an out-of-scope request, which calls no tool.

- Previous figures: ``benchmarks/previous/agents.json`` (the figures before the last change that
  moved them, with where they came from) are printed beside each agent's new ones under
  ``"previous"``, and ``"target"`` says whether pass^1 ≥ 0.95, pass^k = pass^1 and held-out ≥ 0.90.

    python benchmarks/agents.py [--trials 4] [--workers N] [--suite NAME …] [--skip-tasks]
                                [--skip-http]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from evals import SUITES_DIR, RunOptions, load_suites, run_tasks, select_tasks  # noqa: E402
from evals.host import free_port  # noqa: E402
from evals.planner import agent_suites, evaluate  # noqa: E402
from evals.report import agent_figures, emit, summarise, write_all  # noqa: E402
from evals.task import DEFAULT_CLOCK  # noqa: E402
from evals.world import build_template, new_world  # noqa: E402

CACHE = ROOT / ".cockpit" / "evals"
PREVIOUS = ROOT / "benchmarks" / "previous" / "agents.json"
#: Issue 15's bar for every built-in agent (local planner): pass^1, held-out pass^1.
TARGET_PASS, TARGET_HELDOUT = 0.95, 0.90


def beside_previous(by_agent: dict[str, Any], previous: dict[str, Any]) -> dict[str, Any]:
    """Each agent's new figures with the previous ones beside them and the target verdict."""
    out: dict[str, Any] = {}
    for agent, figures in by_agent.items():
        row = dict(figures)
        if agent in previous:
            row["previous"] = previous[agent]
        pass1 = figures.get("pass^1")
        heldout = (figures.get("heldout") or {}).get("pass^1")
        ks = [v for k, v in figures.items() if k.startswith("pass^") and k != "pass^1"]
        if isinstance(pass1, float):
            row["target"] = {
                "pass^1>=0.95": pass1 >= TARGET_PASS,
                "pass^k==pass^1": all(v == pass1 for v in ks),
                "heldout>=0.90": heldout is None or heldout >= TARGET_HELDOUT,
            }
        out[agent] = row
    return out


def task_figures(
    targets: list[str], trials: int, *, in_process: bool, workers: int, report: Path | None
) -> dict[str, Any]:
    """pass^k per agent and per (agent, suite, split), with the controls' rows."""
    tasks = [t for target in targets for t in select_tasks(load_suites(target))]
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    opts = RunOptions(trials=trials, in_process=in_process, workers=workers, cache=CACHE)
    runs = run_tasks(tasks, opts=opts)
    summary = summarise(runs, trials=trials, started=started)
    if report is not None:
        write_all(summary, report)
    return {
        "suites": sorted({s for s, _t in tasks}),
        "tasks": len(tasks),
        "trials": trials,
        "transport": "in-process" if in_process else "http",
        "workers": workers,
        "by_agent": beside_previous(agent_figures(summary), _previous()),
        "rows": [r for r in summary["rows"] if r["split"] != "all"],
        "checks": summary["checks"],
        "seconds": round(time.perf_counter() - t0, 1),
    }


def _previous() -> dict[str, Any]:
    if not PREVIOUS.exists():
        return {}
    agents = json.loads(PREVIOUS.read_text(encoding="utf-8")).get("agents") or {}
    return dict(agents)


def intent_figures() -> dict[str, Any]:
    figures = {}
    for agent_id, suite in agent_suites().items():
        report = evaluate(suite)
        figures[agent_id] = {
            **report.summary(),
            "planner_p50_ms": round(statistics.median(report.latencies_ms), 1),
            "planner_p95_ms": round(
                sorted(report.latencies_ms)[int(0.95 * len(report.latencies_ms))], 1
            ),
        }
        previous = _previous().get(agent_id, {}).get("intent_accuracy")
        if previous is not None:
            figures[agent_id]["previous_accuracy"] = previous
    return figures


def http_latency(turns: int) -> dict[str, Any]:
    from cockpit.clock import parse_instant

    utterances = [c.text for s in agent_suites().values() for c in s.cases]
    clock = parse_instant(DEFAULT_CLOCK)
    template = build_template(CACHE, seed=7, clock=clock)
    with tempfile.TemporaryDirectory() as d:
        world = new_world(template, Path(d) / "serve", role="merchant", merchant="sg")
        data = world.dir
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("COCKPIT_")}
        env.update(
            {
                "COCKPIT_DATA_DIR": str(data),
                "COCKPIT_WARMUP": "false",
                "COCKPIT_LOG_LEVEL": "WARNING",
                "COCKPIT_CLOCK_START": clock.isoformat(),
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
            headers = {"x-api-key": world.key}
            with httpx.Client(base_url=url, headers=headers, timeout=120) as c:

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


def _at_least_one(text: str) -> int:
    """An argparse type: a whole number ≥ 1, or a clear usage error."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--trials", type=_at_least_one, default=4, help="trials per task (pass^k, k ≤ 4)"
    )
    parser.add_argument(
        "--suite", action="append", help="suite name, folder or file (default: all built-in)"
    )
    parser.add_argument("--skip-tasks", action="store_true", help="skip the slow end-state part")
    parser.add_argument("--in-process", action="store_true", help="tasks over ASGI, not HTTP")
    parser.add_argument("--report", type=Path, help="also write the eval reports here")
    parser.add_argument(
        "--workers",
        type=_at_least_one,
        default=1,
        help="tasks run at once, each in a worker process",
    )
    parser.add_argument("--turns", type=int, default=60)
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args()
    result: dict[str, Any] = {"benchmark": "agents"}
    if not args.skip_tasks:
        targets = args.suite or [str(SUITES_DIR)]
        result["tasks"] = task_figures(
            targets,
            args.trials,
            in_process=args.in_process,
            workers=args.workers,
            report=args.report,
        )
    result["intent"] = intent_figures()
    if not args.skip_http:
        result["http_turn_latency"] = http_latency(args.turns)
    emit(result, out=args.out)


if __name__ == "__main__":
    main()
