"""One knowledge store per process, opened from settings, with the shared corpus loaded.

The composition root calls :func:`open_store` at start and puts the result in
``extras["knowledge"]``; tools, router and CLI find it there (or open the
same cached store themselves).
"""

from __future__ import annotations

import functools
import threading
from typing import TYPE_CHECKING, Any

from cockpit.config import Settings
from cockpit.embeddings import Embedder, OnnxMiniLMEmbedder, default_embedder, embeddings_spec
from knowledge.corpus.vectors import shipped_embedder

if TYPE_CHECKING:
    # The store imports Chromadb (half a second): a process pays for it when it opens a store,
    # not for importing the router.
    from knowledge.store import KnowledgeStore

EXTRAS_KEY = "knowledge"
_STORES: dict[tuple[str, str], KnowledgeStore] = {}
_SHIPPED: dict[str, Embedder] = {}
"""The configured embedder per spec, behind the shipped corpus vectors where they apply."""
_LOCK = threading.Lock()


def open_store(
    settings: Settings, *, embedder: Embedder | None = None, load_corpus: bool = True
) -> KnowledgeStore:
    """The process's store for this Chroma location and embedder (built once)."""
    from knowledge.corpus import load_shared_corpus
    from knowledge.store import KnowledgeStore

    chosen = embedder or configured_embedder(settings)
    where = settings.chroma_url or str(settings.data_dir / "chroma")
    key = (where, chosen.name)
    with _LOCK:
        store = _STORES.get(key)
        if store is None:
            store = KnowledgeStore.from_settings(settings, embedder=chosen)
            if load_corpus:
                load_shared_corpus(store)
            _STORES[key] = store
        return store


def configured_embedder(settings: Settings) -> Embedder:
    """The configured embedder; for the default model, behind the corpus's shipped vectors.

    With the shipped vectors a fresh data dir loads the corpus without running (or even
    loading) the model: it loads on the first text the file lacks, a query's for instance.
    """
    spec = embeddings_spec(settings)
    if spec != "minilm":
        return default_embedder(settings)
    with _LOCK:
        chosen = _SHIPPED.get(spec)
        if chosen is None:
            load = functools.partial(default_embedder, settings)
            shipped = shipped_embedder(OnnxMiniLMEmbedder.name, OnnxMiniLMEmbedder.dim, load)
            chosen = _SHIPPED[spec] = shipped or default_embedder(settings)
        return chosen


def store_from_extras(extras: dict[str, Any], settings: Settings | None = None) -> KnowledgeStore:
    """The store the composition root provided, else the cached default one."""
    from knowledge.store import KnowledgeStore

    store = extras.get(EXTRAS_KEY)
    if isinstance(store, KnowledgeStore):
        return store
    return open_store(settings or Settings())


__all__ = ["EXTRAS_KEY", "configured_embedder", "open_store", "store_from_extras"]
