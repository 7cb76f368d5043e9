"""AP2 through the real app (SQLite and PostgreSQL): the merchant signs its checkout, the buyer
presents mandates on complete, money moves through the vault token and the gateway, receipts
are signed; tampered mandates are refused with the spec's codes and move nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from cockpit.clock import utcnow
from tests.tools.commerce.conftest import (
    MERCHANT,
    OTHER_MERCHANT,
    SHOP_TENANT,
    AcpWorld,
    acp_headers,
)
from tests.tools.commerce.specs import ap2_validator, assert_acp
from tests.tools.commerce.vault_support import delegate_body
from tools.commerce.acp.models import CheckoutSessionRow, OrderRow
from tools.commerce.ap2 import wallet
from tools.commerce.ap2.handler import HANDLER_ID, Ap2MandateHandler
from tools.commerce.ap2.models import MandateUsage, Presentation
from tools.commerce.ap2.sdjwt import Hop, join_chain, peek, public_key, split_chain, verify_jwt
from tools.commerce.errors import AcpError
from tools.commerce.ports import HANDLERS_KEY, Checkout
from tools.commerce.vault.models import AgentCharge, VaultToken
from tools.payments.gateway import Gateway
from tools.payments.models import LedgerEntry, Payment
from tools.payments.simulator import AuthDecision, IssuerSimulator

ADDRESS = {
    "name": "Tan Wei",
    "line_one": "1 Marina Boulevard",
    "city": "Singapore",
    "state": "SG",
    "country": "SG",
    "postal_code": "018989",
}
ITEM = "volt_charger_65w"
USER = wallet.Party.new("ap2-test-user")
AGENT = wallet.Party.new("ap2-test-agent")


@dataclass(frozen=True)
class Approve:
    action: str = "approve"
    score: float = 0.01
    reasons: tuple[str, ...] = ()


@pytest.fixture(scope="module")
def world(acp_world: AcpWorld) -> Iterator[AcpWorld]:
    """The shop with the test wallet trusted; fraud screening approves (its model scores the
    module's growing payment history, so outcomes would depend on test order) — except in
    :func:`test_real_fraud_screening_sees_the_mandate`."""
    r = acp_world.client.post(
        "/v1/commerce/ap2/trusted_keys",
        json={"jwk": USER.public_jwk, "label": "test user wallet"},
        headers={"x-api-key": acp_world.keys["admin"]},
    )
    assert r.status_code == 201, r.text
    handler = acp_world.services.extras[HANDLERS_KEY][HANDLER_ID]
    real = handler._assess, handler._gateway
    handler._assess = lambda *a, **k: Approve()
    handler._gateway = Gateway(acp_world.db, simulator=Issuer(approve=True))
    yield acp_world
    handler._assess, handler._gateway = real


class Issuer(IssuerSimulator):
    """The issuer answers as told (the default simulator declines a realistic share)."""

    def __init__(self, *, approve: bool) -> None:
        super().__init__()
        self.approve = approve

    def decide(self, ctx: Any) -> AuthDecision:
        return AuthDecision(True) if self.approve else AuthDecision(False, code="DO_NOT_HONOR")


def ready_session(
    world: AcpWorld, *, key: str = "shopper", items: tuple[str, ...] = (ITEM,)
) -> dict[str, Any]:
    body = {
        "currency": "sgd",
        "line_items": [{"id": i} for i in items],
        "capabilities": {"interventions": {"supported": []}},
        "fulfillment_details": {"name": "Tan Wei", "address": ADDRESS},
    }
    r = world.client.post("/acp/checkout_sessions", json=body, headers=acp_headers(world.keys[key]))
    assert r.status_code == 201, r.text
    session: dict[str, Any] = r.json()
    assert session["status"] == "ready_for_payment", session["messages"]
    return session


def total(session: dict[str, Any]) -> int:
    return int(next(t["amount"] for t in session["totals"] if t["type"] == "total"))


def signed(world: AcpWorld, sid: str, *, key: str = "shopper") -> dict[str, Any]:
    r = world.client.get(
        f"/acp/checkout_sessions/{sid}/ap2/checkout_jwt",
        headers=acp_headers(world.keys[key], idem=None),
    )
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def token(
    world: AcpWorld, sid: str, amount: int, *, merchant: str = MERCHANT, key: str = "shopper"
) -> str:
    body = delegate_body(
        session_id=sid,
        max_amount=amount,
        merchant_id=merchant,
        expires_at=utcnow() + timedelta(hours=1),
    )
    r = world.client.post(
        "/acp/agentic_commerce/delegate_payment", json=body, headers=acp_headers(world.keys[key])
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def complete(
    world: AcpWorld, sid: str, presented: wallet.Presented, *, key: str = "shopper"
) -> Any:
    body = {"payment_data": {"handler_id": HANDLER_ID, "instrument": presented.instrument()}}
    assert_acp("CheckoutSessionCompleteRequest", body)
    return world.client.post(
        f"/acp/checkout_sessions/{sid}/complete", json=body, headers=acp_headers(world.keys[key])
    )


@dataclass(frozen=True)
class Counts:
    payments: int
    ledger: int
    used_tokens: int
    presentations: int
    orders: int


def counts(world: AcpWorld) -> Counts:
    with world.session() as s:

        def n(model: Any, *where: Any) -> int:
            return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)

        return Counts(
            n(Payment),
            n(LedgerEntry),
            n(VaultToken, VaultToken.status == "used"),
            n(Presentation),
            n(OrderRow),
        )


def merchant_jwk(world: AcpWorld, kid: str) -> Any:
    r = world.client.get("/acp/ap2/keys", headers=acp_headers(world.keys["shopper"], idem=None))
    assert r.status_code == 200, r.text
    body = r.json()
    for key in body["keys"]:
        assert not list(ap2_validator("types/jwk.json").iter_errors(key))
    owners = {m["kid"]: m["merchant_id"] for m in body["merchants"]}
    assert kid in owners
    return public_key(next(k for k in body["keys"] if k["kid"] == kid))


def check_receipt(world: AcpWorld, jwt: str, schema: str) -> dict[str, Any]:
    kid = peek(jwt)[0]["kid"]
    _, claims = verify_jwt(jwt, merchant_jwk(world, kid))
    errors = list(ap2_validator(schema).iter_errors(claims))
    assert not errors, [e.message for e in errors]
    return claims


def human_present(world: AcpWorld, session: dict[str, Any], **kw: Any) -> wallet.Presented:
    sig = signed(world, session["id"])
    spt = token(world, session["id"], total(session))
    args: dict[str, Any] = {
        "merchant": peek(sig["checkout_jwt"])[1]["merchant"],
        "checkout_jwt": sig["checkout_jwt"],
        "checkout_hash": sig["checkout_hash"],
        "amount": total(session),
        "currency": "SGD",
        "instrument": {"id": spt, "type": "card"},
        "at": utcnow(),
    }
    args.update(kw)
    return wallet.human_present(USER, **args)


# ----- success ----------------------------------------------------------------------------------


def test_human_present_mandates_pay_and_are_answered_with_signed_receipts(world: AcpWorld) -> None:
    session = ready_session(world)
    sig = signed(world, session["id"])
    assert signed(world, session["id"]) == sig  # idempotent while the cart is unchanged
    checkout = verify_jwt(sig["checkout_jwt"], merchant_jwk(world, sig["kid"]))[1]
    assert checkout["id"] == session["id"] and checkout["merchant"]["id"] == MERCHANT
    presented = human_present(world, session)
    before = counts(world)
    r = complete(world, session["id"], presented)
    assert r.status_code == 200, r.text
    body = r.json()
    assert_acp("CheckoutSessionWithOrder", body)
    after = counts(world)
    assert (after.payments, after.used_tokens, after.presentations, after.orders) == (
        before.payments + 1,
        before.used_tokens + 1,
        before.presentations + 2,
        before.orders + 1,
    )
    with world.session() as s:
        order = s.scalar(select(OrderRow).where(OrderRow.checkout_session_id == session["id"]))
        assert order is not None and order.handler_id == HANDLER_ID
        payment = s.get(Payment, order.payment_id)
        assert payment is not None, order.evidence
        assert payment.state == "CAPTURED"
        assert payment.amount == total(session)
        ap2 = order.evidence["ap2"]
    assert ap2["checkout_hash"] == sig["checkout_hash"]
    assert ap2["checkout"]["line_items"] == session["line_items"]
    assert ap2["payment_mandate"][0]["mandate"]["payment_amount"]["amount"] == total(session)
    co = check_receipt(world, ap2["receipts"]["checkout"], "checkout_receipt.json")
    pay = check_receipt(world, ap2["receipts"]["payment"], "payment_receipt.json")
    assert co["status"] == pay["status"] == "Success"
    assert pay["payment_id"] == order.payment_id
    assert pay["reference"] == split_chain(presented.payment_chain)[-1].jwt_hash
    assert after.ledger > before.ledger


def test_open_mandates_pay_within_budget_and_the_budget_is_kept(world: AcpWorld) -> None:
    first = ready_session(world)
    price = total(first)
    oc = wallet.open_checkout(
        USER,
        AGENT,
        [wallet.line_items_constraint([("r", [{"id": ITEM, "title": "Charger"}], 1)])],
        at=utcnow() - timedelta(hours=1),
    )
    op = wallet.open_payment(
        USER,
        AGENT,
        [
            wallet.payment_reference(oc),
            {"type": "payment.budget", "currency": "SGD", "max": price + price // 2},
            {"type": "payment.agent_recurrence", "frequency": "ON_DEMAND", "max_occurrences": 5},
        ],
        at=utcnow() - timedelta(hours=1),
    )

    def present(session: dict[str, Any]) -> wallet.Presented:
        sig = signed(world, session["id"])
        spt = token(world, session["id"], total(session))
        merchant = peek(sig["checkout_jwt"])[1]["merchant"]
        return wallet.Presented(
            wallet.close_checkout(
                AGENT,
                [oc],
                merchant_id=MERCHANT,
                checkout_jwt=sig["checkout_jwt"],
                checkout_hash=sig["checkout_hash"],
                at=utcnow(),
            ),
            wallet.close_payment(
                AGENT,
                [op],
                merchant=merchant,
                checkout_hash=sig["checkout_hash"],
                amount=total(session),
                currency="SGD",
                instrument={"id": spt, "type": "card"},
                at=utcnow(),
            ),
        )

    r = complete(world, first["id"], present(first))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "completed", r.json()["messages"]
    with world.session() as s:
        usage = s.scalar(select(MandateUsage).where(MandateUsage.mandate_hash == op.jwt_hash))
        assert usage is not None and (usage.total_amount, usage.uses) == (price, 1)
    second = ready_session(world)
    before = counts(world)
    r = complete(world, second["id"], present(second))
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "invalid_mandate" and "budget" in r.json()["message"]
    assert counts(world) == before


# ----- refusals ------------------------------------------------------------------------------


def _flip(hop: Hop) -> Hop:
    head, body, sig = hop.jwt.split(".")
    return Hop.of(f"{head}.{body}.{'A' if sig[0] != 'A' else 'B'}{sig[1:]}", hop.disclosures)


Tamper = Callable[[AcpWorld, dict[str, Any]], tuple[wallet.Presented, str]]


def _bad_signature(world: AcpWorld, session: dict[str, Any]) -> tuple[wallet.Presented, str]:
    p = human_present(world, session)
    return wallet.Presented(
        join_chain([_flip(split_chain(p.checkout_chain)[0])]), p.payment_chain
    ), "invalid_credential"


def _wrong_hash(world: AcpWorld, session: dict[str, Any]) -> tuple[wallet.Presented, str]:
    return human_present(world, session, checkout_hash="d3Jvbmc"), "invalid_credential"


def _expired(world: AcpWorld, session: dict[str, Any]) -> tuple[wallet.Presented, str]:
    return human_present(
        world, session, at=utcnow() - timedelta(hours=1), ttl=timedelta(minutes=5)
    ), "invalid_credential"


def _other_merchant(world: AcpWorld, session: dict[str, Any]) -> tuple[wallet.Presented, str]:
    """Mandates for a cart MERCHANT signed, presented to OTHER_MERCHANT's session."""
    other = ready_session(world, key="shopper_other")
    p = human_present(world, session)
    session["id"], session["_key"] = other["id"], "shopper_other"
    return p, "invalid_mandate"


def _amount(world: AcpWorld, session: dict[str, Any]) -> tuple[wallet.Presented, str]:
    return human_present(world, session, amount=1), "invalid_mandate"


def _untrusted(world: AcpWorld, session: dict[str, Any]) -> tuple[wallet.Presented, str]:
    sig = signed(world, session["id"])
    spt = token(world, session["id"], total(session))
    p = wallet.human_present(
        wallet.Party.new("stranger"),
        merchant={"id": MERCHANT, "name": "x"},
        checkout_jwt=sig["checkout_jwt"],
        checkout_hash=sig["checkout_hash"],
        amount=total(session),
        currency="SGD",
        instrument={"id": spt, "type": "card"},
        at=utcnow(),
    )
    return p, "invalid_credential"


def _open(
    constraints: list[dict[str, Any]], code: str, *, lines: list[str] | None = None
) -> Tamper:
    def build(world: AcpWorld, session: dict[str, Any]) -> tuple[wallet.Presented, str]:
        sig = signed(world, session["id"])
        spt = token(world, session["id"], total(session))
        items = [{"id": i, "title": i} for i in (lines or [ITEM])]
        oc = wallet.open_checkout(
            USER, AGENT, [wallet.line_items_constraint([("r", items, 1)])], at=utcnow()
        )
        op = wallet.open_payment(
            USER, AGENT, [wallet.payment_reference(oc), *constraints], at=utcnow()
        )
        merchant = peek(sig["checkout_jwt"])[1]["merchant"]
        return wallet.Presented(
            wallet.close_checkout(
                AGENT,
                [oc],
                merchant_id=MERCHANT,
                checkout_jwt=sig["checkout_jwt"],
                checkout_hash=sig["checkout_hash"],
                at=utcnow(),
            ),
            wallet.close_payment(
                AGENT,
                [op],
                merchant=merchant,
                checkout_hash=sig["checkout_hash"],
                amount=total(session),
                currency="SGD",
                instrument={"id": spt, "type": "card"},
                at=utcnow(),
            ),
        ), code

    return build


def _cart_changed(world: AcpWorld, session: dict[str, Any]) -> tuple[wallet.Presented, str]:
    p = human_present(world, session)
    r = world.client.post(
        f"/acp/checkout_sessions/{session['id']}",
        json={"line_items": [{"id": ITEM}, {"id": ITEM}]},
        headers=acp_headers(world.keys["shopper"]),
    )
    assert r.status_code == 200, r.text
    return p, "invalid_mandate"


REFUSALS: dict[str, Tamper] = {
    "bad signature": _bad_signature,
    "wrong checkout hash": _wrong_hash,
    "expired": _expired,
    "other merchant": _other_merchant,
    "amount is not the total": _amount,
    "untrusted wallet": _untrusted,
    "cart changed after signing": _cart_changed,
    "unknown constraint": _open([{"type": "payment.mystery"}], "unresolved_constraint"),
    "line items not satisfied": _open([], "invalid_mandate", lines=["some_other_item"]),
    "amount out of range": _open(
        [{"type": "payment.amount_range", "currency": "SGD", "max": 1}], "invalid_mandate"
    ),
    "budget exceeded": _open(
        [{"type": "payment.budget", "currency": "SGD", "max": 1}], "invalid_mandate"
    ),
}


@pytest.mark.parametrize("name", list(REFUSALS))
def test_refused_mandates_move_nothing_and_get_error_receipts(world: AcpWorld, name: str) -> None:
    session = ready_session(world)
    presented, code = REFUSALS[name](world, session)
    key = session.get("_key", "shopper")
    before = counts(world)
    r = complete(world, session["id"], presented, key=key)
    assert r.status_code == 400, r.text
    body = r.json()
    assert_acp("Error", body)
    assert body["code"] == code, body
    assert counts(world) == before
    with world.session() as s:
        row = s.get(CheckoutSessionRow, session["id"])
        assert row is not None and row.status == "ready_for_payment"
    receipt = r.headers.get("AP2-Payment-Receipt")
    if receipt is not None:
        claims = check_receipt(world, receipt, "payment_receipt.json")
        assert (claims["status"], claims["error"]) == ("Error", code)
        check_receipt(world, r.headers["AP2-Checkout-Receipt"], "checkout_receipt.json")


def test_a_replayed_leaf_is_refused_before_money_moves(world: AcpWorld) -> None:
    """The handler, called twice with one presentation (the checkout would stop the second
    complete earlier; the replay store stops it at the handler too)."""
    session = ready_session(world)
    presented = human_present(world, session)
    with world.session() as s:
        row = s.get(CheckoutSessionRow, session["id"])
        assert row is not None
        checkout = Checkout(
            tenant_id=SHOP_TENANT,
            merchant_id=row.merchant_id,
            session_id=row.id,
            key_id=row.key_id,
            platform_id=None,
            amount=row.total,
            currency=row.currency,
            line_items=tuple(row.body["line_items"]),
            snapshot=dict(row.body),
        )
    handler = world.services.extras["commerce_payment_handlers"][HANDLER_ID]
    assert isinstance(handler, Ap2MandateHandler)
    data = {"handler_id": HANDLER_ID, "instrument": presented.instrument()}
    with world.session() as s:
        charge = handler.charge(s, checkout, data, at=utcnow(), request_key=uuid.uuid4().hex)
    assert charge.status == "captured" and charge.payment_id
    before = counts(world)
    with pytest.raises(AcpError) as info, world.session() as s:
        handler.charge(s, checkout, data, at=utcnow(), request_key=uuid.uuid4().hex)
    assert info.value.code == "invalid_mandate" and "already presented" in info.value.message
    assert counts(world) == before


def test_checkout_jwt_is_only_for_the_sessions_own_key(world: AcpWorld) -> None:
    session = ready_session(world)
    for key in ("shopper2", "shopper_other"):
        r = world.client.get(
            f"/acp/checkout_sessions/{session['id']}/ap2/checkout_jwt",
            headers=acp_headers(world.keys[key], idem=None),
        )
        assert r.status_code == 404, r.text
        assert_acp("Error", r.json())
    r = world.client.get(
        f"/acp/checkout_sessions/{session['id']}/ap2/checkout_jwt",
        headers=acp_headers(world.keys["shopper"], idem=None, version=None),
    )
    assert r.status_code == 400 and r.json()["code"] == "missing_api_version"
    assert OTHER_MERCHANT != MERCHANT


def test_real_fraud_screening_sees_the_mandate(world: AcpWorld) -> None:
    """With the app's own risk assessment: the decision (whatever the model says) is kept in
    the evidence, and money moved only as it allows."""
    handler = world.services.extras[HANDLERS_KEY][HANDLER_ID]
    stub = handler._assess
    handler._assess = None  # the vault's assess, found at call time
    try:
        session = ready_session(world)
        r = complete(world, session["id"], human_present(world, session))
    finally:
        handler._assess = stub
    assert r.status_code == 200, r.text
    with world.session() as s:
        order = s.scalar(select(OrderRow).where(OrderRow.checkout_session_id == session["id"]))
        payments = s.scalars(select(Payment).where(Payment.amount == total(session))).all()
    if order is None:  # declined by screening: a 2xx session with a payment_declined message
        assert r.json()["status"] == "ready_for_payment"
        return
    action = order.evidence["risk"]["action"]
    assert "MANDATE_PRESENT" in order.evidence["risk"]["reasons"]
    state = {p.id: p.state for p in payments}[order.payment_id]
    assert state == {"approve": "CAPTURED", "review": "AUTHORIZED"}[action]


def test_an_issuer_decline_burns_the_leaves_and_answers_error_receipts(world: AcpWorld) -> None:
    handler = world.services.extras[HANDLERS_KEY][HANDLER_ID]
    approving = handler._gateway
    handler._gateway = Gateway(world.db, simulator=Issuer(approve=False))
    try:
        session = ready_session(world)
        presented = human_present(world, session)
        r = complete(world, session["id"], presented)
    finally:
        handler._gateway = approving
    assert r.status_code == 200, r.text
    body = r.json()
    assert_acp("CheckoutSession", body)
    assert body["status"] == "ready_for_payment"
    assert any(m.get("code") == "payment_declined" for m in body["messages"])
    with world.session() as s:
        rows = s.scalars(select(Presentation).where(Presentation.session_id == session["id"])).all()
        assert {(p.kind, p.status) for p in rows} == {
            ("checkout", "declined"),
            ("payment", "declined"),
        }
        receipts = {p.kind: p.receipt for p in rows}
    pay = check_receipt(world, str(receipts["payment"]), "payment_receipt.json")
    assert (pay["status"], pay["error"]) == ("Error", "payment_declined")
    check_receipt(world, str(receipts["checkout"]), "checkout_receipt.json")


# ----- the purchase as dispute evidence ---------------------------------------------------------


def test_a_dispute_on_the_purchase_carries_the_mandate_and_the_cart(world: AcpWorld) -> None:
    from tools.payments.disputes import Disputes
    from tools.payments.reasons import AGENT_AUTHORIZATION

    session = ready_session(world)
    sig = signed(world, session["id"])
    r = complete(world, session["id"], human_present(world, session))
    assert r.status_code == 200, r.text
    with world.session() as s:
        order = s.scalar(select(OrderRow).where(OrderRow.checkout_session_id == session["id"]))
        assert order is not None and order.payment_id is not None
        payment_id = order.payment_id
        # The platform's risk history counts mandate payments as it counts token payments.
        [kept] = s.scalars(
            select(AgentCharge).where(AgentCharge.checkout_session_id == session["id"])
        ).all()
        assert (kept.handler_id, kept.outcome, kept.payment_id) == (
            HANDLER_ID,
            "captured",
            payment_id,
        )
    disputes = Disputes(Gateway(world.db))
    at = utcnow() + timedelta(days=2)
    dispute = disputes.open(SHOP_TENANT, payment_id, "10.4", at=at)  # "fraud: card absent"
    checklist = disputes.checklist(SHOP_TENANT, dispute["disputeId"], at=at)
    rows = {e["evidenceTag"]: e for e in checklist["evidenceList"]}
    assert rows[AGENT_AUTHORIZATION]["obtained"] is True
    assert rows[AGENT_AUTHORIZATION]["winRateContribution"] == "HIGH"
    draft = disputes.draft(SHOP_TENANT, dispute["disputeId"], at=at)
    said = draft["evidence"][AGENT_AUTHORIZATION]
    assert "signed by the buyer for exactly this cart" in said
    assert sig["checkout_hash"] in said and session["id"] in said
    assert "agentic_checkout" in draft["notes"][0]
