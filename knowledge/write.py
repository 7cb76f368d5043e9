"""Writing prepared documents into one Chroma collection, a replaced version never half gone.

A document's new chunks are written under ids carrying its content hash before the chunks of
the version it replaces are deleted, so a failure in between leaves the previous version
whole (what this attempt added is removed again). Writes go in as few Chroma calls as its
batch size allows: each call has a fixed cost (a durable commit) far above a chunk's share.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from chromadb.api.models.Collection import Collection

from cockpit.embeddings import Embedder, Vectors
from knowledge.ingest import PreparedDocument

Prior = dict[str, list[tuple[str, Mapping[str, Any]]]]
"""Per document id, the (chunk id, metadata) pairs the collection holds now."""


def existing_chunks(col: Collection, document_ids: Sequence[str]) -> Prior:
    """The chunks ``col`` holds for these documents (one read)."""
    ids = list(document_ids)
    where: Any = {"document_id": ids[0] if len(ids) == 1 else {"$in": ids}}
    found = col.get(where=where, include=["metadatas"])
    prior: Prior = {}
    for cid, meta in zip(found["ids"], found.get("metadatas") or [], strict=True):
        prior.setdefault(str((meta or {}).get("document_id")), []).append((cid, meta or {}))
    return prior


def unchanged(doc: PreparedDocument, prior: Prior) -> bool:
    """Is exactly this version of ``doc`` stored already?"""
    chunks = prior.get(doc.document_id, [])
    hashes = {str(meta.get("content_hash")) for _, meta in chunks}
    return bool(chunks) and hashes == {doc.digest} and len(chunks) == len(doc.ids)


def embed_documents(embedder: Embedder, docs: Sequence[PreparedDocument]) -> dict[str, Vectors]:
    """Every chunk of ``docs`` embedded in one call (the embedder batches by length)."""
    if not docs:
        return {}
    vectors = embedder.embed([t for d in docs for t in d.texts])
    out: dict[str, Vectors] = {}
    start = 0
    for doc in docs:
        out[doc.document_id] = vectors[start : start + len(doc.texts)]
        start += len(doc.texts)
    return out


def write_documents(
    col: Collection,
    docs: Sequence[PreparedDocument],
    prior: Prior,
    vectors: Mapping[str, Vectors],
    *,
    batch: int,
) -> None:
    """Write ``docs`` (their vectors in ``vectors``), then delete their previous chunks."""
    ids = [i for d in docs for i in d.ids]
    texts = [t for d in docs for t in d.texts]
    metas = [m for d in docs for m in d.metadatas]
    embeddings = [row for d in docs for row in vectors[d.document_id]]
    old_ids = {cid for d in docs for cid, _ in prior.get(d.document_id, [])}
    fresh = [i for i in ids if i not in old_ids]
    try:
        for start in range(0, len(ids), batch):
            col.upsert(
                ids=ids[start : start + batch],
                documents=texts[start : start + batch],
                metadatas=metas[start : start + batch],  # type: ignore[arg-type]
                embeddings=embeddings[start : start + batch],
            )
    except Exception:
        # Leave the previous versions as they were: drop what this attempt added.
        for start in range(0, len(fresh), batch):
            col.delete(ids=fresh[start : start + batch])
        raise
    stale = sorted(old_ids - set(ids))
    for start in range(0, len(stale), batch):
        col.delete(ids=stale[start : start + batch])


__all__ = ["Prior", "embed_documents", "existing_chunks", "unchanged", "write_documents"]
