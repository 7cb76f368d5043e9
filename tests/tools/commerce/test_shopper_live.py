"""The reference shopper end to end against a real Cockpit server process on 127.0.0.1.

It onboards with the demo tenant's admin key (shopper key, platform with signing key and
webhook receiver), buys from Berlin Outdoor, and every request and response it exchanged is
validated against the official ACP JSON Schemas. The money is checked in the server's own
database: one order, its payment captured for exactly the session total, the ledger balanced.

The demo card is issued in Germany and a headlamp costs more than 30 EUR, so every purchase
needs 3-D Secure: the shopper runs delegate authentication and its payment carries
``three_ds`` and ECI 05 (no ``sca_required`` soft decline is possible any more).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from cockpit.clock import utcnow
from cockpit.db.session import Database
from tests.support.live import LiveServer, clock_now
from tests.tools.commerce.specs import assert_acp
from tests.tools.commerce.test_threeds import assert_da
from tools.commerce.shopper import Exchange, Goal
from tools.commerce.shopper.mandates import Ap2Mandates
from tools.commerce.shopper.onboard import resolve_merchant, trust_issuer
from tools.commerce.shopper.payment import DelegatedCard
from tools.commerce.shopper.session import shopper_session

DEMO = "mer_demo_de"

#: (operation, request definition, response definition, bundle) per client operation.
SCHEMAS: dict[str, tuple[str | None, str | None, str]] = {
    "discover": (None, "DiscoveryResponse", "agentic_checkout"),
    "get_feed_products": (None, "ProductsResponse", "feed"),
    "create_checkout": ("CheckoutSessionCreateRequest", "CheckoutSession", "agentic_checkout"),
    "update_checkout": ("CheckoutSessionUpdateRequest", "CheckoutSession", "agentic_checkout"),
    "get_checkout": (None, "CheckoutSession", "agentic_checkout"),
    "complete_checkout": (
        "CheckoutSessionCompleteRequest",
        "CheckoutSessionWithOrder",
        "agentic_checkout",
    ),
    "cancel_checkout": ("CancelSessionRequest", "CheckoutSession", "agentic_checkout"),
    "delegate_payment": ("DelegatePaymentRequest", "DelegatePaymentResponse", "delegate_payment"),
    "create_authentication": (
        "DelegateAuthenticationCreateRequest",
        "DelegateAuthenticationSession",
        "delegate_authentication",
    ),
    "authenticate": (
        "DelegateAuthenticationAuthenticateRequest",
        "DelegateAuthenticationSession",
        "delegate_authentication",
    ),
    "get_authentication": (
        None,
        "DelegateAuthenticationSessionWithResult",
        "delegate_authentication",
    ),
}


def validate(exchange: Exchange) -> None:
    """The exchange's request and response against the official schemas (errors as Error)."""
    if exchange.operation not in SCHEMAS:
        return  # AP2's checkout_jwt and the sandbox ACS are not ACP messages
    request_def, response_def, bundle = SCHEMAS[exchange.operation]
    if request_def is not None and exchange.operation != "delegate_payment":
        assert_acp(request_def, exchange.request, bundle=bundle)
    if bundle == "delegate_authentication" and exchange.status < 400:
        assert response_def is not None
        assert_da(response_def, exchange.response)  # the WithResult defect patched
        return
    if exchange.status >= 400:
        assert_acp("Error", exchange.response, bundle=bundle)
    elif response_def is not None:
        if exchange.operation == "complete_checkout" and "order" not in exchange.response:
            response_def = "CheckoutSession"  # a declined payment keeps the session open
        assert_acp(response_def, exchange.response, bundle=bundle)


MERCHANT = ""
"""Berlin Outdoor's id in the seeded demo world (resolved from ``mer_demo_de``)."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    global MERCHANT
    live = LiveServer(
        Path(tmp_path_factory.mktemp("shopper-live")),
        # The shopper signs with this process's clock and the server allows 60 s of skew on a
        # mandate's iat: the server's clock runs exactly with this one, not from where the
        # suite's clock started nor from when the server got through its imports (on a busy
        # machine, over a minute later: every AP2 payment was refused as issued in the future).
        extra_env={"COCKPIT_WARMUP": "true", **clock_now()},
    ).start()
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:  # the demo world is seeded in the background
            try:
                MERCHANT, _ccy = resolve_merchant(live.url, live.key("demo"), DEMO)
                break
            except RuntimeError:
                time.sleep(0.2)
        _ensure_catalogue(live, MERCHANT)
        yield live
    finally:
        live.stop()


def _ensure_catalogue(live: LiveServer, merchant_id: str) -> None:
    """The merchant's catalogue (start-up seeds only the fixed ``mer_demo_*`` ids)."""
    from tools.commerce.acp.catalog import seed_catalogue

    db = Database(f"sqlite:///{live.data_dir / 'cockpit.db'}")
    try:
        with db.tenant_session("demo") as s:
            seed_catalogue(s, merchant_id, at=utcnow())
    finally:
        db.dispose()


