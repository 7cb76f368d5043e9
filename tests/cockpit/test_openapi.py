"""The OpenAPI document says what the server does: errors, security, bounds, streams, types."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from jsonschema import Draft202012Validator

from cockpit.api.limits import ID_PATTERN
from cockpit.api.openapi import ERROR_STATUSES, SCHEMAS, build_openapi
from cockpit.app import create_app
from cockpit.config import Settings
from tests.support.spinekit import AGENTS_DIR
from tools.commerce.acp.wire import SUPPORTED_VERSIONS


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    app = create_app(Settings(agents_path=[AGENTS_DIR], tool_modules=["tests.support.spinekit"]))
    document: dict[str, Any] = app.openapi()
    return document


def _ops(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, ops in doc["paths"].items() for method, op in ops.items()]


def test_errors_are_one_declared_schema(doc: dict[str, Any]) -> None:
    error = doc["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"type", "code", "message", "param"}
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    ref = {"$ref": "#/components/schemas/Error"}
    acp = doc["components"]["schemas"]["AcpError"]  # ACP's own flat Error: param is optional
    assert set(acp["required"]) == {"type", "code", "message"}
    acp_ref = {"$ref": "#/components/schemas/AcpError"}
    for path, _method, op in _ops(doc):
        for status, response in op["responses"].items():
            if status.startswith(("4", "5")):
                want = acp_ref if path.startswith("/acp/") else ref
                assert response["content"]["application/json"]["schema"] == want, (path, status)
    create = doc["paths"]["/threads"]["post"]["responses"]
    assert {"400", "401", "403", "409", "413", "422"} <= set(create)
    assert {"401", "403", "404", "422"} <= set(
        doc["paths"]["/threads/{thread_id}"]["get"]["responses"]
    )


def test_the_api_key_is_required_where_routes_authenticate(doc: dict[str, Any]) -> None:
    schemes = doc["components"]["securitySchemes"]
    assert schemes["ApiKey"] == {"type": "apiKey", "in": "header", "name": "x-api-key"}
    public = {path for path, _method, op in _ops(doc) if "security" not in op}
    assert public == {"/ok", "/info", "/.well-known/acp.json"}
    assert "401" not in doc["paths"]["/ok"]["get"]["responses"]


def test_boundary_rules_are_published(doc: dict[str, Any]) -> None:
    params = {
        p["name"]: p for p in doc["paths"]["/threads/{thread_id}/history"]["get"]["parameters"]
    }
    assert params["thread_id"]["schema"]["pattern"] == ID_PATTERN
    assert params["thread_id"]["schema"]["maxLength"] == 64
    assert (params["limit"]["schema"]["minimum"], params["limit"]["schema"]["maximum"]) == (1, 1000)
    audit = {p["name"]: p["schema"] for p in doc["paths"]["/v1/audit"]["get"]["parameters"]}
    assert audit["after_seq"]["maximum"] == 2**63 - 1


def test_streams_and_runtime_bodies_are_typed(doc: dict[str, Any]) -> None:
    for path in ("/threads/{thread_id}/runs/stream", "/runs/stream"):
        assert set(doc["paths"][path]["post"]["responses"]["200"]["content"]) == {
            "text/event-stream"
        }
    export = doc["paths"]["/v1/audit/export"]["get"]["responses"]["200"]["content"]
    assert set(export) == {"application/x-ndjson"}
    thread = doc["paths"]["/threads"]["post"]["responses"]["200"]["content"]["application/json"]
    assert thread["schema"] == {"$ref": "#/components/schemas/Thread"}
    runs = doc["paths"]["/threads/{thread_id}/runs"]["get"]["responses"]["200"]["content"]
    assert runs["application/json"]["schema"]["items"] == {"$ref": "#/components/schemas/Run"}
    assert "requestBody" in doc["paths"]["/v1/agents"]["post"]


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


def test_acp_routes_declare_their_headers_bodies_and_exact_errors(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    missing = {r for r in _refs(doc) if r.removeprefix("#/components/schemas/") not in schemas}
    assert not missing
    for name, schema in schemas.items():
        if name.startswith("Acp"):
            Draft202012Validator.check_schema(schema)

    def op(path: str, method: str = "post") -> dict[str, Any]:
        found: dict[str, Any] = doc["paths"][path][method]
        return found

    def headers(o: dict[str, Any]) -> dict[str, dict[str, Any]]:
        return {p["name"]: p for p in o.get("parameters", []) if p["in"] == "header"}

    def errors(o: dict[str, Any]) -> set[int]:
        return {int(s) for s in o["responses"] if s.startswith(("4", "5"))}

    def body(o: dict[str, Any]) -> str:
        ref: str = o["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        return ref.rsplit("/", 1)[-1]

    cs = "/acp/checkout_sessions"
    create, get = op(cs), op(cs + "/{checkout_session_id}", "get")
    cancel = op(cs + "/{checkout_session_id}/cancel")
    delegate = op("/acp/agentic_commerce/delegate_payment")
    feed = op("/acp/feeds")
    version = headers(create)["API-Version"]
    assert version["required"] and version["schema"]["enum"] == list(SUPPORTED_VERSIONS)
    assert not headers(feed)["API-Version"]["required"]  # the feed API checks it when sent
    idem = headers(create)["Idempotency-Key"]
    assert idem["required"] and (idem["schema"]["minLength"], idem["schema"]["maxLength"]) == (
        1,
        255,
    )
    assert "Idempotency-Key" not in headers(get)
    assert {"Request-Id", "Signature", "Timestamp", "Accept-Language"} <= set(headers(get))
    assert not any(headers(get)[h]["required"] for h in ("Request-Id", "Signature"))
    assert (body(create), body(cancel), body(delegate)) == (
        "AcpCreateRequest",
        "AcpCancelRequest",
        "AcpDelegatePaymentRequest",
    )
    assert create["requestBody"]["required"] and not cancel["requestBody"]["required"]
    assert set(schemas["AcpCreateRequest"]["required"]) == {
        "line_items",
        "currency",
        "capabilities",
    }
    assert "201" in create["responses"] and "201" in delegate["responses"]
    assert errors(create) == {400, 401, 403, 409, 413, 422}
    assert errors(get) == {400, 401, 403, 404, 422}
    assert errors(cancel) == {400, 401, 403, 404, 405, 409, 413, 422}
    assert errors(delegate) == {400, 401, 403, 413, 422}  # no run-once claim: nothing in flight
    assert errors(op("/acp/ap2/keys", "get")) == {401, 403}
    assert not headers(op("/acp/ap2/keys", "get"))


def test_routes_may_list_their_statuses_and_schemas() -> None:
    app = FastAPI()
    extra = {
        ERROR_STATUSES: [404],
        SCHEMAS: {"Thing": {"type": "object", "title": "Thing"}},
        "requestBody": {
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}
        },
    }

    @app.post("/things/{thing_id}", openapi_extra=extra)
    def thing(thing_id: str) -> None: ...

    document = build_openapi(app)
    responses = document["paths"]["/things/{thing_id}"]["post"]["responses"]
    assert set(responses) == {"200", "404"}  # not the inferred 400/413/422
    assert document["components"]["schemas"]["Thing"] == {"type": "object", "title": "Thing"}

    @app.post("/other", openapi_extra={SCHEMAS: {"Thing": {"type": "string"}}})
    def other() -> None: ...

    with pytest.raises(ValueError, match="Thing"):
        build_openapi(app)
