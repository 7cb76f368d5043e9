"""The ``dev.acp.tokenized.card`` handler through the real gateway and ledger — both backends.

A hand-built :class:`tools.commerce.ports.Checkout` stands in for the checkout service. Each
outcome is checked on the database: the payment row, the ledger balances, the token and the
agent-charge record.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from tests.tools.commerce.specs import assert_acp
from tests.tools.commerce.vault_support import (
    AT,
    KEY,
    MERCHANT,
    TENANT,
    VISA,
    World,
    checkout,
    counts,
    delegate_body,
    token_row,
    vault_world,
)
from tools.commerce.errors import AcpError
from tools.commerce.ports import HANDLERS_KEY, Charge, Checkout, PaymentHandler
from tools.commerce.vault.handler import HANDLER_ID, TokenizedCardHandler, request_id_for
from tools.commerce.vault.models import AgentCharge
from tools.commerce.vault.service import TOKEN_AMOUNT, TOKEN_USED_CODE, delegate
from tools.payments import ledger
from tools.payments.gateway import Gateway
from tools.payments.models import Payment
from tools.payments.simulator import AuthContext, AuthDecision, Degradation, IssuerSimulator
from tools.payments.tx import run_tx

PENDING = ledger.merchant_account(MERCHANT, "pending")


@pytest.fixture(scope="module")
def world(
    module_database_url: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    backend = "sqlite" if module_database_url is None else "postgres"
    with vault_world(tmp_path_factory.mktemp(f"handler-{backend}"), module_database_url) as w:
        yield w


_n = iter(range(10_000))


def _token(w: World, session_id: str, *, max_amount: int = 60_000, **body: Any) -> str:
    payload = delegate_body(session_id=session_id, max_amount=max_amount)
    for key, value in body.items():
        payload[key] = value
    return delegate(
        w.db, w.principal(), idempotency_key=f"h-{next(_n)}", payload=payload, key=KEY, at=AT
    ).token_id


def _data(token: str) -> dict[str, Any]:
    data = {
        "handler_id": HANDLER_ID,
        "instrument": {"type": "card", "credential": {"type": "spt", "token": token}},
    }
    assert_acp("PaymentData", data)
    return data


def _charge(
    w: World, handler: PaymentHandler, co: Checkout, data: dict[str, Any], key: str
) -> Charge:
    return run_tx(
        w.db,
        TENANT,
        lambda s: handler.charge(s, co, data, at=AT + timedelta(minutes=2), request_key=key),
    )


def _balances(w: World) -> tuple[int, int]:
    with w.db.tenant_session(TENANT) as s:
        return ledger.balance(s, PENDING, "SGD"), ledger.balance(s, ledger.BUYER_FUNDS, "SGD")


def _payment(w: World, payment_id: str | None) -> Payment:
    with w.db.tenant_session(TENANT) as s:
        p = s.scalar(select(Payment).where(Payment.id == payment_id))
        assert p is not None
        return p


def _agent_charge(w: World, session_id: str) -> AgentCharge:
    with w.db.tenant_session(TENANT) as s:
        row = s.scalar(select(AgentCharge).where(AgentCharge.checkout_session_id == session_id))
        assert row is not None
        return row


def test_the_app_registers_the_handler_and_its_descriptor_is_valid(world: World) -> None:
    handler = world.services.extras[HANDLERS_KEY][HANDLER_ID]
    assert isinstance(handler, TokenizedCardHandler) and handler.id == HANDLER_ID
    assert_acp("PaymentHandler", handler.descriptor())


def test_approved_payment_is_captured_and_booked(world: World) -> None:
    handler = TokenizedCardHandler(Gateway(world.db))
    token = _token(world, "csn_ok")
    co = checkout("csn_ok", amount=12_000)
    pending, buyer = _balances(world)
    charge = _charge(world, handler, co, _data(token), "complete-ok-1")
    assert charge.status == "captured", charge
    payment = _payment(world, charge.payment_id)
    assert (payment.state, payment.capture_mode, payment.amount, payment.currency) == (
        "CAPTURED",
        "AUTOMATIC",
        12_000,
        "SGD",
    )
    assert payment.request_id == request_id_for("complete-ok-1")
    assert payment.card_id is not None and payment.brand == "VISA"
    assert _balances(world) == (pending + 12_000, buyer - 12_000)
    with world.db.tenant_session(TENANT) as s:
        row = token_row(s, token)
        assert (row.status, row.used_by_payment_id) == ("used", payment.id)
        assert ledger.check_invariants(s) == []
    record = _agent_charge(world, "csn_ok")
    assert (record.outcome, record.payment_id, record.risk_action) == (
        "captured",
        payment.id,
        "approve",
    )
    ev = charge.evidence
    assert ev["token_id"] == token and ev["allowance"]["max_amount"] == 60_000
    assert ev["allowance"]["checkout_session_id"] == "csn_ok"
    assert ev["card"] == {
        "brand": "visa",
        "last4": "4242",
        "funding": "credit",
        "exp_month": 11,
        "exp_year": 2028,
    }
    assert ev["risk"]["action"] == "approve" and "UNREGISTERED_PLATFORM" in ev["risk"]["reasons"]
    assert VISA not in json.dumps(ev)


class SilentFirst(IssuerSimulator):
    """An issuer that does not answer the first ``silent`` requests of a payment, then approves."""

    def __init__(self, silent: int) -> None:
        super().__init__()
        self.silent = silent

    def decide(self, ctx: AuthContext) -> AuthDecision:
        if ctx.attempt <= self.silent:
            return AuthDecision(approved=False, unknown=True, code="", cause="issuer_timeout")
        return AuthDecision(approved=True)


@pytest.mark.parametrize(
    ("silent", "status", "state"), [(2, "captured", "CAPTURED"), (3, "review", "PROCESSING")]
)
def test_an_issuer_that_does_not_answer_is_asked_again(
    world: World, silent: int, status: str, state: str
) -> None:
    handler = TokenizedCardHandler(Gateway(world.db, simulator=SilentFirst(silent)))
    sid = f"csn_silent_{silent}"
    token = _token(world, sid)
    charge = _charge(world, handler, checkout(sid, amount=12_000), _data(token), f"silent-{silent}")
    payment = _payment(world, charge.payment_id)
    # Asked at most three times in all, one payment either way: never a second authorisation.
    assert (charge.status, payment.state, payment.attempts) == (status, state, min(silent + 1, 3))


def test_review_authorises_without_capturing(world: World) -> None:
    handler = TokenizedCardHandler(Gateway(world.db))
    token = _token(world, "csn_review")
    co = checkout("csn_review", amount=50_000)  # 500 SGD, no mandate, unregistered platform
    before = _balances(world)
    charge = _charge(world, handler, co, _data(token), "complete-review-1")
    assert charge.status == "review", charge
    payment = _payment(world, charge.payment_id)
    assert (payment.state, payment.capture_mode, payment.captured_amount) == (
        "AUTHORIZED",
        "MANUAL",
        0,
    )
    assert _balances(world) == before
    assert charge.evidence["risk"]["action"] == "review"
    assert "NO_MANDATE_LARGE_AMOUNT" in charge.evidence["risk"]["reasons"]
    with world.db.tenant_session(TENANT) as s:
        assert token_row(s, token).used_by_payment_id == payment.id


def test_risk_decline_moves_nothing_and_spends_the_token(world: World) -> None:
    handler = TokenizedCardHandler(Gateway(world.db))
    signals = [{"type": "card_testing", "score": 90, "action": "blocked"}]
    token = _token(world, "csn_riskno", risk_signals=signals)
    with world.db.tenant_session(TENANT) as s:
        before = counts(s)
    charge = _charge(world, handler, checkout("csn_riskno"), _data(token), "complete-riskno")
    assert (charge.status, charge.payment_id, charge.decline_code) == (
        "declined",
        None,
        "risk_declined",
    )
    assert "PLATFORM_SIGNAL_BLOCKED" in charge.evidence["risk"]["reasons"]
    with world.db.tenant_session(TENANT) as s:
        after = counts(s)
        row = token_row(s, token)
        assert (row.status, row.used_by_payment_id) == ("used", None)
    assert (after.payments, after.ledger) == (before.payments, before.ledger)
    assert _agent_charge(world, "csn_riskno").outcome == "declined"
    with pytest.raises(AcpError) as err:
        _charge(world, handler, checkout("csn_riskno"), _data(token), "complete-riskno-2")
    assert err.value.code == TOKEN_USED_CODE


def test_issuer_decline_spends_the_token_and_books_nothing(world: World) -> None:
    gateway = Gateway(
        world.db,
        simulator=IssuerSimulator(degradations=[Degradation(1.0, "05", issuer="Decline Bank")]),
    )
    handler = TokenizedCardHandler(gateway)
    pm = delegate_body(number="4111111111111111")["payment_method"]  # a card of its own
    pm["metadata"] = {"issuing_bank": "Decline Bank"}
    token = _token(world, "csn_issuer", payment_method=pm)
    before = _balances(world)
    charge = _charge(world, handler, checkout("csn_issuer"), _data(token), "complete-issuer")
    assert (charge.status, charge.decline_code) == ("declined", "05"), charge
    payment = _payment(world, charge.payment_id)
    assert payment.state == "FAILED"
    assert _balances(world) == before
    with world.db.tenant_session(TENANT) as s:
        assert token_row(s, token).used_by_payment_id == payment.id
    with pytest.raises(AcpError) as err:  # single use: a declined attempt spent it
        _charge(world, handler, checkout("csn_issuer"), _data(token), "complete-issuer-2")
    assert err.value.code == TOKEN_USED_CODE


BAD_INSTRUMENTS: list[tuple[str, dict[str, Any]]] = [
    ("wallet instrument", {"type": "wallet", "credential": {"type": "spt", "token": "spt_x"}}),
    (
        "other credential",
        {"type": "card", "credential": {"type": "wallet_token", "token": "spt_x"}},
    ),
    ("not an spt token", {"type": "card", "credential": {"type": "spt", "token": "vt_123"}}),
]


@pytest.mark.parametrize(
    ("case", "instrument"), BAD_INSTRUMENTS, ids=[b[0] for b in BAD_INSTRUMENTS]
)
def test_unusable_instruments_are_refused(
    world: World, case: str, instrument: dict[str, Any]
) -> None:
    handler = TokenizedCardHandler(Gateway(world.db))
    with world.db.tenant_session(TENANT) as s:
        before = counts(s)
    with pytest.raises(AcpError) as err:
        _charge(
            world, handler, checkout(), {"handler_id": HANDLER_ID, "instrument": instrument}, "bad"
        )
    assert err.value.code == "invalid_payment_instrument" and err.value.status == 400
    with world.db.tenant_session(TENANT) as s:
        assert counts(s) == before


def test_a_token_that_does_not_fit_the_checkout_moves_nothing(world: World) -> None:
    handler = TokenizedCardHandler(Gateway(world.db))
    token = _token(world, "csn_fit", max_amount=10_000)
    with world.db.tenant_session(TENANT) as s:
        before = counts(s)
    with pytest.raises(AcpError) as err:
        _charge(world, handler, checkout("csn_fit", amount=10_001), _data(token), "fit-1")
    assert err.value.code == TOKEN_AMOUNT
    with world.db.tenant_session(TENANT) as s:
        assert counts(s) == before
        assert token_row(s, token).status == "active"
    assert (
        _charge(world, handler, checkout("csn_fit", amount=10_000), _data(token), "fit-2").status
        == "captured"
    )
