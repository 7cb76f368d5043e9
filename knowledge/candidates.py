"""A query's candidate chunks, gathered from each collection's snapshot and fused.

Per collection: BM25 over the chunks, the vector index (Chroma), and BM25 over the title and
heading path alone (the title/heading field); the lists are fused by reciprocal rank (hybrid)
or sorted by score (one method). Nothing here writes, or knows tenants: the store picks the
collections and turns candidates into hits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from chromadb.api.models.Collection import Collection

from knowledge.bm25 import BM25Index, tokenize
from knowledge.filters import chroma_where, matches
from knowledge.fusion import RRF_K, reciprocal_rank_fusion
from knowledge.models import SearchHit, SearchMode, hit_from_chunk
from knowledge.namespace import SHARED_NAMESPACE
from knowledge.segment import fuse_by_document

ChunkInfo = tuple[str, str, Mapping[str, Any]]
"""A candidate's Chroma collection name, indexed text and metadata."""


@dataclass
class Snapshot:
    """A collection's chunks as of one revision: texts, metadata and its BM25 indexes."""

    revision: str
    ids: list[str]
    texts: list[str]
    metadatas: list[Mapping[str, Any]]
    index: BM25Index
    row_of: dict[str, int]
    titles: BM25Index
    """BM25 over each chunk's title and heading path alone (the title/heading field)."""

    @classmethod
    def build(cls, revision: str, data: Mapping[str, Any]) -> Snapshot:
        """From a Chroma ``get`` with documents and metadatas."""
        ids = list(data["ids"])
        texts = [d or "" for d in data["documents"] or []]
        metas: list[Mapping[str, Any]] = [m or {} for m in data["metadatas"] or []]
        heads = [f"{m.get('title', '')} {m.get('section_path', '')}" for m in metas]
        return cls(
            revision,
            ids,
            texts,
            metas,
            BM25Index.build(ids, texts),
            {i: n for n, i in enumerate(ids)},
            BM25Index.build(ids, heads),
        )


@dataclass(frozen=True, slots=True)
class Weights:
    """How much a shared collection's lists and the title/heading field count in a query."""

    shared: float
    title: float
    """0: the title field is not searched."""


@dataclass
class Candidates:
    """Every candidate chunk for a text, best first (keys ``<collection>|<chunk id>``)."""

    fused: list[tuple[str, float]]
    info: dict[str, ChunkInfo] = field(default_factory=dict)
    lists: dict[str, dict[str, int]] = field(default_factory=dict)
    """Each candidate's 1-based rank in each method that found it (``bm25``, ``vector``,
    ``title``)."""
    bonus: dict[str, float] = field(default_factory=dict)
    """Each document's score from the title field (keys ``<collection>|<document id>``)."""

    def document_of(self, key: str) -> str:
        """``<collection>|<document id>`` of a candidate chunk."""
        full, _, meta = self.info[key]
        return f"{full}|{meta.get('document_id', '')}"

    def ranks_of(self, key: str) -> dict[str, int]:
        return {name: found[key] for name, found in self.lists.items() if key in found}

    def hit(self, key: str, score: float, *, strict_screen: bool) -> SearchHit:
        """The search hit for candidate ``key``."""
        full, indexed, meta = self.info[key]
        return hit_from_chunk(
            key.partition("|")[2],
            full,
            indexed,
            meta,
            score=score,
            ranks=self.ranks_of(key),
            strict_screen=strict_screen,
        )


def rank(
    sources: Sequence[tuple[Collection, Snapshot]],
    text: str,
    query_vector: Any,
    *,
    mode: SearchMode,
    where: Mapping[str, Any],
    tags: Sequence[str],
    pool: int,
    weights: Weights,
) -> Candidates:
    """Candidates for ``text`` from each (collection, its snapshot) of ``sources``.

    A shared collection's lists (and, outside hybrid, its scores) count ``weights.shared``;
    the title field's list counts ``weights.title`` towards documents, not chunks."""
    rankings: list[list[str]] = []
    list_weights: list[float] = []
    title_lists: list[tuple[list[str], float]] = []
    out = Candidates(fused=[], lists={"bm25": {}, "vector": {}, "title": {}})
    lists = out.lists
    scored: dict[str, list[tuple[str, float]]] = {"bm25": [], "vector": []}
    terms = set(tokenize(text)) if mode != "vector" or weights.title > 0 else set()
    for col, snap in sources:
        full = col.name
        weight = weights.shared if full.startswith(f"{SHARED_NAMESPACE}_") else 1.0
        allowed = (
            {n for n, m in enumerate(snap.metadatas) if matches(m, where, tags)}
            if (where or tags)
            else None
        )
        if mode != "vector":
            found = snap.index.search_terms(terms, limit=pool, allowed=allowed)
            ids = [f"{full}|{cid}" for cid, _ in found]
            rankings.append(ids)
            list_weights.append(weight)
            scored["bm25"].extend((i, s * weight) for i, (_, s) in zip(ids, found, strict=True))
            lists["bm25"].update({i: r for r, i in enumerate(ids, 1)})
        if weights.title > 0:
            heads = snap.titles.search_terms(terms, limit=pool, allowed=allowed)
            ids = [f"{full}|{cid}" for cid, _ in heads]
            title_lists.append((ids, weight * weights.title))
            lists["title"].update({i: r for r, i in enumerate(ids, 1)})
        if query_vector is not None:
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
                list_weights.append(weight)
                scored["vector"].extend(
                    (i, (1.0 - float(d)) * weight) for i, d in zip(ids, distances, strict=True)
                )
                lists["vector"].update({i: r for r, i in enumerate(ids, 1)})
        for key in lists["bm25"].keys() | lists["vector"].keys() | lists["title"].keys():
            if key.startswith(full + "|") and key not in out.info:
                row = snap.row_of[key.partition("|")[2]]
                out.info[key] = (full, snap.texts[row], snap.metadatas[row])

    if mode == "hybrid":
        out.fused = reciprocal_rank_fusion(rankings, weights=list_weights)
    else:
        out.fused = sorted(scored[mode], key=lambda kv: -kv[1])
    # The title field ranks documents, not chunks: every chunk of a document shares its title,
    # so fused per chunk it would lift a document's wrong sections as much as the right one (on
    # our own corpus, section MRR 0.886 -> 0.846).
    for ids, weight in title_lists:
        for place, doc in enumerate(dict.fromkeys(out.document_of(i) for i in ids), 1):
            out.bonus[doc] = out.bonus.get(doc, 0.0) + weight / (RRF_K + place)
    return out


def fuse_windows(per_window: Sequence[Candidates]) -> Candidates:
    """One ranking for a long query from its windows' candidates: one chunk per document,
    documents found by several windows first (``knowledge.segment.fuse_by_document``); each
    chunk's rank per method is its best in any window."""
    out = Candidates(fused=[])
    for found in per_window:
        out.info.update(found.info)
        for key, _ in found.fused:
            for name, ranked in found.lists.items():
                if key in ranked:
                    mine = out.lists.setdefault(name, {})
                    mine[key] = min(mine.get(key, ranked[key]), ranked[key])
    out.fused = fuse_by_document(
        [[(key, out.document_of(key)) for key, _ in found.fused] for found in per_window]
    )
    return out


__all__ = ["Candidates", "ChunkInfo", "Snapshot", "Weights", "fuse_windows", "rank"]
