"""The shopping agent's client and choices, against a scripted merchant (httpx MockTransport).

What goes on the wire is checked against the official JSON Schemas; the end-to-end run against
a real server is ``test_shopper_live.py``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from jwcrypto import jwk

from tests.tools.commerce.specs import ACP_VERSION, assert_acp
from tools.commerce.acp.signatures import verify_request
from tools.commerce.acp.wire import RequestMeta
from tools.commerce.errors import AcpError
from tools.commerce.shopper import AcpClient, AcpRequestError, Goal, ShoppingAgent
from tools.commerce.shopper.agent import PayContext, candidates, pick
from tools.commerce.shopper.client import es256_signer
from tools.commerce.shopper.onboard import new_signing_jwk
from tools.commerce.shopper.payment import DelegatedCard, DemoCard, Tamper, delegate_request
from tools.commerce.shopper.threeds import SANDBOX_OTP

AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
URL = "http://merchant.test"

PRODUCTS = {
    "products": [
        {
            "id": "prod_tent",
            "title": "Alpen 2-person tent",
            "variants": [
                {
                    "id": "tent_2p",
                    "title": "Alpen tent 2P",
                    "price": {"amount": 28900, "currency": "EUR"},
                    "availability": {"available": True, "status": "in_stock"},
                }
            ],
        },
        {
            "id": "prod_lamp",
            "title": "Glow headlamp",
            "variants": [
                {
                    "id": "lamp_400",
                    "title": "Glow 400",
                    "price": {"amount": 3990, "currency": "EUR"},
                    "availability": {"available": True, "status": "in_stock"},
                },
                {
                    "id": "lamp_200",
                    "title": "Glow 200",
                    "price": {"amount": 1990, "currency": "EUR"},
                    "availability": {"available": False, "status": "out_of_stock"},
                },
            ],
        },
    ]
}


def _option(option_id: str, amount: int) -> dict[str, Any]:
    total = {"type": "total", "display_text": "Shipping", "amount": amount}
    return {"type": "shipping", "id": option_id, "title": option_id.title(), "totals": [total]}


def _session(status: str = "ready_for_payment", *, total: int = 4480) -> dict[str, Any]:
    return {
        "id": "cs_1",
        "status": status,
        "currency": "eur",
        "line_items": [{"id": "li_1", "item": {"id": "lamp_400"}, "quantity": 1}],
        "totals": [{"type": "total", "display_text": "Total", "amount": total}],
        "fulfillment_options": [
            {
                "type": "shipping",
                "id": "express",
                "title": "Express",
                "totals": [{"type": "total", "display_text": "Shipping", "amount": 1290}],
            },
            {
                "type": "shipping",
                "id": "standard",
                "title": "Standard",
                "totals": [{"type": "total", "display_text": "Shipping", "amount": 490}],
            },
        ],
        "messages": [],
        "links": [],
        "capabilities": {"payment": {"handlers": []}},
    }


class Merchant:
    """A scripted merchant: records requests, answers per (method, path suffix)."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.fail_next: list[int] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.fail_next:
            return httpx.Response(
                self.fail_next.pop(0),
                json={"type": "processing_error", "code": "boom", "message": "try again"},
            )
        path = request.url.path
        if path == "/.well-known/acp.json":
            return httpx.Response(
                200,
                json={
                    "api_base_url": URL + "/acp",
                    "protocol": {"name": "acp", "version": ACP_VERSION},
                    "capabilities": {"services": []},
                },
            )
        if path.endswith("/products"):
            return httpx.Response(200, json=PRODUCTS)
        if path == "/acp/checkout_sessions":
            return httpx.Response(201, json=_session())
        if path == "/acp/agentic_commerce/delegate_payment":
            return httpx.Response(
                201, json={"id": "spt_1", "created": "2026-11-25T12:00:00Z", "metadata": {}}
            )
        if path.endswith("/complete"):
            return httpx.Response(
                200,
                json={
                    **_session("completed"),
                    "order": {
                        "id": "ord_1",
                        "checkout_session_id": "cs_1",
                        "permalink_url": "https://x.test/o/1",
                    },
                },
            )
        if path == "/acp/checkout_sessions/cs_1":
            return httpx.Response(200, json=_session())
        return httpx.Response(
            404, json={"type": "invalid_request", "code": "not_found", "message": "no"}
        )


