"""Cockpit's own documentation corpus, loaded into the shared ``cockpit-docs`` collection.

The Markdown files beside this module are written by the Cockpit project. At
start the composition root calls :func:`load_shared_corpus`; documents whose
content has not changed are skipped (the store compares content hashes), so a
second start costs one lookup per document.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from knowledge.namespace import SHARED_COLLECTION
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


def load_shared_corpus(store: KnowledgeStore, *, collection: str = SHARED_COLLECTION) -> CorpusLoad:
    """Load (or refresh) the shared read-only corpus collection; idempotent."""
    store.ensure_shared_collection(collection, description="Cockpit documentation (read-only)")
    counts = {"created": 0, "replaced": 0, "unchanged": 0}
    chunks = 0
    present = set()
    for path in corpus_files():
        doc_id = path.stem
        present.add(doc_id)
        result = store.ingest_shared(
            collection,
            path.read_bytes(),
            filename=path.name,
            document_id=doc_id,
            version=CORPUS_VERSION,
            tags=TAGS.get(doc_id, ()),
            source=f"knowledge/corpus/{path.name}",
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
    "corpus_files",
    "load_shared_corpus",
]
