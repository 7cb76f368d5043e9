"""Merchant ownership of knowledge collections.

A key bound to a merchant writes only collections it (or another key of its merchant)
created; tenant-wide collections and the shared corpus are read-only to it; another
merchant's collection does not exist for it (404, reads included). A key bound to no
merchant reads and writes every collection of its tenant.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cockpit.errors import NotFound
from cockpit.tenancy.principal import Principal, Role
from cockpit.toolkit import ToolContext, default_registry
from knowledge.store import KnowledgeStore
from tests.support.knowledge_api import knowledge_client

TENANT = "acme"
Client = Callable[[str | None], TestClient]
A_DOC = {"filename": "a-secret.md", "content": "# Ledger of A\n\nZebracorn settlement terms."}
T_DOC = {"filename": "policy.md", "content": "# Tenant policy\n\nQuokka refund rules."}


def _principal(merchant: str | None) -> Principal:
    return Principal(TENANT, Role.MERCHANT, f"k-{merchant or 'tenant'}", merchant)


@pytest.fixture
def client_for(store: KnowledgeStore, tmp_path: Path) -> Client:
    def build(merchant: str | None) -> TestClient:
        return knowledge_client(store, _principal(merchant), tmp_path)

    return build


def _search(store: KnowledgeStore, merchant: str | None, **args: object) -> dict[str, object]:
    tool = default_registry.get("search_knowledge")
    no_db: Any = None  # search_knowledge reads Chroma only
    ctx = ToolContext(principal=_principal(merchant), db=no_db, extras={"knowledge": store})
    return tool.fn(ctx, tool.args.model_validate(args))  # type: ignore[no-any-return]


def test_another_merchants_collection_is_not_found(
    client_for: Client, store: KnowledgeStore
) -> None:
    a, b, tenant = client_for("mer_a"), client_for("mer_b"), client_for(None)
    assert a.post("/v1/knowledge/collections", json={"name": "a-docs"}).status_code == 201
    r = a.post("/v1/knowledge/collections/a-docs/documents", json=A_DOC)
    assert r.status_code == 201, r.text
    base = "/v1/knowledge/collections/a-docs"

    names = [c["name"] for c in b.get("/v1/knowledge/collections").json()["data"]]
    assert "a-docs" not in names
    for method, path, body in [
        ("GET", f"{base}/documents", None),
        ("GET", f"{base}/documents/a-secret", None),
        ("DELETE", f"{base}/documents/a-secret", None),
        ("POST", f"{base}/documents", T_DOC),
        ("DELETE", base, None),
    ]:
        r = b.request(method, path, json=body)
        assert r.status_code == 404, (method, path, r.text)
        assert r.json()["code"] == "collection_not_found", (method, path)
    r = b.post("/v1/knowledge/query", json={"query": "zebracorn", "collections": ["a-docs"]})
    assert r.status_code == 404
    hits = b.post("/v1/knowledge/query", json={"query": "zebracorn settlement"}).json()["data"]
    assert all(h["collection"] != "a-docs" for h in hits)
    with pytest.raises(NotFound):
        _search(store, "mer_b", query="zebracorn", collections=["a-docs"])
    found = _search(store, "mer_b", query="zebracorn settlement terms")
    assert all("a-docs/" not in c for c in found["citations"])  # type: ignore[attr-defined]

    # The document survived B's attempts; A and the tenant-wide key still read and write it.
    assert [d["document_id"] for d in a.get(f"{base}/documents").json()["data"]] == ["a-secret"]
    assert tenant.get(f"{base}/documents/a-secret").status_code == 200
    assert "a-docs" in [c["name"] for c in tenant.get("/v1/knowledge/collections").json()["data"]]
    hits = _search(store, "mer_a", query="zebracorn settlement terms", collections=["a-docs"])
    assert hits["passages"]
    assert a.delete(f"{base}/documents/a-secret").status_code == 200
    assert tenant.delete(base).status_code == 204


def test_tenant_wide_and_shared_collections_are_read_only_to_a_bound_key(
    client_for: Client, store: KnowledgeStore
) -> None:
    a, tenant = client_for("mer_a"), client_for(None)
    assert tenant.post("/v1/knowledge/collections", json={"name": "policies"}).status_code == 201
    assert (
        tenant.post("/v1/knowledge/collections/policies/documents", json=T_DOC).status_code == 201
    )
    store.ensure_shared_collection("corpus-x")
    store.ingest_shared("corpus-x", b"# Shared\n\nWombat chargeback guide.", filename="w.md")

    for name in ("policies", "corpus-x"):
        base = f"/v1/knowledge/collections/{name}"
        assert a.get(f"{base}/documents").status_code == 200, name
        for method, path, body in [
            ("POST", f"{base}/documents", A_DOC),
            ("DELETE", f"{base}/documents/policy", None),
            ("DELETE", f"{base}/documents/w", None),
            ("DELETE", base, None),
        ]:
            r = a.request(method, path, json=body)
            assert r.status_code == 403, (method, path, r.text)
            assert r.json()["code"] == "read_only_collection"
    # Creating one under a taken tenant-wide name is a conflict, not a takeover.
    assert a.post("/v1/knowledge/collections", json={"name": "policies"}).status_code == 409
    assert [
        d["document_id"]
        for d in tenant.get("/v1/knowledge/collections/policies/documents").json()["data"]
    ] == ["policy"]
    # The tenant-wide key still writes its collection.
    assert tenant.delete("/v1/knowledge/collections/policies/documents/policy").status_code == 200
