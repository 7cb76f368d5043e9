"""Knowledge store: Chroma with offline embeddings, ingestion and hybrid retrieval.

Public surface: :class:`KnowledgeStore` (tenant-scoped collections, ingestion,
hybrid search), :func:`open_store` (the process's store from settings, shared
corpus loaded), :func:`load_shared_corpus`, :func:`screen_text` (injection
flags) and the result types. Agents use the ``search_knowledge`` tool
(``knowledge.tools``); HTTP is ``knowledge.router:router``; the CLI is
``knowledge.cli:app``.
"""

from knowledge.corpus import load_shared_corpus
from knowledge.models import Citation, CollectionInfo, DocumentInfo, IngestResult, SearchHit
from knowledge.namespace import SHARED_COLLECTION
from knowledge.screen import ScreenResult, screen_text
from knowledge.service import EXTRAS_KEY, open_store
from knowledge.store import KnowledgeStore

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
