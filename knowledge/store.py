"""The knowledge store: tenant-namespaced Chroma collections with hybrid retrieval.

Every public method takes the tenant first; there is no way to read or write
a collection without one. Tenants write only their own namespace; the shared
namespace (our corpus) is writable only through :meth:`KnowledgeStore.ingest_shared`,
which the composition root calls at start.

Ingestion is all-or-nothing: a document is parsed, chunked, screened and
embedded before anything is written; its new chunks are added under ids that
include the content hash, and only then are the previous version's chunks
deleted, so a failure leaves the previous version whole.

Merchant ownership: a collection created by a key bound to a merchant records that
merchant in its Chroma collection metadata (``merchant``); one created by a tenant-wide
key, or before ownership existed, has none and is the tenant's. Knowledge persists
nothing outside Chroma, so the owner lives with the collection it guards and goes when
it is deleted. Methods take the caller's binding as ``merchant_id``: a bound caller
writes only its merchant's collections, reads those and the tenant's and shared ones
(writing those is 403 ``read_only_collection``), and never sees another merchant's (404,
reads included, exactly as for a name that does not exist). Collection names stay unique
per tenant, so creating one under a taken name is a 409 whoever holds it.
"""

from __future__ import annotations

import hashlib
import re
import threading
import uuid
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.errors import ChromaError
from chromadb.errors import NotFoundError as ChromaNotFound

from cockpit.clock import utcnow
from cockpit.config import Settings
from cockpit.embeddings import Embedder, default_embedder
from cockpit.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from knowledge.bm25 import BM25Index
from knowledge.chunking import chunk_document, indexed_text
from knowledge.embedding_function import CockpitEmbeddingFunction
from knowledge.filters import FILTER_FIELDS, check_tags, chroma_where, compile_filters, matches
from knowledge.fusion import reciprocal_rank_fusion
from knowledge.models import (
    Citation,
    CollectionInfo,
    DocumentInfo,
    IngestResult,
    SearchHit,
    SearchMode,
)
from knowledge.namespace import (
    SHARED_NAMESPACE,
    check_name,
    full_name,
    split_full_name,
    tenant_namespace,
)
from knowledge.parse import parse_document
from knowledge.screen import screen_text
from knowledge.store_client import make_chroma_client

_DOC_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}$")
_EMBED_BATCH = 64
_OWNER = "merchant"
"""Collection metadata key: the merchant that owns a tenant collection (absent: the tenant's)."""


def _owner(metadata: Mapping[str, Any] | None) -> str | None:
    owner = (metadata or {}).get(_OWNER)
    return str(owner) if owner else None


def _visible(metadata: Mapping[str, Any] | None, merchant_id: str | None) -> bool:
    """May a caller bound to ``merchant_id`` (None: tenant-wide) see this collection?"""
    owner = _owner(metadata)
    return merchant_id is None or owner is None or owner == merchant_id


def _no_collection(full: str) -> NotFound:
    return NotFound(
        f"no collection {full.partition('_')[2]!r}", code="collection_not_found", param="collection"
    )


