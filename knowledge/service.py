"""One knowledge store per process, opened from settings, with the shared corpus loaded.

The composition root calls :func:`open_store` at start and puts the result in
``extras["knowledge"]``; tools, router and CLI find it there (or open the
same cached store themselves).
"""

from __future__ import annotations

import threading
from typing import Any

from cockpit.config import Settings
from cockpit.embeddings import Embedder, default_embedder
from knowledge.corpus import load_shared_corpus
from knowledge.store import KnowledgeStore

EXTRAS_KEY = "knowledge"
_STORES: dict[tuple[str, str], KnowledgeStore] = {}
_LOCK = threading.Lock()


def open_store(
    settings: Settings, *, embedder: Embedder | None = None, load_corpus: bool = True
) -> KnowledgeStore:
    """The process's store for this Chroma location and embedder (built once)."""
    chosen = embedder or default_embedder(settings)
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


def store_from_extras(extras: dict[str, Any], settings: Settings | None = None) -> KnowledgeStore:
    """The store the composition root provided, else the cached default one."""
    store = extras.get(EXTRAS_KEY)
    if isinstance(store, KnowledgeStore):
        return store
    return open_store(settings or Settings())


__all__ = ["EXTRAS_KEY", "open_store", "store_from_extras"]
