"""Payments over HTTP: ``POST /v1/payments/payments`` (pay + auto-capture + ledger) on uvicorn.

One uvicorn worker serves the payments router behind the real API-key authentication, on a
migrated SQLite file (or PostgreSQL with ``--postgres``, in a scratch schema). An httpx
client sends a bounded number of requests over a few concurrent connections. The baseline,
measured in the same run with the same client, is an async ``/ping`` route of the same
server: what uvicorn, FastAPI and the client cost with no work behind them. Server CPU
seconds are read from ``/proc`` so a loaded machine can be told from a slow server.

Prints one JSON document.

    python benchmarks/payments_http.py [--n 2000] [--connections 4] [--postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from payments_world import (  # noqa: E402
    TENANT,
    card_for,
    create_schema,
    drop_schema,
    in_schema,
    seed_merchant,
)
from serving import cpu_seconds, free_port, wait_for_port  # noqa: E402

MERCHANT = "m_bench"
TARGET_PER_S = 500
"""Issue 19: payments per second over HTTP."""


def make_app(db_url: str, schema: str | None = None) -> Any:
    """The payments router, the real error handlers and API keys, and an async ``/ping``."""
    from types import SimpleNamespace

    from fastapi import FastAPI

    from cockpit.api.errors import install_error_handlers
    from cockpit.config import Settings
    from cockpit.observability.setup import FASTAPI_TELEMETRY
    from cockpit.tenancy.keys import KeyService
    from tools.payments.gateway import Gateway
    from tools.payments.router import router
    from tools.payments.startup import GATEWAY_KEY

    db = in_schema(db_url, schema)
    app = FastAPI(telemetry=FASTAPI_TELEMETRY)  # as the served app (cockpit.app)
    install_error_handlers(app)
    app.include_router(router)
    app.state.services = SimpleNamespace(
        keys=KeyService(db),
        db=db,
        settings=Settings(data_dir=Path(tempfile.gettempdir())),
        extras={GATEWAY_KEY: Gateway(db)},
    )

    @app.get("/ping")
    async def ping() -> dict[str, bool]:
        return {"ok": True}

    return app


def prepare(db_url: str, schema: str | None) -> str:
    """Migrate, create the tenant, a merchant with its cards and a merchant key; returns the key."""
    from cockpit.db.migrate import upgrade
    from cockpit.tenancy.keys import KeyService
    from cockpit.tenancy.principal import Role

    if schema is not None:
        create_schema(db_url, schema)
    db = in_schema(db_url, schema)
    upgrade(db)
    keys = KeyService(db)
    keys.ensure_tenant(TENANT, name="Bench")
    seed_merchant(db, merchant_id=MERCHANT)
    secret = keys.create_key(TENANT, Role.MERCHANT, merchant_id=MERCHANT).secret
    db.dispose()
    return secret


async def _drive(
    base: str, n: int, connections: int, request: Any, *, key: str
) -> tuple[float, int]:
    """Send ``n`` requests over ``connections`` connections; (seconds, non-2xx count)."""
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    failures = 0
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        counter = iter(range(n))

        async def worker() -> None:
            nonlocal failures
            for i in counter:
                r = await request(client, i, key)
                failures += not r.is_success

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        return time.perf_counter() - t0, failures


async def _ping(client: httpx.AsyncClient, _i: int, _key: str) -> httpx.Response:
    return await client.get("/ping")


def _pay(run: str) -> Any:
    async def pay(client: httpx.AsyncClient, i: int, key: str) -> httpx.Response:
        return await client.post(
            "/v1/payments/payments",
            json={
                "amount": {"currency": "SGD", "value": str(1_000 + i)},
                "card_id": card_for(i),
                "three_ds": True,
            },
            headers={"x-api-key": key, "Idempotency-Key": f"{run}-{i}"},
        )

    return pay


def measure(server_pid: int, base: str, *, key: str, n: int, connections: int) -> dict[str, Any]:
    asyncio.run(_drive(base, 200, connections, _ping, key=key))  # warm-up
    asyncio.run(_drive(base, 50, connections, _pay("warm"), key=key))
    out: dict[str, Any] = {}
    for name, request in (("ping", _ping), ("payments", _pay("run"))):
        c0 = cpu_seconds(server_pid)
        seconds, failures = asyncio.run(_drive(base, n, connections, request, key=key))
        cpu = cpu_seconds(server_pid) - c0
        out[name] = {
            "req_per_s": round(n / seconds, 1),
            "req_per_server_cpu_s": round(n / max(cpu, 1e-9), 1),
            "non_2xx": failures,
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2_000)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="pay-http-"))
    schema = None
    if args.postgres:
        db_url = os.environ.get("COCKPIT_TEST_POSTGRES_URL", "")
        if not db_url:
            raise SystemExit("--postgres needs COCKPIT_TEST_POSTGRES_URL")
        schema = "pay_http_" + uuid.uuid4().hex[:8]
    else:
        db_url = "sqlite:///" + str(tmp / "pay.db")
    key = prepare(db_url, schema)
    port = free_port()
    code = (
        "import sys, uvicorn; "
        f"sys.path.insert(0, {str(ROOT / 'benchmarks')!r}); "
        "from payments_http import make_app; "
        f"uvicorn.run(make_app({db_url!r}, {schema!r}), host='127.0.0.1', port={port}, "
        "log_level='warning', access_log=False)"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen([sys.executable, "-c", code], env=env)
    out: dict[str, Any] = {
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
        "database": "postgresql" if args.postgres else "sqlite",
        "server": "uvicorn, 1 worker",
        "client": f"httpx, {args.connections} connections, {args.n} requests per figure",
    }
    try:
        wait_for_port(port)
        figures = measure(
            server.pid, f"http://127.0.0.1:{port}", key=key, n=args.n, connections=args.connections
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
        if schema is not None:
            drop_schema(db_url, schema)
    pay, ping = figures["payments"], figures["ping"]
    out["payments"] = pay
    out["baseline_async_ping"] = ping
    out["ratio_wall"] = round(ping["req_per_s"] / max(pay["req_per_s"], 1e-9), 1)
    out["ratio_server_cpu"] = round(
        ping["req_per_server_cpu_s"] / max(pay["req_per_server_cpu_s"], 1e-9), 1
    )
    out["target_req_per_s"] = TARGET_PER_S
    out["verdict"] = (
        "met"
        if pay["req_per_s"] >= TARGET_PER_S
        else "met per server CPU second (the machine is loaded)"
        if pay["req_per_server_cpu_s"] >= TARGET_PER_S
        else "not met"
    )
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
