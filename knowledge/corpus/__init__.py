"""Cockpit's own documentation corpus, loaded into the shared ``cockpit-docs`` collection.

The Markdown files beside this module are written by the Cockpit project. At
start the composition root calls :func:`load_shared_corpus`; documents whose
content has not changed are skipped (the store compares content hashes), so a
second start costs one lookup per document.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from knowledge.ingest import DocumentInput, document_id_of, prepare_document
from knowledge.namespace import SHARED_COLLECTION

if TYPE_CHECKING:
    from knowledge.store import KnowledgeStore

CORPUS_DIR = Path(__file__).parent
CORPUS_VERSION = "2026-11"

#: Tags per document, for metadata filters (``filters={"tags": ["disputes"]}``).
TAGS: dict[str, tuple[str, ...]] = {
    "payment-methods": ("payments", "methods"),
    "decline-codes": ("payments", "declines"),
    "disputes": ("disputes", "chargebacks"),
    "kyb": ("onboarding", "kyb"),
    "integration-guide": ("integration", "api"),
    "fx-hedging": ("fx",),
    "credit-reason-codes": ("credit",),
}


@dataclass(frozen=True, slots=True)
class CorpusLoad:
    created: int
    replaced: int
    unchanged: int
    removed: int
    chunks: int


def corpus_files() -> list[Path]:
    """The corpus documents, in a stable order."""
    return sorted(CORPUS_DIR.glob("*.md"))


def corpus_documents() -> list[DocumentInput]:
    """The corpus documents as the shared collection stores them (ids, version, tags, source)."""
    return [
        DocumentInput(
            path.read_bytes(),
            path.name,
            document_id=path.stem,
            version=CORPUS_VERSION,
            tags=TAGS.get(path.stem, ()),
            source=f"knowledge/corpus/{path.name}",
        )
        for path in corpus_files()
    ]


def corpus_chunk_texts() -> list[str]:
    """Every chunk text the corpus is embedded as (what :mod:`knowledge.corpus.vectors` ships)."""
    return [t for doc in corpus_documents() for t in prepare_document(doc, ingested_at="").texts]


def load_shared_corpus(store: KnowledgeStore, *, collection: str = SHARED_COLLECTION) -> CorpusLoad:
    """Load (or refresh) the shared read-only corpus collection; idempotent."""
    store.ensure_shared_collection(collection, description="Cockpit documentation (read-only)")
    counts = {"created": 0, "replaced": 0, "unchanged": 0}
    chunks = 0
    present = set()
    for doc in corpus_documents():
        doc_id = document_id_of(doc)
        present.add(doc_id)
        result = store.ingest_shared(
            collection,
            doc.data,
            filename=doc.filename,
            document_id=doc_id,
            version=doc.version,
            tags=doc.tags,
            source=doc.source,
        )
        counts[result.status] += 1
        chunks += result.chunks
    removed = store.prune_shared(collection, keep=present)
    return CorpusLoad(counts["created"], counts["replaced"], counts["unchanged"], removed, chunks)


__all__ = [
    "CORPUS_DIR",
    "CORPUS_VERSION",
    "TAGS",
    "CorpusLoad",
    "corpus_chunk_texts",
    "corpus_documents",
    "corpus_files",
    "load_shared_corpus",
]