def _client(merchant: Merchant, **kw: Any) -> AcpClient:
    return AcpClient(
        URL, "sk_test", transport=httpx.MockTransport(merchant), clock=lambda: AT, **kw
    )


def test_every_request_carries_the_acp_headers_and_posts_an_idempotency_key() -> None:
    m = Merchant()
    with _client(m) as c:
        c.discover()
        c.get_checkout("cs_1")
        c.create_checkout(
            {
                "currency": "eur",
                "line_items": [{"id": "lamp_400"}],
                "capabilities": {"interventions": {"supported": []}},
            }
        )
    discover, get, create = m.requests
    assert "authorization" not in discover.headers  # discovery is public
    for r in (get, create):
        assert r.headers["API-Version"] == ACP_VERSION
        assert r.headers["Authorization"] == "Bearer sk_test"
        assert r.headers["Request-Id"].startswith("req_")
    assert "Idempotency-Key" not in get.headers
    assert len(create.headers["Idempotency-Key"]) == 36
    assert create.headers["Content-Type"] == "application/json"


def test_a_retry_reuses_the_idempotency_key_and_a_new_operation_gets_a_new_one() -> None:
    m = Merchant()
    m.fail_next = [503]
    with _client(m, retries=2) as c:
        c.create_checkout({"currency": "eur", "line_items": [{"id": "x"}], "capabilities": {}})
        c.create_checkout({"currency": "eur", "line_items": [{"id": "x"}], "capabilities": {}})
    keys = [r.headers["Idempotency-Key"] for r in m.requests]
    assert len(keys) == 3 and keys[0] == keys[1] != keys[2]
    assert m.requests[0].headers["Request-Id"] != m.requests[1].headers["Request-Id"]


def test_acp_errors_are_typed_and_4xx_are_not_retried() -> None:
    m = Merchant()
    m.fail_next = [422]
    with _client(m, retries=3) as c, pytest.raises(AcpRequestError) as info:
        c.complete_checkout("cs_1", {"payment_data": {}})
    assert info.value.status == 422 and info.value.code == "boom"
    assert info.value.type == "processing_error"
    assert len(m.requests) == 1


def test_signatures_verify_with_the_merchants_own_checker() -> None:
    private = new_signing_jwk()
    public = {k: v for k, v in private.items() if k != "d"}
    m = Merchant()
    body = {"currency": "eur", "line_items": [{"id": "é"}], "capabilities": {}, "n": 1.0}
    with _client(m, signer=es256_signer(private)) as c:
        c.create_checkout(body)
        c.get_checkout("cs_1")
    for request, payload in zip(m.requests, (json.loads(m.requests[0].content), None), strict=True):
        meta = RequestMeta(
            api_version=ACP_VERSION,
            idempotency_key=request.headers.get("Idempotency-Key"),
            signature=request.headers["Signature"],
            timestamp=request.headers["Timestamp"],
        )
        assert meta.timestamp == "2026-11-25T12:00:00Z"
        verify_request(public, meta, payload, at=AT)
    tampered = RequestMeta(
        ACP_VERSION,
        "k",
        signature=m.requests[0].headers["Signature"],
        timestamp=m.requests[0].headers["Timestamp"],
    )
    with pytest.raises(AcpError, match="does not verify"):
        verify_request(public, tampered, {**body, "currency": "usd"}, at=AT)
    other = jwk.JWK.generate(kty="EC", crv="P-256")
    with pytest.raises(AcpError):
        verify_request(json.loads(other.export_public()), tampered, body, at=AT)


def test_pick_takes_the_cheapest_in_stock_match_within_budget() -> None:
    options = candidates(PRODUCTS)
    assert {c.item_id for c in options} == {"tent_2p", "lamp_400", "lamp_200"}
    choice, _why = pick(Goal("glow"), options)
    assert choice is not None and choice.item_id == "lamp_400"  # lamp_200 is out of stock
    assert pick(Goal("tent", budget=20000), options) == (None, "over_budget")
    assert pick(Goal("canoe"), options) == (None, "no_match")
    assert pick(Goal("headlamp", quantity=3, budget=11970), options)[1] == "ordered"
    assert pick(Goal("headlamp", quantity=3, budget=11969), options)[1] == "over_budget"


