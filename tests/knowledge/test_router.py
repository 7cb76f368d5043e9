"""``/v1/knowledge`` over HTTP with a fixed caller (the app's auth is tested elsewhere)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cockpit.tenancy.principal import Principal, Role
from knowledge.store import KnowledgeStore
from tests.support.knowledge_api import knowledge_client

Client = Callable[[str, Role], TestClient]


@pytest.fixture
def client_for(store: KnowledgeStore, tmp_path: Path) -> Client:
    def build(tenant: str, role: Role = Role.MERCHANT) -> TestClient:
        principal = Principal(tenant_id=tenant, role=role, key_id="k")
        return knowledge_client(store, principal, tmp_path)

    return build


def test_collection_document_query_round_trip(client_for: Client, markdown_doc: bytes) -> None:
    api = client_for("acme", Role.MERCHANT)
    assert api.post("/v1/knowledge/collections", json={"name": "manuals"}).status_code == 201
    upload = {
        "filename": "refunds.md",
        "content": markdown_doc.decode(),
        "tags": ["payments"],
        "version": "1",
    }
    created = api.post("/v1/knowledge/collections/manuals/documents", json=upload)
    assert created.status_code == 201, created.text
    assert created.json()["chunks"] == 3
    again = api.post("/v1/knowledge/collections/manuals/documents", json=upload)
    assert (again.status_code, again.json()["status"]) == (200, "unchanged")

    listed = api.get("/v1/knowledge/collections").json()["data"]
    assert {"name": "manuals", "shared": False, "chunks": 3, "description": ""} in listed
    docs = api.get("/v1/knowledge/collections/manuals/documents").json()["data"]
    assert [d["document_id"] for d in docs] == ["refunds"]
    assert api.get("/v1/knowledge/collections/manuals/documents/refunds").json()["version"] == "1"

    found = api.post("/v1/knowledge/query", json={"query": "refund window", "k": 2}).json()
    assert found["data"][0]["section"] == "Refund window"
    assert found["data"][0]["title"] == "Refund handbook"

    deleted = api.delete("/v1/knowledge/collections/manuals/documents/refunds")
    assert deleted.json() == {"document_id": "refunds", "deleted": True, "removed_chunks": 3}
    assert api.post("/v1/knowledge/query", json={"query": "refund window"}).json()["data"] == []
    assert api.delete("/v1/knowledge/collections/manuals").status_code == 204


def test_pdf_upload_as_base64(
    client_for: Client, pdf_factory: Callable[[list[str]], bytes]
) -> None:
    api = client_for("acme", Role.PARTNER)
    api.post("/v1/knowledge/collections", json={"name": "pdfs"})
    pdf = base64.b64encode(pdf_factory(["Evidence guide", "Keep carrier tracking."])).decode()
    resp = api.post(
        "/v1/knowledge/collections/pdfs/documents",
        json={"filename": "guide.pdf", "content_base64": pdf},
    )
    assert resp.status_code == 201, resp.text
    hit = api.post(
        "/v1/knowledge/query", json={"query": "carrier tracking", "collections": ["pdfs"]}
    ).json()["data"][0]
    assert (hit["document_id"], hit["section"]) == ("guide", "Page 1")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"filename": "a.md", "content": ""}, 422, "empty_document"),
        ({"filename": "a.exe", "content": "x"}, 422, "unsupported_type"),
        ({"filename": "a.pdf", "content_base64": "!!!"}, 422, "invalid_base64"),
        (
            {"filename": "a.txt", "content_base64": base64.b64encode(b"\x00\x01\x02").decode()},
            422,
            "binary_content",
        ),
        ({"filename": "a.md"}, 422, "validation_failed"),
    ],
)
def test_bad_uploads_get_clear_errors(
    client_for: Client, body: dict[str, str], status: int, code: str
) -> None:
    api = client_for("acme", Role.MERCHANT)
    api.post("/v1/knowledge/collections", json={"name": "docs"})
    resp = api.post("/v1/knowledge/collections/docs/documents", json=body)
    assert resp.status_code == status
    assert resp.json()["code"] == code
    assert api.get("/v1/knowledge/collections/docs/documents").json()["data"] == []


def test_other_tenant_gets_404(client_for: Client, markdown_doc: bytes) -> None:
    owner = client_for("tenant-a", Role.MERCHANT)
    owner.post("/v1/knowledge/collections", json={"name": "private"})
    owner.post(
        "/v1/knowledge/collections/private/documents",
        json={"filename": "r.md", "content": markdown_doc.decode()},
    )
    intruder = client_for("tenant-b", Role.MERCHANT)
    for resp in (
        intruder.get("/v1/knowledge/collections/private/documents"),
        intruder.get("/v1/knowledge/collections/private/documents/r"),
        intruder.post("/v1/knowledge/query", json={"query": "refund", "collections": ["private"]}),
        intruder.delete("/v1/knowledge/collections/private/documents/r"),
    ):
        assert resp.status_code == 404
        assert resp.json()["code"] == "collection_not_found"
    assert (
        intruder.post("/v1/knowledge/query", json={"query": "refund window"}).json()["data"] == []
    )
    assert intruder.get("/v1/knowledge/collections").json()["data"] == []


def test_shoppers_may_not_use_the_knowledge_api(client_for: Client) -> None:
    api = client_for("acme", Role.SHOPPER)
    resp = api.post("/v1/knowledge/collections", json={"name": "docs"})
    assert (resp.status_code, resp.json()["code"]) == (403, "role_required")
    assert api.post("/v1/knowledge/query", json={"query": "x"}).status_code == 403
