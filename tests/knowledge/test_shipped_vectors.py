"""The shared corpus ships its chunk vectors: the file is current, equals fresh embeddings, and
a text it lacks (a changed chunk, a query) is embedded by the model, loaded only then."""

from __future__ import annotations

from pathlib import Path

import chromadb
import numpy as np
import pytest
from chromadb.config import Settings as ChromaSettings

from cockpit.embeddings import Embedder, HashingEmbedder, OnnxMiniLMEmbedder
from knowledge.corpus import corpus_chunk_texts, load_shared_corpus
from knowledge.corpus.vectors import (
    ShippedEmbedder,
    load_vectors,
    shipped_embedder,
    text_key,
    write_vectors,
)
from knowledge.store import KnowledgeStore
from tests.support.embedders import Counting


def test_the_shipped_vectors_are_current() -> None:
    shipped = load_vectors()
    assert shipped is not None, "missing: run python scripts/ship_startup_artefacts.py"
    assert shipped.embedder == OnnxMiniLMEmbedder.name
    wanted = {text_key(t) for t in corpus_chunk_texts()}
    assert set(shipped.rows) == wanted, "stale: run python scripts/ship_startup_artefacts.py"


@pytest.mark.slow
def test_the_shipped_vectors_equal_fresh_embeddings() -> None:
    shipped = load_vectors()
    assert shipped is not None
    texts = corpus_chunk_texts()
    fresh = OnnxMiniLMEmbedder().embed(texts)
    rows = shipped.matrix[[shipped.rows[text_key(t)] for t in texts]]
    # Batches pad differently from one run to another: float noise, never another vector.
    np.testing.assert_allclose(rows, fresh, atol=1e-5)


def test_only_texts_the_file_lacks_reach_the_model(tmp_path: Path) -> None:
    model = Counting(HashingEmbedder(64))
    path = write_vectors(model, ["alpha chunk", "beta chunk"], tmp_path / "vectors.json")
    loads: list[int] = []

    def load() -> Embedder:
        loads.append(1)
        return model

    embedder = shipped_embedder(model.name, model.dim, load, path=path)
    assert isinstance(embedder, ShippedEmbedder)
    model.seen.clear()
    both = embedder.embed(["beta chunk", "alpha chunk"])
    assert loads == [] and model.seen == []  # all shipped: the model is never loaded
    np.testing.assert_array_equal(both, HashingEmbedder(64).embed(["beta chunk", "alpha chunk"]))
    mixed = embedder.embed(["alpha chunk", "a changed chunk", "beta chunk"])
    assert loads == [1] and model.seen == ["a changed chunk"]
    np.testing.assert_array_equal(
        mixed, HashingEmbedder(64).embed(["alpha chunk", "a changed chunk", "beta chunk"])
    )


def test_vectors_of_another_model_are_never_used(tmp_path: Path) -> None:
    path = write_vectors(HashingEmbedder(64), ["alpha chunk"], tmp_path / "vectors.json")
    assert shipped_embedder("another-model", 64, lambda: HashingEmbedder(64), path=path) is None
    assert shipped_embedder(HashingEmbedder(32).name, 32, HashingEmbedder, path=path) is None
    assert shipped_embedder("x", 64, HashingEmbedder, path=tmp_path / "absent.json") is None


def test_a_stale_chunk_is_embedded_when_the_corpus_loads(tmp_path: Path) -> None:
    """A corpus whose file lacks one chunk (an edited document) loads that chunk through the
    model and every other one from the file."""
    model = Counting(HashingEmbedder(256))
    texts = corpus_chunk_texts()
    path = write_vectors(model, texts[1:], tmp_path / "vectors.json")
    embedder = shipped_embedder(model.name, model.dim, lambda: model, path=path)
    assert embedder is not None
    model.seen.clear()
    client = chromadb.PersistentClient(
        path=str(tmp_path / "chroma"), settings=ChromaSettings(anonymized_telemetry=False)
    )
    loaded = load_shared_corpus(KnowledgeStore(client, embedder=embedder))
    assert loaded.chunks == len(texts)
    assert model.seen == [texts[0]]
