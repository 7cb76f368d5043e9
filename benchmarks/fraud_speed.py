"""Fraud scoring speed on one core: batch, single-transaction latency, HTTP. Prints JSON.

Everything runs pinned to one CPU (``sched_setaffinity``) with LightGBM on one
thread. Figures, all including feature computation against a warmed
streaming state (velocity windows + entity graph built from the training
period):

* ``batch_streaming``: ``FraudScorer.score_batch`` in chunks of 5,000 —
  features per transaction, one model call per chunk, TreeSHAP reason codes
  for every review / decline. Gate: ≥ 12,000 tx/s (SHIELD's 720k/min); aim 50k.
* ``bulk_offline``: vectorised ``bulk_features`` + one model call for a whole
  frame (the training / backfill path).
* ``model_only`` (baseline in the same run): LightGBM on precomputed features.
* ``single``: ``FraudScorer.score`` one at a time, p50 / p99 ms (gate p99 ≤ 5 ms).

The warmed state is frozen out of the garbage collector after warm-up, as
a server's hub does after warming the demo tenant (:func:`cockpit.settle.settle`).

Each figure is given in wall-clock time and in CPU time of the process
(``process_time`` / ``thread_time`` / ``/proc`` for the server): on a shared
machine the wall figures shrink with the load average, the CPU figures do not.
* ``http``: ``POST /v1/fraud/score`` on uvicorn with one worker, measured with
  ``wrk`` (each request a new txn_id, reason codes on every answer), next to a
  trivial ``async`` endpoint on the same server as the baseline. The real auth
  dependency runs; only the key lookup answers a fixed merchant. Both endpoints are
  warmed first: the first score builds the tenant's service (seconds of CPU once, which
  the served app spends at start-up), reported apart as ``score_warm_up_2s_first_use``.
* ``issue_19``: the issue's two fraud rows, each beside its same-run baseline,
  with the target and a verdict.

Usage: ``python benchmarks/fraud_speed.py [--customers N] [--days D] [--no-http]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cockpit.settle import settle  # noqa: E402
from tools.fraud.features import bulk_features, label_events  # noqa: E402
from tools.fraud.model import FraudModel  # noqa: E402
from tools.fraud.registry import ModelRegistry  # noqa: E402
from tools.fraud.schema import Transaction  # noqa: E402
from tools.fraud.scoring import FraudScorer  # noqa: E402
from tools.fraud.service import FraudService  # noqa: E402
from tools.fraud.simulator import SimConfig, frame_to_transactions, simulate  # noqa: E402
from tools.fraud.training import train_on_frame  # noqa: E402


def _pin() -> str:
    try:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        return f"cpu {sorted(os.sched_getaffinity(0))}"
    except (AttributeError, OSError):
        return "not pinned"


def _warm(
    model: FraudModel, history: list[Transaction], labels: list[tuple[float, str]]
) -> FraudScorer:
    """A scorer whose state was warmed the way a server's hub warms the demo tenant
    (``warm_up``: history replayed in chunks, then settled: frozen out of the collector)."""
    service = FraudService(model, tenant_id="bench")
    service.warm_up(history, labels=labels)
    settle()
    return service.scorer


def in_process(cfg: SimConfig, *, singles: int) -> tuple[dict[str, Any], FraudModel, Any]:
    frame = simulate(cfg)
    run = train_on_frame(frame)
    model = run.model
    txns = frame_to_transactions(frame)
    labels = label_events(frame)
    history, held = txns[: run.cut], txns[run.cut :]
    out: dict[str, Any] = {"rows_total": len(frame), "held_out_rows": len(held)}

    scorer = _warm(model, history, labels)
    t0, c0 = time.perf_counter(), time.process_time()
    results = []
    for i in range(0, len(held), 5000):
        results += scorer.score_batch(held[i : i + 5000])
    dt, dc = time.perf_counter() - t0, time.process_time() - c0
    flagged = sum(r.decision != "approve" for r in results)
    out["batch_streaming"] = {
        "tx_per_s_wall": round(len(held) / dt),
        "tx_per_cpu_s": round(len(held) / dc),
        "flagged_share_with_reason_codes": round(flagged / len(held), 4),
    }

    t0, c0 = time.perf_counter(), time.process_time()
    feats = bulk_features(frame)
    x = feats[list(model.feature_names)].to_numpy()
    model.predict_proba(x)
    dt, dc = time.perf_counter() - t0, time.process_time() - c0
    out["bulk_offline"] = {
        "tx_per_s_wall": round(len(frame) / dt),
        "tx_per_cpu_s": round(len(frame) / dc),
    }

    t0, c0 = time.perf_counter(), time.process_time()
    model.predict_proba(x)
    dt, dc = time.perf_counter() - t0, time.process_time() - c0
    out["model_only_baseline"] = {
        "tx_per_s_wall": round(len(frame) / dt),
        "tx_per_cpu_s": round(len(frame) / dc),
    }

    single = _warm(model, history, labels)
    lat, cpu = [], []
    for txn in held[:singles]:
        t1, c1 = time.perf_counter(), time.thread_time()
        single.score(txn)
        lat.append(time.perf_counter() - t1)
        cpu.append(time.thread_time() - c1)
    ms, cms = np.array(lat) * 1000, np.array(cpu) * 1000
    out["single"] = {
        "n": len(ms),
        "p50_ms_wall": round(float(np.percentile(ms, 50)), 3),
        "p99_ms_wall": round(float(np.percentile(ms, 99)), 3),
        "p50_ms_cpu": round(float(np.percentile(cms, 50)), 3),
        "p99_ms_cpu": round(float(np.percentile(cms, 99)), 3),
        "with_reason_codes": "always (TreeSHAP on every single score)",
    }
    b, sg = out["batch_streaming"], out["single"]
    out["gates"] = {
        "batch_ge_12000_per_s": {
            "wall": b["tx_per_s_wall"] >= 12_000,
            "cpu": b["tx_per_cpu_s"] >= 12_000,
        },
        "batch_ge_50000_per_s": {
            "wall": b["tx_per_s_wall"] >= 50_000,
            "cpu": b["tx_per_cpu_s"] >= 50_000,
        },
        "single_p99_le_5ms": {"wall": sg["p99_ms_wall"] <= 5.0, "cpu": sg["p99_ms_cpu"] <= 5.0},
    }
    return out, model, held[0]


# ---- HTTP -------------------------------------------------------------------


class _FixedKeys:
    """Every API key is the benchmark merchant's: the real auth dependency runs, its DB read
    does not (it is the same for every route, and not what this benchmark measures)."""

    def __init__(self, principal: Any) -> None:
        self._principal = principal

    def authenticate(self, presented: str) -> Any:
        return self._principal


def make_app(model_dir: str, db_url: str) -> Any:
    """App with only the fraud router; every key is a fixed merchant principal.

    No ``dependency_overrides``: FastAPI rebuilds an overridden dependency's signature on every
    request, a cost the served app never pays, so the real ``request_context`` runs instead.
    """
    from types import SimpleNamespace

    from fastapi import FastAPI

    from cockpit.api.errors import install_error_handlers
    from cockpit.config import Settings
    from cockpit.db.migrate import upgrade
    from cockpit.db.session import Database
    from cockpit.observability.setup import FASTAPI_TELEMETRY
    from cockpit.tenancy.principal import Principal, Role
    from tools.fraud.router import router
    from tools.fraud.service import FraudHub

    db = Database(db_url)
    upgrade(db)
    hub = FraudHub(ModelRegistry(Path(model_dir)).load())
    app = FastAPI(telemetry=FASTAPI_TELEMETRY)  # as the served app (cockpit.app)
    install_error_handlers(app)
    app.include_router(router)
    app.state.services = SimpleNamespace(
        keys=_FixedKeys(Principal(tenant_id="bench", role=Role.MERCHANT, key_id="bench")),
        db=db,
        settings=Settings(data_dir=Path(model_dir)),
        extras={"fraud": hub},
    )

    @app.get("/ping")
    async def ping() -> dict[str, bool]:
        return {"ok": True}

    return app


_LUA = """
counter = 0
request = function()
  counter = counter + 1
  local body = string.format([[%s]], counter, counter)
  local headers = {["Content-Type"]="application/json", ["x-api-key"]="bench"}
  return wrk.format("POST", "/v1/fraud/score", headers, body)
