"""What every API route pays before its own work: an authenticated trivial route on the real app.

    python benchmarks/api_overhead.py [--seconds 5] [--rounds 2] [--postgres]

``cockpit serve`` (one worker, no demo) runs in a child process; ``wrk`` (1 thread,
8 connections) calls ``GET /v1/me`` with an admin key — API-key authentication, the request
context and the role check, then a few fields of JSON — and, as the same-run baseline,
``GET /info`` of the same server: the same middleware stack, routing and JSON response with no
authentication. Rounds alternate the two so load on the machine weighs on both alike; figures
are medians. Server CPU per request (``/proc``) is the figure to read on a loaded machine.
``--postgres`` runs the server on a scratch database next to ``COCKPIT_TEST_POSTGRES_URL``.

Section ``bad_keys``: the cost of a refused key, and whether refusing keys holds up other
requests. ``GET /v1/me`` with a well-formed key nobody issued (401 each; a refusal is never
cached, so each one reads the database), then ``GET /info`` latency from one connection twice:
alone, and while 8 other connections send the unknown key. A refused key's database read
belongs in a worker thread; made on the event loop it delays every request behind it.

Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from statistics import median
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from serving import cpu_seconds, free_port, start_serve, wait_for_port


def _wrk(url: str, *, seconds: int, key: str | None) -> tuple[int, int]:
    """(requests, non-2xx responses) of one ``wrk`` run."""
    command = ["wrk", "-t1", "-c8", f"-d{seconds}s"]
    if key is not None:
        command += ["-H", f"x-api-key: {key}"]
    text = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    lines = text.splitlines()
    requests = next(int(line.split()[0]) for line in lines if "requests in" in line)
    failed = next((int(line.split()[-1]) for line in lines if "Non-2xx" in line), 0)
    return requests, failed


def _admin_key(data_dir: Path, port: int, *, seconds: float = 300.0) -> str:
    """The bootstrap admin key, once the server has written it and answers."""
    key_file = data_dir / "admin.key"
    deadline = time.monotonic() + seconds
    while not key_file.exists():
        if time.monotonic() > deadline:
            raise RuntimeError("the server wrote no admin key")
        time.sleep(0.2)
    wait_for_port(port, seconds=seconds)
    return key_file.read_text().strip()


#: Well-formed (``ck_<12>_<32>``) and issued to nobody.
UNKNOWN_KEY = "ck_000000000000_" + "x" * 32


def _latency_ms(url: str, *, seconds: int) -> dict[str, float]:
    """p50 and p99 latency of ``url`` from one connection (``wrk --latency``), in ms."""
    command = ["wrk", "-t1", "-c1", f"-d{seconds}s", "--latency", url]
    text = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in ("50%", "99%"):
            out["p" + parts[0].rstrip("%")] = _ms(parts[1])
    return out


def _ms(figure: str) -> float:
    """A wrk duration (``812.00us``, ``1.21ms``, ``2.00s``) in milliseconds."""
    for unit, scale in (("us", 1e-3), ("ms", 1.0), ("s", 1e3)):
        if figure.endswith(unit):
            return round(float(figure[: -len(unit)]) * scale, 3)
    raise ValueError(f"not a wrk duration: {figure}")


def bad_keys(base: str, pid: int, *, seconds: int, rounds: int) -> dict[str, Any]:
    """Refused keys' throughput and server CPU, and ``/info`` latency alone and beside them."""
    refused: list[tuple[float, float, int]] = []
    alone: list[dict[str, float]] = []
    beside: list[dict[str, float]] = []
    for _ in range(rounds):
        cpu0, t0 = cpu_seconds(pid), time.perf_counter()
        requests, failed = _wrk(base + "/v1/me", seconds=seconds, key=UNKNOWN_KEY)
        wall, cpu = time.perf_counter() - t0, cpu_seconds(pid) - cpu0
        refused.append((requests / wall, cpu * 1000 / requests, requests - failed))
        alone.append(_latency_ms(base + "/info", seconds=seconds))
        flooding = ["wrk", "-t1", "-c8", f"-d{seconds + 2}s", "-H", f"x-api-key: {UNKNOWN_KEY}"]
        flood = subprocess.Popen([*flooding, base + "/v1/me"], stdout=subprocess.DEVNULL)
        try:
            time.sleep(1)  # the flood is under way before the probe starts
            beside.append(_latency_ms(base + "/info", seconds=seconds))
        finally:
            flood.wait(timeout=seconds + 60)
    return {
        "refused_v1_me": {
            "req_per_s": round(median(r[0] for r in refused), 1),
            "server_cpu_ms_per_req": round(median(r[1] for r in refused), 3),
            "answered_2xx": sum(r[2] for r in refused),
        },
        "info_latency_ms_alone": {q: median(a[q] for a in alone) for q in ("p50", "p99")},
        "info_latency_ms_beside_refusals": {
            q: median(b[q] for b in beside) for q in ("p50", "p99")
        },
    }


