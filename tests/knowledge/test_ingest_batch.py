"""Several documents in one upload: the same results as one by one, and all or none written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import chromadb
import pytest
from chromadb.config import Settings as ChromaSettings

from cockpit.embeddings import HashingEmbedder
from cockpit.errors import PermissionDenied, ValidationFailed
from cockpit.tenancy.principal import Principal, Role
from knowledge.bm25 import BM25Index
from knowledge.ingest import DocumentInput
from knowledge.store import KnowledgeStore
from tests.support.knowledge_api import knowledge_client


def _doc(n: int, extra: str = "") -> DocumentInput:
    text = f"# Policy {n}\n\n## Scope\n\nRule {n} covers pelican{n} refunds.{extra}\n"
    return DocumentInput(text.encode(), f"policy-{n}.md", tags=("policy",))


def _embedded(path: Path) -> KnowledgeStore:
    client = chromadb.PersistentClient(
        path=str(path), settings=ChromaSettings(anonymized_telemetry=False)
    )
    return KnowledgeStore(client, embedder=HashingEmbedder(256))


def _ids(store: KnowledgeStore, tenant: str, collection: str) -> list[str]:
    return sorted(store._collection(store._resolve(tenant, collection)).get(include=[])["ids"])


def test_a_batch_stores_what_one_by_one_uploads_store(tmp_path: Path) -> None:
    batched, single = _embedded(tmp_path / "a"), _embedded(tmp_path / "b")
    for store in (batched, single):
        store.create_collection("acme", "docs")
    results = batched.ingest_many("acme", "docs", [_doc(1), _doc(2), _doc(3)])
    for n in (1, 2, 3):
        doc = _doc(n)
        single.ingest("acme", "docs", doc.data, filename=doc.filename, tags=doc.tags)
    assert [(r.document_id, r.status, r.chunks) for r in results] == [
        ("policy-1", "created", 1),
        ("policy-2", "created", 1),
        ("policy-3", "created", 1),
    ]
    assert _ids(batched, "acme", "docs") == _ids(single, "acme", "docs")
    hits = batched.query("acme", "pelican2", collections=["docs"], k=1)
    assert [h.document_id for h in hits] == ["policy-2"]


def test_a_batch_reports_unchanged_replaced_and_created(store: KnowledgeStore) -> None:
    store.create_collection("acme", "docs")
    store.ingest_many("acme", "docs", [_doc(1), _doc(2)])
    again = store.ingest_many("acme", "docs", [_doc(1), _doc(2, " And heron."), _doc(3)])
    assert [(r.document_id, r.status, r.removed_chunks) for r in again] == [
        ("policy-1", "unchanged", 0),
        ("policy-2", "replaced", 1),
        ("policy-3", "created", 0),
    ]
    assert len(_ids(store, "acme", "docs")) == 3
    assert [h.document_id for h in store.query("acme", "heron", mode="bm25")] == ["policy-2"]


def test_one_bad_document_writes_none(store: KnowledgeStore) -> None:
    store.create_collection("acme", "docs")
    bad = DocumentInput(b"x", "bad.md", document_id="no spaces allowed")
    with pytest.raises(ValidationFailed) as info:
        store.ingest_many("acme", "docs", [_doc(1), bad])
    assert info.value.code == "invalid_document_id"
    with pytest.raises(ValidationFailed) as twice:
        store.ingest_many("acme", "docs", [_doc(1), _doc(1)])
    assert twice.value.code == "duplicate_document_id"
    assert _ids(store, "acme", "docs") == []


def test_batches_keep_ownership_rules(store: KnowledgeStore) -> None:
    store.create_collection("acme", "tenant-wide")
    with pytest.raises(PermissionDenied) as info:
        store.ingest_many("acme", "tenant-wide", [_doc(1)], merchant_id="m1")
    assert info.value.code == "read_only_collection"
    assert _ids(store, "acme", "tenant-wide") == []
    # another tenant's batch lands in its own namespace only
    store.ingest_many("globex", "tenant-wide", [_doc(1)], create=True)
    assert store.query("acme", "pelican1", collections=["tenant-wide"]) == []


def test_batch_endpoint(store: KnowledgeStore, tmp_path: Path) -> None:
    principal = Principal(tenant_id="acme", role=Role.MERCHANT, key_id="k")
    api = knowledge_client(store, principal, tmp_path)
    api.post("/v1/knowledge/collections", json={"name": "kbase"})

    def upload(n: int) -> dict[str, Any]:
        return {"filename": f"policy-{n}.md", "content": _doc(n).data.decode()}

    reply = api.post(
        "/v1/knowledge/collections/kbase/documents/batch",
        json={"documents": [upload(1), upload(2)]},
    )
    assert reply.status_code == 200, reply.text
    assert [d["status"] for d in reply.json()["data"]] == ["created", "created"]
    too_many = api.post(
        "/v1/knowledge/collections/kbase/documents/batch",
        json={"documents": [upload(n) for n in range(101)]},
    )
    assert too_many.status_code == 422
    docs = api.get("/v1/knowledge/collections/kbase/documents").json()["data"]
    assert [d["document_id"] for d in docs] == ["policy-1", "policy-2"]


def test_bm25_ties_rank_by_row_and_scores_match_the_formula() -> None:
    index = BM25Index.build(["a", "b", "c"], ["refund policy", "refund policy", "other words"])
    found = index.search("refund", limit=5)
    assert [i for i, _ in found] == ["a", "b"]
    assert found[0][1] == found[1][1] > 0