end
"""


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a process (Linux /proc), in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wrk(url: str, *, script: str | None, seconds: int) -> dict[str, float]:
    cmd = ["wrk", "-t1", "-c16", f"-d{seconds}s", "--latency"]
    if script:
        cmd += ["-s", script]
    text = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    rps = float(
        next(line.split()[1] for line in text.splitlines() if line.startswith("Requests/sec"))
    )
    p99 = next(
        (line.split()[1] for line in text.splitlines() if line.strip().startswith("99%")), "nan"
    )
    non2xx = next((line.split()[-1] for line in text.splitlines() if "Non-2xx" in line), "0")
    return {"req_per_s": round(rps), "p99": p99, "non_2xx": float(non2xx)}  # type: ignore[dict-item]


def http(model: FraudModel, sample: Transaction, *, seconds: int) -> dict[str, Any]:
    if shutil.which("wrk") is None:
        return {"skipped": "wrk not installed (apt-get install wrk)"}
    tmp = Path(tempfile.mkdtemp(prefix="fraud-speed-"))
    try:
        ModelRegistry(tmp).save(model)
        port = _free_port()
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        db_url = "sqlite:///" + str(tmp / "b.db")
        code = (
            f"import sys, uvicorn; sys.path.insert(0, {str(tmp)!r}); "
            "from benchmarks_fraud_speed import make_app; "
            f"uvicorn.run(make_app({str(tmp)!r}, {db_url!r}), host='127.0.0.1', port={port}, "
            "log_level='warning', workers=1)"
        )
        shutil.copy(__file__, tmp / "benchmarks_fraud_speed.py")
        server = subprocess.Popen(
            ["taskset", "-c", "1", sys.executable, "-c", code]
            if shutil.which("taskset")
            else [sys.executable, "-c", code],
            env=env,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.1)
            body = {
                "txn_id": "{run}-%d",
                "ts": sample.ts,
                "customer_id": "{run}-cus-%d",
                "card_id": sample.card_id,
                "device_id": sample.device_id,
                "ip": sample.ip,
                "merchant_id": sample.merchant_id,
                "amount_minor": sample.amount_minor,
                "currency": sample.currency,
            }
            scripts = {}
            for run in ("warm", "bench"):  # own ids per run: a repeated id would be a replay
                scripts[run] = tmp / f"{run}.lua"
                scripts[run].write_text(_LUA % json.dumps(body).replace("{run}", run))
            # Warm-up, each endpoint: the first score builds the tenant's service (imports
            # LightGBM, loads the model, builds the TreeSHAP table: seconds of CPU once), as
            # the served app's start-up hook does before traffic (tools.fraud.startup).
            _wrk(f"{base}/ping", script=None, seconds=2)
            c_warm = _cpu_seconds(server.pid)
            warm = _wrk(base, script=str(scripts["warm"]), seconds=2)
            c0 = _cpu_seconds(server.pid)
            ping = _wrk(f"{base}/ping", script=None, seconds=seconds)
            c1 = _cpu_seconds(server.pid)
            score = _wrk(base, script=str(scripts["bench"]), seconds=seconds)
            c2 = _cpu_seconds(server.pid)
            warm["server_cpu_s"] = round(c0 - c_warm, 2)
            ping["req_per_server_cpu_s"] = round(ping["req_per_s"] * seconds / max(c1 - c0, 1e-9))
            score["req_per_server_cpu_s"] = round(score["req_per_s"] * seconds / max(c2 - c1, 1e-9))
        finally:
            server.terminate()
            server.wait(timeout=10)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {
        "workers": 1,
        "server_cpu": "pinned to cpu 1" if shutil.which("taskset") else "not pinned",
        "wrk": "1 thread, 16 connections",
        "score_endpoint": score,
        "baseline_async_ping": ping,
        "score_warm_up_2s_first_use": warm,
    }


HTTP_TARGET = 2_000
"""Issue 19: score requests per second over HTTP, one worker, with reason codes."""
BATCH_TARGET = 50_000
"""Issue 19: transactions per CPU-second, batch scoring including streaming features."""


def _verdict(figure: float | None, target: float) -> str:
    if figure is None:
        return "not measured"
    return "met" if figure >= target else "not met"


def issue_rows(result: dict[str, Any]) -> dict[str, Any]:
    """Issue 19's two fraud rows: each figure beside its same-run baseline, target, verdict.

    The HTTP verdict reads requests per second of server CPU: the server is pinned to one core
    that other processes share, so its wall-clock rate falls with the load average while its
    rate per CPU-second does not (both are printed).
    """
    batch, model = result["batch_streaming"], result["model_only_baseline"]
    rows: dict[str, Any] = {
        "fraud_batch_scoring_incl_streaming_features": {
            "tx_per_cpu_s": batch["tx_per_cpu_s"],
            "baseline_model_alone_tx_per_cpu_s": model["tx_per_cpu_s"],
            "ratio": round(model["tx_per_cpu_s"] / batch["tx_per_cpu_s"], 2),
            "target": f">= {BATCH_TARGET} tx per CPU-second",
            "verdict": _verdict(batch["tx_per_cpu_s"], BATCH_TARGET),
        }
    }
    http = result.get("http", {})
    if "score_endpoint" in http:
        score, ping = http["score_endpoint"], http["baseline_async_ping"]
        ok = score["non_2xx"] == 0
        rows["fraud_score_over_http_1_worker"] = {
            "req_per_s_wall": score["req_per_s"],
            "req_per_server_cpu_s": score["req_per_server_cpu_s"],
            "baseline_async_ping_req_per_s_wall": ping["req_per_s"],
            "baseline_async_ping_req_per_server_cpu_s": ping["req_per_server_cpu_s"],
            "ratio_wall": round(ping["req_per_s"] / max(score["req_per_s"], 1), 2),
            "ratio_server_cpu": round(
                ping["req_per_server_cpu_s"] / max(score["req_per_server_cpu_s"], 1), 2
            ),
            "with_reason_codes": True,
            "target": f">= {HTTP_TARGET} req/s (per server CPU-second) with reasons, no errors",
            "verdict": _verdict(score["req_per_server_cpu_s"] if ok else 0, HTTP_TARGET),
        }
    else:
        rows["fraud_score_over_http_1_worker"] = {"verdict": "not measured", **http}
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1500)
    parser.add_argument("--days", type=int, default=45)
    parser.add_argument("--singles", type=int, default=5000)
    parser.add_argument("--http-seconds", type=int, default=8)
    parser.add_argument("--no-http", action="store_true")
    args = parser.parse_args()
    pinned = _pin()
    load_before = os.getloadavg()
    result, model, sample = in_process(
        SimConfig(n_customers=args.customers, days=args.days), singles=args.singles
    )
    result["pinned"] = pinned
    if not args.no_http:
        result["http"] = http(model, sample, seconds=args.http_seconds)
    result["issue_19"] = issue_rows(result)
    result["machine"] = {
        "cpus": os.cpu_count(),
        "load_average_1m_before": round(load_before[0], 2),
        "load_average_1m_after": round(os.getloadavg()[0], 2),
        "note": "shared box: a load average above the CPU count slows every figure proportionally",
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
