from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cockpit.api.deps import RequestContext, request_context
from cockpit.api.errors import install_error_handlers
from cockpit.config import Settings
from cockpit.tenancy.principal import Principal, Role
from tests.support.migrated import migrated_sqlite
from tools.fraud.router import router
from tools.fraud.service import FraudHub
from tools.fraud.training import TrainingRun


def _payload(row: pd.Series) -> dict[str, Any]:
    keys = [
        "txn_id",
        "ts",
        "customer_id",
        "card_id",
        "device_id",
        "ip",
        "merchant_id",
        "amount_minor",
        "currency",
        "method",
        "mcc",
        "card_country",
        "ip_country",
        "ship_country",
    ]
    return {k: (row[k].item() if hasattr(row[k], "item") else row[k]) for k in keys}


@pytest.fixture()
def client(tmp_path: Path, trained: TrainingRun) -> TestClient:
    db = migrated_sqlite(tmp_path / "t.db")
    hub = FraudHub(trained.model)
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(router)
    role = {"value": Role.MERCHANT}

    def ctx() -> RequestContext:
        return RequestContext(
            principal=Principal(tenant_id="t1", role=role["value"], key_id="k1"),
            db=db,
            settings=Settings(data_dir=tmp_path / "data"),
            extras={"fraud": hub},
        )

    app.dependency_overrides[request_context] = ctx
    c = TestClient(app, raise_server_exceptions=False)
    c.role = role  # type: ignore[attr-defined]
    return c


def test_score_batch_explain_and_block(client: TestClient, sim_frame: pd.DataFrame) -> None:
    rows = [_payload(r) for _, r in sim_frame.iloc[:200].iterrows()]
    r = client.post("/v1/fraud/score", json=rows[0])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["decision"] in {"approve", "review", "decline"} and 0 <= body["score"] <= 1
    r = client.post("/v1/fraud/score/batch", json={"transactions": rows[1:]})
    assert r.status_code == 200, r.text
    out = r.json()
    assert len(out["results"]) == 199 and sum(out["counts"].values()) == 199
    flagged = [x for x in out["results"] if x["decision"] != "approve"]
    assert all(x["reasons"] for x in flagged)
    r = client.get(f"/v1/fraud/explain/{rows[5]['txn_id']}")
    assert r.status_code == 200 and r.json()["features"]
    assert client.get("/v1/fraud/explain/nope").json()["code"] == "transaction_not_found"
    r = client.get(f"/v1/fraud/entities/customer/{rows[5]['customer_id']}/graph")
    assert r.status_code == 200 and r.json()["found"]
    assert client.get(f"/v1/fraud/merchants/{rows[5]['merchant_id']}/report").status_code == 200

    blk = {"kind": "card", "entity_id": rows[0]["card_id"], "reason": "stolen"}
    r = client.post("/v1/fraud/entities/block", json=blk)
    assert r.status_code == 422 and r.json()["code"] == "idempotency_key_missing"
    r = client.post("/v1/fraud/entities/block", json=blk, headers={"Idempotency-Key": "i1"})
    assert r.status_code == 200 and r.json()["status"] == "blocked"
    r2 = client.post("/v1/fraud/entities/block", json=blk, headers={"Idempotency-Key": "i1"})
    assert r2.json()["replayed"] is True
    again = {**rows[0], "txn_id": "new-1", "ts": rows[-1]["ts"] + 1}
    assert client.post("/v1/fraud/score", json=again).json()["decision"] == "decline"
    assert client.get("/v1/fraud/entities/blocks").json()["blocks"][0]["status"] == "blocked"
    r = client.post("/v1/fraud/entities/release", json=blk, headers={"Idempotency-Key": "i2"})
    assert r.json()["status"] == "released"
    assert client.get("/v1/fraud/model").status_code == 200


@pytest.mark.parametrize(
    ("change", "code", "param"),
    [
        ({"currency": "ZZZ"}, "unknown_currency", "currency"),
        ({"amount_minor": "12.5"}, "invalid_amount", "amount_minor"),
        ({"amount_minor": None}, "invalid_amount", "amount_minor"),
        ({"ts": [1]}, "invalid_type", "ts"),
    ],
)
def test_bad_input_is_a_clear_error(
    client: TestClient, sim_frame: pd.DataFrame, change: dict[str, Any], code: str, param: str
) -> None:
    good = _payload(sim_frame.iloc[0])
    r = client.post("/v1/fraud/score", json={**good, **change})
    assert r.status_code == 422
    assert r.json()["code"] == code and r.json()["param"] == param
    missing = {k: v for k, v in good.items() if k != "card_id"}
    r = client.post("/v1/fraud/score", json=missing)
    assert r.json()["code"] == "missing_field" and r.json()["param"] == "card_id"
    # One bad item refuses the whole batch, naming it; nothing was scored.
    batch = {"transactions": [good, {**good, "txn_id": "b2", **change}]}
    r = client.post("/v1/fraud/score/batch", json=batch)
    assert r.status_code == 422 and r.json()["param"] == f"transactions[1].{param}"
    assert client.get(f"/v1/fraud/explain/{good['txn_id']}").status_code == 404
    assert (
        client.post("/v1/fraud/score/batch", json={"transactions": "x"}).json()["code"]
        == "invalid_type"
    )
    assert (
        client.post("/v1/fraud/score/batch", json={"transactions": []}).json()["code"]
        == "invalid_batch_size"
    )


def test_shoppers_may_not_score(client: TestClient, sim_frame: pd.DataFrame) -> None:
    client.role["value"] = Role.SHOPPER  # type: ignore[attr-defined]
    r = client.post("/v1/fraud/score", json=_payload(sim_frame.iloc[0]))
    assert r.status_code == 403
