"""Risk questions from the stored record, and ids of the wrong kind.

"Is pay_… legit?" is answerable with the payment id alone: the payment's customer, card,
device, IP, amount and countries are read from the record (through the payments domain's
source in ``extras``) and scored, under the caller's merchant ownership. A payment id given
where a device (card, customer, IP) id belongs is a 422 naming the field — by REST and by tool.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from cockpit.api.deps import RequestContext, request_context
from cockpit.api.errors import install_error_handlers
from cockpit.clock import utcnow
from cockpit.config import Settings
from cockpit.db.session import Database
from cockpit.errors import CockpitError, NotFound, ToolError, ValidationFailed
from cockpit.tenancy.principal import Principal, Role
from cockpit.toolkit import ToolContext, default_registry
from tests.support.migrated import migrated_sqlite
from tools.fraud.payments import PAYMENT_SOURCE_KEY
from tools.fraud.router import router
from tools.fraud.service import FraudHub
from tools.fraud.store import ScoreRecord
from tools.fraud.training import TrainingRun
from tools.payments.fraud_source import PaymentTransactionSource
from tools.payments.gateway import Gateway, PayRequest
from tools.payments.models import Card, Customer, Device, Merchant
from tools.payments.simulator import AuthDecision, IssuerSimulator

TENANT = "t-pay-score"


class Approves(IssuerSimulator):
    def decide(self, ctx: Any) -> Any:
        return AuthDecision(approved=True)


@pytest.fixture()
def db(tmp_path: Path) -> Iterator[Database]:
    database = migrated_sqlite(tmp_path / "ps.db")
    with database.tenant_session(TENANT) as s:
        for mid in ("mer_a", "mer_b"):
            s.add(Merchant(id=mid, name=mid, legal_name=mid, country="SG", mcc="5732",
                           markets=["SG"], settlement_currency="SGD", kyb_state="APPROVED",
                           webhook_secret="x"))  # fmt: skip
        s.add(Customer(id="cus_1", email="a@example.com", country="SG"))
        s.flush()
        s.add(Device(id="dev_1", customer_id="cus_1", fingerprint="f" * 32, ip="203.0.113.7"))
        s.add(Card(id="card_1", customer_id="cus_1", brand="VISA", bin="411111", last4="1111",
                   funding="CREDIT", issuer="Merlion Bank", issuing_country="MY", exp_month=12,
                   exp_year=2031))  # fmt: skip
    yield database
    database.dispose()


@pytest.fixture()
def hub(trained: TrainingRun) -> FraudHub:
    return FraudHub(trained.model)


@pytest.fixture()
def pid(db: Database) -> str:
    req = PayRequest("mer_a", "r1", 12_345, "SGD", card_id="card_1", customer_id="cus_1",
                     device_id="dev_1")  # fmt: skip
    return str(Gateway(db, simulator=Approves()).pay(TENANT, req, at=utcnow())["paymentId"])


def _extras(db: Database, hub: FraudHub, *, source: bool = True) -> dict[str, Any]:
    extras: dict[str, Any] = {"fraud": hub}
    if source:
        extras[PAYMENT_SOURCE_KEY] = PaymentTransactionSource(db)
    return extras


def _principal(merchant: str | None) -> Principal:
    return Principal(TENANT, Role.MERCHANT, f"k-{merchant or 'tenant'}", merchant)


def _tool(
    name: str, extras: dict[str, Any], db: Database, merchant: str | None, **args: Any
) -> Any:
    tool = default_registry.get(name)
    ctx = ToolContext(principal=_principal(merchant), db=db, extras=extras, idempotency_key="k1")
    return tool.fn(ctx, tool.args.model_validate(args))


def _client(
    db: Database, extras: dict[str, Any], tmp_path: Path, merchant: str | None
) -> TestClient:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(router)

    def ctx() -> RequestContext:
        return RequestContext(principal=_principal(merchant), db=db,
                              settings=Settings(data_dir=tmp_path / "data"), extras=extras)  # fmt: skip

    app.dependency_overrides[request_context] = ctx
    return TestClient(app, raise_server_exceptions=False)


def test_a_payment_id_alone_is_scored_from_its_record(
    db: Database, hub: FraudHub, pid: str, tmp_path: Path
) -> None:
    extras = _extras(db, hub)
    out = _tool("score_transaction", extras, db, "mer_a", payment_id=pid)
    assert out["decision"] in {"approve", "review", "decline"} and 0.0 <= out["score"] <= 1.0
    assert out["payment_id"] == pid and out["txn_id"] == pid
    used = out["scored_from_payment"]
    assert (used["customer_id"], used["card_id"], used["device_id"], used["ip"]) == (
        "cus_1", "card_1", "dev_1", "203.0.113.7",
    )  # fmt: skip
    assert (used["amount_minor"], used["currency"], used["method"]) == (12_345, "SGD", "card")
    assert (used["merchant_id"], used["card_country"], used["mcc"]) == ("mer_a", "MY", 5732)
    # The REST twin takes the same body and replays the stored score.
    r = _client(db, extras, tmp_path, "mer_a").post("/v1/fraud/score", json={"payment_id": pid})
    assert r.status_code == 200, r.text
    assert r.json()["score"] == out["score"] and r.json()["replayed"] is True


def test_another_merchants_payment_is_not_found_and_nothing_is_scored(
    db: Database, hub: FraudHub, pid: str, tmp_path: Path
) -> None:
    extras = _extras(db, hub)
    with pytest.raises(NotFound) as err:
        _tool("score_transaction", extras, db, "mer_b", payment_id=pid)
    assert err.value.code == "payment_not_found"
    r = _client(db, extras, tmp_path, "mer_b").post("/v1/fraud/score", json={"payment_id": pid})
    assert r.status_code == 404 and r.json()["code"] == "payment_not_found"
    with db.tenant_session(TENANT) as s:
        assert list(s.scalars(select(ScoreRecord.txn_id))) == []
    # A key bound to no merchant may score it.
    assert _tool("score_transaction", extras, db, None, payment_id=pid)["txn_id"] == pid


def test_payment_scoring_errors_are_clear(db: Database, hub: FraudHub, pid: str) -> None:
    with pytest.raises(ToolError) as err:
        _tool("score_transaction", _extras(db, hub, source=False), db, "mer_a", payment_id=pid)
    assert err.value.code == "payment_records_unavailable"
    with pytest.raises(ValidationFailed) as wrong:
        _tool("score_transaction", _extras(db, hub), db, "mer_a", payment_id="dsp_123")
    assert (wrong.value.code, wrong.value.param) == ("wrong_id_kind", "payment_id")
    # Without payment_id the transaction's fields are still required, as before.
    with pytest.raises(ValidationFailed) as missing:
        _tool("score_transaction", _extras(db, hub), db, "mer_a", txn_id="t1")
    assert missing.value.code == "missing_field"


def test_a_payment_id_is_no_device_by_rest_and_by_tool(
    db: Database, hub: FraudHub, pid: str, tmp_path: Path
) -> None:
    extras = _extras(db, hub)
    http = _client(db, extras, tmp_path, "mer_a")
    for kind in ("device", "card", "customer", "ip"):
        body = {"kind": kind, "entity_id": pid, "reason": "fraud ring"}
        r = http.post("/v1/fraud/entities/block", json=body, headers={"Idempotency-Key": kind})
        assert r.status_code == 422, r.text
        err = r.json()
        assert {"type", "code", "message", "param"} <= set(err)
        assert (err["code"], err["param"]) == ("wrong_id_kind", "entity_id")
        assert "is a payment id" in err["message"]
        tool = default_registry.get("block_entity")
        args = tool.args.model_validate(body)
        ctx = ToolContext(principal=_principal("mer_a"), db=db, extras=extras, idempotency_key=kind)
        assert tool.precheck is not None
        with pytest.raises(CockpitError) as pre:
            tool.precheck(ctx, args)
        assert (pre.value.code, pre.value.param) == ("wrong_id_kind", "entity_id")
        with pytest.raises(ValidationFailed):
            tool.fn(ctx, args)
    assert http.get("/v1/fraud/entities/blocks").json()["blocks"] == []
    # Ids of the right kind (or of no known kind: a merchant's own) are blocked as before.
    ok = {"kind": "device", "entity_id": "dev_1", "reason": "fraud ring"}
    assert (
        http.post("/v1/fraud/entities/block", json=ok, headers={"Idempotency-Key": "d"}).status_code
        == 200
    )
    ok = {"kind": "ip", "entity_id": "203.0.113.7", "reason": "fraud ring"}
    assert (
        http.post("/v1/fraud/entities/block", json=ok, headers={"Idempotency-Key": "i"}).status_code
        == 200
    )
    wrong = {"kind": "card", "entity_id": "dev_1", "reason": "fraud ring"}
    r = http.post("/v1/fraud/entities/block", json=wrong, headers={"Idempotency-Key": "c"})
    assert r.status_code == 422 and "is a device id, not a card id" in r.json()["message"]
    r = http.get(f"/v1/fraud/entities/device/{pid}/graph")
    assert r.status_code == 422 and r.json()["param"] == "entity_id"


def test_a_transaction_with_a_payment_id_as_its_device_is_refused(
    db: Database, hub: FraudHub, tmp_path: Path
) -> None:
    txn = {"txn_id": "t9", "ts": 1_700_000_000, "customer_id": "cus_9", "card_id": "card_9",
           "device_id": "pay_0123456789", "ip": "198.51.100.9", "merchant_id": "mer_a",
           "amount_minor": 500, "currency": "SGD"}  # fmt: skip
    r = _client(db, _extras(db, hub), tmp_path, "mer_a").post("/v1/fraud/score", json=txn)
    assert r.status_code == 422 and r.json()["param"] == "device_id"
