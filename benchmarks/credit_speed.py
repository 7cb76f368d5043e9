"""Credit decision speed: decisions/s and latency through the live strategy, and the deploy path.

    python benchmarks/credit_speed.py [--n 30000] [--out FILE]

Pinned to one CPU, single thread. Measures, in the same run:

- ``rules_engine_alone`` — zen-engine evaluating the live strategy's JDM on a fixed
  context (the fast static-loader path), and a trivial input→output model: the floor.
- ``scorecard_alone`` — validation + point-table scoring.
- ``live_decide`` — a full decision through ``LiveDeployment.decide`` (validation,
  scorecard, rules, reasons) over the 1,000 German applicants, no trace; and with
  the per-node trace the API stores; and with a champion/challenger split.
- ``lifecycle`` — create → test → backtest → deploy → decide → rollback, through the
  HTTP API (FastAPI TestClient, SQLite file), timed step by step.

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi import FastAPI
from fastapi.testclient import TestClient

from cockpit.api.deps import RequestContext, request_context
from cockpit.api.errors import install_error_handlers
from cockpit.config import Settings
from cockpit.db.migrate import upgrade
from cockpit.db.session import Database
from cockpit.observability.setup import FASTAPI_TELEMETRY
from cockpit.tenancy.principal import Principal, Role
from tools.credit.data import load_german_credit
from tools.credit.export import scorecard_to_jdm
from tools.credit.jdm import build_engine
from tools.credit.router import router
from tools.credit.service import CreditService, service_for

STRATEGY = (
    Path(__file__).resolve().parents[1]
    / "tools"
    / "credit"
    / "strategies"
    / "consumer_default.json"
)
TRIVIAL = {
    "nodes": [
        {"id": "in", "type": "inputNode", "name": "in", "content": {}},
        {"id": "out", "type": "outputNode", "name": "out", "content": {}},
    ],
    "edges": [{"id": "e", "type": "edge", "sourceId": "in", "targetId": "out"}],
}


def _rate(fn: Callable[[int], Any], n: int, rounds: int = 3) -> dict[str, float]:
    """Best-of-``rounds`` throughput and per-call latency percentiles of ``fn(i)``.

    ``per_second`` and ``p*_us`` are wall-clock; ``per_cpu_second`` and ``cpu_p*_us``
    use the CPU time this process/thread actually got, i.e. what one core does when
    the machine is not shared (the benchmark host often is: wall-clock tails then
    measure the scheduler, not the code).
    """
    best = best_cpu = 0.0
    lat: list[int] = []
    for _ in range(rounds):
        t0, c0 = time.perf_counter(), time.process_time()
        for i in range(n):
            fn(i)
        best = max(best, n / (time.perf_counter() - t0))
        best_cpu = max(best_cpu, n / max(time.process_time() - c0, 1e-9))
    clock, cpu = time.perf_counter_ns, time.thread_time_ns
    cpu_lat: list[int] = []
    for i in range(n):
        t, c = clock(), cpu()
        fn(i)
        c2, t2 = cpu(), clock()
        lat.append(t2 - t)
        cpu_lat.append(c2 - c)
    lat.sort()
    cpu_lat.sort()

    def pct(xs: list[int], q: float) -> float:
        return round(xs[min(int(len(xs) * q), len(xs) - 1)] / 1000, 1)

    return {
        "per_second": round(best),
        "per_cpu_second": round(best_cpu),
        "p50_us": pct(lat, 0.5),
        "p99_us": pct(lat, 0.99),
        "p999_us": pct(lat, 0.999),
        "mean_us": round(statistics.fmean(lat) / 1000, 1),
        "cpu_p50_us": pct(cpu_lat, 0.5),
        "cpu_p99_us": pct(cpu_lat, 0.99),
    }


def _api(db: Database, tmp: Path) -> TestClient:
    app = FastAPI(telemetry=FASTAPI_TELEMETRY)  # as the served app (cockpit.app)
    install_error_handlers(app)
    app.include_router(router)
    ctx = RequestContext(
        principal=Principal("bench", Role.PARTNER, "bench-key"),
        db=db,
        settings=Settings(data_dir=tmp),
        extras={},
    )

    async def _ctx() -> RequestContext:
        return ctx

    app.dependency_overrides[request_context] = _ctx
    return TestClient(app)


def lifecycle(tmp: Path, spec: dict[str, Any], applicant: dict[str, Any]) -> dict[str, Any]:
    db = Database(f"sqlite:///{tmp}/lifecycle.db")
    upgrade(db)
    api = _api(db, tmp)
    steps: dict[str, float] = {}

    def step(name: str, call: Callable[[], Any], status: int) -> Any:
        t0 = time.perf_counter()
        r = call()
        steps[name] = round((time.perf_counter() - t0) * 1000, 1)
        if r.status_code != status:
            raise SystemExit(f"{name} failed: {r.status_code} {r.text}")
        return r.json()

    t_all = time.perf_counter()
    v1 = step("create_v1_ms", lambda: api.post("/v1/credit/strategies", json=spec), 201)["id"]
    step("deploy_v1_ms", lambda: api.post(f"/v1/credit/strategies/{v1}/deploy"), 200)
    t_path = time.perf_counter()
    edited = copy.deepcopy(spec)
    edited["description"] = "edited"
    v2 = step("create_ms", lambda: api.post("/v1/credit/strategies", json=edited), 201)["id"]
    step("test_ms", lambda: api.post(f"/v1/credit/strategies/{v2}/test"), 200)
    bt = step("backtest_ms", lambda: api.post(f"/v1/credit/strategies/{v2}/backtest", json={}), 200)
    dep = step("deploy_ms", lambda: api.post(f"/v1/credit/strategies/{v2}/deploy"), 200)
    dec = step(
        "decide_ms", lambda: api.post("/v1/credit/applications", json={"applicant": applicant}), 201
    )
    step("rollback_ms", lambda: api.post("/v1/credit/strategies/consumer-default/rollback"), 200)
    path_s = time.perf_counter() - t_path
    assert dec["version_id"] == v2
    db.dispose()
    return {
        "create_test_backtest_deploy_decide_rollback_seconds": round(path_s, 3),
        "including_first_version_seconds": round(time.perf_counter() - t_all, 3),
        "steps": steps,
        "backtest_rows": bt["strategy"]["n"] + (bt["champion"]["n"] if bt["champion"] else 0),
        "swap_ms_inside_deploy": dep["deploy_ms"],
        "target_under_60_s": path_s < 60,
    }


def main() -> dict[str, Any]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=30000)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    n = args.n
    spec = json.loads(STRATEGY.read_text())
    frame, _ = load_german_credit()
    rows = frame.to_dict("records")

    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        db = Database(f"sqlite:///{tmp}/speed.db")
        upgrade(db)
        svc: CreditService = service_for(db)
        v1 = svc.create_version("bench", spec, created_by="bench")["id"]
        svc.deploy("bench", v1, created_by="bench")
        live = svc.live_deployment("bench", "consumer-default")
        card = live.champion.scorecard

        engine = build_engine("k", spec["decision_model"])
        ctx = {
            "applicant": {"age_in_years": 35, "duration_in_month": 24, "credit_amount": 4000},
            "score": 545,
            "pd": 0.12,
        }
        trivial = build_engine("t", TRIVIAL)
        # Baseline for the design choice: the same points as one zen table per characteristic.
        card_engine = build_engine("card", scorecard_to_jdm(card))
        out: dict[str, Any] = {
            "benchmark": "credit_speed",
            "cpus_pinned": 1,
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
            "rules_engine_alone": {
                "strategy_jdm": _rate(lambda i: engine.evaluate("k", ctx), n),
                "trivial_jdm": _rate(lambda i: trivial.evaluate("t", ctx), n),
            },
            "scorecard_alone": _rate(lambda i: card.points(card.validate(rows[i % 1000])), n),
            "scorecard_as_jdm_in_zen": _rate(
                lambda i: card_engine.evaluate("card", {"applicant": rows[i % 1000]}), n // 4
            ),
            "live_decide": {
                "no_trace": _rate(lambda i: live.decide(rows[i % 1000]), n),
                "with_trace": _rate(lambda i: live.decide(rows[i % 1000], trace=True), n // 2),
            },
        }
        v2 = svc.create_version("bench", {**spec, "description": "challenger"}, created_by="bench")[
            "id"
        ]
        svc.deploy("bench", v1, created_by="bench", challenger_version_id=v2, challenger_share=0.1)
        split = svc.live_deployment("bench", "consumer-default")
        ids = [f"app-{i}" for i in range(1000)]
        out["live_decide"]["champion_challenger_10pct"] = _rate(
            lambda i: split.decide(rows[i % 1000], application_id=ids[i % 1000]), n
        )
        t0 = time.perf_counter()
        m = 300
        for i in range(m):
            svc.decide(
                "bench", "consumer-default", rows[i], created_by="bench", application_id=ids[i]
            )
        out["stored_decisions_per_second_sqlite"] = round(m / (time.perf_counter() - t0))
        db.dispose()
        out["lifecycle_api"] = lifecycle(tmp, spec, rows[0])
    nt = out["live_decide"]["no_trace"]
    out["targets_met"] = {
        "decisions_per_second_ge_20000_wall": nt["per_second"] >= 20000,
        "decisions_per_cpu_second_ge_20000": nt["per_cpu_second"] >= 20000,
        "p99_le_1ms_wall": nt["p99_us"] <= 1000,
        "p99_le_1ms_cpu": nt["cpu_p99_us"] <= 1000,
    }
    out["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    text = json.dumps(out, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text)
    return out


if __name__ == "__main__":
    main()
