"""Heading-aware chunking with size limits and overlap.

A chunk never spans two sections, so its heading path is its citation. Long
sections are split on paragraph, then line/sentence, then word boundaries;
consecutive chunks of one section share a short overlap so a fact cut at a
boundary is still found whole in one of them. Table rows split across chunks
keep the table's header rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cockpit.errors import PayloadTooLarge
from knowledge.parse import ParsedDocument

#: ~220 MiniLM tokens for English prose: under the model's 256-token window.
MAX_CHUNK_CHARS = 1000
OVERLAP_CHARS = 150
MAX_CHUNKS_PER_DOCUMENT = 5000

_SENTENCE = re.compile(r"(?<=[.!?;:])\s+")


@dataclass(frozen=True, slots=True)
class ChunkDraft:
    """A chunk before it is stored: its section path, body and position."""

    index: int
    section_path: tuple[str, ...]
    body: str

    @property
    def section(self) -> str:
        return self.section_path[-1] if self.section_path else ""


def _is_table(block: str) -> bool:
    lines = block.split("\n")
    return len(lines) >= 2 and all(line.lstrip().startswith("|") for line in lines)


def _hard_split(text: str, limit: int) -> list[str]:
    words, pieces, current = text.split(" "), [], ""
    for word in words:
        while len(word) > limit:  # a single unbroken token longer than a chunk
            if current:
                pieces.append(current)
                current = ""
            pieces.append(word[:limit])
            word = word[limit:]
        candidate = f"{current} {word}" if current else word
        if len(candidate) > limit and current:
            pieces.append(current)
            current = word
        else:
            current = candidate
    if current:
        pieces.append(current)
    return pieces


def _split_block(block: str, limit: int) -> list[str]:
    """Split one oversize paragraph or table into pieces of at most ``limit`` chars."""
    if _is_table(block):
        lines = block.split("\n")
        header = (
            lines[:2]
            if len(lines) > 2 and set(lines[1].replace("|", "").strip()) <= set("-: ")
            else lines[:1]
        )
        head = "\n".join(header)
        pieces: list[str] = []
        rows: list[str] = []
        for row in lines[len(header) :]:
            if rows and len(head) + sum(len(r) + 1 for r in rows) + len(row) + 1 > limit:
                pieces.append("\n".join([head, *rows]))
                rows = []
            rows.append(row)
        if rows:
            pieces.append("\n".join([head, *rows]))
        return [
            p
            for piece in pieces
            for p in ([piece] if len(piece) <= limit else _hard_split(piece, limit))
        ]
    units = [
        u for u in (block.split("\n") if "\n" in block else _SENTENCE.split(block)) if u.strip()
    ]
    pieces, current = [], ""
    for unit in units:
        if len(unit) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.extend(_hard_split(unit, limit))
            continue
        candidate = f"{current}\n{unit}" if current else unit
        if len(candidate) > limit:
            pieces.append(current)
            current = unit
        else:
            current = candidate
    if current:
        pieces.append(current)
    return pieces


def _tail(text: str, size: int) -> str:
    """The last ``size`` characters of ``text``, starting at a word boundary."""
    if len(text) <= size:
        return text
    cut = text[-size:]
    space = cut.find(" ")
    return cut[space + 1 :] if 0 <= space < size // 2 else cut


def chunk_section(
    text: str, *, max_chars: int = MAX_CHUNK_CHARS, overlap: int = OVERLAP_CHARS
) -> list[str]:
    """Split one section's text into bodies of at most ``max_chars`` (+ overlap)."""
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text) if b.strip()]
    pieces: list[str] = []
    for block in blocks:
        pieces.extend([block] if len(block) <= max_chars else _split_block(block, max_chars))
    bodies: list[str] = []
    current = ""
    for piece in pieces:
        candidate = f"{current}\n\n{piece}" if current else piece
        if current and len(candidate) > max_chars:
            bodies.append(current)
            # Tables repeat their header instead of overlapping mid-row.
            carry = "" if _is_table(piece) or overlap <= 0 else _tail(current, overlap)
            current = f"{carry}\n\n{piece}" if carry else piece
        else:
            current = candidate
    if current:
        bodies.append(current)
    return bodies


def chunk_document(
    doc: ParsedDocument, *, max_chars: int = MAX_CHUNK_CHARS, overlap: int = OVERLAP_CHARS
) -> list[ChunkDraft]:
    """All chunks of a parsed document, in reading order."""
    drafts: list[ChunkDraft] = []
    for section in doc.sections:
        for body in chunk_section(section.text, max_chars=max_chars, overlap=overlap):
            drafts.append(ChunkDraft(index=len(drafts), section_path=section.path, body=body))
            if len(drafts) > MAX_CHUNKS_PER_DOCUMENT:
                raise PayloadTooLarge(
                    f"document splits into more than {MAX_CHUNKS_PER_DOCUMENT} chunks; split it into several documents",
                    code="too_many_chunks",
                    param="file",
                )
    return drafts


def indexed_text(title: str, section_path: tuple[str, ...], body: str) -> str:
    """What gets embedded and BM25-indexed: the body under its title and headings."""
    heading = " > ".join((title, *section_path))
    return f"{heading}\n{body}"


__all__ = [
    "MAX_CHUNKS_PER_DOCUMENT",
    "MAX_CHUNK_CHARS",
    "OVERLAP_CHARS",
    "ChunkDraft",
    "chunk_document",
    "chunk_section",
    "indexed_text",
]
