"""Turning an uploaded document into the chunks the store writes: ids, texts and metadata.

Everything here happens before the store touches Chroma or the embedder: the document id is
checked, the file parsed, chunked and screened for injected instructions, and each chunk gets
its indexed text (title and headings above the body) and metadata. A chunk's id carries a hash
of the document's content and labels, so a new version never overwrites the chunks of the one
it replaces until those are deliberately deleted.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from cockpit.errors import ValidationFailed
from knowledge.chunking import chunk_document, indexed_text
from knowledge.filters import check_tags
from knowledge.parse import parse_document
from knowledge.screen import screen_text

_MAX_DOC_ID = 200


@dataclass(frozen=True, slots=True)
class DocumentInput:
    """One document as a caller hands it to the store."""

    data: bytes
    """The file's bytes; ``filename``'s extension (or ``doc_type``) picks the parser."""
    filename: str
    document_id: str | None = None
    """Stable id within the collection; default: a slug of the file name's stem."""
    title: str | None = None
    """Overrides the title the parser finds."""
    version: str | None = None
    tags: Sequence[str] = ()
    source: str | None = None
    """Where it came from, for citations; default: the file name."""
    doc_type: str | None = None


@dataclass(frozen=True, slots=True)
class PreparedDocument:
    """A document's chunks, ready to embed and write."""

    document_id: str
    title: str
    digest: str
    """Hash of the content and labels; part of every chunk id."""
    ids: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    """What is embedded and BM25-indexed (title and headings above each body)."""
    metadatas: list[dict[str, Any]] = field(default_factory=list)
    untrusted: int = 0
    """How many chunks the injection screen flagged."""


def _slug(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")
    return slug[:200] or "document"


def document_id_of(doc: DocumentInput) -> str:
    """The id the document is stored under; ValidationFailed if a given one is malformed."""
    doc_id = doc.document_id or _slug(PurePath(doc.filename).stem)
    if not _valid_document_id(doc_id):
        raise ValidationFailed(
            "document ids are 1–200 printable characters without spaces, "
            "and no path segment is . or ..",
            code="invalid_document_id",
            param="document_id",
        )
    return doc_id


def _valid_document_id(doc_id: str) -> bool:
    """Ids are data (Chroma ids and metadata, bound parameters, URL path tails), so any
    printable character is stored as given, parentheses and quotes included. Whitespace is
    refused (an id is copied between tools and shells), and so are ``.``/``..`` segments,
    so that an id never reads as a relative path wherever one is shown or exported."""
    if not 1 <= len(doc_id) <= _MAX_DOC_ID or not doc_id.isprintable():
        return False
    if any(ch.isspace() for ch in doc_id):
        return False
    return not any(part in (".", "..") for part in doc_id.split("/"))


def prepare_document(doc: DocumentInput, *, ingested_at: str) -> PreparedDocument:
    """Parse, chunk and screen ``doc``; nothing is written."""
    doc_id = document_id_of(doc)
    clean_tags = check_tags(doc.tags)
    parsed = parse_document(doc.data, filename=doc.filename, doc_type=doc.doc_type)
    title = (doc.title or parsed.title).strip()[:300] or doc_id
    drafts = chunk_document(parsed)
    digest = hashlib.sha256(
        b"\x00".join(
            [doc.data, title.encode(), (doc.version or "").encode(), ",".join(clean_tags).encode()]
        )
    ).hexdigest()[:16]
    prepared = PreparedDocument(doc_id, title, digest)
    untrusted = 0
    for draft in drafts:
        verdict = screen_text(draft.body)
        untrusted += int(verdict.untrusted)
        text = indexed_text(title, draft.section_path, draft.body)
        meta: dict[str, Any] = {
            "document_id": doc_id,
            "title": title,
            "section": draft.section or title,
            "section_path": " > ".join(draft.section_path),
            "source": doc.source or doc.filename,
            "version": doc.version or "",
            "doc_type": parsed.doc_type,
            "chunk_index": draft.index,
            "content_hash": digest,
            "body_offset": len(text) - len(draft.body),
            "tags": ",".join(clean_tags),
            "untrusted": verdict.untrusted,
            "untrusted_reasons": ",".join(verdict.reasons),
            "screen_flags": ",".join(verdict.flags),
            "ingested_at": ingested_at,
        }
        meta.update({f"tag:{t}": True for t in clean_tags})
        prepared.ids.append(f"{doc_id}#{digest}#{draft.index}")
        prepared.texts.append(text)
        prepared.metadatas.append(meta)
    return PreparedDocument(
        doc_id, title, digest, prepared.ids, prepared.texts, prepared.metadatas, untrusted
    )


__all__ = ["DocumentInput", "PreparedDocument", "document_id_of", "prepare_document"]
