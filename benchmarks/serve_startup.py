"""``cockpit serve`` start-up: seconds to ready, seconds until the demo world is in place, and the
server's memory — beside the engines beneath it, measured in the same run.

The server is started as the README's first command starts it (``cockpit serve``, default
settings, demo on), in a fresh temporary directory (so a fresh ``.cockpit`` data dir), on
127.0.0.1 and a free port. Figures:

* ``ready_s``: from spawning the process until ``GET /ok`` answers 200;
* ``world_s``: until the demo world is in place (the demo key sees the demo merchants and the
  server logged every start-up job done: demo world, catalogues, credit strategies, fraud model,
  knowledge store, and settled after them); ``seeding_s`` is the demo world's own seeding time,
  from its log line;
* RSS (``VmRSS`` of the server and any children) at ready, once the world is in place, and after
  a few typical requests (payments list, success rate, a fraud score, a knowledge query, FX
  rates, assistants search).

Baselines in the same run: ``python -c pass`` and a bare FastAPI app on uvicorn (seconds to
answer ``GET /ok``, its RSS). CPU seconds (user + system) of the server are reported too: on a
loaded machine they move far less than wall time. Bounded by ``--timeout``; the server is always
stopped (SIGTERM, then SIGKILL on its process group).

    python benchmarks/serve_startup.py [--timeout 300]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

TARGET_READY_S = 10.0
TARGET_RSS_MB = 600.0
#: Log lines (logger, message start) each start-up job writes when done; the world is in place
#: once all of them appeared.
START_JOBS = {
    "demo world": ("tools.payments.startup", "payments demo world"),
    "catalogues": ("tools.commerce.acp.seeding", "demo catalogues"),
    "credit strategies": ("tools.credit.startup", "credit: "),
    "fraud model": ("tools.fraud.startup", "fraud model ready"),
    "knowledge store": ("knowledge.startup", "knowledge store ready"),
    # Once the jobs above are done the server freezes their objects out of the GC's way and
    # returns freed heap pages (cockpit.settle): the memory it then holds is what it keeps.
    "settled": ("cockpit.settle", "settled after start-up"),
}
HELLO = """
import sys
import uvicorn
from fastapi import FastAPI

app = FastAPI()


@app.get("/ok")
async def ok() -> dict[str, bool]:
    return {"ok": True}


uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cockpit() -> list[str]:
    script = Path(sys.executable).with_name("cockpit")
    return [str(script)] if script.exists() else [sys.executable, "-m", "cockpit"]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("COCKPIT_")}


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                todo += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
    return found


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and its children (MB)."""
    total = 0
    for each in _tree(pid):
        try:
            status = Path(f"/proc/{each}/status").read_text()
        except OSError:
            continue
        found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
        total += int(found.group(1)) if found else 0
    return round(total / 1024, 1)


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its children so far."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for each in _tree(pid):
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return round(total / tick, 2)


def _wait(check: Callable[[], bool], proc: subprocess.Popen[bytes], deadline: float) -> bool:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        if check():
            return True
        time.sleep(0.1)
    return False


def _answers(url: str) -> Callable[[], bool]:
    def check() -> bool:
        try:
            return httpx.get(url, timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False

    return check


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL the whole process group if it does not end in 20 s."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=20)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def python_start(runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append(time.perf_counter() - started)
    return round(statistics.median(times), 4)


def bare_uvicorn(timeout: float) -> dict[str, Any]:
    """A FastAPI hello app on uvicorn: seconds until ``GET /ok`` answers, and its RSS."""
    port = free_port()
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", HELLO, str(port)], env=_env(), start_new_session=True
    )
    try:
        url = f"http://127.0.0.1:{port}/ok"
        if not _wait(_answers(url), proc, time.monotonic() + timeout):
            raise SystemExit("the bare uvicorn app did not start")
        ready = time.perf_counter() - started
        return {"ready_s": round(ready, 3), "rss_mb": rss_mb(proc.pid), "cpu_s": cpu_s(proc.pid)}
    finally:
        stop(proc)


def _jobs_done(log: Path) -> dict[str, str]:
    """Start-up jobs whose done-line is in the log: name -> message."""
    done: dict[str, str] = {}
    for line in log.read_text(errors="replace").splitlines():
        if not line.startswith("{"):
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        for name, (logger, start) in START_JOBS.items():
            if record.get("logger") == logger and str(record.get("msg", "")).startswith(start):
                done[name] = str(record["msg"])
    return done


def _typical(client: httpx.Client, server: int) -> tuple[dict[str, int], dict[str, float]]:
    """A few requests a demo session makes: their status codes, and the server's RSS after each
    (which request makes the server load what)."""
    statuses: dict[str, int] = {}
    rss_after: dict[str, float] = {}

    def call(name: str, method: str, path: str, body: Any = None) -> httpx.Response:
        r = client.request(method, path, json=body)
        statuses[name] = r.status_code
        rss_after[name] = rss_mb(server)
        return r

    call("info", "GET", "/info")
    call("assistants", "POST", "/assistants/search", {})
    payments = call("payments", "GET", "/v1/payments/payments?limit=20")
    call("success rate", "GET", "/v1/payments/analytics/success-rate")
    rows = payments.json().get("data", []) if payments.status_code == 200 else []
    if rows:
        pid = rows[0].get("paymentId") or rows[0].get("id")
        call("fraud score", "POST", "/v1/fraud/score", {"payment_id": pid})
    call("knowledge", "POST", "/v1/knowledge/query", {"query": "chargeback evidence"})
    call("fx rates", "GET", "/v1/fx/rates?pair=EUR/USD")
    return statuses, rss_after


def cockpit_serve(timeout: float) -> dict[str, Any]:
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="cockpit-serve-bench-") as tmp:
        log = Path(tmp) / "server.log"
        url = f"http://127.0.0.1:{port}"
        argv = [*_cockpit(), "serve", "--host", "127.0.0.1", "--port", str(port)]
        deadline = time.monotonic() + timeout
        started = time.perf_counter()
        with log.open("wb") as out:
            proc = subprocess.Popen(
                argv,
                cwd=tmp,
                env=_env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        result: dict[str, Any] = {"command": " ".join(argv[-6:])}
        try:
            if not _wait(_answers(url + "/ok"), proc, deadline):
                result["error"] = "not ready: " + log.read_text(errors="replace")[-1500:]
                return result
            result["ready_s"] = round(time.perf_counter() - started, 2)
            result["cpu_at_ready_s"] = cpu_s(proc.pid)
            result["rss_at_ready_mb"] = rss_mb(proc.pid)
            key = (Path(tmp) / ".cockpit" / "demo.key").read_text().strip()
            client = httpx.Client(base_url=url, headers={"x-api-key": key}, timeout=120.0)

            def world() -> bool:
                if len(_jobs_done(log)) < len(START_JOBS):
                    return False
                r = client.get("/v1/payments/merchants")
                return r.status_code == 200 and bool(r.json().get("data"))

            in_place = _wait(world, proc, deadline)
            jobs = _jobs_done(log)
            result["start_jobs"] = jobs
            if not in_place:
                missing = sorted(set(START_JOBS) - set(jobs))
                result["error"] = f"demo world not in place within {timeout} s: missing {missing}"
                result["rss_at_timeout_mb"] = rss_mb(proc.pid)
                return result
            result["world_s"] = round(time.perf_counter() - started, 2)
            result["cpu_at_world_s"] = cpu_s(proc.pid)
            seeded = re.search(r"\(([\d.]+)s\)", jobs["demo world"])
            result["seeding_s"] = float(seeded.group(1)) if seeded else None
            result["rss_at_world_mb"] = rss_mb(proc.pid)
            result["requests"], result["rss_after_each_request_mb"] = _typical(client, proc.pid)
            result["rss_after_requests_mb"] = rss_mb(proc.pid)
            result["cpu_after_requests_s"] = cpu_s(proc.pid)
            client.close()
            return result
        finally:
            stop(proc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per server")
    args = parser.parse_args()
    python = python_start()
    bare = bare_uvicorn(args.timeout)
    cockpit = cockpit_serve(args.timeout)
    ready, world = cockpit.get("ready_s"), cockpit.get("world_s")
    rss = cockpit.get("rss_after_requests_mb")
    print(
        json.dumps(
            {
                "benchmark": "serve_startup",
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "load_avg_1m": round(os.getloadavg()[0], 2),
                "baselines": {"python -c pass": {"wall_s": python}, "bare uvicorn": bare},
                "cockpit serve": cockpit,
                "ratios": {
                    "ready_over_bare_uvicorn": round(ready / bare["ready_s"], 1) if ready else None,
                    "rss_over_bare_uvicorn": round(rss / bare["rss_mb"], 1) if rss else None,
                },
                "targets": {"world_s": TARGET_READY_S, "rss_mb": TARGET_RSS_MB},
                "verdicts": {
                    "ready_with_demo_world": "pass"
                    if world is not None and world <= TARGET_READY_S
                    else "fail",
                    "rss": "pass" if rss is not None and rss <= TARGET_RSS_MB else "fail",
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
