"""Concurrency and crash safety: parallel retries make one payment and one refund; a killed
process loses or duplicates no money after restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from cockpit.db.session import Database
from tests.support.concurrency import released_together
from tools.payments import ledger
from tools.payments.gateway import Gateway, PayRequest, RefundRequest
from tools.payments.models import Capture, Payment, Refund

T = "t_test"
NOW = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)
CLIENTS = 8


def _parallel(n: int, fn: Callable[[int], Any]) -> list[Any]:
    return released_together(n, fn)


def _count(db: Database, model: type) -> int:
    with db.tenant_session(T) as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_parallel_retries_make_one_payment_and_one_refund(any_db: Database) -> None:
    from tools.payments.models import Card, Customer, Merchant

    with any_db.tenant_session(T) as s:
        s.add(Merchant(id="m_sg", name="M", legal_name="M", country="SG", mcc="5732", markets=["SG"],
                       settlement_currency="SGD", kyb_state="APPROVED", webhook_secret="s"))  # fmt: skip
        s.add(Customer(id="cus_1", country="SG"))
        s.flush()
        s.add(Card(id="card_visa", customer_id="cus_1", brand="VISA", bin="411111", last4="1111",
                   funding="CREDIT", issuer="Merlion Bank", issuing_country="SG", exp_month=1, exp_year=2031))  # fmt: skip

    class Approve(Gateway):
        pass

    from tools.payments.simulator import AuthDecision, IssuerSimulator

    class Yes(IssuerSimulator):
        def decide(self, ctx: Any) -> AuthDecision:
            return AuthDecision(True)

    gw = Approve(any_db, simulator=Yes())
    req = PayRequest("m_sg", "same-pay", 12_345, "SGD", card_id="card_visa")
    pays = _parallel(CLIENTS, lambda _: gw.pay(T, req, at=NOW))
    assert all(isinstance(r, dict) for r in pays), pays
    assert len({r["paymentId"] for r in pays}) == 1
    assert all(r == pays[0] for r in pays)
    pid = pays[0]["paymentId"]
    refund = RefundRequest("m_sg", pid, "same-refund", 2_345)
    refunds = _parallel(CLIENTS, lambda _: gw.refund(T, refund, at=NOW))
    assert all(isinstance(r, dict) for r in refunds), refunds
    assert len({r["refundId"] for r in refunds}) == 1
    # Different refund ids racing for more than was captured: never over-refunded.
    racing = _parallel(
        CLIENTS, lambda i: gw.refund(T, RefundRequest("m_sg", pid, f"race-{i}", 3_000), at=NOW)
    )
    ok = [r for r in racing if isinstance(r, dict)]
    rejected = [r for r in racing if not isinstance(r, dict)]
    assert len(ok) == 3 and all(
        getattr(e, "code", "") == "refund_amount_exceed" for e in rejected
    ), racing
    assert (
        _count(any_db, Payment) == 1
        and _count(any_db, Capture) == 1
        and _count(any_db, Refund) == 4
    )
    with any_db.tenant_session(T) as s:
        p = s.scalar(select(Payment))
        assert p is not None and p.refunded_amount == 2_345 + 9_000
        assert ledger.check_invariants(s) == []
        bal = ledger.merchant_balances(s, "m_sg")["SGD"]
        assert bal == {"pending": 12_345, "available": -11_345, "reserve": 0}


WORKER = textwrap.dedent(
    """
    import os, signal, sys
    from datetime import UTC, datetime, timedelta
    from cockpit.db.session import Database
    from tools.payments import ledger
    from tools.payments.gateway import Gateway, PayRequest, RefundRequest
    from tools.payments.simulator import AuthDecision, IssuerSimulator

    class Yes(IssuerSimulator):
        def decide(self, ctx):
            return AuthDecision(True)

    kill_at = int(os.environ.get("KILL_AT_JOURNAL", "0"))
    posted = [0]
    real_post = ledger.post

    def post(session, draft, *, at=None):
        out = real_post(session, draft, at=at)
        session.flush()
        posted[0] += 1
        if posted[0] == kill_at:  # die with the journal flushed but not committed
            os.kill(os.getpid(), signal.SIGKILL)
        return out

    ledger.post = post
    schema = os.environ.get("PAY_SCHEMA")
    if schema:  # PostgreSQL: the test's private schema
        from sqlalchemy import event
        from cockpit.db.session import make_engine

        engine = make_engine(sys.argv[1])

        @event.listens_for(engine, "connect")
        def _path(conn, _rec):
            cur = conn.cursor()
            cur.execute(f'SET search_path TO "{schema}"')
            cur.close()
            conn.commit()

        db = Database(sys.argv[1], engine=engine)
    else:
        db = Database(sys.argv[1])
    gw = Gateway(db, simulator=Yes())
    t0 = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)
    for i in range(int(sys.argv[2])):
        r = gw.pay("t_test", PayRequest("m_sg", f"k{i}", 1_000 + i, "SGD", card_id="card_visa"), at=t0)
        gw.refund("t_test", RefundRequest("m_sg", r["paymentId"], f"kr{i}", 100), at=t0 + timedelta(minutes=1))
        print("step", i, flush=True)
    print("done", flush=True)
    """
)


def test_killed_process_loses_and_duplicates_nothing(seeded_any: Database, tmp_path: Path) -> None:
    seeded = seeded_any
    extra: dict[str, str] = {}
    if seeded.dialect == "postgresql":
        with seeded.engine.connect() as conn:
            extra["PAY_SCHEMA"] = str(conn.exec_driver_sql("SHOW search_path").scalar()).strip('"')
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    n = 12
    env = {
        **os.environ,
        **extra,
        "KILL_AT_JOURNAL": "9",
    }  # mid-transaction of the 5th payment's capture
    crashed = subprocess.run([sys.executable, str(script), seeded.url, str(n)], env=env,
                             capture_output=True, text=True, timeout=120, cwd=Path(__file__).parents[3])  # fmt: skip
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    assert "done" not in crashed.stdout
    with seeded.tenant_session(T) as s:
        assert ledger.check_invariants(s) == []
        payments_before = s.scalar(select(func.count()).select_from(Payment))
    assert payments_before == 4  # the 5th payment's transaction was rolled back whole
    # Also kill at a random moment while it runs, then restart to completion.
    proc = subprocess.Popen([sys.executable, str(script), seeded.url, str(n)], stdout=subprocess.PIPE,
                            env={**os.environ, **extra}, text=True, cwd=Path(__file__).parents[3])  # fmt: skip
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("step 6"):
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=60)
    done = subprocess.run([sys.executable, str(script), seeded.url, str(n)], capture_output=True, text=True,
                          env={**os.environ, **extra}, timeout=120, cwd=Path(__file__).parents[3])  # fmt: skip
    assert done.returncode == 0 and "done" in done.stdout, done.stderr
    with seeded.tenant_session(T) as s:
        assert ledger.check_invariants(s) == []
        assert s.scalar(select(func.count()).select_from(Payment)) == n
        assert s.scalar(select(func.count()).select_from(Refund)) == n
        bal = ledger.merchant_balances(s, "m_sg")["SGD"]
        assert bal["pending"] == sum(1_000 + i for i in range(n))
        assert bal["available"] == -100 * n
        assert ledger.balance(s, ledger.BUYER_FUNDS, "SGD") == -(
            sum(1_000 + i for i in range(n)) - 100 * n
        )


def test_parallel_tool_calls_with_one_key_refund_once(seeded_any: Database) -> None:
    from cockpit.tenancy.principal import Principal, Role
    from cockpit.toolkit import ToolContext
    from tools.payments import tools as ptools
    from tools.payments.simulator import AuthDecision, IssuerSimulator

    class Yes(IssuerSimulator):
        def decide(self, ctx: Any) -> AuthDecision:
            return AuthDecision(True)

    pid = Gateway(seeded_any, simulator=Yes()).pay(
        T, PayRequest("m_sg", "tp", 9_000, "SGD", card_id="card_visa"), at=NOW
    )["paymentId"]
    ctx = ToolContext(
        principal=Principal(T, Role.MERCHANT, "k", "m_sg"),
        db=seeded_any,
        idempotency_key="thread:call-7",
    )
    args = ptools.RefundArgs(payment_id=pid, amount=4_000, currency="SGD")
    results = _parallel(CLIENTS, lambda _: ptools.refund(ctx, args))
    assert all(isinstance(r, dict) for r in results), results
    assert len({r["refundId"] for r in results}) == 1
    assert _count(seeded_any, Refund) == 1
    with seeded_any.tenant_session(T) as s:
        assert ledger.check_invariants(s) == []