def _money(live: LiveServer, session_id: str) -> dict[str, Any]:
    from tools.commerce.acp.models import CheckoutSessionRow, OrderRow
    from tools.payments.ledger import check_invariants
    from tools.payments.models import Payment

    db = Database(f"sqlite:///{live.data_dir / 'cockpit.db'}")
    try:
        with db.tenant_session("demo") as s:
            orders = s.scalars(
                select(OrderRow).where(OrderRow.checkout_session_id == session_id)
            ).all()
            row = s.get(CheckoutSessionRow, session_id)
            payment = s.get(Payment, orders[0].payment_id) if orders else None
            return {
                "orders": len(orders),
                "total": row.total if row else None,
                "captured": payment.captured_amount if payment else None,
                "three_ds": (payment.three_ds, payment.eci) if payment else None,
                "ledger": check_invariants(s),
                "evidence": dict(orders[0].evidence) if orders else {},
            }
    finally:
        db.dispose()


def _buy(server: LiveServer, tmp_path: Path, pay: str) -> tuple[Any, list[Exchange]]:
    admin = server.key("demo")
    method: Any = DelegatedCard() if pay == "token" else Ap2Mandates()
    if pay == "ap2-open":
        method.mode = "open"
    with shopper_session(server.url, admin, MERCHANT, store=tmp_path / "enrol.json") as shopper:
        if isinstance(method, Ap2Mandates):
            trust_issuer(server.url, admin, method.user.public_jwk, label="test wallet")
        result = shopper.buy(Goal("headlamp", 1, 8000), method, event_timeout_s=15)
        assert (tmp_path / "enrol.json").stat().st_mode & 0o077 == 0
        return result, list(shopper.client.exchanges)


@pytest.mark.parametrize("pay", ["token", "ap2", "ap2-open"])
def test_every_message_follows_the_schemas_and_money_matches_the_outcome(
    server: LiveServer, tmp_path: Path, pay: str
) -> None:
    result, exchanges = _buy(server, tmp_path, pay)
    for exchange in exchanges:
        validate(exchange)
    ops = [e.operation for e in exchanges]
    assert ops[:4] == ["discover", "get_feed_products", "create_checkout", "update_checkout"]
    assert "complete_checkout" in ops and "delegate_payment" in ops
    assert ("checkout_jwt" in ops) == (pay != "token")
    signed = [e for e in exchanges if e.operation != "discover"]
    assert all("Signature" in e.request_headers for e in signed)
    outcome = result.outcome
    assert outcome.status in {"ordered", "declined"}, [s.summary for s in result.steps]
    assert "create_authentication" in ops and "get_authentication" in ops  # 3DS ran
    money = _money(server, str(outcome.checkout_session_id))
    assert money["ledger"] == []
    if outcome.status == "ordered":
        assert money["orders"] == 1 and money["captured"] == money["total"] == outcome.total
        assert money["three_ds"] == (True, "05")
    else:  # a payment_declined message: the session stays open, nothing captured
        assert money["orders"] == 0 and outcome.error_code == "payment_declined"


@pytest.mark.parametrize("pay", ["token", "ap2"])
def test_the_shopper_buys_and_hears_the_order_event(
    server: LiveServer, tmp_path: Path, pay: str
) -> None:
    # Deterministic in outcome. With 3-D Secure the SCA soft decline (30 % per attempt before)
    # cannot happen; what the issuer simulator still draws per attempt for this Visa credit
    # card (issued and sold in DE, ~53 EUR, authenticated) is suspected fraud 0.4 %, insufficient
    # funds 2 %, do-not-honour 3.76 % for "visa issuer" (+1 % between 00:00 and 05:00 UTC) and
    # CVV 0.6 %: p ≈ 6.6 % (7.5 % at night). Each is a recoverable payment_declined, and the
    # shopper retries twice with a fresh token, so all three attempts decline with p³ ≈ 3e-4
    # (4e-4). Not retried: an issuer timeout (0.3 % per attempt) leaves the payment processing
    # and the order held for review — about 0.3 % of runs, the dominant residual.
    result, _exchanges = _buy(server, tmp_path, pay)
    outcome = result.outcome
    assert outcome.status == "ordered", [s.summary for s in result.steps]
    assert [s.action for s in result.steps if s.action.startswith("3ds_")][-1] == "3ds_result"
    money = _money(server, str(outcome.checkout_session_id))
    assert money["orders"] == 1 and money["captured"] == money["total"] == outcome.total
    assert outcome.event == "order_create"
    assert result.steps[-1].action == "order_event" and result.steps[-1].ok
    assert money["evidence"]["three_ds"]["eci"] == "05"
    if pay == "ap2":  # the signed AP2 receipts are kept with the order
        assert set(money["evidence"]["ap2"]["receipts"]) == {"checkout", "payment"}


def test_a_second_run_reuses_the_enrollment(server: LiveServer, tmp_path: Path) -> None:
    store = tmp_path / "enrol.json"
    admin = server.key("demo")
    with shopper_session(server.url, admin, MERCHANT, store=store) as first:
        key_id, url = first.enrollment.key_id, first.enrollment.webhook_url
    with shopper_session(server.url, admin, MERCHANT, store=store) as second:
        assert second.enrollment.key_id == key_id
        assert second.enrollment.webhook_url != url  # a new receiver port, re-pointed
        platforms = httpx.get(
            server.url + "/v1/commerce/platforms", headers={"x-api-key": admin}
        ).json()["data"]
        mine = [p for p in platforms if p["key_id"] == key_id]
        assert mine and mine[0]["webhook_url"] == second.enrollment.webhook_url
