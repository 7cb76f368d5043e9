"""Stored fraud scores belong to the merchant of the scored payment (``fraud_scores.merchant_id``).

A key bound to a merchant scores only for that merchant and reads only its scores: another
merchant's score is a 404 exactly like a transaction never scored (existence is not
revealed), by REST and through the agent tools alike. A key bound to no merchant sees them all.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from cockpit.api.deps import RequestContext, request_context
from cockpit.api.errors import install_error_handlers
from cockpit.config import Settings
from cockpit.db.session import Database
from cockpit.errors import Conflict, NotFound
from cockpit.tenancy.principal import Principal, Role
from cockpit.toolkit import ToolContext, default_registry
from tests.support.migrated import migrated_sqlite
from tools.fraud.router import router
from tools.fraud.service import FraudHub
from tools.fraud.store import ScoreRecord
from tools.fraud.training import TrainingRun

T0 = datetime(2025, 3, 4, 10, 0, tzinfo=UTC).timestamp()
TENANT = "t-own"


@pytest.fixture()
def db(tmp_path: Path) -> Iterator[Database]:
    database = migrated_sqlite(tmp_path / "own.db")
    yield database
    database.dispose()


@pytest.fixture()
def hub(trained: TrainingRun) -> FraudHub:
    return FraudHub(trained.model)


def _txn(txn_id: str, merchant: str, *, minutes: float = 0.0) -> dict[str, Any]:
    return {
        "txn_id": txn_id,
        "ts": T0 + 60 * minutes,
        "customer_id": "cus_own_1",
        "card_id": "card_own_1",
        "device_id": "dev_own_1",
        "ip": "198.51.100.9",
        "merchant_id": merchant,
        "amount_minor": 4_200,
        "currency": "USD",
        "account_created_ts": T0 - 86_400 * 100,
    }


def _principal(merchant: str | None) -> Principal:
    return Principal(TENANT, Role.MERCHANT, f"k-{merchant or 'tenant'}", merchant)


def _tool(name: str, db: Database, hub: FraudHub, merchant: str | None, **args: Any) -> Any:
    tool = default_registry.get(name)
    ctx = ToolContext(principal=_principal(merchant), db=db, extras={"fraud": hub})
    return tool.fn(ctx, tool.args.model_validate(args))


def _client(db: Database, hub: FraudHub, tmp_path: Path, merchant: str | None) -> TestClient:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(router)

    def ctx() -> RequestContext:
        return RequestContext(
            principal=_principal(merchant),
            db=db,
            settings=Settings(data_dir=tmp_path / "data"),
            extras={"fraud": hub},
        )

    app.dependency_overrides[request_context] = ctx
    return TestClient(app, raise_server_exceptions=False)


def test_another_merchants_score_is_not_found_like_an_unknown_txn(
    db: Database, hub: FraudHub, tmp_path: Path
) -> None:
    a, b = _client(db, hub, tmp_path, "mer_a"), _client(db, hub, tmp_path, "mer_b")
    assert a.post("/v1/fraud/score", json=_txn("txn_of_a", "mer_a")).status_code == 200
    assert a.get("/v1/fraud/explain/txn_of_a").status_code == 200

    theirs = b.get("/v1/fraud/explain/txn_of_a")
    unknown = b.get("/v1/fraud/explain/txn_of_nobody")
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.json()["code"] == unknown.json()["code"] == "transaction_not_found"
    assert theirs.json()["message"] == "no scored transaction 'txn_of_a'"
    with pytest.raises(NotFound) as err:
        _tool("explain_score", db, hub, "mer_b", txn_id="txn_of_a")
    assert err.value.code == "transaction_not_found"

    # A key bound to no merchant sees every merchant's scores.
    tenant = _client(db, hub, tmp_path, None)
    assert tenant.get("/v1/fraud/explain/txn_of_a").json()["merchant_id"] == "mer_a"
    assert _tool("explain_score", db, hub, None, txn_id="txn_of_a")["merchant_id"] == "mer_a"


def test_a_bound_key_scores_only_for_its_own_merchant(
    db: Database, hub: FraudHub, tmp_path: Path
) -> None:
    b = _client(db, hub, tmp_path, "mer_b")
    r = b.post("/v1/fraud/score", json=_txn("txn_x1", "mer_a"))
    assert r.status_code == 404, r.text
    assert (r.json()["code"], r.json()["param"]) == ("merchant_not_found", "merchant_id")
    batch = {"transactions": [_txn("txn_x2", "mer_b"), _txn("txn_x3", "mer_a", minutes=1)]}
    r = b.post("/v1/fraud/score/batch", json=batch)
    assert r.status_code == 404, r.text
    assert r.json()["param"] == "transactions[1].merchant_id"
    with pytest.raises(NotFound):
        _tool("score_transaction", db, hub, "mer_b", **_txn("txn_x4", "mer_a"))
    with db.tenant_session(TENANT) as s:
        assert list(s.scalars(select(ScoreRecord.txn_id))) == []  # nothing scored or stored

    # Its own merchant's payment is scored and recorded under that merchant.
    assert b.post("/v1/fraud/score", json=_txn("txn_x5", "mer_b")).status_code == 200
    _tool("score_transaction", db, hub, "mer_b", **_txn("txn_x6", "mer_b", minutes=2))
    with db.tenant_session(TENANT) as s:
        owners = {t: m for t, m in s.execute(select(ScoreRecord.txn_id, ScoreRecord.merchant_id))}
    assert owners == {"txn_x5": "mer_b", "txn_x6": "mer_b"}


def test_a_used_txn_id_never_replays_another_merchants_result(
    db: Database, hub: FraudHub, tmp_path: Path
) -> None:
    """Ids are unique per tenant, so B learns the id is taken (409) but never A's result."""
    a, b = _client(db, hub, tmp_path, "mer_a"), _client(db, hub, tmp_path, "mer_b")
    first = a.post("/v1/fraud/score", json=_txn("txn_shared", "mer_a"))
    assert first.status_code == 200
    r = b.post("/v1/fraud/score", json=_txn("txn_shared", "mer_b"))
    assert r.status_code == 409 and r.json()["code"] == "txn_already_scored"
    assert str(first.json()["score"]) not in r.text
    with pytest.raises(Conflict):
        _tool("score_transaction", db, hub, "mer_b", **_txn("txn_shared", "mer_b"))
