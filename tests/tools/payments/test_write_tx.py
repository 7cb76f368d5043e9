"""``write_tx``: writes awaited from the event loop, committed together on SQLite, each answered
as ``run_tx`` would answer it alone."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cockpit.db.base import utcnow
from cockpit.db.session import Database
from cockpit.errors import ValidationFailed
from tools.payments import tx
from tools.payments.gateway import Gateway, PayRequest
from tools.payments.models import Payment

T = "t_test"
REQUEST = contextvars.ContextVar("request", default="")


def _payments(db: Database) -> int:
    with db.tenant_session(T) as s:
        return int(s.scalar(select(func.count()).select_from(Payment)) or 0)


def _pay(gw: Gateway, rid: str, amount: int = 1_000) -> Any:
    req = PayRequest("m_sg", rid, amount, "SGD", card_id="card_visa")
    return lambda s: gw.pay_in(s, req, at=utcnow())


async def _together(db: Database, fns: list[Any]) -> list[Any]:
    """``fns`` sent to the writer at once (queued behind a held writer lock, so they batch)."""
    lock = tx._writer_turn(db)
    lock.acquire()
    tasks = [asyncio.ensure_future(tx.write_tx(db, T, fn)) for fn in fns]
    await asyncio.sleep(0.05)  # every job is queued; the first waits for the lock
    lock.release()
    return await asyncio.gather(*tasks, return_exceptions=True)


def test_concurrent_writes_are_answered_as_each_alone(seeded_any: Database) -> None:
    gw = Gateway(seeded_any)
    alone = gw.pay(T, PayRequest("m_sg", "first", 1_000, "SGD", card_id="card_visa"))
    fns = [_pay(gw, "first"), *(_pay(gw, f"p{i}", 1_000 + i) for i in range(5)), _pay(gw, "p0")]
    results = asyncio.run(_together(seeded_any, fns))
    assert all(isinstance(r, dict) for r in results), results
    assert results[0] == alone  # a replay of a committed payment
    assert results[-1] == results[1]  # a repeat within the batch replays its twin
    assert len({r["paymentId"] for r in results[1:-1]}) == 5
    assert _payments(seeded_any) == 6


def test_a_failing_write_fails_alone(seeded_any: Database) -> None:
    gw = Gateway(seeded_any)
    runs: list[str] = []

    def refuse(s: Session) -> Any:
        runs.append("refused")
        _pay(gw, "doomed")(s)  # written, then the whole transaction must roll back
        raise ValidationFailed("no", code="refused")

    results = asyncio.run(_together(seeded_any, [_pay(gw, "a"), refuse, _pay(gw, "b")]))
    assert isinstance(results[1], ValidationFailed) and results[1].code == "refused"
    assert results[0]["paymentRequestId"] == "a" and results[2]["paymentRequestId"] == "b"
    with seeded_any.tenant_session(T) as s:
        ids = set(s.scalars(select(Payment.request_id)))
    assert ids == {"a", "b"}  # the refused write left nothing
    if seeded_any.dialect == "sqlite":
        assert runs == ["refused", "refused"]  # in the batch, then alone


def test_the_request_context_reaches_the_write(seeded_any: Database) -> None:
    seen: list[tuple[str, str]] = []

    def fn(s: Session) -> str:
        seen.append((REQUEST.get(), threading.current_thread().name))
        return REQUEST.get()

    async def one(name: str) -> str:
        REQUEST.set(name)
        return await tx.write_tx(seeded_any, T, fn)

    async def both() -> list[str]:
        return list(await asyncio.gather(one("r1"), one("r2")))

    assert asyncio.run(both()) == ["r1", "r2"]
    assert sorted(name for name, _ in seen) == ["r1", "r2"]
    assert all(thread != threading.main_thread().name for _, thread in seen)


def test_the_writer_thread_ends_when_idle_and_comes_back(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tx, "WRITER_IDLE_S", 0.05)

    def writers() -> int:
        return sum(t.name == "payments-writer" and t.is_alive() for t in threading.enumerate())

    before = writers()
    assert asyncio.run(tx.write_tx(db, T, lambda s: 1)) == 1
    pause = threading.Event()
    for _ in range(250):  # bounded wait for the idle thread to end
        if writers() == before:
            break
        pause.wait(0.02)
    assert writers() == before
    assert asyncio.run(tx.write_tx(db, T, lambda s: 2)) == 2
