"""The credit HTTP API: the whole strategy lifecycle in one test, plus error shapes and roles."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cockpit.api.deps import RequestContext, request_context
from cockpit.api.errors import install_error_handlers
from cockpit.config import Settings
from cockpit.db.session import Database
from cockpit.tenancy.principal import Principal, Role
from tools.credit.router import router


def _client(
    db: Database, tmp_path: Any, *, tenant: str = "t1", role: Role = Role.PARTNER
) -> TestClient:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(router)
    ctx = RequestContext(
        principal=Principal(tenant_id=tenant, role=role, key_id=f"key-{tenant}"),
        db=db,
        settings=Settings(data_dir=tmp_path),
        extras={},
    )

    async def _ctx() -> RequestContext:
        return ctx

    app.dependency_overrides[request_context] = _ctx
    return TestClient(app)


def test_strategy_lifecycle_through_the_api(
    db: Database, tmp_path: Any, consumer_spec: dict[str, Any], german_rows: list[dict[str, Any]]
) -> None:
    api = _client(db, tmp_path)
    # create a version from JSON; its embedded tests run on creation
    r = api.post("/v1/credit/strategies", json=consumer_spec)
    assert r.status_code == 201, r.text
    version = r.json()
    assert version["tests_passed"] and version["version"] == 1
    vid = version["id"]
    # run its embedded tests
    r = api.post(f"/v1/credit/strategies/{vid}/test")
    assert r.status_code == 200 and r.json()["passed"] and r.json()["failed"] == 0
    # backtest it
    r = api.post(
        f"/v1/credit/strategies/{vid}/backtest", json={"portfolio": "german_credit_holdout"}
    )
    assert r.status_code == 200
    bt = r.json()
    assert (
        bt["strategy"]["n"] == 300
        and bt["strategy"]["expected_cost_per_applicant"] < bt["reject_all_cost"] == 0.7
    )
    # deploy it
    r = api.post(f"/v1/credit/strategies/{vid}/deploy", headers={"Idempotency-Key": "dep-1"})
    assert r.status_code == 200, r.text
    assert api.get("/v1/credit/deployments/consumer-default").json()["champion_version_id"] == vid
    # decide an application on it
    r = api.post(
        "/v1/credit/applications",
        json={"strategy": "consumer-default", "application_id": "A-1", "applicant": german_rows[1]},
        headers={"Idempotency-Key": "app-A-1"},
    )
    assert r.status_code == 201, r.text
    decision = r.json()
    assert decision["version_id"] == vid and decision["decision"] in {"approve", "decline", "refer"}
    replay = api.post(
        "/v1/credit/applications",
        json={"strategy": "consumer-default", "application_id": "A-1", "applicant": german_rows[1]},
        headers={"Idempotency-Key": "app-A-1"},
    )
    assert replay.status_code == 200 and replay.json()["id"] == decision["id"]
    explained = api.get(f"/v1/credit/decisions/{decision['id']}/explain").json()
    assert explained["trace"][1]["node"] == "knockouts" and explained["score"] == sum(
        p["points"] for p in explained["points"]
    )
    # a second version, deployed, then rolled back
    v2 = copy.deepcopy(consumer_spec)
    v2["description"] = "same rules, new version"
    vid2 = api.post("/v1/credit/strategies", json=v2).json()["id"]
    assert api.post(f"/v1/credit/strategies/{vid2}/deploy").status_code == 200
    r = api.post("/v1/credit/strategies/consumer-default/rollback")
    assert r.status_code == 200 and r.json()["live"]["champion_version_id"] == vid
    r = api.post("/v1/credit/applications", json={"applicant": german_rows[2]})
    assert r.json()["version_id"] == vid
    listed = api.get("/v1/credit/strategies", params={"name": "consumer-default"}).json()["data"]
    assert [v["version"] for v in listed] == [1, 2]


def test_errors_are_clear_and_nothing_is_half_written(
    db: Database, tmp_path: Any, consumer_spec: dict[str, Any], german_rows: list[dict[str, Any]]
) -> None:
    api = _client(db, tmp_path)
    bad_model = copy.deepcopy(consumer_spec)
    bad_model["decision_model"]["nodes"][1]["content"]["rules"][0]["k_age"] = "<<< 18"
    r = api.post("/v1/credit/strategies", json=bad_model)
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "invalid_decision_model" and body["param"] == "decision_model"
    assert "rule 'minor'" in body["message"] and "Stack backtrace" not in r.text

    failing = copy.deepcopy(consumer_spec)
    failing["decision_model"]["tests"][0]["output"]["price"] = 1.0
    vid = api.post("/v1/credit/strategies", json=failing).json()["id"]
    r = api.post(f"/v1/credit/strategies/{vid}/deploy")
    assert r.status_code == 409 and r.json()["code"] == "strategy_tests_failed"
    assert api.get("/v1/credit/deployments/consumer-default").status_code == 404

    r = api.post("/v1/credit/applications", json={"applicant": german_rows[0]})
    assert r.status_code == 404 and r.json()["code"] == "strategy_not_deployed"

    good = api.post("/v1/credit/strategies", json=consumer_spec).json()["id"]
    api.post(f"/v1/credit/strategies/{good}/deploy")
    r = api.post(
        "/v1/credit/applications", json={"applicant": {**german_rows[0], "age_in_years": 200}}
    )
    assert (
        r.status_code == 422
        and r.json()["param"] == "applicant.age_in_years"
        and r.json()["code"] == "out_of_range"
    )
    r = api.post(
        "/v1/credit/applications",
        json={"applicant": {k: v for k, v in german_rows[0].items() if k != "purpose"}},
    )
    assert r.status_code == 422 and r.json()["code"] == "missing_field"
    r = api.post("/v1/credit/strategies", json={**consumer_spec, "scorecard": "nope"})
    assert r.status_code == 404 and r.json()["code"] == "scorecard_not_found"


def test_tenants_and_roles(
    db: Database, tmp_path: Any, consumer_spec: dict[str, Any], german_rows: list[dict[str, Any]]
) -> None:
    t1 = _client(db, tmp_path)
    vid = t1.post("/v1/credit/strategies", json=consumer_spec).json()["id"]
    t1.post(f"/v1/credit/strategies/{vid}/deploy")
    dec = t1.post("/v1/credit/applications", json={"applicant": german_rows[0]}).json()["id"]
    t2 = _client(db, tmp_path, tenant="t2")
    assert t2.get(f"/v1/credit/strategies/{vid}").status_code == 404
    assert t2.get(f"/v1/credit/decisions/{dec}").status_code == 404
    assert t2.post(f"/v1/credit/strategies/{vid}/deploy").status_code == 404
    merchant = _client(db, tmp_path, role=Role.MERCHANT)
    assert (
        merchant.post(
            "/v1/credit/applications/preview", json={"applicant": german_rows[0]}
        ).status_code
        == 200
    )
    r = merchant.post(f"/v1/credit/strategies/{vid}/deploy")
    assert r.status_code == 403 and r.json()["code"] == "role_required"
    shopper = _client(db, tmp_path, role=Role.SHOPPER)
    assert (
        shopper.post("/v1/credit/applications", json={"applicant": german_rows[0]}).status_code
        == 403
    )


@pytest.mark.parametrize("name", ["german_credit", "merchant_financing"])
def test_scorecards_are_readable(db: Database, tmp_path: Any, name: str) -> None:
    body = _client(db, tmp_path).get(f"/v1/credit/scorecards/{name}").json()
    assert body["name"] == name and body["features"] and all(f["bins"] for f in body["features"])
