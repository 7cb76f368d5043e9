"""Payments benchmark: payments/s (pay + auto-capture + ledger, one transaction each) on SQLite
and PostgreSQL, payments/s for manual capture + refund, and the time to seed the demo world.

Prints one JSON document. A baseline measured in the same run (a bare SQLite
insert loop of the same number of rows through SQLAlchemy Core) puts the
numbers in context of the machine's speed. PostgreSQL is measured when
``COCKPIT_TEST_POSTGRES_URL`` is set (a scratch schema is created and dropped).

    python benchmarks/payments.py [--n 300] [--demo-days 90]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import Column, Integer, MetaData, String, Table, event, insert, text

from cockpit.db import migrate as core_migrate
from cockpit.db.session import Database, make_engine
from tools.payments import ledger
from tools.payments.demo import seed_demo_world
from tools.payments.gateway import CaptureRequest, Gateway, PayRequest, RefundRequest
from tools.payments.models import Card, Customer, Merchant
from tools.payments.simulator import IssuerSimulator

PAYMENTS_VERSIONS = (
    Path(__file__).resolve().parents[1] / "tools" / "payments" / "migrations" / "versions"
)
T = "bench"


def _migrate(db: Database) -> None:
    cfg = core_migrate.alembic_config(db)
    core_versions = Path(core_migrate.__file__).parent / "migrations" / "versions"
    cfg.set_main_option("version_locations", f"{core_versions} {PAYMENTS_VERSIONS}")
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")


def _seed(db: Database) -> None:
    with db.tenant_session(T) as s:
        s.add(Merchant(id=f"m_{uuid.uuid4().hex[:6]}", name="B", legal_name="B", country="SG", mcc="5732",
                       markets=["SG"], settlement_currency="SGD", kyb_state="APPROVED", webhook_secret="s"))  # fmt: skip
        s.add(Customer(id="bc", country="SG"))
        s.flush()
        s.add(Card(id="bcard", customer_id="bc", brand="VISA", bin="411111", last4="1111", funding="CREDIT",
                   issuer="Merlion Bank", issuing_country="SG", exp_month=1, exp_year=2035, network_token=True))  # fmt: skip


def _merchant(db: Database) -> str:
    from sqlalchemy import select

    with db.tenant_session(T) as s:
        return str(s.scalar(select(Merchant.id)))


def measure(db: Database, n: int) -> dict[str, Any]:
    _seed(db)
    mid = _merchant(db)
    gw = Gateway(db, simulator=IssuerSimulator(seed=1))
    at = datetime(2026, 11, 1, tzinfo=UTC)
    t0 = time.perf_counter()
    for i in range(n):
        gw.pay(T, PayRequest(mid, f"a{i}", 1_000 + i, "SGD", card_id="bcard", three_ds=True), at=at)
    auto = time.perf_counter() - t0
    t0 = time.perf_counter()
    for i in range(n):
        r = gw.pay(
            T,
            PayRequest(
                mid, f"m{i}", 5_000, "SGD", card_id="bcard", capture_mode="MANUAL", three_ds=True
            ),
            at=at,
        )
        if r["state"] == "AUTHORIZED":
            gw.capture(
                T,
                CaptureRequest(mid, r["paymentId"], f"c{i}", 5_000, True),
                at=at + timedelta(hours=1),
            )
            gw.refund(
                T, RefundRequest(mid, r["paymentId"], f"r{i}", 1_000), at=at + timedelta(days=1)
            )
    manual = time.perf_counter() - t0
    t0 = time.perf_counter()
    for i in range(n):  # idempotent replays return the stored response
        gw.pay(T, PayRequest(mid, f"a{i}", 1_000 + i, "SGD", card_id="bcard", three_ds=True), at=at)
    replay = time.perf_counter() - t0
    with db.tenant_session(T) as s:
        assert ledger.check_invariants(s) == []
    return {
        "payments_per_s_pay_capture_ledger": round(n / auto, 1),
        "flows_per_s_pay_manual_capture_refund": round(n / manual, 1),
        "replays_per_s_idempotent": round(n / replay, 1),
        "n": n,
    }


def baseline(path: Path, n: int) -> dict[str, Any]:
    """Bare SQLAlchemy Core inserts, one transaction each, on the same kind of file."""
    engine = make_engine("sqlite:///" + str(path / "baseline.db"))
    md = MetaData()
    table = Table("b", md, Column("id", Integer, primary_key=True), Column("v", String(64)))
    md.create_all(engine)
    t0 = time.perf_counter()
    for i in range(n):
        with engine.begin() as conn:
            conn.execute(insert(table).values(v=str(i)))
    elapsed = time.perf_counter() - t0
    engine.dispose()
    return {"sqlite_single_row_tx_per_s": round(n / elapsed, 1)}


def postgres(n: int) -> dict[str, Any] | None:
    url = os.environ.get("COCKPIT_TEST_POSTGRES_URL")
    if not url:
        return None
    schema = "pay_bench_" + uuid.uuid4().hex[:8]
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))

    @event.listens_for(engine, "connect")
    def _path(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute(f'SET search_path TO "{schema}"')
        cur.close()
        dbapi_conn.commit()

    engine.dispose()
    db = Database(url, engine=engine)
    try:
        _migrate(db)
        return measure(db, n)
    finally:
        db.dispose()
        cleanup = make_engine(url)
        with cleanup.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        cleanup.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--demo-days", type=int, default=90)
    args = parser.parse_args()
    out: dict[str, Any] = {"load_avg_1m": round(os.getloadavg()[0], 2), "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        out["baseline"] = baseline(root, args.n)
        db = Database("sqlite:///" + str(root / "bench.db"))
        _migrate(db)
        out["sqlite"] = measure(db, args.n)
        t0 = time.perf_counter()
        summary = seed_demo_world(db, "demo", days=args.demo_days)
        out["demo_world"] = {"seconds": round(time.perf_counter() - t0, 2), "days": args.demo_days,
                             "payments": summary.payments, "disputes": summary.disputes, "refunds": summary.refunds}  # fmt: skip
        t0 = time.perf_counter()
        seed_demo_world(db, "demo", days=args.demo_days)
        out["demo_world"]["second_call_seconds"] = round(time.perf_counter() - t0, 3)
        db.dispose()
    out["postgres"] = postgres(args.n)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
