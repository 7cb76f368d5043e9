"""End to end over REST: delegate a card, complete an ACP checkout with the token, money moves.

The app's own ``dev.acp.tokenized.card`` handler (registered at start-up) charges through the
real gateway and ledger; tokens that do not fit the session are refused with nothing moved;
two concurrent completes of one session capture once. SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.support.concurrency import released_together
from tests.tools.commerce.conftest import MERCHANT, AcpWorld, acp_headers
from tests.tools.commerce.specs import assert_acp
from tools.commerce.acp.models import OrderRow
from tools.commerce.platforms import Platform
from tools.commerce.vault.handler import HANDLER_ID
from tools.commerce.vault.models import VaultToken
from tools.commerce.vault.service import TOKEN_AMOUNT, TOKEN_SESSION, TOKEN_USED_CODE
from tools.payments import ledger
from tools.payments.documents import documents_for
from tools.payments.gateway import Gateway
from tools.payments.models import Payment
from tools.payments.reasons import AGENT_AUTHORIZATION
from tools.payments.simulator import AuthContext, IssuerSimulator
from tools.payments.startup import GATEWAY_KEY

ADDRESS = {
    "name": "Tan Wei",
    "line_one": "1 Marina Boulevard",
    "city": "Singapore",
    "state": "SG",
    "country": "SG",
    "postal_code": "018989",
}
ITEM = "volt_charger_65w"


class _Approving(IssuerSimulator):
    """An issuer that approves every authorisation."""

    def hazards(self, ctx: AuthContext) -> list[tuple[str, float, str]]:
        return []


@pytest.fixture(scope="module", autouse=True)
def small_fraud_model(acp_world: AcpWorld) -> None:
    """The app's fraud hub with a small simulator model (the demo one takes long to train)."""
    from tools.fraud import FraudHub, SimConfig, TrainParams, train_from_simulator

    config = SimConfig(seed=5, n_customers=300, days=15, n_rings=3)
    model = train_from_simulator(config, params=TrainParams(n_estimators=60)).model
    acp_world.services.extras["fraud"] = FraudHub(model)
    # Session ids are random, so the seeded issuer would decline a few percent of runs; the
    # issuer's own declines are the handler tests' subject (test_vault_handler.py).
    acp_world.services.extras[GATEWAY_KEY] = Gateway(
        acp_world.db, simulator=_Approving(unknown_rate=0.0)
    )
    # The shopper key's agent platform, registered long ago (an unregistered one is reviewed).
    with acp_world.session() as s:
        s.add(
            Platform(
                id="plt_e2e",
                key_id=acp_world.principals["shopper"].key_id,
                name="E2E agent",
                webhook_secret="x",
                created_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
        )


def _session(w: AcpWorld) -> dict[str, Any]:
    body = {
        "currency": "sgd",
        "line_items": [{"id": ITEM}],
        "capabilities": {"interventions": {"supported": []}},
        "fulfillment_details": {"address": ADDRESS},
    }
    r = w.client.post("/acp/checkout_sessions", json=body, headers=acp_headers(w.keys["shopper"]))
    assert r.status_code == 201, r.text
    session: dict[str, Any] = r.json()
    assert_acp("CheckoutSession", session)
    assert session["status"] == "ready_for_payment", session["messages"]
    return session


def _total(session: dict[str, Any]) -> int:
    return int(next(t["amount"] for t in session["totals"] if t["type"] == "total"))


_cards = iter(range(1, 10_000))


def _new_pan() -> str:
    """A Luhn-valid Visa number of its own: the same card paying every test's checkout in
    seconds would look like card testing to the fraud model (and it does: it declines)."""
    body = f"4{next(_cards):014d}"
    digits = [int(d) for d in body]
    total = sum(
        d if i % 2 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(reversed(digits))
    )
    return body + str((10 - total % 10) % 10)


def _delegate(w: AcpWorld, sid: str, max_amount: int) -> str:
    pan = _new_pan()
    body = {
        "payment_method": {
            "type": "card",
            "card_number_type": "fpan",
            "number": pan,
            "exp_month": "12",
            "exp_year": "2028",
            "cvc": "123",
            "display_card_funding_type": "credit",
            "display_brand": "visa",
            "display_last4": pan[-4:],
            "metadata": {},
        },
        "allowance": {
            "reason": "one_time",
            "max_amount": max_amount,
            "currency": "sgd",
            "checkout_session_id": sid,
            "merchant_id": MERCHANT,
            "expires_at": "2026-11-26T12:00:00Z",
        },
        "risk_signals": [],
        "metadata": {"source": "test"},
    }
    assert_acp("DelegatePaymentRequest", body, bundle="delegate_payment")
    r = w.client.post(
        "/acp/agentic_commerce/delegate_payment",
        json=body,
        headers=acp_headers(w.keys["shopper"]),
    )
    assert r.status_code == 201, r.text
    assert_acp("DelegatePaymentResponse", r.json(), bundle="delegate_payment")
    return str(r.json()["id"])


def _complete(w: AcpWorld, sid: str, token: str) -> Any:
    body = {
        "payment_data": {
            "handler_id": HANDLER_ID,
            "instrument": {"type": "card", "credential": {"type": "spt", "token": token}},
        }
    }
    assert_acp("CheckoutSessionCompleteRequest", body)
    return w.client.post(
        f"/acp/checkout_sessions/{sid}/complete", json=body, headers=acp_headers(w.keys["shopper"])
    )


def _moved(w: AcpWorld) -> tuple[int, int, int]:
    with w.session() as s:
        payments = int(s.scalar(select(func.count()).select_from(Payment)) or 0)
        orders = int(s.scalar(select(func.count()).select_from(OrderRow)) or 0)
        pending = ledger.balance(s, ledger.merchant_account(MERCHANT, "pending"), "SGD")
    return payments, orders, pending


def test_a_delegated_card_pays_a_checkout(acp_world: AcpWorld) -> None:
    session = _session(acp_world)
    handlers = session["capabilities"]["payment"]["handlers"]
    assert HANDLER_ID in {h["id"] for h in handlers}
    sid, total = session["id"], _total(session)
    token = _delegate(acp_world, sid, total)
    payments, orders, pending = _moved(acp_world)
    r = _complete(acp_world, sid, token)
    assert r.status_code == 200, r.text
    done = r.json()
    assert_acp("CheckoutSessionWithOrder", done)
    assert done["status"] == "completed", done.get("messages")
    with acp_world.session() as s:
        order = s.get(OrderRow, done["order"]["id"])
        assert order is not None and order.handler_id == HANDLER_ID
        payment = s.get(Payment, order.payment_id)
        assert payment is not None
        assert (payment.state, payment.amount, payment.captured_amount) == (
            "CAPTURED",
            total,
            total,
        )
        assert order.evidence["token_id"] == token
        assert order.evidence["card"]["brand"] == "visa"
        row = s.get(VaultToken, token)
        assert row is not None and (row.status, row.used_by_payment_id) == ("used", payment.id)
        assert ledger.check_invariants(s) == []
        # The purchase is kept with the payment as dispute evidence: the cart and the token.
        [document] = documents_for(s, payment.id)
        assert document.body["checkout"]["id"] == sid
        assert token in document.evidence[AGENT_AUTHORIZATION]
        assert str(done["line_items"][0]["item"]["id"]) in document.evidence["PRODUCT_DESCRIPTION"]
    assert _moved(acp_world) == (payments + 1, orders + 1, pending + total)


@pytest.mark.parametrize("case", ["over the allowance", "another session's token", "reused"])
def test_tokens_that_do_not_fit_are_refused_and_move_nothing(
    acp_world: AcpWorld, case: str
) -> None:
    session = _session(acp_world)
    sid, total = session["id"], _total(session)
    if case == "over the allowance":
        token, code = _delegate(acp_world, sid, total - 1), TOKEN_AMOUNT
    elif case == "another session's token":
        token, code = _delegate(acp_world, _session(acp_world)["id"], total), TOKEN_SESSION
    else:
        first = _session(acp_world)
        token, code = _delegate(acp_world, first["id"], total), TOKEN_USED_CODE
        assert _complete(acp_world, first["id"], token).json()["status"] == "completed"
        with acp_world.session() as s:  # let the spent token name this session too
            row = s.get(VaultToken, token)
            assert row is not None
            row.checkout_session_id = sid
    before = _moved(acp_world)
    r = _complete(acp_world, sid, token)
    assert r.status_code == 422, r.text
    assert_acp("Error", r.json())
    assert r.json()["code"] == code
    assert _moved(acp_world) == before
    with acp_world.session() as s:
        status = s.scalar(select(VaultToken.status).where(VaultToken.id == token))
    assert status == ("used" if case == "reused" else "active")
    got = acp_world.client.get(
        f"/acp/checkout_sessions/{sid}", headers=acp_headers(acp_world.keys["shopper"], idem=None)
    ).json()
    assert got["status"] == "ready_for_payment"


def test_two_concurrent_completes_capture_once(acp_world: AcpWorld) -> None:
    session = _session(acp_world)
    sid, total = session["id"], _total(session)
    token = _delegate(acp_world, sid, total)
    payments, orders, pending = _moved(acp_world)
    results = released_together(2, lambda _i: _complete(acp_world, sid, token))
    codes = sorted(r.status_code for r in results)
    assert codes[0] == 200, [r.text for r in results]
    assert _moved(acp_world) == (payments + 1, orders + 1, pending + total)