def test_the_agent_shops_cheapest_fulfilment_and_sends_schema_valid_requests() -> None:
    m = Merchant()
    with _client(m) as c:
        agent = ShoppingAgent(c, "mer_1", DelegatedCard(), clock=lambda: AT, feed_id="feed_1")
        result = agent.run(Goal("headlamp", budget=5000))
    assert result.outcome.status == "ordered" and result.outcome.order_id == "ord_1"
    assert [s.action for s in result.steps] == [
        "discover",
        "read_feed",
        "pick",
        "create_checkout",
        "update_checkout",
        "delegate_payment",
        "complete",
    ]
    sent = {e.operation: e.request for e in c.exchanges}
    assert_acp("CheckoutSessionCreateRequest", sent["create_checkout"])
    assert_acp("CheckoutSessionUpdateRequest", sent["update_checkout"])
    assert_acp("CheckoutSessionCompleteRequest", sent["complete_checkout"])
    assert sent["update_checkout"]["selected_fulfillment_options"][0]["option_id"] == "standard"
    raw = json.loads(next(r for r in m.requests if r.url.path.endswith("delegate_payment")).content)
    assert_acp("DelegatePaymentRequest", raw, bundle="delegate_payment")
    assert raw["allowance"]["max_amount"] == 4480 and raw["allowance"]["currency"] == "eur"
    assert sent["delegate_payment"]["payment_method"]["number"] == "[redacted]"
    assert "4242424242424242" not in json.dumps([e.request for e in c.exchanges])


