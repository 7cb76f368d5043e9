"""REST router: payments, captures, refunds, cancels, disputes, balances, analytics, merchants."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from cockpit.api.deps import RequestContext, request_context
from cockpit.config import Settings
from cockpit.db.session import Database
from cockpit.errors import CockpitError
from cockpit.tenancy.principal import Principal, Role
from tools.payments.router import router

T = "t_test"


def client_for(
    db: Database, *, role: Role = Role.MERCHANT, merchant: str | None = "m_sg", tenant: str = T
) -> TestClient:
    app = FastAPI()
    app.include_router(router)

    @app.exception_handler(CockpitError)
    async def _errors(_: Request, exc: CockpitError) -> JSONResponse:
        return JSONResponse({"error": exc.to_dict()}, status_code=exc.status)

    ctx = RequestContext(
        principal=Principal(tenant, role, "key_1", merchant), db=db, settings=Settings(), extras={}
    )
    app.dependency_overrides[request_context] = lambda: ctx
    return TestClient(app)


PAY = {"amount": {"currency": "SGD", "value": "10000"}, "card_id": "card_visa"}


def test_payment_refund_cancel_flow(seeded: Database) -> None:
    api = client_for(seeded)
    r = api.post("/v1/payments/payments", json=PAY, headers={"Idempotency-Key": "order-1"})
    assert r.status_code == 200, r.text
    body = r.json()
    again = api.post("/v1/payments/payments", json=PAY, headers={"Idempotency-Key": "order-1"})
    assert again.json() == body
    other = api.post("/v1/payments/payments", json={**PAY, "amount": {"currency": "SGD", "value": "10001"}},
                     headers={"Idempotency-Key": "order-1"})  # fmt: skip
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_key_reused"
    pid = body["paymentId"]
    got = api.get(f"/v1/payments/payments/{pid}").json()
    assert got["paymentId"] == pid
    if body["state"] == "CAPTURED":
        rf = api.post(f"/v1/payments/payments/{pid}/refunds", json={"amount": {"currency": "SGD", "value": 400}},
                      headers={"Idempotency-Key": "rf-1"})  # fmt: skip
        assert rf.status_code == 200 and rf.json()["refundAmount"]["value"] == "400"
        over = api.post(f"/v1/payments/payments/{pid}/refunds",
                        json={"refund_request_id": "rf-2", "amount": {"currency": "SGD", "value": "99999"}})  # fmt: skip
        assert over.status_code == 409 and over.json()["error"]["code"] == "refund_amount_exceed"
        bal = api.get("/v1/payments/balances/m_sg").json()
        assert bal["balances"]["SGD"]["pending"] == 10_000
    else:
        assert api.get(f"/v1/payments/payments/{pid}/decline").json()["declined"] is True


@pytest.mark.parametrize(
    ("payload", "code", "param"),
    [
        ({"amount": {"currency": "XXX", "value": "100"}}, "unknown_currency", "amount.currency"),
        (
            {"amount": {"currency": "USD", "value": "10.50"}},
            "amount_wrong_exponent",
            "amount.value",
        ),
        (
            {"amount": {"currency": "JPY", "value": "100.5"}},
            "amount_wrong_exponent",
            "amount.value",
        ),
        ({"amount": {"currency": "USD", "value": "0"}}, "amount_not_positive", "amount.value"),
        ({"amount": {"currency": "USD", "value": "-100"}}, "amount_not_positive", "amount.value"),
    ],
)
def test_bad_amounts(seeded: Database, payload: dict[str, Any], code: str, param: str) -> None:
    r = client_for(seeded).post(
        "/v1/payments/payments", json={**PAY, **payload}, headers={"Idempotency-Key": "k"}
    )
    assert (
        r.status_code == 422
        and r.json()["error"]["code"] == code
        and r.json()["error"]["param"] == param
    )


def test_key_required_and_scoping(seeded: Database) -> None:
    api = client_for(seeded)
    r = api.post("/v1/payments/payments", json=PAY)
    assert r.status_code == 422 and r.json()["error"]["code"] == "idempotency_key_required"
    pid = api.post("/v1/payments/payments", json=PAY, headers={"Idempotency-Key": "o"}).json()[
        "paymentId"
    ]
    other_tenant = client_for(seeded, tenant="t_other")
    assert other_tenant.get(f"/v1/payments/payments/{pid}").status_code == 404
    other_merchant = client_for(seeded, merchant="m_pending")
    assert other_merchant.get(f"/v1/payments/payments/{pid}").status_code == 404
    assert other_merchant.get("/v1/payments/balances/m_sg").status_code == 404
    shopper = client_for(seeded, role=Role.SHOPPER)
    assert (
        shopper.post(
            "/v1/payments/payments", json=PAY, headers={"Idempotency-Key": "x"}
        ).status_code
        == 403
    )


def test_merchants_disputes_analytics(seeded: Database) -> None:
    admin = client_for(seeded, role=Role.ADMIN, merchant=None)
    merchants = admin.get("/v1/payments/merchants").json()["data"]
    assert {m["merchantId"]: m["kybState"] for m in merchants} == {
        "m_sg": "APPROVED",
        "m_pending": "IN_REVIEW",
    }
    for i in range(5):
        admin.post(
            "/v1/payments/payments",
            json={**PAY, "merchant_id": "m_sg"},
            headers={"Idempotency-Key": f"a{i}"},
        )
    rate = admin.get(
        "/v1/payments/analytics/success-rate", params={"group_by": "issuer", "days": 365}
    ).json()
    assert rate["attempts"] == 5
    bad = admin.get("/v1/payments/analytics/success-rate", params={"group_by": "colour"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_dimension"
    assert admin.get("/v1/payments/analytics/levers").status_code == 200
    assert admin.get("/v1/payments/analytics/declines").status_code == 200
    mon = admin.get("/v1/payments/analytics/dispute-monitoring/m_sg").json()
    assert len(mon["programmes"]) == 3
    assert admin.get("/v1/payments/disputes").json()["count"] == 0
    assert admin.get("/v1/payments/disputes/dsp_nope").status_code == 404


def test_consult_methods(seeded: Database) -> None:
    api = client_for(seeded, role=Role.SHOPPER, merchant=None)
    ph = api.get("/v1/payments/methods", params={"market": "ph", "currency": "PHP"}).json()
    codes = {m["paymentMethodType"] for m in ph["data"]}
    assert {"GCASH", "MAYA", "CARD"} <= codes and "KAKAOPAY" not in codes
    bad = api.get("/v1/payments/methods", params={"market": "PH", "currency": "ABC"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "unknown_currency"


def test_manual_capture_cancel_and_dispute_endpoints(db: Database) -> None:
    from tools.payments.disputes import Disputes
    from tools.payments.gateway import Gateway

    gw_seed = Gateway(db)
    api = client_for(db)
    from tools.payments.models import Card, Customer, Merchant

    with db.tenant_session(T) as s:
        s.add(Merchant(id="m_sg", name="M", legal_name="M", country="SG", mcc="5732", markets=["SG"],
                       settlement_currency="SGD", kyb_state="APPROVED", webhook_secret="s"))  # fmt: skip
        s.add(Customer(id="c", country="SG"))
        s.flush()
        s.add(Card(id="card_visa", customer_id="c", brand="VISA", bin="4", last4="1", funding="CREDIT",
                   issuer="Merlion Bank", issuing_country="SG", exp_month=1, exp_year=2035, network_token=True))  # fmt: skip
    body = None
    for i in range(5):  # the seeded simulator may decline; find an authorised one
        body = api.post("/v1/payments/payments", json={**PAY, "capture_mode": "MANUAL", "three_ds": True},
                        headers={"Idempotency-Key": f"man{i}"}).json()  # fmt: skip
        if body["state"] == "AUTHORIZED":
            break
    assert body is not None and body["state"] == "AUTHORIZED"
    pid = body["paymentId"]
    cap = api.post(f"/v1/payments/payments/{pid}/captures",
                   json={"amount": {"currency": "SGD", "value": "6000"}}, headers={"Idempotency-Key": "cap-1"})  # fmt: skip
    assert cap.status_code == 200 and cap.json()["captureAmount"]["value"] == "6000"
    wrong = api.post(f"/v1/payments/payments/{pid}/captures",
                     json={"amount": {"currency": "USD", "value": "1"}}, headers={"Idempotency-Key": "cap-2"})  # fmt: skip
    assert wrong.status_code == 422 and wrong.json()["error"]["code"] == "currency_mismatch"
    cancel = api.post(f"/v1/payments/payments/{pid}/cancel")
    assert cancel.status_code == 409 and cancel.json()["error"]["code"] == "cancel_after_capture"
    did = Disputes(gw_seed).open(T, pid, "13.1")["disputeId"]
    detail = api.get(f"/v1/payments/disputes/{did}").json()
    assert detail["checklist"]["winRateLevel"] == "LOW"
    resp = api.post(
        f"/v1/payments/disputes/{did}/response", json={"evidence": {"DELIVERY_PROOF": "signed POD"}}
    )
    assert resp.status_code == 200 and resp.json()["status"] == "UNDER_REVIEW"
    again = api.post(
        f"/v1/payments/disputes/{did}/response", json={"evidence": {"DELIVERY_PROOF": "other"}}
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "defense_already_submitted"
    accept = api.post(f"/v1/payments/disputes/{did}/accept")
    assert (
        accept.status_code == 409
        and accept.json()["error"]["code"] == "not_allow_in_current_status"
    )