def measure(base: str, pid: int, key: str, *, seconds: int, rounds: int) -> dict[str, Any]:
    routes = {"info": ("/info", None), "me": ("/v1/me", key)}
    for path, route_key in routes.values():  # warm-up: imports, the key cache, the pool
        _wrk(base + path, seconds=1, key=route_key)
    samples: dict[str, list[tuple[float, float, int]]] = {name: [] for name in routes}
    for _ in range(rounds):
        for name, (path, route_key) in routes.items():
            cpu0, t0 = cpu_seconds(pid), time.perf_counter()
            requests, failed = _wrk(base + path, seconds=seconds, key=route_key)
            wall, cpu = time.perf_counter() - t0, cpu_seconds(pid) - cpu0
            samples[name].append((requests / wall, cpu * 1000 / requests, failed))
    return {
        name: {
            "req_per_s": round(median(s[0] for s in rows), 1),
            "server_cpu_ms_per_req": round(median(s[1] for s in rows), 3),
            "non_2xx": sum(s[2] for s in rows),
        }
        for name, rows in samples.items()
    }


def _scratch_database(base_url: str) -> tuple[str, str]:
    """A new empty database next to ``base_url``: (its URL, its name)."""
    import psycopg

    name = f"cockpit_api_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return base_url.rsplit("/", 1)[0] + "/" + name, name


def _drop_database(base_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("needs wrk (apt-get install wrk)")
    pg_base = os.environ.get("COCKPIT_TEST_POSTGRES_URL", "")
    if args.postgres and not pg_base:
        raise SystemExit("--postgres needs COCKPIT_TEST_POSTGRES_URL")
    load_before = os.getloadavg()[0]
    settings, scratch = {}, None
    if args.postgres:
        url, scratch = _scratch_database(pg_base)
        settings["COCKPIT_DATABASE_URL"] = url
    try:
        with tempfile.TemporaryDirectory(prefix="cockpit-bench-api-") as tmp:
            port = free_port()
            server = start_serve(Path(tmp), port, settings=settings)
            try:
                key = _admin_key(Path(tmp), port)
                base = f"http://127.0.0.1:{port}"
                figures = measure(base, server.pid, key, seconds=args.seconds, rounds=args.rounds)
                refusals = bad_keys(base, server.pid, seconds=args.seconds, rounds=args.rounds)
            finally:
                server.terminate()
                server.wait(timeout=60)
    finally:
        if scratch is not None:
            _drop_database(pg_base, scratch)
    me, info = figures["me"], figures["info"]
    report = {
        "benchmark": "api_overhead",
        "server": "cockpit serve, 1 worker, " + ("postgresql" if args.postgres else "sqlite"),
        "client": f"wrk, 1 thread, 8 connections, {args.rounds} rounds of {args.seconds} s",
        "authenticated_v1_me": me,
        "baseline_info_no_auth": info,
        "auth_server_cpu_ms_per_req": round(
            me["server_cpu_ms_per_req"] - info["server_cpu_ms_per_req"], 3
        ),
        "ratio_server_cpu": round(
            me["server_cpu_ms_per_req"] / max(info["server_cpu_ms_per_req"], 1e-9), 2
        ),
        "ratio_wall": round(info["req_per_s"] / max(me["req_per_s"], 1e-9), 2),
        "bad_keys": refusals,
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_1m_before": round(load_before, 2),
            "load_average_1m_after": round(os.getloadavg()[0], 2),
        },
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
