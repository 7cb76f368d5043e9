"""Our corpus: it loads fast and idempotently, it is clean, and the integration guide
matches the real API (errors, error body, auth headers, webhook signatures)."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.requests import Request

import cockpit.errors as errors
from cockpit.api.deps import _api_key
from cockpit.api.errors import install_error_handlers
from evals.retrieval import load_questions
from knowledge.corpus import CORPUS_DIR, corpus_files, load_shared_corpus
from knowledge.parse import parse_document
from knowledge.store import KnowledgeStore

GUIDE = (CORPUS_DIR / "integration-guide.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", GUIDE, re.S | re.M)
    assert match, f"guide has no section {title!r}"
    return match.group(1)


def test_guide_error_table_matches_cockpit_errors() -> None:
    rows = re.findall(r"^\| (\w+) \| (\w+) \| (\d+) \| (\w+) \|$", _section("Error types"), re.M)
    documented = {name: (type_, int(status), code) for name, type_, status, code in rows}
    actual = {
        name: (cls.type, cls.status, cls.default_code)
        for name, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.CockpitError) and cls is not errors.CockpitError
    }
    assert documented == actual


def test_guide_error_body_matches_the_http_layer() -> None:
    example = json.loads(re.search(r"```json\n(.*?)\n```", _section("Error shape"), re.S).group(1))  # type: ignore[union-attr]
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise errors.NotFound(
            "no collection 'manuals'", code="collection_not_found", param="collection"
        )

    body = TestClient(app).get("/boom").json()
    assert body == example


def _request(headers: dict[str, str]) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "headers": raw, "method": "GET", "path": "/"})


def test_guide_auth_headers_match_the_api() -> None:
    section = _section("Authentication with API keys")
    assert "`x-api-key`" in section and "`Authorization: Bearer <key>`" in section
    assert _api_key(_request({"x-api-key": "k1"})) == "k1"
    assert _api_key(_request({"Authorization": "Bearer k2"})) == "k2"
    with pytest.raises(errors.AuthError) as info:
        _api_key(_request({}))
    assert f"`{info.value.code}`" in section


def test_guide_webhook_signature_matches_payments() -> None:
    notifications = pytest.importorskip("tools.payments.notifications")
    section = _section("Verifying webhook signatures")
    assert f"`{notifications.SIGNATURE_HEADER}`" in section
    header = notifications.sign("whsec", b'{"a":1}', timestamp=1700000000)
    assert re.fullmatch(r"t=1700000000,v1=[0-9a-f]{64}", header)
    assert "`t=<unix seconds>,v1=<hex>`" in section
    import hashlib
    import hmac

    expected = hmac.new(b"whsec", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
    assert header.endswith(expected)  # HMAC-SHA256 over "<t>.<raw body>", as the guide says
    assert "more than 5\nminutes old" in section
    assert inspect.signature(notifications.verify).parameters["tolerance_s"].default == 300
    assert "up to 8 times" in _section("Webhooks")
    assert len(notifications.RETRY_SCHEDULE) == 8


def test_corpus_loads_once_then_skips_unchanged(
    store: KnowledgeStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = load_shared_corpus(store)
    assert first.created == len(corpus_files()) == 7
    second = load_shared_corpus(store)
    assert (second.created, second.replaced, second.unchanged) == (0, 0, 7)
    assert second.chunks == first.chunks
    docs = store.list_documents("any-tenant", "cockpit-docs")
    assert sum(d.untrusted_chunks for d in docs) == 0  # our own docs never trip the screen
    assert {d.document_id for d in docs} == {p.stem for p in corpus_files()}
    # A document dropped from the corpus is pruned on the next start.
    import knowledge.corpus as corpus

    monkeypatch.setattr(corpus, "corpus_files", lambda: corpus_files()[1:])
    third = load_shared_corpus(store)
    assert third.removed > 0
    assert len(store.list_documents("any-tenant", "cockpit-docs")) == 6


def test_question_set_points_at_real_sections() -> None:
    questions = load_questions()
    assert len(questions) >= 60
    assert len({q.id for q in questions}) == len(questions)
    sections: dict[str, set[str]] = {}
    for path in corpus_files():
        doc = parse_document(path.read_bytes(), filename=path.name)
        sections[path.stem] = {s.heading or doc.title for s in doc.sections}
    missing = [q.id for q in questions if q.section not in sections.get(q.document, set())]
    assert missing == []
    # Every document is covered by questions.
    assert {q.document for q in questions} == set(sections)


def test_guide_knowledge_paths_exist() -> None:
    from knowledge.router import router

    documented = set(
        re.findall(
            r"`(?:POST|GET|DELETE)\s+(/v1/knowledge[^`]*)`",
            _section("Knowledge API").replace("\n", " "),
        )
    )
    routes = {getattr(r, "path", "") for r in router.routes}
    assert documented and documented <= routes
