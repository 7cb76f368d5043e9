"""Knowledge on a Chroma server, the scaled-out mode: several workers share one server.

The conformance of every store operation over embedded and server Chroma is the ``store``
fixture's job (tests/knowledge/test_store.py runs on both). Here: the URL that points a
deployment at its own server database, workers that race each other on one collection,
and ``cockpit serve`` workers answering knowledge searches from the server.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from cockpit.config import Settings
from cockpit.embeddings import HashingEmbedder
from cockpit.errors import Conflict, ValidationFailed
from knowledge.namespace import SHARED_COLLECTION, full_name, tenant_namespace
from knowledge.store import KnowledgeStore
from knowledge.store_client import (
    ChromaServer,
    admin_client,
    drop_database,
    ensure_database,
    make_chroma_client,
    parse_chroma_url,
)
from tests.support.live import LiveServer, start_together

pytestmark = pytest.mark.slow


def _worker(url: str, tmp_path: Path) -> KnowledgeStore:
    """One API worker's store, opened from settings as ``cockpit serve`` opens it."""
    settings = Settings(chroma_url=url, data_dir=tmp_path)
    return KnowledgeStore(make_chroma_client(settings), embedder=HashingEmbedder(256))


def _looked_too_early(
    store: KnowledgeStore, monkeypatch: pytest.MonkeyPatch, *, looks: int = 1
) -> None:
    """Make ``store`` see every collection as missing on its first ``looks`` looks, as a
    worker does that checked just before another worker created it."""
    real: Callable[[str], bool] = store._exists
    seen: dict[str, int] = {}

    def exists(full: str) -> bool:
        seen[full] = seen.get(full, 0) + 1
        return False if seen[full] <= looks else real(full)

    monkeypatch.setattr(store, "_exists", exists)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://chroma:8000", ChromaServer("chroma", 8000, False)),
        ("http://chroma", ChromaServer("chroma", 8000, False)),
        ("https://chroma.example/", ChromaServer("chroma.example", 443, True)),
        (
            "http://10.0.0.5:9000/?database=cockpit-prod&tenant=acme",
            ChromaServer("10.0.0.5", 9000, False, tenant="acme", database="cockpit-prod"),
        ),
    ],
)
def test_chroma_url_names_server_and_database(url: str, expected: ChromaServer) -> None:
    assert parse_chroma_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "chroma:8000",
        "ftp://chroma:8000",
        "http://chroma:8000/api",
        "http://chroma:8000/?db=x",
        "http://chroma:8000/?database=",
        "http://chroma:8000/?database=a&database=b",
    ],
)
def test_bad_chroma_url_is_refused(url: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_chroma_url(url)
    assert info.value.code == "invalid_chroma_url"
    assert info.value.param == "COCKPIT_CHROMA_URL"


def test_workers_starting_together_create_the_database_once(chroma_server_url: str) -> None:
    server = parse_chroma_url(f"{chroma_server_url}/?database=cockpit-race-{uuid.uuid4().hex}")
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def worker() -> None:
        try:
            start.wait()
            ensure_database(server)
        except BaseException as exc:  # the test asserts on it
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    try:
        assert not errors, errors
        names = [d["name"] for d in admin_client(server).list_databases()]
        assert names.count(server.database) == 1
    finally:
        drop_database(server)
    assert server.database not in [d["name"] for d in admin_client(server).list_databases()]


def test_databases_keep_deployments_apart(
    fresh_chroma_url: str, chroma_server_url: str, tmp_path: Path, markdown_doc: bytes
) -> None:
    other_url = f"{chroma_server_url}/?database=cockpit-other-{uuid.uuid4().hex}"
    ours, theirs = _worker(fresh_chroma_url, tmp_path), _worker(other_url, tmp_path)
    try:
        ours.ingest("acme", "docs", markdown_doc, filename="refunds.md", create=True)
        assert [c.name for c in ours.list_collections("acme")] == ["docs"]
        assert theirs.list_collections("acme") == []
        assert theirs.query("acme", "refund window", k=5) == []
    finally:
        drop_database(parse_chroma_url(other_url))


def test_a_worker_that_lost_the_create_race(
    fresh_chroma_url: str, tmp_path: Path, markdown_doc: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = _worker(fresh_chroma_url, tmp_path), _worker(fresh_chroma_url, tmp_path)
    first.create_collection("acme", "docs")
    first.ensure_shared_collection(SHARED_COLLECTION)
    _looked_too_early(second, monkeypatch)

    # an explicit create is the 409 it would have been had it looked later, not a 500
    with pytest.raises(Conflict) as info:
        second.create_collection("acme", "docs")
    assert info.value.code == "collection_exists"
    # ingest-with-create and the shared corpus simply use the collection that is there
    monkeypatch.undo()
    _looked_too_early(second, monkeypatch, looks=2)  # it checks again under its lock
    result = second.ingest("acme", "docs", markdown_doc, filename="refunds.md", create=True)
    assert result.status == "created"
    monkeypatch.undo()
    _looked_too_early(second, monkeypatch)
    shared = second.ensure_shared_collection(SHARED_COLLECTION)
    assert shared.name == full_name("shared", SHARED_COLLECTION)
    assert [d.document_id for d in first.list_documents("acme", "docs")] == ["refunds"]


def test_concurrent_writes_never_leave_a_worker_on_a_stale_index(
    fresh_chroma_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Worker B writes with collection metadata it read before worker A's write (the race of
    two workers writing at once). Worker C, which indexed the collection after A's write,
    must still see B's: the revision has to change on every write, whoever wrote before."""
    a, b, c = (_worker(fresh_chroma_url, tmp_path) for _ in range(3))
    a.ingest("acme", "docs", b"alpha pelican notes", filename="one.txt", create=True)
    full = full_name(tenant_namespace("acme"), "docs")
    before_a = b._collection(full)  # B reads the metadata now ...
    a.ingest("acme", "docs", b"bravo heron notes", filename="two.txt")
    assert [h.document_id for h in c.query("acme", "heron", mode="bm25")] == ["two"]
    monkeypatch.setattr(b, "_collection", lambda _full: before_a)  # ... and writes after A
    replaced = b.ingest("acme", "docs", b"charlie flamingo notes", filename="one.txt")
    assert replaced.status == "replaced"
    assert replaced.chunks == 1  # the same number of chunks: the count alone cannot tell

    hits = c.query("acme", "flamingo", mode="bm25")
    assert [h.document_id for h in hits] == ["one"]
    assert c.query("acme", "pelican", mode="bm25") == []


def _post(server: LiveServer, key: str, path: str, body: dict[str, object]) -> httpx.Response:
    return httpx.post(
        server.url + path, json=body, headers={"Authorization": f"Bearer {key}"}, timeout=120
    )


@pytest.mark.postgres
def test_serve_workers_share_knowledge_on_a_chroma_server(
    fresh_chroma_url: str, fresh_pg_url: str, tmp_path: Path
) -> None:
    """Two ``cockpit serve`` workers started together on one fresh PostgreSQL and one Chroma
    server: both come up, what one ingests the other finds, what one deletes the other stops
    finding."""
    env = {"COCKPIT_CHROMA_URL": fresh_chroma_url}
    one = LiveServer(tmp_path / "one", database_url=fresh_pg_url, module="cockpit", extra_env=env)
    two = LiveServer(tmp_path / "two", database_url=fresh_pg_url, module="cockpit", extra_env=env)
    try:
        start_together([one, two])
        key = one.key("demo")
        upload = {
            "filename": "returns.md",
            "content": "# Returns\n\nOur kiwi-shop accepts returns for 45 days after delivery.",
            "document_id": "returns",
        }
        created = _post(one, key, "/v1/knowledge/collections", {"name": "policies"})
        assert created.status_code == 201, created.text
        ingested = _post(one, key, "/v1/knowledge/collections/policies/documents", upload)
        assert ingested.status_code == 201, ingested.text

        found = _post(two, key, "/v1/knowledge/query", {"query": "kiwi-shop returns days"})
        assert found.status_code == 200, found.text
        hits = found.json()["data"]
        assert hits and hits[0]["document_id"] == "returns"
        assert hits[0]["collection"] == "policies"
        shared = _post(
            two,
            key,
            "/v1/knowledge/query",
            {"query": "chargeback", "collections": ["cockpit-docs"]},
        )
        assert shared.status_code == 200, shared.text
        assert shared.json()["data"], "the shared corpus is on the server too"

        deleted = httpx.delete(
            one.url + "/v1/knowledge/collections/policies/documents/returns",
            headers={"Authorization": f"Bearer {key}"},
            timeout=60,
        )
        assert deleted.status_code == 200, deleted.text
        again = _post(
            two, key, "/v1/knowledge/query", {"query": "kiwi-shop", "collections": ["policies"]}
        )
        assert again.status_code == 200, again.text
        assert again.json()["data"] == []
    finally:
        two.stop()
        one.stop()