@pytest.mark.parametrize(
    ("status", "budget", "expected"),
    [("not_ready_for_payment", 9999, "not_ready"), ("ready_for_payment", 4000, "over_budget")],
)
def test_the_agent_cancels_what_it_will_not_pay(status: str, budget: int, expected: str) -> None:
    m = Merchant()
    answers: Callable[[httpx.Request], httpx.Response] = m

    def merchant(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/acp/checkout_sessions/cs_1" and request.method == "POST":
            return httpx.Response(200, json=_session(status))
        if request.url.path.endswith("/cancel"):
            return httpx.Response(200, json=_session("canceled"))
        return answers(request)

    with AcpClient(URL, "k", transport=httpx.MockTransport(merchant), clock=lambda: AT) as c:
        agent = ShoppingAgent(c, "mer_1", DelegatedCard(), clock=lambda: AT, feed_id="f")
        result = agent.run(Goal("glow", budget=budget))
    assert result.outcome.status == expected
    assert result.steps[-1].action == "cancel"
    assert not any(r.url.path.endswith(("/complete", "delegate_payment")) for r in m.requests)


def test_tamper_knobs_change_only_the_allowance() -> None:
    ctx = PayContext(AcpClient(URL, "k"), "mer_1", _session(), AT, lambda *a: None)
    plain = delegate_request(ctx, DemoCard())
    bent = delegate_request(
        ctx,
        DemoCard(),
        tamper=Tamper(allowance_delta=-1, allowance_merchant="mer_2", expires_in_s=-60),
    )
    assert plain["allowance"]["max_amount"] - 1 == bent["allowance"]["max_amount"]
    assert bent["allowance"]["merchant_id"] == "mer_2"
    assert bent["allowance"]["expires_at"] == "2026-11-25T11:59:00Z"
    assert plain["allowance"]["expires_at"] == "2026-11-25T12:15:00Z"
    assert {k: v for k, v in plain.items() if k != "allowance"} == {
        k: v for k, v in bent.items() if k != "allowance"
    }


# ---- payment attempts: 3-D Secure and bounded retries -------------------------------------

DECLINED = {
    "type": "error",
    "code": "payment_declined",
    "content_type": "plain",
    "content": "The card was declined.",
    "severity": "high",
    "resolution": "recoverable",
    "param": "$.payment_data",
}
ORDER = {"id": "ord_1", "checkout_session_id": "cs_1", "permalink_url": "https://x.test/o/1"}
METADATA = {
    "acquirer_details": {
        "acquirer_bin": "431274",
        "acquirer_country": "DE",
        "acquirer_merchant_id": "mer_1",
        "merchant_name": "Berlin Outdoor",
    },
    "directory_server": "visa",
    "flow_preference": {"type": "frictionless", "frictionless": {"type": "low_risk"}},
}


class Payer(Merchant):
    """The scripted merchant answering completes in turn from ``completes`` (and running a
    scripted delegate authentication with a challenge)."""

    def __init__(self, completes: list[dict[str, Any]]) -> None:
        super().__init__()
        self.completes = completes
        self.tokens = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/acp/agentic_commerce/delegate_payment":
            self.requests.append(request)
            self.tokens += 1
            return httpx.Response(
                201,
                json={
                    "id": f"spt_{self.tokens}",
                    "created": "2026-11-25T12:00:00Z",
                    "metadata": {},
                },
            )
        if path.endswith("/complete"):
            self.requests.append(request)
            return httpx.Response(200, json=self.completes.pop(0))
        if path == "/acp/delegate_authentication":
            self.requests.append(request)
            return httpx.Response(
                201,
                json={
                    "authentication_session_id": "auth_1",
                    "status": "action_required",
                    "action": {
                        "type": "fingerprint",
                        "fingerprint": {
                            "three_ds_method_url": URL + "/acp/3ds/acs/method",
                            "three_ds_server_trans_id": "srv_1",
                        },
                    },
                },
            )
        if path == "/acp/delegate_authentication/auth_1/authenticate":
            self.requests.append(request)
            return httpx.Response(
                200,
                json={
                    "authentication_session_id": "auth_1",
                    "status": "action_required",
                    "action": {
                        "type": "challenge",
                        "challenge": {
                            "acs_url": URL + "/acp/3ds/acs/challenge",
                            "acs_trans_id": "acs_1",
                            "three_ds_server_trans_id": "srv_1",
                            "message_version": "2.2.0",
                        },
                    },
                },
            )
        if path == "/acp/3ds/acs/challenge":
            self.requests.append(request)
            cres = {"transStatus": "Y", "messageType": "CRes"}
            raw = base64.urlsafe_b64encode(json.dumps(cres).encode()).decode().rstrip("=")
            return httpx.Response(200, json={"cres": raw})
        if path == "/acp/delegate_authentication/auth_1":
            self.requests.append(request)
            return httpx.Response(
                200,
                json={
                    "authentication_session_id": "auth_1",
                    "status": "authenticated",
                    "authentication_result": {
                        "trans_status": "Y",
                        "electronic_commerce_indicator": "05",
                        "three_ds_cryptogram": "AQIDBAUGBwgJCgsMDQ4PEBESExQ=",
                        "transaction_id": "ds_1",
                        "three_ds_server_trans_id": "srv_1",
                        "version": "2.2.0",
                        "authentication_value": "AQIDBAUGBwgJCgsMDQ4PEBESExQ=",
                    },
                },
            )
        return super().__call__(request)


def _sent(m: Merchant, suffix: str) -> list[dict[str, Any]]:
    return [json.loads(r.content) for r in m.requests if r.url.path.endswith(suffix)]


def test_the_agent_retries_a_recoverable_decline_with_a_fresh_token() -> None:
    declined = {**_session(), "messages": [DECLINED]}
    m = Payer([declined, declined, {**_session("completed"), "order": ORDER}])
    with _client(m) as c:
        agent = ShoppingAgent(c, "mer_1", DelegatedCard(), clock=lambda: AT, feed_id="f")
        result = agent.run(Goal("headlamp", budget=5000))
    assert result.outcome.status == "ordered"
    tokens = [b["payment_data"]["instrument"]["credential"]["token"] for b in _sent(m, "/complete")]
    assert tokens == ["spt_1", "spt_2", "spt_3"]  # one fresh delegated token per attempt
    attempts = [(s.data.get("attempt"), s.ok) for s in result.steps if s.action == "complete"]
    assert attempts == [(1, False), (2, False), (3, True)]
    assert [s.data["attempt"] for s in result.steps if s.action == "retry"] == [2, 3]
    for body in _sent(m, "/complete"):
        assert_acp("CheckoutSessionCompleteRequest", body)


def test_the_agent_gives_up_after_two_retries() -> None:
    declined = {**_session(), "messages": [DECLINED]}
    m = Payer([declined, declined, declined, declined])
    with _client(m) as c:
        agent = ShoppingAgent(c, "mer_1", DelegatedCard(), clock=lambda: AT, feed_id="f")
        result = agent.run(Goal("headlamp", budget=5000))
    assert (result.outcome.status, result.outcome.error_code) == ("declined", "payment_declined")
    assert len(_sent(m, "/complete")) == 3 and m.completes == [declined]


def test_a_decline_that_is_not_recoverable_is_not_retried() -> None:
    final = {**_session(), "messages": [{**DECLINED, "resolution": "requires_buyer_input"}]}
    m = Payer([final])
    with _client(m) as c:
        agent = ShoppingAgent(c, "mer_1", DelegatedCard(), clock=lambda: AT, feed_id="f")
        assert agent.run(Goal("headlamp", budget=5000)).outcome.status == "declined"
    assert len(_sent(m, "/complete")) == 1


def test_the_agent_declares_3ds_and_runs_it_when_asked() -> None:
    need = {**_session("authentication_required"), "authentication_metadata": METADATA}
    m = Payer([need, {**_session("completed"), "order": ORDER}])
    with _client(m) as c:
        agent = ShoppingAgent(c, "mer_1", DelegatedCard(), clock=lambda: AT, feed_id="f")
        result = agent.run(Goal("headlamp", budget=5000))
    assert result.outcome.status == "ordered", [s.summary for s in result.steps]
    created = _sent(m, "/checkout_sessions")[0]
    assert created["capabilities"]["interventions"]["supported"] == ["3ds"]
    da = "delegate_authentication"
    create = _sent(m, "/delegate_authentication")[0]
    assert_acp("DelegateAuthenticationCreateRequest", create, bundle=da)
    assert create["payment_method"]["number"] == "spt_1"  # the token, never the card number
    assert create["acquirer_details"] == METADATA["acquirer_details"]
    assert create["amount"] == {"value": 4480, "currency": "EUR"}
    auth = _sent(m, "/authenticate")[0]
    assert_acp("DelegateAuthenticationAuthenticateRequest", auth, bundle=da)
    creq_text = _sent(m, "/acs/challenge")[0]["creq"]
    creq = json.loads(base64.urlsafe_b64decode(creq_text + "=" * (-len(creq_text) % 4)))
    assert creq["challengeDataEntry"] == SANDBOX_OTP and creq["acsTransID"] == "acs_1"
    first, second = _sent(m, "/complete")
    assert "authentication_result" not in first
    assert second["payment_data"] == first["payment_data"]  # the same token, now authenticated
    assert second["authentication_result"] == {
        "outcome": "authenticated",
        "outcome_details": {
            "three_ds_cryptogram": "AQIDBAUGBwgJCgsMDQ4PEBESExQ=",
            "electronic_commerce_indicator": "05",
            "transaction_id": "ds_1",
            "version": "2.2.0",
        },
    }
    assert_acp("CheckoutSessionCompleteRequest", second)
    actions = [s.action for s in result.steps]
    assert actions[-6:] == [
        "complete",
        "3ds_create",
        "3ds_authenticate",
        "3ds_challenge",
        "3ds_result",
        "complete",
    ]
    shown = json.dumps([e.request for e in c.exchanges] + [s.data for s in result.steps])
    assert "AQIDBAUGBwgJCgsMDQ4PEBESExQ=" not in shown  # the cryptogram is not transcribed
    assert "4242424242424242" not in shown


def test_an_agent_that_cannot_run_3ds_is_sent_to_the_merchant() -> None:
    escalated = {
        **_session("requires_escalation"),
        "continue_url": "https://x.test/checkout/cs_1",
        "messages": [
            {
                "type": "error",
                "code": "intervention_required",
                "content_type": "plain",
                "content": "3DS",
            }
        ],
    }
    m = Payer([escalated])
    with _client(m) as c:
        agent = ShoppingAgent(
            c, "mer_1", DelegatedCard(), clock=lambda: AT, feed_id="f", interventions=()
        )
        result = agent.run(Goal("headlamp", budget=5000))
    assert _sent(m, "/checkout_sessions")[0]["capabilities"]["interventions"]["supported"] == []
    assert (result.outcome.status, result.outcome.error_code) == (
        "not_ready",
        "intervention_required",
    )
    assert result.steps[-1].data["continue_url"] == "https://x.test/checkout/cs_1"
