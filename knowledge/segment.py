"""Long queries: split into sub-queries and fuse their results by document.

A task description of several thousand characters asks about several things at once. One
embedding of all of it is a blur (the model reads its first ~256 tokens only) and one BM25 query
lets the most repeated words drown the rest. So a query longer than ``SHORT_QUERY_LIMIT``
is cut into windows of whole paragraphs or sentences, each window is searched on its own, and
the windows' rankings are merged by reciprocal-rank fusion, keeping each document's best chunk
once. Queries up to the limit never come here: their behaviour is unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

#: Queries up to this many characters are searched whole, as they always were.
SHORT_QUERY_LIMIT = 2000
#: The longest query accepted at all (a long task description with its context).
LONG_QUERY_LIMIT = 20_000
#: Target size of one sub-query: about what the embedder reads (MiniLM: 256 tokens).
WINDOW_CHARS = 1000

_PARAGRAPHS = re.compile(r"\n\s*\n")
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|\n")


def _pieces(text: str, window: int) -> list[str]:
    """Paragraphs, each cut further into sentences (then words) when longer than ``window``."""
    pieces: list[str] = []
    for paragraph in _PARAGRAPHS.split(text):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        if len(paragraph) <= window:
            pieces.append(paragraph)
            continue
        for sentence in _SENTENCE_END.split(paragraph):
            sentence = sentence.strip()
            while len(sentence) > window:
                cut = sentence.rfind(" ", 0, window)
                cut = cut if cut > 0 else window
                pieces.append(sentence[:cut].strip())
                sentence = sentence[cut:].strip()
            if sentence:
                pieces.append(sentence)
    return pieces


def split_query(text: str, *, window: int = WINDOW_CHARS) -> list[str]:
    """Consecutive windows of at most ``window`` characters covering ``text``.

    Paragraphs are kept whole when they fit; short neighbours are packed together so that a
    list of one-line facts does not become dozens of sub-queries."""
    windows: list[str] = []
    current = ""
    for piece in _pieces(text, window):
        if current and len(current) + 1 + len(piece) > window:
            windows.append(current)
            current = piece
        else:
            current = f"{current}\n{piece}" if current else piece
    if current:
        windows.append(current)
    return windows


def fuse_by_document(
    rankings: Sequence[Sequence[tuple[str, str]]], *, k: int = 60
) -> list[tuple[str, float]]:
    """Fuse per-window rankings of ``(chunk_key, document_key)`` into chunk keys, one per
    document: a document scores Σ 1 / (k + its best rank in each window), so one found by
    several windows rises, and it is represented by its best-placed chunk."""
    scores: dict[str, float] = {}
    best: dict[str, tuple[int, int, str]] = {}
    for window_index, ranking in enumerate(rankings):
        seen: set[str] = set()
        for rank, (chunk_key, doc_key) in enumerate(ranking, start=1):
            if doc_key in seen:
                continue
            seen.add(doc_key)
            scores[doc_key] = scores.get(doc_key, 0.0) + 1.0 / (k + rank)
            candidate = (rank, window_index, chunk_key)
            if doc_key not in best or candidate < best[doc_key]:
                best[doc_key] = candidate
    order = sorted(scores, key=lambda d: (-scores[d], best[d]))
    return [(best[d][2], scores[d]) for d in order]


__all__ = [
    "LONG_QUERY_LIMIT",
    "SHORT_QUERY_LIMIT",
    "WINDOW_CHARS",
    "fuse_by_document",
    "split_query",
]
