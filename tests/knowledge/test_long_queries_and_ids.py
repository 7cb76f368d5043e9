"""Long task descriptions as queries, free-form document ids, JSON records with Markdown text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cockpit.errors import ValidationFailed
from cockpit.tenancy.principal import Principal, Role
from knowledge import search
from knowledge.ingest import DocumentInput
from knowledge.parse import parse_document
from knowledge.segment import LONG_QUERY_LIMIT, SHORT_QUERY_LIMIT, fuse_by_document, split_query
from knowledge.store import KnowledgeStore
from tests.knowledge.conftest import new_store
from tests.support.knowledge_api import knowledge_client

TOPICS = {
    "refunds": "Refunds are accepted for 365 days after capture; partial refunds are allowed.",
    "chargebacks": "A chargeback needs the tracking number and the signed delivery receipt.",
    "payouts": "Payouts settle on the second business day to the verified bank account.",
    "fx": "Cross-currency captures use the mid-market rate of the capture day plus a margin.",
    "kyb": "Business verification asks for the registry extract and the owners' passports.",
}


@pytest.fixture
def kb(tmp_path: Path) -> KnowledgeStore:
    store = new_store(tmp_path / "chroma")
    store.create_collection("acme", "policies")
    docs = [
        DocumentInput(f"# {name}\n\n{text}\n".encode(), f"{name}.md", document_id=f"policy({name})")
        for name, text in TOPICS.items()
    ]
    store.ingest_many("acme", "policies", docs)
    return store


def _long_query() -> str:
    filler = "The customer is polite and gives their account number when asked. " * 8
    return "\n\n".join(
        [
            f"{filler}They ask whether a refund is still possible after 200 days of capture.",
            f"{filler}They also dispute a chargeback and wonder which tracking number to send.",
            f"{filler}Finally they want to know when payouts settle to their bank account.",
        ]
    )


def test_split_query_keeps_paragraphs_and_covers_the_text() -> None:
    text = _long_query()
    windows = split_query(text, window=600)
    assert all(0 < len(w) <= 600 for w in windows)
    words = [w for window in windows for w in window.split()]
    assert words == text.split()
    assert split_query("one line") == ["one line"]


def test_fuse_by_document_keeps_one_chunk_per_document() -> None:
    fused = fuse_by_document(
        [
            [("c|a#1", "c|a"), ("c|a#2", "c|a"), ("c|b#1", "c|b")],
            [("c|b#2", "c|b"), ("c|a#2", "c|a")],
        ]
    )
    assert [key for key, _ in fused] == ["c|a#1", "c|b#2"]
    assert fused[0][1] == pytest.approx(1 / 61 + 1 / 62)


def test_long_queries_are_segmented_and_return_each_document_once(kb: KnowledgeStore) -> None:
    text = _long_query() * 2
    assert len(text) > SHORT_QUERY_LIMIT
    hits = kb.query("acme", text, k=5, mode="bm25", segment_long=True)
    ids = [h.document_id for h in hits]
    assert len(ids) == len(set(ids))
    assert {"policy(refunds)", "policy(chargebacks)", "policy(payouts)"} <= set(ids[:3])
    hybrid = kb.query("acme", text, k=3, segment_long=True)
    assert len({h.document_id for h in hybrid}) == 3


def test_short_queries_take_the_unsegmented_path(
    kb: KnowledgeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("short queries are never segmented")

    monkeypatch.setattr(search, "split_query", refuse)
    hits = kb.query("acme", "x" * (SHORT_QUERY_LIMIT - 10) + " refund", k=3, segment_long=True)
    assert len(hits) <= 3
    with pytest.raises(ValidationFailed) as info:
        kb.query("acme", "refund " * 300)
    assert info.value.code == "query_too_long"


def test_queries_past_the_long_limit_are_refused(kb: KnowledgeStore) -> None:
    with pytest.raises(ValidationFailed) as info:
        kb.query("acme", "refund " * 4000, segment_long=True)
    assert info.value.code == "query_too_long"


def test_document_ids_keep_printable_characters(kb: KnowledgeStore) -> None:
    odd = "faq:refunds_(EU)_[v2]_'draft'_\"x\";DROP--é"
    kb.ingest("acme", "policies", b"Heron refunds.", filename="a.txt", document_id=odd)
    assert kb.get_document("acme", "policies", odd).document_id == odd
    assert [h.document_id for h in kb.query("acme", "heron", mode="bm25", k=1)] == [odd]
    assert kb.delete_document("acme", "policies", odd) == 1


@pytest.mark.parametrize("bad", ["a b", "tab\there", "../etc", "a/../b", "a/./b", "x" * 201])
def test_document_ids_still_refuse_spaces_and_dot_segments(kb: KnowledgeStore, bad: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        kb.ingest("acme", "policies", b"text", filename="a.txt", document_id=bad)
    assert info.value.code == "invalid_document_id"


def test_json_record_with_markdown_content_is_parsed_as_markdown() -> None:
    record = {
        "id": "doc_042",
        "title": "Wire transfer limits",
        "content": "# Wire transfers\n\nIntro.\n\n## Daily limit\n\nUp to 10,000 a day.\n",
    }
    doc = parse_document(json.dumps(record).encode(), filename="doc_042.json")
    assert doc.doc_type == "json"
    assert doc.title == "Wire transfer limits"
    assert [s.path for s in doc.sections] == [(), ("Daily limit",)]
    assert doc.sections[1].text == "Up to 10,000 a day."
    body_only = parse_document(json.dumps({"body": "# Fees\n\nNone."}).encode(), filename="f.json")
    assert body_only.title == "Fees"
    assert [s.text for s in body_only.sections] == ["None."]


def test_http_query_accepts_a_long_task_description(kb: KnowledgeStore, tmp_path: Path) -> None:
    principal = Principal(tenant_id="acme", role=Role.MERCHANT, key_id="k")
    api = knowledge_client(kb, principal, tmp_path)
    body = {"query": _long_query() * 2, "k": 3, "mode": "bm25", "collections": ["policies"]}
    found = api.post("/v1/knowledge/query", json=body)
    assert found.status_code == 200, found.text
    assert len({hit["document_id"] for hit in found.json()["data"]}) == 3
    too_long = api.post("/v1/knowledge/query", json={"query": "x" * (LONG_QUERY_LIMIT + 1)})
    assert too_long.status_code == 422