def _slug(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")
    return slug[:200] or "document"


@dataclass
class _Snapshot:
    """A collection's chunks as of one revision: texts, metadata and a BM25 index."""

    revision: str
    ids: list[str]
    texts: list[str]
    metadatas: list[Mapping[str, Any]]
    index: BM25Index
    row_of: dict[str, int]


class KnowledgeStore:
    """Collections per tenant, ingestion and hybrid (BM25 + vector) search."""

    def __init__(self, client: ClientAPI, *, embedder: Embedder | None = None) -> None:
        self._client = client
        self.embedder = embedder or default_embedder()
        self._function = CockpitEmbeddingFunction(self.embedder, spec=None)
        self._lock = threading.RLock()
        self._snapshots: dict[str, _Snapshot] = {}

    @classmethod
    def from_settings(
        cls, settings: Settings, *, embedder: Embedder | None = None
    ) -> KnowledgeStore:
        return cls(make_chroma_client(settings), embedder=embedder or default_embedder(settings))

    # ----------------------------------------------------------------- naming
    def _collection(self, full: str) -> Collection:
        try:
            return self._client.get_collection(full, embedding_function=self._function)  # type: ignore[arg-type]
        except (ChromaNotFound, ValueError):
            raise _no_collection(full) from None

    def _exists(self, full: str) -> bool:
        try:
            self._client.get_collection(full, embedding_function=self._function)  # type: ignore[arg-type]
        except (ChromaNotFound, ValueError):
            return False
        return True

    def _resolve(self, tenant_id: str, name: str, merchant_id: str | None = None) -> str:
        """The Chroma name a tenant means: its own collection, else a shared one.

        Another merchant's collection is skipped as if it did not exist."""
        own = full_name(tenant_namespace(tenant_id), name)
        if self._exists(own) and _visible(self._collection(own).metadata, merchant_id):
            return own
        shared = full_name(SHARED_NAMESPACE, name)
        if self._exists(shared):
            return shared
        raise NotFound(f"no collection {name!r}", code="collection_not_found", param="collection")

    def _writable(self, tenant_id: str, name: str) -> str:
        namespace = tenant_namespace(tenant_id)
        check_name(name)
        if self._exists(full_name(SHARED_NAMESPACE, name)) and not self._exists(
            full_name(namespace, name)
        ):
            raise PermissionDenied(
                f"collection {name!r} is shared and read-only", code="read_only_collection"
            )
        return full_name(namespace, name)

    def _check_owner(
        self, col: Collection, name: str, merchant_id: str | None, *, write: bool
    ) -> None:
        """Refuse a bound caller another merchant's collection (404), or writing the tenant's."""
        if merchant_id is None:
            return
        if not _visible(col.metadata, merchant_id):
            raise NotFound(
                f"no collection {name!r}", code="collection_not_found", param="collection"
            )
        if write and _owner(col.metadata) is None:
            raise PermissionDenied(
                f"collection {name!r} belongs to the whole tenant: read-only to a merchant key",
                code="read_only_collection",
            )

    # ------------------------------------------------------------ collections
    def _create(
        self, full: str, *, description: str = "", merchant_id: str | None = None
    ) -> Collection:
        metadata: dict[str, Any] = {
            "embedder": self.embedder.name,
            "revision": "0",
            "description": description or "-",
        }
        if merchant_id is not None:
            metadata[_OWNER] = merchant_id
        try:
            return self._client.create_collection(
                full,
                embedding_function=self._function,  # type: ignore[arg-type]
                configuration={"hnsw": {"space": "cosine"}},
                metadata=metadata,
            )
        except ChromaError:
            # Another worker on the same Chroma server created it since we looked.
            if not self._exists(full):
                raise
            raise Conflict(
                f"collection {full.partition('_')[2]!r} already exists",
                code="collection_exists",
                param="name",
            ) from None

    def _drop(self, full: str) -> None:
        """Delete a collection another worker may be deleting too."""
        try:
            self._client.delete_collection(full)
        except (ChromaNotFound, ValueError):
            raise _no_collection(full) from None
        finally:
            self._snapshots.pop(full, None)

    def create_collection(
        self, tenant_id: str, name: str, *, description: str = "", merchant_id: str | None = None
    ) -> CollectionInfo:
        """Create a tenant collection (owned by ``merchant_id`` when the caller is bound to one);
        Conflict if it exists, PermissionDenied for shared names."""
        full = self._writable(tenant_id, name)
        with self._lock:
            if self._exists(full):
                raise Conflict(
                    f"collection {name!r} already exists", code="collection_exists", param="name"
                )
            self._create(full, description=description, merchant_id=merchant_id)
        return CollectionInfo(name=name, shared=False, chunks=0, description=description)

    def list_collections(
        self, tenant_id: str, *, merchant_id: str | None = None
    ) -> list[CollectionInfo]:
        """The tenant's own collections (a bound caller: not other merchants'), then the shared."""
        namespace = tenant_namespace(tenant_id)
        out: list[CollectionInfo] = []
        for col in self._client.list_collections():
            parts = split_full_name(col.name)
            if parts is None or parts[0] not in (namespace, SHARED_NAMESPACE):
                continue
            if not _visible(col.metadata, merchant_id):
                continue
            meta = col.metadata or {}
            description = str(meta.get("description", ""))
            out.append(
                CollectionInfo(
                    name=parts[1],
                    shared=parts[0] == SHARED_NAMESPACE,
                    chunks=col.count(),
                    description="" if description == "-" else description,
                )
            )
        return sorted(out, key=lambda c: (c.shared, c.name))

    def delete_collection(
        self, tenant_id: str, name: str, *, merchant_id: str | None = None
    ) -> None:
        full = self._writable(tenant_id, name)
        with self._lock:
            if not self._exists(full):
                raise NotFound(
                    f"no collection {name!r}", code="collection_not_found", param="collection"
                )
            self._check_owner(self._collection(full), name, merchant_id, write=True)
            self._drop(full)

    # -------------------------------------------------------------- ingestion
    def ingest(
        self,
        tenant_id: str,
        collection: str,
        data: bytes,
        *,
        filename: str,
        document_id: str | None = None,
        title: str | None = None,
        version: str | None = None,
        tags: Sequence[str] = (),
        source: str | None = None,
        doc_type: str | None = None,
        create: bool = False,
        merchant_id: str | None = None,
    ) -> IngestResult:
        """Add or replace one document in a tenant collection (all-or-nothing)."""
        full = self._writable(tenant_id, collection)
        if not self._exists(full):
            if not create:
                raise NotFound(
                    f"no collection {collection!r}", code="collection_not_found", param="collection"
                )
            with self._lock, suppress(Conflict):  # another worker's create is as good
                if not self._exists(full):
                    self._create(full, merchant_id=merchant_id)
        self._check_owner(self._collection(full), collection, merchant_id, write=True)
        return self._ingest(
            full,
            data,
            filename=filename,
            document_id=document_id,
            title=title,
            version=version,
            tags=tags,
            source=source,
            doc_type=doc_type,
        )

    def ensure_shared_collection(self, name: str, *, description: str = "") -> Collection:
        """Create (or rebuild, if embedded with another model) a shared collection."""
        full = full_name(SHARED_NAMESPACE, name)
        with self._lock:
            if self._exists(full):
                col = self._collection(full)
                if (col.metadata or {}).get("embedder") == self.embedder.name:
                    return col
                with suppress(NotFound):  # another worker is rebuilding it too
                    self._drop(full)
            try:
                return self._create(full, description=description)
            except Conflict:
                return self._collection(full)

    def ingest_shared(
        self, name: str, data: bytes, *, filename: str, **options: Any
    ) -> IngestResult:
        """Host-side only: load a document into a shared (tenant-read-only) collection."""
        full = full_name(SHARED_NAMESPACE, name)
        if not self._exists(full):
            raise NotFound(
                f"no shared collection {name!r}", code="collection_not_found", param="collection"
            )
        return self._ingest(full, data, filename=filename, **options)

    def prune_shared(self, name: str, *, keep: set[str]) -> int:
        """Host-side only: drop shared documents no longer in the corpus; returns chunks removed."""
        full = full_name(SHARED_NAMESPACE, name)
        with self._lock:
            col = self._collection(full)
            data = col.get(include=["metadatas"])
            stale = [
                i
                for i, m in zip(data["ids"], data["metadatas"] or [], strict=True)
                if str((m or {}).get("document_id")) not in keep
            ]
            if stale:
                col.delete(ids=stale)
                self._bump(col)
        return len(stale)

    def _ingest(
        self,
        full: str,
        data: bytes,
        *,
        filename: str,
        document_id: str | None = None,
        title: str | None = None,
        version: str | None = None,
        tags: Sequence[str] = (),
        source: str | None = None,
        doc_type: str | None = None,
    ) -> IngestResult:
        name = full.partition("_")[2]
        doc_id = document_id or _slug(PurePath(filename).stem)
        if not _DOC_ID.match(doc_id):
            raise ValidationFailed(
                "document ids are 1–200 characters of letters, digits and . _ : / -",
                code="invalid_document_id",
                param="document_id",
            )
        clean_tags = check_tags(tags)
        parsed = parse_document(data, filename=filename, doc_type=doc_type)
        doc_title = (title or parsed.title).strip()[:300] or doc_id
        drafts = chunk_document(parsed)
        digest = hashlib.sha256(
            b"\x00".join(
                [data, doc_title.encode(), (version or "").encode(), ",".join(clean_tags).encode()]
            )
        ).hexdigest()[:16]

        with self._lock:
            col = self._collection(full)
            self._check_embedder(col)
            existing = col.get(where={"document_id": doc_id}, include=["metadatas"])
            old_ids = list(existing["ids"])
            old_hashes = {str((m or {}).get("content_hash")) for m in existing["metadatas"] or []}
            if old_ids and old_hashes == {digest} and len(old_ids) == len(drafts):
                flagged = sum(bool((m or {}).get("untrusted")) for m in existing["metadatas"] or [])
                return IngestResult(name, doc_id, doc_title, "unchanged", len(old_ids), 0, flagged)

            ids, texts, metas = [], [], []
            untrusted = 0
            now = utcnow().isoformat(timespec="seconds")
            for draft in drafts:
                verdict = screen_text(draft.body)
                untrusted += int(verdict.untrusted)
                text = indexed_text(doc_title, draft.section_path, draft.body)
                meta: dict[str, Any] = {
                    "document_id": doc_id,
                    "title": doc_title,
                    "section": draft.section or doc_title,
                    "section_path": " > ".join(draft.section_path),
                    "source": source or filename,
                    "version": version or "",
                    "doc_type": parsed.doc_type,
                    "chunk_index": draft.index,
                    "content_hash": digest,
                    "body_offset": len(text) - len(draft.body),
                    "tags": ",".join(clean_tags),
                    "untrusted": verdict.untrusted,
                    "untrusted_reasons": ",".join(verdict.reasons),
                    "ingested_at": now,
                }
                meta.update({f"tag:{t}": True for t in clean_tags})
                ids.append(f"{doc_id}#{digest}#{draft.index}")
                texts.append(text)
                metas.append(meta)
            vectors = [
                self.embedder.embed(texts[i : i + _EMBED_BATCH])
                for i in range(0, len(texts), _EMBED_BATCH)
            ]
            embeddings = [row for block in vectors for row in block]

            fresh = [i for i in ids if i not in set(old_ids)]
            batch = self._client.get_max_batch_size()
            try:
                for start in range(0, len(ids), batch):
                    col.upsert(
                        ids=ids[start : start + batch],
                        documents=texts[start : start + batch],
                        metadatas=metas[start : start + batch],  # type: ignore[arg-type]
                        embeddings=embeddings[start : start + batch],
                    )
            except Exception:
                # Leave the previous version as it was: drop what this attempt added.
                if fresh:
                    col.delete(ids=fresh)
                raise
            stale = [i for i in old_ids if i not in set(ids)]
            for start in range(0, len(stale), batch):
                col.delete(ids=stale[start : start + batch])
            self._bump(col)
        if old_ids:
            return IngestResult(
                name, doc_id, doc_title, "replaced", len(ids), len(stale), untrusted
            )
        return IngestResult(name, doc_id, doc_title, "created", len(ids), 0, untrusted)

    def _check_embedder(self, col: Collection) -> None:
        stored = (col.metadata or {}).get("embedder")
        if stored and stored != self.embedder.name:
            raise Conflict(
                f"collection was embedded with {stored}, the store uses {self.embedder.name}; re-create it",
                code="embedder_mismatch",
                param="collection",
            )

    def _bump(self, col: Collection) -> None:
        """Give the collection a new revision so every worker rebuilds its BM25 index.

        A fresh random token, not a counter: two workers writing at once would both turn
        ``n`` into ``n + 1``, and a third that cached its index at the first ``n + 1`` would
        never see the second write. Tokens never repeat, so any write changes what they see."""
        meta = dict(col.metadata or {})
        meta["revision"] = uuid.uuid4().hex
        col.modify(metadata=meta)
        self._snapshots.pop(col.name, None)

    # -------------------------------------------------------------- documents
    def list_documents(
        self, tenant_id: str, collection: str, *, merchant_id: str | None = None
    ) -> list[DocumentInfo]:
        full = self._resolve(tenant_id, collection, merchant_id)
        snap = self._snapshot(self._collection(full))
        grouped: dict[str, list[Mapping[str, Any]]] = {}
        for meta in snap.metadatas:
            grouped.setdefault(str(meta.get("document_id")), []).append(meta)
        docs = []
        for doc_id, metas in sorted(grouped.items()):
            first = metas[0]
            docs.append(
                DocumentInfo(
                    document_id=doc_id,
                    title=str(first.get("title", "")),
                    source=str(first.get("source", "")),
                    version=str(first.get("version", "")),
                    doc_type=str(first.get("doc_type", "")),
                    tags=tuple(t for t in str(first.get("tags", "")).split(",") if t),
                    chunks=len(metas),
                    content_hash=str(first.get("content_hash", "")),
                    untrusted_chunks=sum(bool(m.get("untrusted")) for m in metas),
                )
            )
        return docs

    def get_document(
        self, tenant_id: str, collection: str, document_id: str, *, merchant_id: str | None = None
    ) -> DocumentInfo:
        for doc in self.list_documents(tenant_id, collection, merchant_id=merchant_id):
            if doc.document_id == document_id:
                return doc
        raise NotFound(
            f"no document {document_id!r}", code="document_not_found", param="document_id"
        )

    def delete_document(
        self, tenant_id: str, collection: str, document_id: str, *, merchant_id: str | None = None
    ) -> int:
        """Remove every chunk of a document; returns how many were removed."""
        full = self._writable(tenant_id, collection)
        with self._lock:
            col = self._collection(full)
            self._check_owner(col, collection, merchant_id, write=True)
            found = col.get(where={"document_id": document_id}, include=[])["ids"]
            if not found:
                raise NotFound(
                    f"no document {document_id!r}", code="document_not_found", param="document_id"
                )
            col.delete(ids=list(found))
            self._bump(col)
        return len(found)

    # ----------------------------------------------------------------- search
    def _snapshot(self, col: Collection) -> _Snapshot:
        revision = f"{(col.metadata or {}).get('revision', '0')}:{col.count()}"
        with self._lock:
            snap = self._snapshots.get(col.name)
            if snap is not None and snap.revision == revision:
                return snap
            data = col.get(include=["documents", "metadatas"])
            ids = list(data["ids"])
            texts = [d or "" for d in data["documents"] or []]
            metas: list[Mapping[str, Any]] = [m or {} for m in data["metadatas"] or []]
            snap = _Snapshot(
                revision,
                ids,
                texts,
                metas,
                BM25Index.build(ids, texts),
                {i: n for n, i in enumerate(ids)},
            )
            self._snapshots[col.name] = snap
            return snap

    def query(
        self,
        tenant_id: str,
        text: str,
        *,
        collections: Sequence[str] | None = None,
        k: int = 5,
        mode: SearchMode = "hybrid",
        filters: Mapping[str, Any] | None = None,
        candidates: int | None = None,
        merchant_id: str | None = None,
    ) -> list[SearchHit]:
        """Top ``k`` passages for ``text`` from the tenant's and the shared collections (for a
        caller bound to ``merchant_id``: not from other merchants' collections)."""
        namespace = tenant_namespace(tenant_id)
        if not text or not text.strip():
            raise ValidationFailed("the query is empty", code="empty_query", param="query")
        if len(text) > 2000:
            raise ValidationFailed(
                "the query is longer than 2,000 characters", code="query_too_long", param="query"
            )
        if not 1 <= k <= 50:
            raise ValidationFailed("k must be between 1 and 50", code="invalid_k", param="k")
        if mode not in ("hybrid", "bm25", "vector"):
            raise ValidationFailed(
                "mode is hybrid, bm25 or vector", code="invalid_mode", param="mode"
            )
        where, tags = compile_filters(filters or {})
        if collections is None:
            fulls = [
                c.name
                for c in self._client.list_collections()
                if (p := split_full_name(c.name)) is not None
                and p[0] in (namespace, SHARED_NAMESPACE)
                and _visible(c.metadata, merchant_id)
            ]
        else:
            fulls = [
                self._resolve(tenant_id, name, merchant_id) for name in dict.fromkeys(collections)
            ]
        pool = candidates or max(4 * k, 30)
        query_vector = self.embedder.embed([text])[0] if mode != "bm25" else None

        rankings: list[list[str]] = []
        lists: dict[str, dict[str, int]] = {"bm25": {}, "vector": {}}
        scored: dict[str, list[tuple[str, float]]] = {"bm25": [], "vector": []}
        info: dict[str, tuple[str, str, Mapping[str, Any]]] = {}
        for full in fulls:
            col = self._collection(full)
            snap = self._snapshot(col)
            if not snap.ids:
                continue
            allowed = (
                {n for n, m in enumerate(snap.metadatas) if matches(m, where, tags)}
                if (where or tags)
                else None
            )
            if mode != "vector":
                found = snap.index.search(text, limit=pool, allowed=allowed)
                ids = [f"{full}|{cid}" for cid, _ in found]
                rankings.append(ids)
                scored["bm25"].extend((i, s) for i, (_, s) in zip(ids, found, strict=True))
                lists["bm25"].update({i: r for r, i in enumerate(ids, 1)})
            if query_vector is not None:
                self._check_embedder(col)
                n = min(pool, len(snap.ids) if allowed is None else len(allowed))
                if n > 0:
                    result = col.query(
                        query_embeddings=[query_vector.tolist()],
                        n_results=n,
                        where=chroma_where(where, tags),
                        include=["distances"],
                    )
                    ids = [f"{full}|{cid}" for cid in result["ids"][0]]
                    distances = (result["distances"] or [[]])[0]
                    rankings.append(ids)
                    scored["vector"].extend(
                        (i, 1.0 - float(d)) for i, d in zip(ids, distances, strict=True)
                    )
                    lists["vector"].update({i: r for r, i in enumerate(ids, 1)})
            for key in lists["bm25"].keys() | lists["vector"].keys():
                if key.startswith(full + "|") and key not in info:
                    row = snap.row_of[key.partition("|")[2]]
                    info[key] = (full, snap.texts[row], snap.metadatas[row])

        if mode == "hybrid":
            fused = reciprocal_rank_fusion(rankings)
        else:
            fused = sorted(scored[mode], key=lambda kv: -kv[1])
        hits = []
        for key, score in fused[:k]:
            full, indexed, meta = info[key]
            hits.append(_hit(key.partition("|")[2], full, indexed, meta, score, lists, key))
        return hits


def _hit(
    chunk_id: str,
    full: str,
    indexed: str,
    meta: Mapping[str, Any],
    score: float,
    lists: Mapping[str, Mapping[str, int]],
    key: str,
) -> SearchHit:
    offset = int(meta.get("body_offset", 0) or 0)
    path = str(meta.get("section_path", ""))
    return SearchHit(
        chunk_id=chunk_id,
        text=indexed[offset:],
        score=score,
        citation=Citation(
            collection=full.partition("_")[2],
            document_id=str(meta.get("document_id", "")),
            title=str(meta.get("title", "")),
            section=str(meta.get("section", "")),
            source=str(meta.get("source", "")),
            version=str(meta.get("version", "")),
        ),
        section_path=tuple(p for p in path.split(" > ") if p),
        tags=tuple(t for t in str(meta.get("tags", "")).split(",") if t),
        untrusted=bool(meta.get("untrusted", False)),
        untrusted_reasons=tuple(r for r in str(meta.get("untrusted_reasons", "")).split(",") if r),
        ranks={name: ranks[key] for name, ranks in lists.items() if key in ranks},
    )


__all__ = ["FILTER_FIELDS", "KnowledgeStore", "make_chroma_client"]
