"""The knowledge store: tenant-namespaced Chroma collections with hybrid retrieval.

Every public method takes the tenant first; there is no way to read or write
a collection without one. Tenants write only their own namespace; the shared
namespace (our corpus) is writable only through :meth:`KnowledgeStore.ingest_shared`,
which the composition root calls at start.

Ingestion is all-or-nothing: a document is parsed, chunked, screened and
embedded before anything is written; its new chunks are added under ids that
include the content hash, and only then are the previous version's chunks
deleted, so a failure leaves the previous version whole.

Merchant ownership (``knowledge.ownership``): a collection created by a key bound to a
merchant records that merchant in its Chroma collection metadata. Knowledge persists nothing
outside Chroma, so the owner lives with the collection it guards and goes when it is deleted.
Methods take the caller's binding as ``merchant_id``. Collection names stay unique per tenant,
so creating one under a taken name is a 409 whoever holds it.

Searching (``knowledge.search``) happens here only as far as tenants go: which collections a
caller may search, their snapshots, and how a query is embedded.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Mapping, Sequence
from contextlib import suppress
from typing import Any, Literal

from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.errors import ChromaError
from chromadb.errors import NotFoundError as ChromaNotFound

from cockpit.clock import utcnow
from cockpit.config import Settings
from cockpit.embeddings import Embedder, default_embedder
from cockpit.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from knowledge.candidates import Snapshot, Weights
from knowledge.embedding_function import CockpitEmbeddingFunction
from knowledge.filters import FILTER_FIELDS, compile_filters
from knowledge.ingest import DocumentInput, PreparedDocument, document_id_of, prepare_document
from knowledge.models import (
    CollectionInfo,
    DocumentInfo,
    Grouping,
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
from knowledge.ownership import OWNER_KEY, check_owner, no_collection, visible
from knowledge.ranking import (
    QUERY_EMBED_CHARS,
    QUERY_EMBED_TOKENS,
    SHARED_WEIGHT,
    TITLE_WEIGHT,
    query_embedding_text,
)
from knowledge.search import check_query, search
from knowledge.store_client import make_chroma_client
from knowledge.write import embed_documents, existing_chunks, unchanged, write_documents


class KnowledgeStore:
    """Collections per tenant, ingestion and hybrid (BM25 + vector) search."""

    def __init__(
        self,
        client: ClientAPI,
        *,
        embedder: Embedder | None = None,
        query_embed_chars: int | None = QUERY_EMBED_CHARS,
        query_embed_tokens: int | None = QUERY_EMBED_TOKENS,
    ) -> None:
        self._client = client
        self.embedder = embedder or default_embedder()
        self.query_embed_chars = query_embed_chars
        """What of a query (or window) an embedder that cannot count tokens embeds, in
        characters; None: all of it."""
        self.query_embed_tokens = query_embed_tokens
        """What of a query (or window) an embedder that counts tokens (MiniLM) reads, in
        tokens (``knowledge.ranking.query_embedding_text``); None: the character budget."""
        self._function = CockpitEmbeddingFunction(self.embedder, spec=None)
        self._lock = threading.RLock()
        self._snapshots: dict[str, Snapshot] = {}

    @classmethod
    def from_settings(
        cls, settings: Settings, *, embedder: Embedder | None = None
    ) -> KnowledgeStore:
        return cls(make_chroma_client(settings), embedder=embedder or default_embedder(settings))

    # ----------------------------------------------------------------- naming
    def _get(self, full: str) -> Collection | None:
        """The collection named ``full``, or None (one Chroma call: existence and handle)."""
        try:
            return self._client.get_collection(full, embedding_function=self._function)  # type: ignore[arg-type]
        except (ChromaNotFound, ValueError):
            return None

    def _collection(self, full: str) -> Collection:
        col = self._get(full)
        if col is None:
            raise no_collection(full)
        return col

    def _exists(self, full: str) -> bool:
        return self._get(full) is not None

    def _resolve(self, tenant_id: str, name: str, merchant_id: str | None = None) -> str:
        """The Chroma name a tenant means (see :meth:`_readable`)."""
        return self._readable(tenant_id, name, merchant_id).name

    def _readable(self, tenant_id: str, name: str, merchant_id: str | None = None) -> Collection:
        """The collection a tenant means: its own, else a shared one.

        Another merchant's collection is skipped as if it did not exist."""
        own = self._get(full_name(tenant_namespace(tenant_id), name))
        if own is not None and visible(own.metadata, merchant_id):
            return own
        shared = self._get(full_name(SHARED_NAMESPACE, name))
        if shared is not None:
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
            metadata[OWNER_KEY] = merchant_id
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
            raise no_collection(full) from None
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
            if not visible(col.metadata, merchant_id):
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
            check_owner(self._collection(full).metadata, name, merchant_id, write=True)
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
        doc = DocumentInput(data, filename, document_id, title, version, tags, source, doc_type)
        return self.ingest_many(
            tenant_id, collection, [doc], create=create, merchant_id=merchant_id
        )[0]

    def ingest_many(
        self,
        tenant_id: str,
        collection: str,
        documents: Sequence[DocumentInput],
        *,
        create: bool = False,
        merchant_id: str | None = None,
    ) -> list[IngestResult]:
        """Add or replace several documents in a tenant collection, all or none of them.

        Every document is parsed and checked before anything is written; then all their chunks
        are embedded together and written in as few Chroma calls as its batch size allows,
        which is what makes loading a knowledge base fast."""
        col = self._own_collection(tenant_id, collection, merchant_id, create=create)
        return self._write(col, self._prepare(documents))

    def _own_collection(
        self, tenant_id: str, name: str, merchant_id: str | None, *, create: bool
    ) -> Collection:
        """The tenant's collection ``name`` for writing (created if asked and missing)."""
        check_name(name)
        full = full_name(tenant_namespace(tenant_id), name)
        try:
            col = self._collection(full)
        except NotFound:
            if self._exists(full_name(SHARED_NAMESPACE, name)):
                raise PermissionDenied(
                    f"collection {name!r} is shared and read-only", code="read_only_collection"
                ) from None
            if not create:
                raise
            with self._lock, suppress(Conflict):  # another worker's create is as good
                if not self._exists(full):
                    self._create(full, merchant_id=merchant_id)
            col = self._collection(full)
        check_owner(col.metadata, name, merchant_id, write=True)
        return col

    def _prepare(self, documents: Sequence[DocumentInput]) -> list[PreparedDocument]:
        seen: set[str] = set()
        for doc in documents:
            doc_id = document_id_of(doc)
            if doc_id in seen:
                raise ValidationFailed(
                    f"document {doc_id!r} appears twice in one upload",
                    code="duplicate_document_id",
                    param="document_id",
                )
            seen.add(doc_id)
        now = utcnow().isoformat(timespec="seconds")
        return [prepare_document(doc, ingested_at=now) for doc in documents]

    def ensure_shared_collection(self, name: str, *, description: str = "") -> Collection:
        """Create (or rebuild, if embedded with another model) a shared collection."""
        full = full_name(SHARED_NAMESPACE, name)
        with self._lock:
            col = self._get(full)
            if col is not None:
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
        col = self._get(full_name(SHARED_NAMESPACE, name))
        if col is None:
            raise NotFound(
                f"no shared collection {name!r}", code="collection_not_found", param="collection"
            )
        return self._write(col, self._prepare([DocumentInput(data, filename, **options)]))[0]

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

    def _write(self, col: Collection, docs: Sequence[PreparedDocument]) -> list[IngestResult]:
        """Embed outside the lock (the long part: queries go on meanwhile), write under it."""
        if not docs:
            return []
        self._check_embedder(col)
        doc_ids = [d.document_id for d in docs]
        looked = existing_chunks(col, doc_ids)
        vectors = embed_documents(self.embedder, [d for d in docs if not unchanged(d, looked)])
        with self._lock:
            prior = existing_chunks(col, doc_ids)  # again: another request may have written
            changed = [d for d in docs if not unchanged(d, prior)]
            late = [d for d in changed if d.document_id not in vectors]
            if late:
                vectors.update(embed_documents(self.embedder, late))
            if changed:
                batch = self._client.get_max_batch_size()
                write_documents(col, changed, prior, vectors, batch=batch)
                self._bump(col)
        name = col.name.partition("_")[2]
        written = {d.document_id for d in changed}
        results = []
        for doc in docs:
            chunks = prior.get(doc.document_id, [])
            if doc.document_id not in written:
                flagged = sum(bool(meta.get("untrusted")) for _, meta in chunks)
                results.append(
                    IngestResult(
                        name, doc.document_id, doc.title, "unchanged", len(chunks), 0, flagged
                    )
                )
                continue
            stale = len({cid for cid, _ in chunks} - set(doc.ids))
            status: Literal["created", "replaced"] = "replaced" if chunks else "created"
            results.append(
                IngestResult(
                    name, doc.document_id, doc.title, status, len(doc.ids), stale, doc.untrusted
                )
            )
        return results

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
        snap = self._snapshot(self._readable(tenant_id, collection, merchant_id))
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
            check_owner(col.metadata, collection, merchant_id, write=True)
            found = col.get(where={"document_id": document_id}, include=[])["ids"]
            if not found:
                raise NotFound(
                    f"no document {document_id!r}", code="document_not_found", param="document_id"
                )
            col.delete(ids=list(found))
            self._bump(col)
        return len(found)

    # ----------------------------------------------------------------- search
    def _snapshot(self, col: Collection) -> Snapshot:
        revision = f"{(col.metadata or {}).get('revision', '0')}:{col.count()}"
        snap = self._snapshots.get(col.name)
        if snap is not None and snap.revision == revision:
            return snap  # no lock: a query never waits for another request's write
        with self._lock:
            snap = self._snapshots.get(col.name)
            if snap is not None and snap.revision == revision:
                return snap
            snap = Snapshot.build(revision, col.get(include=["documents", "metadatas"]))
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
        segment_long: bool = False,
        group: Grouping = "documents",
        own_first: bool = True,
        fields: bool = True,
        strict_screen: bool = False,
    ) -> list[SearchHit]:
        """Top ``k`` documents for ``text`` from the tenant's and the shared collections (for a
        caller bound to ``merchant_id``: not from other merchants' collections), each hit its
        best chunk with the next best in ``more``; ``group="chunks"``: the top ``k`` chunks.

        With no ``collections`` named, the tenant's own rank above the shared (platform)
        ones (``own_first``; ``False``: equal). ``fields`` fuses in the title/heading field
        (hybrid only). ``strict_screen`` reads the injection screen's flags (procedure that
        names a tool) as untrusted, as before flags existed. See ``knowledge.ranking``.

        A query over ``SHORT_QUERY_LIMIT`` characters is refused unless ``segment_long``: then
        (up to ``LONG_QUERY_LIMIT``) its windows are searched and fused by document, one hit
        per document (``knowledge.segment``)."""
        check_query(text, k=k, mode=mode, group=group, segment_long=segment_long)
        where, tags = compile_filters(filters or {})
        if collections is None:
            namespace = tenant_namespace(tenant_id)
            cols = [
                c
                for c in self._client.list_collections()
                if (p := split_full_name(c.name)) is not None
                and p[0] in (namespace, SHARED_NAMESPACE)
                and visible(c.metadata, merchant_id)
            ]
        else:
            cols = [
                self._readable(tenant_id, name, merchant_id) for name in dict.fromkeys(collections)
            ]
        weights = Weights(
            shared=SHARED_WEIGHT if own_first and collections is None else 1.0,
            title=TITLE_WEIGHT if fields and mode == "hybrid" and group == "documents" else 0.0,
        )
        return search(
            self._sources(cols, vectors=mode != "bm25"),
            text,
            None if mode == "bm25" else self._embed_queries,
            k=k,
            mode=mode,
            where=where,
            tags=tags,
            pool=candidates or max(4 * k, 30),
            weights=weights,
            group=group,
            strict_screen=strict_screen,
        )

    def _sources(
        self, cols: Sequence[Collection], *, vectors: bool
    ) -> list[tuple[Collection, Snapshot]]:
        """The collections that hold chunks, with their snapshots (embedders checked when
        their vectors are searched)."""
        sources = []
        for col in cols:
            snap = self._snapshot(col)
            if snap.ids:
                if vectors:
                    self._check_embedder(col)
                sources.append((col, snap))
        return sources

    def _embed_queries(self, texts: Sequence[str]) -> Any:
        """Query vectors, each from what of its text the budgets leave (``query_embed_tokens``
        for an embedder that counts tokens, else ``query_embed_chars``)."""
        chars, tokens = self.query_embed_chars, self.query_embed_tokens
        return self.embedder.embed(
            [query_embedding_text(t, self.embedder, chars=chars, tokens=tokens) for t in texts]
        )


__all__ = ["FILTER_FIELDS", "KnowledgeStore", "make_chroma_client"]
