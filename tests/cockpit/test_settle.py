"""Settling after start-up: it waits for the start-up jobs, then freezes and trims once; a
fresh server starts from the shipped fraud model and corpus vectors."""

from __future__ import annotations

import gc
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cockpit import settle as settling
from cockpit.app import create_app
from cockpit.config import Settings
from knowledge.corpus import corpus_files
from knowledge.corpus.vectors import ShippedEmbedder
from knowledge.namespace import SHARED_COLLECTION
from knowledge.service import EXTRAS_KEY
from tools.fraud import starter
from tools.fraud.registry import ModelRegistry, default_root


def test_settle_freezes_what_is_alive_and_trims() -> None:
    try:
        done = settling.settle()
        # A frozen object that another thread of this worker frees (a session fixture's thread,
        # say) leaves the permanent generation, and nothing else can enter it: the count
        # can only have fallen since settle() read it.
        assert done.frozen >= gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()  # this test process is no server: give the objects back to the GC


def test_settling_waits_for_the_start_up_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    release, settled = threading.Event(), threading.Event()
    calls: list[int] = []

    def fake_settle() -> settling.Settled:
        calls.append(1)
        settled.set()
        return settling.Settled(frozen=0, trimmed=False)

    monkeypatch.setattr(settling, "settle", fake_settle)
    job = threading.Thread(target=release.wait, daemon=True)
    job.start()
    settling.settle_after([job])
    assert not settled.wait(0.2) and calls == []  # the job is still running
    release.set()
    assert settled.wait(10) and calls == [1]


@pytest.mark.slow
def test_a_fresh_server_starts_from_the_shipped_artefacts_then_settles(tmp_path: Path) -> None:
    """A server with warm-ups on a fresh data dir: the fraud registry's first version is the
    shipped starter model (nothing trained), the shared corpus is in, served through the shipped
    vectors, and once those jobs are done the server has settled."""
    settings = Settings(data_dir=tmp_path / ".cockpit", demo=False, embeddings="minilm")
    app = create_app(settings)
    try:
        with TestClient(app):
            extras = app.state.services.extras
            for _ in range(600):  # up to a minute on a loaded machine
                if gc.get_freeze_count() > 0 and EXTRAS_KEY in extras:
                    break
                time.sleep(0.1)
            assert gc.get_freeze_count() > 0, "the server never settled"
            registry = ModelRegistry(default_root(settings))
            assert registry.versions() == ["v0001"]
            assert registry.metadata("v0001")["note"] == starter.NOTE
            store = extras[EXTRAS_KEY]
            assert isinstance(store.embedder, ShippedEmbedder)
            docs = store.list_documents("any-tenant", SHARED_COLLECTION)
            assert {d.document_id for d in docs} == {p.stem for p in corpus_files()}
    finally:
        gc.unfreeze()
