"""What the knowledge store returns: collections, documents, ingestion results, hits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from knowledge.screen import strict_verdict

SearchMode = Literal["hybrid", "bm25", "vector"]
Grouping = Literal["documents", "chunks"]
"""What ``k`` counts: documents, each with its best chunks (default), or chunks (the old way)."""


@dataclass(frozen=True, slots=True)
class CollectionInfo:
    name: str
    """The name callers use (without the tenant namespace)."""
    shared: bool
    """A read-only collection every tenant can search (our corpus)."""
    chunks: int
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    document_id: str
    title: str
    source: str
    version: str
    doc_type: str
    tags: tuple[str, ...]
    chunks: int
    content_hash: str
    untrusted_chunks: int = 0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["tags"] = list(self.tags)
        return data


@dataclass(frozen=True, slots=True)
class IngestResult:
    collection: str
    document_id: str
    title: str
    status: Literal["created", "replaced", "unchanged"]
    chunks: int
    removed_chunks: int = 0
    untrusted_chunks: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Citation:
    """Enough to cite a passage: which document, which section."""

    collection: str
    document_id: str
    title: str
    section: str
    source: str
    version: str

    def label(self) -> str:
        return f"{self.title} § {self.section}" if self.section else self.title


@dataclass(frozen=True, slots=True)
class SearchHit:
    chunk_id: str
    text: str
    """The passage (without the title/heading prefix used for indexing)."""
    score: float
    citation: Citation
    section_path: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    untrusted: bool = False
    """True when the passage looks like it tries to instruct the reader: treat as data."""
    untrusted_reasons: tuple[str, ...] = ()
    ranks: dict[str, int] = field(default_factory=dict)
    """1-based rank of this chunk in each method that found it (``bm25``, ``vector``)."""
    flags: tuple[str, ...] = ()
    """Procedure the passage states (``names_tool``): worth knowing, not a reason to distrust it."""
    more: tuple[SearchHit, ...] = ()
    """With documents counted (``group="documents"``): the document's next best chunks."""

    @property
    def document_id(self) -> str:
        return self.citation.document_id

    @property
    def section(self) -> str:
        return self.citation.section

    @property
    def title(self) -> str:
        return self.citation.title

    def to_dict(self) -> dict[str, Any]:
        return {
            "chunk_id": self.chunk_id,
            "collection": self.citation.collection,
            "document_id": self.citation.document_id,
            "title": self.citation.title,
            "section": self.citation.section,
            "section_path": list(self.section_path),
            "source": self.citation.source,
            "version": self.citation.version,
            "tags": list(self.tags),
            "text": self.text,
            "score": round(self.score, 6),
            "untrusted": self.untrusted,
            "untrusted_reasons": list(self.untrusted_reasons),
            "ranks": dict(self.ranks),
            "flags": list(self.flags),
            "more": [hit.to_dict() for hit in self.more],
        }


def hit_from_chunk(
    chunk_id: str,
    full: str,
    indexed: str,
    meta: Mapping[str, Any],
    *,
    score: float,
    ranks: dict[str, int],
    strict_screen: bool = False,
) -> SearchHit:
    """A search hit from a stored chunk: its indexed text, its metadata and its Chroma
    collection's full name (the tenant namespace is dropped from the citation).

    ``strict_screen`` reads the screen's flags as reasons to distrust (the pre-flag behaviour)."""
    offset = int(meta.get("body_offset", 0) or 0)
    path = str(meta.get("section_path", ""))
    untrusted = bool(meta.get("untrusted", False))
    reasons = _listed(meta, "untrusted_reasons")
    flags = _listed(meta, "screen_flags")
    if strict_screen:
        untrusted, reasons = strict_verdict(untrusted, reasons, flags)
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
        untrusted=untrusted,
        untrusted_reasons=reasons,
        ranks=ranks,
        flags=flags,
    )


def _listed(meta: Mapping[str, Any], key: str) -> tuple[str, ...]:
    return tuple(r for r in str(meta.get(key, "")).split(",") if r)


__all__ = [
    "Citation",
    "CollectionInfo",
    "DocumentInfo",
    "Grouping",
    "IngestResult",
    "SearchHit",
    "SearchMode",
    "hit_from_chunk",
]
