"""Knowledge store: Chroma with offline embeddings, ingestion and hybrid retrieval.

Public surface: :class:`KnowledgeStore` (tenant-scoped collections, ingestion,
hybrid search), :func:`open_store` (the process's store from settings, shared
corpus loaded), :func:`load_shared_corpus`, :func:`screen_text` (injection
flags) and the result types. Agents use the ``search_knowledge`` tool
(``knowledge.tools``); HTTP is ``knowledge.router:router``; the CLI is
``knowledge.cli:app``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cockpit.lazy import lazy_exports

if TYPE_CHECKING:  # the same names, imported on first use (cockpit.lazy)
    from knowledge.corpus import load_shared_corpus
    from knowledge.models import Citation, CollectionInfo, DocumentInfo, IngestResult, SearchHit
    from knowledge.namespace import SHARED_COLLECTION
    from knowledge.screen import ScreenResult, screen_text
    from knowledge.service import EXTRAS_KEY, open_store
    from knowledge.store import KnowledgeStore

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "knowledge.corpus": ["load_shared_corpus"],
        "knowledge.models": [
            "Citation",
            "CollectionInfo",
            "DocumentInfo",
            "IngestResult",
            "SearchHit",
        ],
        "knowledge.namespace": ["SHARED_COLLECTION"],
        "knowledge.screen": ["ScreenResult", "screen_text"],
        "knowledge.service": ["EXTRAS_KEY", "open_store"],
        "knowledge.store": ["KnowledgeStore"],
    },
)

__all__ = [
    "EXTRAS_KEY",
    "SHARED_COLLECTION",
    "Citation",
    "CollectionInfo",
    "DocumentInfo",
    "IngestResult",
    "KnowledgeStore",
    "ScreenResult",
    "SearchHit",
    "load_shared_corpus",
    "open_store",
    "screen_text",
]
