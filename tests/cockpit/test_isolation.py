"""Tenant isolation: tenant B's keys walk every route in the OpenAPI schema against tenant A's objects.

Each request carries what the document says the operation needs (required header parameters
such as ACP's ``API-Version`` and ``Idempotency-Key``, a minimal body), so it gets past the
protocol checks to the lookup; B's admin key goes first, and where it is refused (403: the
route wants a merchant-bound or shopper key) B's merchant-bound keys are tried in turn.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from cockpit.tenancy.principal import Role
from tests.support.apptest import Api, running_app
from tests.support.merchants import add_merchant
from tools.commerce.acp.catalog import seed_catalogue
from tools.commerce.acp.models import Feed

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


def _seed_cron(api: Api, key_a: str, thread_id: str) -> str:
    """A cron of A on A's thread (its id, schedule and input are A's)."""
    body = {
        "assistant_id": "spine",
        "schedule": "0 9 * * *",
        "input": {"messages": [{"role": "user", "content": "note secret-of-a"}]},
    }
    r = api.client.post(f"/threads/{thread_id}/runs/crons", json=body, headers=api.h(key_a))
    assert r.status_code == 200, r.text
    return str(r.json()["cron_id"])


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


MERCHANT_A, MERCHANT_B = "mer_iso_a", "mer_iso_b"
ACP_HEADERS = {"API-Version": "2026-04-17"}


def _bound_keys(api: Api, tenant_id: str, merchant_id: str) -> dict[str, str]:
    """A merchant of the tenant (with its catalogue) and a shopper and a merchant key bound to it."""
    svc = api.client.app.state.services  # type: ignore[attr-defined]
    add_merchant(svc.db, tenant_id, merchant_id)
    with svc.db.tenant_session(tenant_id) as s:
        seed_catalogue(s, merchant_id, at=datetime(2026, 1, 1, tzinfo=UTC))
    return {
        role.value: svc.keys.create_key(tenant_id, role, merchant_id=merchant_id).secret
        for role in (Role.SHOPPER, Role.MERCHANT)
    }


def _seed_acp(api: Api) -> dict[str, str]:
    """An ACP checkout session and a product feed of A."""
    shopper = _bound_keys(api, "tenant-a", MERCHANT_A)["shopper"]
    body = {
        "currency": "sgd",
        "line_items": [{"id": "volt_charger_65w"}],
        "capabilities": {"interventions": {"supported": []}},
    }
    headers = {**api.h(shopper), **ACP_HEADERS, "Idempotency-Key": str(uuid.uuid4())}
    r = api.client.post("/acp/checkout_sessions", json=body, headers=headers)
    assert r.status_code == 201, r.text
    svc = api.client.app.state.services  # type: ignore[attr-defined]
    with svc.db.tenant_session("tenant-a") as s:
        feed_id = s.scalars(select(Feed.id).where(Feed.merchant_id == MERCHANT_A)).one()
    sid = r.json()["id"]
    return {"checkout_session_id": sid, "session_id": sid, "feed_id": feed_id}


def _seed_webhooks(api: Api) -> dict[str, str]:
    """A's webhook endpoint and a delivery to it, written directly: the URL (a closed loopback
    port) is refused at send time in this app, so nothing is ever sent."""
    from cockpit.webhooks import WebhookEndpoint, enqueue
    from cockpit.webhooks.signing import generate_secret

    svc = api.client.app.state.services  # type: ignore[attr-defined]
    with svc.db.tenant_session("tenant-a") as s:
        s.add(
            WebhookEndpoint(
                id="we_isolation_a",
                url="http://127.0.0.1:9/a-hook",
                description="",
                event_types=["*"],
                enabled=True,
                secrets=[{"id": "whsk_a", "secret": generate_secret(), "expires_at": None}],
                created_by="test",
            )
        )
        s.flush()
        (delivery,) = enqueue(s, "tenant-a", "webhook.test", {"owner": "a"})
    return {"endpoint_id": "we_isolation_a", "delivery_id": delivery}


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
        "cron_id": _seed_cron(api, key_a, tid),
        "run_id": run_id,
        "approval_id": approval,
        "assistant_id": "a-private",
        "agent_id": "a-private",
        "alias": "live",
        "key_id": key_id,
        # Enumerated path segments get a valid value, so the id after them is what is looked up.
        "kind": "card",
        **_seed_credit(api, key_a),
        **_seed_acp(api),
        **_seed_webhooks(api),
    }


def _body(op: dict[str, Any], schemas: dict[str, Any]) -> tuple[Any, set[int]]:
    """A request body for the operation, and the answers that reveal nothing of A."""
    content = op.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    if not schema:
        return None, {404}
    name = schema.get("$ref", "").rsplit("/", 1)[-1]
    if name in BODIES:
        return BODIES[name], {404}
    # Domain routers: required fields filled minimally from the schema. Such a body may still
    # fail the route's own checks (422), and one the schema cannot vouch for (patterns,
    # formats) its validation too (400/422); both happen before any lookup and so reveal
    # nothing. A 2xx would be a leak.
    body, conforms = _minimal(schema, schemas)
    return body, {404, 422} if conforms else {404, 400, 422}


def _minimal(schema: dict[str, Any], schemas: dict[str, Any]) -> tuple[Any, bool]:
    """The smallest instance of a JSON Schema, and whether it surely conforms."""
    if "$ref" in schema:
        return _minimal(schemas.get(schema["$ref"].rsplit("/", 1)[-1], {}), schemas)
    if "const" in schema:
        return schema["const"], True
    if "enum" in schema:
        return schema["enum"][0], True
    options = schema.get("anyOf") or schema.get("oneOf")
    if options:
        usable = [o for o in options if o.get("type") != "null"] or options
        return _minimal(usable[0], schemas)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        out, valid = {}, "allOf" not in schema
        for key in schema.get("required", []):
            out[key], ok = _minimal(props.get(key, {}), schemas)
            valid = valid and ok and key in props
        return out, valid
    if kind == "array":
        items = [
            _minimal(schema.get("items", {}), schemas) for _ in range(schema.get("minItems", 0))
        ]
        return [v for v, _ in items], all(ok for _, ok in items)
    if kind == "string":
        size = max(1, schema.get("minLength", 0))
        return "x" * size, not ({"pattern", "format"} & schema.keys())
    if kind in ("integer", "number"):
        return schema.get("minimum", 0), "exclusiveMinimum" not in schema
    if kind == "boolean":
        return False, True
    return "x", False


def _headers(op: dict[str, Any]) -> dict[str, str]:
    """The operation's string header parameters, filled from their schemas (an enum's first
    value, else a fresh UUID: a valid ``Idempotency-Key``, ``Request-Id``…)."""
    out = {}
    for param in op.get("parameters", []):
        schema = param.get("schema", {})
        options = [o for o in schema.get("anyOf", [schema]) if o.get("type") != "null"]
        if param.get("in") != "header" or not options or options[0].get("type") != "string":
            continue
        enum = options[0].get("enum")
        out[param["name"]] = str(enum[0]) if enum else str(uuid.uuid4())
    return out


@pytest.mark.parametrize("db", ["sqlite", "postgres"])
def test_tenant_b_cannot_reach_tenant_a(
    tmp_path: Path, db: str, request: pytest.FixtureRequest
) -> None:
    url = None if db == "sqlite" else request.getfixturevalue("migrated_pg_url")
    with running_app(tmp_path, url) as api:
        key_a, key_b = api.tenant("tenant-a"), api.tenant("tenant-b")
        ids = _seed_a(api, key_a)
        schema = api.client.get("/openapi.json").json()
        schemas = schema.get("components", {}).get("schemas", {})
        keys_b = [key_b, *_bound_keys(api, "tenant-b", MERCHANT_B).values()]
        secrets = [
            ids[k]
            for k in (
                "thread_id", "cron_id", "run_id", "approval_id", "key_id", "decision_id",
                "checkout_session_id", "feed_id", "endpoint_id", "delivery_id",
            )
        ] + ["a-private", "secret-of-a"]  # fmt: skip
        checked = 0
        for path, ops in schema["paths"].items():
            params = re.findall(r"{(\w+)}", path)
            for method, op in ops.items():
                body, allowed = _body(op, schemas)
                if params:
                    concrete = path
                    for p in params:
                        concrete = concrete.replace("{" + p + "}", ids.get(p, str(uuid.uuid4())))
                    # B's admin first; a 403 (the route wants a bound key) tries the next key.
                    for n, key in enumerate(keys_b, 1):
                        headers = {**api.h(key), **_headers(op)}
                        r = api.client.request(method.upper(), concrete, headers=headers, json=body)
                        leaked = [x for x in secrets if x in r.text and x not in concrete]
                        assert not leaked, (method, concrete, r.text)  # echoing the path is not
                        if r.status_code == 403 and n < len(keys_b):
                            continue
                        assert r.status_code in allowed, (method, concrete, r.status_code, r.text)
                        break
                    checked += 1
                else:
                    if path in ("/v1/tenants",) or (method == "post" and path == "/v1/keys"):
                        continue  # B creating its own objects is not a read of A's.
                    headers = {**api.h(key_b), **_headers(op)}
                    r = api.client.request(method.upper(), path, headers=headers, json=body)
                    text = r.text
                    for secret in secrets:
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
