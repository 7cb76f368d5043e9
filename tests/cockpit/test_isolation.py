"""Tenant isolation: tenant B's key walks every route in the OpenAPI schema against tenant A's objects."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.support.apptest import Api, running_app

BODIES: dict[str, Any] = {
    "RunCreate": {
        "assistant_id": "spine",
        "input": {"messages": [{"role": "user", "content": "note hi"}]},
    },
    "Decision": {"action": "approve"},
    "AliasMove": {"version": 1},
    "ThreadPatch": {"metadata": {"owner": "b"}},
    "ThreadCreate": {},
    "ThreadSearch": {},
    "AssistantSearch": {},
    "HistoryQuery": {"limit": 5},
    "KeyCreate": {"role": "merchant"},
    "TenantCreate": {"tenant_id": "zz-other"},
}
A_AGENT = {
    "id": "a-private",
    "name": "A private agent",
    "description": "An agent only tenant A has; B must never see it.",
    "instructions": "be brief",
    "model": "fake:spine",
    "tools": [{"name": "spine_note"}],
}
CREDIT_STRATEGY = Path(__file__).parents[2] / "tools/credit/strategies/merchant_default.json"
CREDIT_APPLICANT = {
    "monthly_revenue": 30_000,
    "revenue_growth": 0.05,
    "revenue_volatility": 0.2,
    "dispute_rate": 0.003,
    "refund_rate": 0.02,
    "tenure_months": 30,
    "mcc_risk": "low",
    "market": "EU",
    "requested_amount": 10_000,
    "existing_financing": "none",
}


def _seed_credit(api: Api, key_a: str) -> dict[str, str]:
    """A deployed strategy version and a stored credit decision of A."""
    c, h = api.client, api.h(key_a)
    spec = json.loads(CREDIT_STRATEGY.read_text())
    version_id = c.post("/v1/credit/strategies", json=spec, headers=h).json()["id"]
    assert c.post(f"/v1/credit/strategies/{version_id}/deploy", headers=h).status_code == 200
    body = {"strategy": spec["name"], "applicant": CREDIT_APPLICANT}
    r = c.post("/v1/credit/applications", json=body, headers=h)
    assert r.status_code == 201, r.text
    return {"version_id": version_id, "decision_id": r.json()["id"]}


def _seed_a(api: Api, key_a: str) -> dict[str, str]:
    c = api.client
    assert c.post("/v1/agents", json=A_AGENT, headers=api.h(key_a)).status_code == 201
    tid = c.post("/threads", json={"metadata": {"owner": "a"}}, headers=api.h(key_a)).json()[
        "thread_id"
    ]
    api.say(key_a, tid, "note secret-of-a")
    out = api.say(key_a, tid, "pay 500.00 USD to alice")
    approval = out["__interrupt__"][0]["value"]["approval_id"]
    run_id = c.get(f"/threads/{tid}/runs", headers=api.h(key_a)).json()[0]["run_id"]
    key_id = c.get("/v1/keys", headers=api.h(key_a)).json()[0]["id"]
    return {
        "thread_id": tid,
        "run_id": run_id,
        "approval_id": approval,
        "assistant_id": "a-private",
        "agent_id": "a-private",
        "alias": "live",
        "key_id": key_id,
        # Enumerated path segments get a valid value, so the id after them is what is looked up.
        "kind": "card",
        **_seed_credit(api, key_a),
    }


def _body(op: dict[str, Any], schemas: dict[str, Any]) -> tuple[Any, bool]:
    """A request body for the operation, and whether it is known to be valid."""
    content = op.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    if not schema:
        return None, True
    name = schema.get("$ref", "").rsplit("/", 1)[-1]
    if name in BODIES:
        return BODIES[name], True
    # Domain routers: required fields filled minimally. Such a body may fail validation (422),
    # which happens before any lookup and so reveals nothing; a 2xx would be a leak.
    props = schemas.get(name, {}).get("properties", {})
    return {k: "x" for k in schemas.get(name, {}).get("required", []) if k in props}, False


@pytest.mark.parametrize("db", ["sqlite", "postgres"])
def test_tenant_b_cannot_reach_tenant_a(
    tmp_path: Path, db: str, request: pytest.FixtureRequest
) -> None:
    url = None if db == "sqlite" else request.getfixturevalue("fresh_pg_url")
    with running_app(tmp_path, url) as api:
        key_a, key_b = api.tenant("tenant-a"), api.tenant("tenant-b")
        ids = _seed_a(api, key_a)
        schema = api.client.get("/openapi.json").json()
        schemas = schema.get("components", {}).get("schemas", {})
        checked = 0
        for path, ops in schema["paths"].items():
            params = re.findall(r"{(\w+)}", path)
            for method, op in ops.items():
                body, valid = _body(op, schemas)
                allowed = {404} if valid else {404, 422}
                if params:
                    concrete = path
                    for p in params:
                        concrete = concrete.replace("{" + p + "}", ids.get(p, str(uuid.uuid4())))
                    r = api.client.request(
                        method.upper(), concrete, headers=api.h(key_b), json=body
                    )
                    assert r.status_code in allowed, (method, concrete, r.status_code, r.text)
                    checked += 1
                else:
                    if path in ("/v1/tenants",) or (method == "post" and path == "/v1/keys"):
                        continue  # B creating its own objects is not a read of A's.
                    r = api.client.request(method.upper(), path, headers=api.h(key_b), json=body)
                    text = r.text
                    for secret in (
                        ids["thread_id"],
                        ids["run_id"],
                        ids["approval_id"],
                        "a-private",
                        "secret-of-a",
                        ids["key_id"],
                        ids["decision_id"],
                    ):
                        assert secret not in text, (method, path, secret)
                    checked += 1
        assert checked >= 25
        # A still sees its own objects, untouched by B's attempts.
        tid = ids["thread_id"]
        thread = api.client.get(f"/threads/{tid}", headers=api.h(key_a)).json()
        assert thread["metadata"] == {"owner": "a"} and thread["status"] == "interrupted"
        decision = api.client.get(
            f"/v1/credit/decisions/{ids['decision_id']}", headers=api.h(key_a)
        )
        assert decision.status_code == 200
        audit = api.client.get("/v1/audit", headers=api.h(key_a)).json()
        assert any(r["kind"] == "approval_requested" for r in audit)
        assert api.client.get("/v1/audit/verify", headers=api.h(key_a)).json()["ok"] is True
        # B's own audit chain holds nothing of A's.
        b_audit = api.client.get("/v1/audit", headers=api.h(key_b)).json()
        assert all(tid not in str(r) for r in b_audit)
