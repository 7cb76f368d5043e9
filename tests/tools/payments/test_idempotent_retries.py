"""Concurrent identical retries of a capture, refund, cancel or payment all answer the first
success, byte for byte (issue 13, finding 4: on PostgreSQL some retries were told
``capture_closed`` / ``refund_amount_exceed`` because the request id was looked up before the
payment row was locked)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from cockpit.db.session import Database
from tests.support.concurrency import released_together
from tools.payments import ledger, tx
from tools.payments.gateway import CaptureRequest, Gateway, PayRequest, RefundRequest
from tools.payments.models import Cancel, Capture, Payment, Refund
from tools.payments.simulator import AuthDecision, IssuerSimulator

T = "t_test"
NOW = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)
RETRIES = 30


class _Approve(IssuerSimulator):
    def decide(self, ctx: Any) -> AuthDecision:
        return AuthDecision(True)


def _parallel(n: int, fn: Callable[[], Any]) -> list[Any]:
    return released_together(n, lambda _i: fn())


def _all_the_same(results: list[Any]) -> str:
    """Every result is a success and serialises to the same JSON; that JSON."""
    failed = [r for r in results if not isinstance(r, dict)]
    assert not failed, [getattr(e, "code", repr(e)) for e in failed]
    bodies = {json.dumps(r, sort_keys=True) for r in results}
    assert len(bodies) == 1, bodies
    return bodies.pop()


def _count(db: Database, model: type) -> int:
    with db.tenant_session(T) as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _manual_payment(gw: Gateway, request_id: str, amount: int = 10_000) -> str:
    req = PayRequest("m_sg", request_id, amount, "SGD", card_id="card_visa", capture_mode="MANUAL")
    return str(gw.pay(T, req, at=NOW)["paymentId"])


def test_concurrent_identical_captures_all_replay_the_first(seeded_any: Database) -> None:
    gw = Gateway(seeded_any, simulator=_Approve())
    pid = _manual_payment(gw, "p-cap")
    req = CaptureRequest("m_sg", pid, "cap-1", 10_000, is_last=True)
    body = _all_the_same(_parallel(RETRIES, lambda: gw.capture(T, req, at=NOW)))
    assert json.loads(body)["captureRequestId"] == "cap-1"
    assert _count(seeded_any, Capture) == 1
    # After the race, a plain retry still answers the same.
    assert json.dumps(gw.capture(T, req, at=NOW), sort_keys=True) == body
    with seeded_any.tenant_session(T) as s:
        assert ledger.check_invariants(s) == []


def test_concurrent_identical_refunds_all_replay_the_first(seeded_any: Database) -> None:
    gw = Gateway(seeded_any, simulator=_Approve())
    paid = gw.pay(T, PayRequest("m_sg", "p-ref", 10_000, "SGD", card_id="card_visa"), at=NOW)
    pid = str(paid["paymentId"])
    req = RefundRequest("m_sg", pid, "ref-1", 10_000)  # all of it: a second refund would exceed
    _all_the_same(_parallel(RETRIES, lambda: gw.refund(T, req, at=NOW)))
    assert _count(seeded_any, Refund) == 1
    with seeded_any.tenant_session(T) as s:
        payment = s.scalar(select(Payment).where(Payment.id == pid))
        assert payment is not None and payment.refunded_amount == 10_000
        assert ledger.check_invariants(s) == []


def test_concurrent_identical_cancels_and_payments_replay_the_first(seeded_any: Database) -> None:
    gw = Gateway(seeded_any, simulator=_Approve())
    req = PayRequest("m_sg", "p-race", 4_000, "SGD", card_id="card_visa", capture_mode="MANUAL")
    paid = _all_the_same(_parallel(RETRIES, lambda: gw.pay(T, req, at=NOW)))
    pid = json.loads(paid)["paymentId"]
    assert _count(seeded_any, Payment) == 1
    _all_the_same(_parallel(RETRIES, lambda: gw.cancel(T, "m_sg", pid, at=NOW)))
    assert _count(seeded_any, Cancel) == 1


def test_a_reused_request_id_with_another_body_is_a_conflict_even_when_racing(
    seeded_any: Database,
) -> None:
    gw = Gateway(seeded_any, simulator=_Approve())
    pid = _manual_payment(gw, "p-mixed")
    same = CaptureRequest("m_sg", pid, "cap-mixed", 3_000)
    other = CaptureRequest("m_sg", pid, "cap-mixed", 3_001)
    results = _parallel(RETRIES, lambda: gw.capture(T, same, at=NOW))
    _all_the_same(results)
    errors = _parallel(8, lambda: gw.capture(T, other, at=NOW))
    assert {getattr(e, "code", None) for e in errors} == {"idempotency_key_reused"}, errors
    assert _count(seeded_any, Capture) == 1


def test_payments_fingerprints_are_the_core_fingerprints() -> None:
    """Stored payments rows keep matching: the gateway hashes with ``cockpit.idempotency``."""
    from cockpit import idempotency

    body = {"merchant_id": "m_sg", "request_id": "r", "amount": 1, "metadata": {"b": "1", "a": "2"}}
    assert idempotency.fingerprint(body) == tx.fingerprint(body)
