"""The merchant's order actions end to end: partial and full fulfilment with tracking,
delivery, refunds that move real money through the gateway and ledger, cancellation; each
order JSON and each ``order_update`` the agent platform receives is a valid ACP ``Order``.

Orders are made the way the checkout makes them (``tools.commerce.acp.orders.create_order``
over a stored checkout session and a captured gateway payment); the platform's receiver is a
real HTTP server on 127.0.0.1 fed by the app's own delivery loop. SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from cockpit.clock import utcnow
from cockpit.db.session import Database
from tests.support.apptest import Api, running_app
from tests.support.merchants import add_merchant
from tests.tools.commerce.specs import assert_acp
from tests.tools.commerce.test_order_events import assert_webhook_event
from tools.commerce.acp.models import CheckoutSessionRow
from tools.commerce.acp.orders import create_order, load_order, order_json
from tools.commerce.events import OrderEventReceiver, OrderEvents, ReceiverServer
from tools.commerce.events.lifecycle import LineQty, OrderActions, items_refund_amount
from tools.commerce.ports import Charge
from tools.payments import ledger
from tools.payments.gateway import Gateway
from tools.payments.models import Card, Payment, Refund
from tools.payments.requests import PayRequest
from tools.payments.simulator import AuthDecision, IssuerSimulator
from tools.payments.tx import idempotent, run_tx

TENANT = "life-t"


class AlwaysApprove(IssuerSimulator):
    def decide(self, ctx: Any) -> Any:
        return AuthDecision(approved=True)


@dataclass
class World:
    api: Api
    db: Database
    merchant: str
    """Merchant key of mer_life."""
    other_merchant: str
    shopper: str
    shopper_key_id: str
    receiver: OrderEventReceiver


def _key(api: Api, role: str, merchant_id: str | None) -> tuple[str, str]:
    body: dict[str, Any] = {"role": role, "tenant_id": TENANT}
    if merchant_id:
        body["merchant_id"] = merchant_id
    r = api.client.post("/v1/keys", json=body, headers=api.h(api.admin_key))
    assert r.status_code == 201, r.text
    return r.json()["key"], r.json()["id"]


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, module_database_url: str | None
) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("lifecycle")
    # The receiver must listen before the platform is registered with its URL; the platform's
    # webhook secret exists only after that, so it is set below (no event is sent before).
    receiver = OrderEventReceiver(secret="")
    with running_app(tmp, module_database_url) as api, ReceiverServer(receiver) as server:
        admin = api.tenant(TENANT)
        db = Database(module_database_url or f"sqlite:///{api.data_dir}/cockpit.db")
        add_merchant(db, TENANT, "mer_life")
        add_merchant(db, TENANT, "mer_else")
        with db.tenant_session(TENANT) as s:
            s.add(
                Card(
                    id="card_life",
                    brand="VISA",
                    bin="411111",
                    last4="1111",
                    funding="CREDIT",
                    issuer="Merlion Bank",
                    issuing_country="SG",
                    exp_month=12,
                    exp_year=2031,
                )
            )
        merchant, _ = _key(api, "merchant", "mer_life")
        other, _ = _key(api, "merchant", "mer_else")
        shopper, shopper_id = _key(api, "shopper", "mer_life")
        r = api.client.post(
            "/v1/commerce/platforms",
            headers=api.h(admin),
            json={"key_id": shopper_id, "name": "Test agent", "webhook_url": server.url},
        )
        assert r.status_code == 201, r.text
        receiver.secret = r.json()["webhook_secret"]
        yield World(api, db, merchant, other, shopper, shopper_id, receiver)
        db.dispose()


LINES = [  # the spec's refunded-order example, in SGD
    {
        "id": "li_headphones",
        "name": "Wireless Noise-Canceling Headphones",
        "quantity": 2,
        "unit_amount": 29900,
        "item": {"id": "headphones"},
        "product_id": "prod_headphones_nc",
    },
    {
        "id": "li_cable",
        "name": "USB-C Charging Cable",
        "quantity": 1,
        "unit_amount": 1900,
        "item": {"id": "cable"},
        "product_id": "prod_cable_usbc",
    },
]
TOTALS = [
    {"type": "subtotal", "display_text": "Subtotal", "amount": 61700},
    {"type": "fulfillment", "display_text": "Shipping", "amount": 0},
    {"type": "tax", "display_text": "Tax", "amount": 5399},
    {"type": "total", "display_text": "Total", "amount": 67099},
]


def make_order(w: World, *, capture: bool = True) -> tuple[str, str]:
    """(order id, payment id): a checkout session paid through the gateway, then its order."""
    at = utcnow()
    gateway = Gateway(w.db, simulator=AlwaysApprove())
    cs_id = "cs_" + uuid.uuid4().hex[:16]

    def build(session: Any) -> tuple[str, str]:
        pay = gateway.pay_in(
            session,
            PayRequest(
                merchant_id="mer_life",
                request_id="acp_" + cs_id,
                amount=67099,
                currency="SGD",
                card_id="card_life",
                capture_mode="AUTOMATIC" if capture else "MANUAL",
            ),
            at=at,
        )
        checkout = CheckoutSessionRow(
            id=cs_id,
            merchant_id="mer_life",
            key_id=w.shopper_key_id,
            status="completed",
            currency="SGD",
            inputs={},
            total=67099,
            created_at=at,
            updated_at=at,
            expires_at=at,
            body={"id": cs_id, "line_items": LINES, "totals": TOTALS},
        )
        session.add(checkout)
        session.flush()
        charge = Charge("captured" if capture else "review", pay["paymentId"], "ok")
        row = create_order(
            session, checkout, charge, handler_id="dev.acp.tokenized.card", order_notes=None, at=at
        )
        return row.id, str(pay["paymentId"])

    return run_tx(w.db, TENANT, build)


def post(
    w: World, path: str, body: dict[str, Any], key: str | None = None, api_key: str | None = None
) -> Any:
    headers = w.api.h(api_key or w.merchant)
    headers["Idempotency-Key"] = key or uuid.uuid4().hex
    return w.api.client.post(path, json=body, headers=headers)


def payment(w: World, payment_id: str) -> Payment:
    with w.db.tenant_session(TENANT) as s:
        p = s.get(Payment, payment_id)
        assert p is not None
        return p


def test_partial_then_full_fulfilment_then_delivery(world: World) -> None:
    w = world
    order_id, _ = make_order(w)
    got = w.api.client.get(f"/v1/commerce/orders/{order_id}", headers=w.api.h(w.merchant))
    assert got.status_code == 200 and got.json()["status"] == "created"
    assert_acp("Order", got.json())

    key = uuid.uuid4().hex
    body = {
        "line_items": [{"id": "li_headphones", "quantity": 1}],
        "carrier": "SingPost",
        "tracking_number": "SP123",
        "tracking_url": "https://track.example/SP123",
    }
    r = post(w, f"/v1/commerce/orders/{order_id}/fulfillments", body, key)
    assert r.status_code == 201, r.text
    order = r.json()
    assert_acp("Order", order)
    assert order["status"] == "processing"
    lines = {li["id"]: li for li in order["line_items"]}
    assert lines["li_headphones"]["quantity"] == {"ordered": 2, "current": 2, "fulfilled": 1}
    assert lines["li_headphones"]["status"] == "partial"
    assert lines["li_cable"]["status"] == "processing"
    (ful,) = order["fulfillments"]
    assert (ful["status"], ful["carrier"], ful["tracking_number"]) == (
        "shipped",
        "SingPost",
        "SP123",
    )
    assert ful["line_items"] == [{"id": "li_headphones", "quantity": 1}]
    assert [e["type"] for e in ful["events"]] == ["shipped"]

    replay = post(w, f"/v1/commerce/orders/{order_id}/fulfillments", body, key)
    assert replay.status_code == 201 and replay.json() == order
    conflict = post(
        w, f"/v1/commerce/orders/{order_id}/fulfillments", {**body, "carrier": "DHL"}, key
    )
    assert conflict.status_code == 409 and conflict.json()["code"] == "idempotency_key_reused"
    too_many = post(
        w,
        f"/v1/commerce/orders/{order_id}/fulfillments",
        {"line_items": [{"id": "li_headphones", "quantity": 2}]},
    )
    assert too_many.status_code == 409 and too_many.json()["code"] == "fulfilment_exceeds_order"

    rest = post(w, f"/v1/commerce/orders/{order_id}/fulfillments", {"carrier": "SingPost"})
    assert rest.status_code == 201
    order = rest.json()
    assert order["status"] == "shipped" and len(order["fulfillments"]) == 2
    assert order["fulfillments"][1]["line_items"] == [
        {"id": "li_headphones", "quantity": 1},
        {"id": "li_cable", "quantity": 1},
    ]
    assert all(li["status"] == "fulfilled" for li in order["line_items"])
    nothing = post(w, f"/v1/commerce/orders/{order_id}/fulfillments", {})
    assert nothing.status_code == 409 and nothing.json()["code"] == "nothing_to_fulfil"

    for ful in order["fulfillments"]:
        r = post(
            w,
            f"/v1/commerce/orders/{order_id}/fulfillments/{ful['id']}/events",
            {"status": "delivered", "location": "Singapore"},
        )
        assert r.status_code == 201, r.text
    order = r.json()
    assert order["status"] == "completed"
    assert_acp("Order", order)
    assert [e["type"] for e in order["fulfillments"][0]["events"]] == ["shipped", "delivered"]

    # The platform hears every change: 2 fulfilments + 2 deliveries = 4 order_update events.
    received: list[Any] = []
    for _ in range(100):
        received = [e for e in w.receiver.events if e.order["id"] == order_id]
        if len(received) >= 4:
            break
        threading.Event().wait(0.1)
    assert [e.type for e in received] == ["order_update"] * 4
    assert [e.order["status"] for e in received] == [
        "processing",
        "shipped",
        "shipped",
        "completed",
    ]
    for e in received:
        assert_webhook_event(e.body)
    log = w.api.client.get(
        f"/v1/commerce/orders/{order_id}/events", headers=w.api.h(w.merchant)
    ).json()
    assert [e["status"] for e in log["data"]] == ["delivered"] * 4
    assert all(e["deliveries"][-1]["status_code"] == 200 for e in log["data"])


def test_refunds_move_money_and_show_on_the_order(world: World) -> None:
    w = world
    order_id, payment_id = make_order(w)
    key = uuid.uuid4().hex
    body = {
        "line_items": [{"id": "li_headphones", "quantity": 1}],
        "reason": "defective",
        "description": "Defective item - left earpiece intermittent audio",
    }
    r = post(w, f"/v1/commerce/orders/{order_id}/refunds", body, key)
    assert r.status_code == 201, r.text
    order = r.json()
    assert_acp("Order", order)
    (adj,) = order["adjustments"]
    # The spec's refunded-order example: one headphone with its tax share is 325.16.
    assert (adj["type"], adj["status"], adj["amount"], adj["currency"]) == (
        "refund",
        "completed",
        32516,
        "sgd",
    )
    assert (
        adj["line_items"] == [{"id": "li_headphones", "quantity": 1}]
        and adj["reason"] == "defective"
    )
    totals = {t["type"]: t["amount"] for t in order["totals"]}
    assert totals["total"] == 67099 and totals["amount_refunded"] == 32516
    assert payment(w, payment_id).refunded_amount == 32516

    again = post(w, f"/v1/commerce/orders/{order_id}/refunds", body, key)
    assert again.status_code == 201 and again.json() == order
    assert payment(w, payment_id).refunded_amount == 32516  # no second refund
    other = post(w, f"/v1/commerce/orders/{order_id}/refunds", {**body, "reason": "x"}, key)
    assert other.status_code == 409

    part = post(
        w, f"/v1/commerce/orders/{order_id}/refunds", {"amount": 1000, "reason": "goodwill"}
    )
    assert part.status_code == 201
    assert {t["type"]: t["amount"] for t in part.json()["totals"]}["amount_refunded"] == 33516
    too_much = post(w, f"/v1/commerce/orders/{order_id}/refunds", {"amount": 67099})
    assert too_much.status_code == 409 and too_much.json()["code"] == "refund_amount_exceed"
    units = post(
        w,
        f"/v1/commerce/orders/{order_id}/refunds",
        {"line_items": [{"id": "li_headphones", "quantity": 2}]},
    )
    assert units.status_code == 409 and units.json()["code"] == "refund_exceeds_order"
    rest = post(w, f"/v1/commerce/orders/{order_id}/refunds", {})
    assert rest.status_code == 201
    final = rest.json()
    assert {t["type"]: t["amount"] for t in final["totals"]}["amount_refunded"] == 67099
    assert [a["amount"] for a in final["adjustments"]] == [32516, 1000, 33583]
    assert_acp("Order", final)

    p = payment(w, payment_id)
    assert p.refunded_amount == p.captured_amount == 67099
    with w.db.tenant_session(TENANT) as s:
        refunds = s.scalars(select(Refund).where(Refund.payment_id == payment_id)).all()
        assert sorted(r.amount for r in refunds) == [1000, 32516, 33583]
        for refund in refunds:
            entries = ledger.entries_for(s, "refund", refund.id)
            assert (
                entries
                and sum(e.amount for e in entries if e.account == ledger.BUYER_FUNDS)
                == refund.amount
            )
        assert ledger.check_invariants(s) == []
        row = load_order(s, order_id)
        assert row is not None and order_json(row) == final

    updates: list[Any] = []
    for _ in range(100):
        updates = [e for e in w.receiver.events if e.order["id"] == order_id]
        if len(updates) >= 3:
            break
        threading.Event().wait(0.1)
    assert [e.order["totals"][-1] for e in updates] == [
        {"type": "amount_refunded", "display_text": "Refunded", "amount": n}
        for n in (32516, 33516, 67099)
    ]
    for e in updates:
        assert_webhook_event(e.body)


def test_cancel_returns_the_money_and_removes_the_items(world: World) -> None:
    w = world
    order_id, payment_id = make_order(w)
    r = post(w, f"/v1/commerce/orders/{order_id}/cancel", {"reason": "out of stock"})
    assert r.status_code == 200, r.text
    order = r.json()
    assert_acp("Order", order)
    assert order["status"] == "canceled"
    assert all(
        li["quantity"]["current"] == 0 and li["status"] == "removed" for li in order["line_items"]
    )
    (adj,) = order["adjustments"]
    assert (adj["type"], adj["amount"]) == ("cancellation", 67099)
    assert {t["type"]: t["amount"] for t in order["totals"]}["amount_refunded"] == 67099
    assert payment(w, payment_id).refunded_amount == 67099
    again = post(w, f"/v1/commerce/orders/{order_id}/cancel", {"reason": "out of stock"})
    assert again.status_code == 409 and again.json()["code"] == "order_canceled"
    late = post(w, f"/v1/commerce/orders/{order_id}/fulfillments", {})
    assert late.status_code == 409 and late.json()["code"] == "order_canceled"

    held_id, held_payment = make_order(w, capture=False)
    r = post(w, f"/v1/commerce/orders/{held_id}/cancel", {})
    assert r.status_code == 200 and r.json()["adjustments"][0]["amount"] == 0
    assert payment(w, held_payment).state == "CANCELLED"

    shipped_id, _ = make_order(w)
    assert (
        post(
            w,
            f"/v1/commerce/orders/{shipped_id}/fulfillments",
            {"line_items": [{"id": "li_cable", "quantity": 1}]},
        ).status_code
        == 201
    )
    r = post(w, f"/v1/commerce/orders/{shipped_id}/cancel", {})
    assert r.status_code == 409 and r.json()["code"] == "order_fulfilled"


def test_orders_are_the_merchants_own(world: World) -> None:
    w = world
    order_id, _ = make_order(w)
    h_other = w.api.h(w.other_merchant)
    assert w.api.client.get(f"/v1/commerce/orders/{order_id}", headers=h_other).status_code == 404
    r = post(
        w, f"/v1/commerce/orders/{order_id}/refunds", {"amount": 100}, api_key=w.other_merchant
    )
    assert r.status_code == 404 and r.json()["code"] == "order_not_found"
    assert order_id not in [
        o["id"] for o in w.api.client.get("/v1/commerce/orders", headers=h_other).json()["data"]
    ]
    mine = w.api.client.get("/v1/commerce/orders", headers=w.api.h(w.merchant)).json()["data"]
    assert order_id in [o["id"] for o in mine]
    for o in mine:
        assert_acp("Order", o)
    r = post(w, f"/v1/commerce/orders/{order_id}/refunds", {"amount": 100}, api_key=w.shopper)
    assert r.status_code == 403
    no_key = w.api.client.post(
        f"/v1/commerce/orders/{order_id}/refunds", json={"amount": 100}, headers=w.api.h(w.merchant)
    )
    assert no_key.status_code == 422 and no_key.json()["code"] == "idempotency_key_required"


def test_concurrent_refunds_with_one_key_refund_once(world: World) -> None:
    w = world
    order_id, payment_id = make_order(w)
    actions = OrderActions(Gateway(w.db), OrderEvents())
    results: list[Any] = []

    def refund() -> None:
        try:
            results.append(
                idempotent(
                    w.db,
                    TENANT,
                    scope=f"commerce.refund:{order_id}:test",
                    key="same-key",
                    body={"amount": 5000},
                    fn=lambda s: actions.refund(
                        s,
                        order_id,
                        merchant_id="mer_life",
                        key="same-key",
                        amount=5000,
                        at=utcnow(),
                    ),
                )
            )
        except Exception as exc:  # pragma: no cover - reported below
            results.append(exc)

    threads = [threading.Thread(target=refund) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(isinstance(r, dict) for r in results) and len(results) == 4, results
    assert all(r == results[0] for r in results)
    assert payment(w, payment_id).refunded_amount == 5000
    with w.db.tenant_session(TENANT) as s:
        assert len(s.scalars(select(Refund).where(Refund.payment_id == payment_id)).all()) == 1


def test_item_refund_amounts_follow_the_spec_example() -> None:
    order = {
        "line_items": [
            {"id": "a", "quantity": {"ordered": 2, "current": 2}, "unit_price": 29900},
            {"id": "b", "quantity": {"ordered": 1, "current": 1}, "unit_price": 1900},
        ],
        "totals": TOTALS,
    }
    assert items_refund_amount(order, [LineQty("a", 1)]) == 32516
    assert items_refund_amount(order, [LineQty("a", 2), LineQty("b", 1)]) == 67099
    no_tax = {**order, "totals": [{"type": "subtotal", "display_text": "S", "amount": 61700}]}
    assert items_refund_amount(no_tax, [LineQty("b", 1)]) == 1900
