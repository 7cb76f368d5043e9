"""The OpenAPI document says what the server does: errors, security, bounds, streams, types."""

from __future__ import annotations

from typing import Any

import pytest

from cockpit.api.limits import ID_PATTERN
from cockpit.app import create_app
from cockpit.config import Settings
from tests.support.spinekit import AGENTS_DIR


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
