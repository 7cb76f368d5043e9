"""How a query's candidate chunks become its answer: what is embedded, how the lists weigh,
and how chunks group into documents.

The store gathers candidates (BM25, vectors and the title/heading field per collection); the
choices here decide their order. Each has a reason measured on the external policy corpus
(``benchmarks/retrieval.py``, section ``external``) and an option that restores the old way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from knowledge.bm25 import STOP_WORDS

#: What of a query (or of one window of a long one) an embedder that cannot count word pieces
#: embeds (the hashing fake, an HTTP endpoint). The cost of a model grows with every token it
#: reads, while the vector gains little from a task description's later lines, which BM25 still
#: reads in full.
QUERY_EMBED_CHARS = 800
#: What of a query MiniLM reads, in word pieces ([CLS] and [SEP] included): the length it was
#: trained on (its model card: 128; it reads up to 256). It costs ~0.3 ms CPU per piece here, and
#: 800 characters of the external corpus's task queries came to 140 pieces at the median, 177 at
#: p95. A longer query is embedded without its stop words, cut to fit: the pieces left carry its
#: content. On that corpus, same run (``benchmarks/retrieval.py``, ``external``): hybrid document
#: recall@10 0.753 -> 0.758, MRR 0.695 -> 0.691, query CPU p95 66 -> 51 ms; cut to 128 pieces with
#: the stop words kept, MRR fell to 0.642.
QUERY_EMBED_TOKENS = 128
#: Weight of the shared (platform) collections' lists when the caller names no collection:
#: the tenant's own documents come first unless ``own_first=False`` (equal weights).
SHARED_WEIGHT = 0.5
#: Weight of the title/heading field's BM25 list in hybrid fusion (``fields=True``).
TITLE_WEIGHT = 0.25
#: With documents counted, how many chunks one document brings (its best, then ``more``).
CHUNKS_PER_DOCUMENT = 2


def embedding_text(text: str, *, budget: int | None = QUERY_EMBED_CHARS) -> str:
    """The part of ``text`` a query embeds: all of it up to ``budget`` characters (None: no
    budget), else its beginning cut at the last space before the budget."""
    if budget is None or len(text) <= budget:
        return text
    cut = text.rfind(" ", 0, budget)
    return text[: cut if cut > 0 else budget]


@runtime_checkable
class CountsTokens(Protocol):
    """An embedder that can say what of a text fits in a budget of its tokens (MiniLM)."""

    def prefix(self, text: str, tokens: int) -> str:
        """``text`` itself when it fits in ``tokens``, else its beginning that does."""
        ...


_WORD = re.compile(r"\S+")
_LETTERS = re.compile(r"[^a-z0-9]")


def without_stop_words(text: str) -> str:
    """``text`` with its stop words (BM25's list) left out and its words joined by spaces."""
    return " ".join(w for w in _WORD.findall(text) if _LETTERS.sub("", w.lower()) not in STOP_WORDS)


def query_embedding_text(
    text: str, embedder: object, *, chars: int | None, tokens: int | None
) -> str:
    """What a query (or window) embeds. An embedder that counts tokens reads at most ``tokens``
    of them: the whole text when it fits, else the text without its stop words, cut to fit.
    Any other embedder reads the first ``chars`` characters. None: no budget of that kind."""
    if tokens is None or not isinstance(embedder, CountsTokens):
        return embedding_text(text, budget=chars)
    if embedder.prefix(text, tokens) == text:
        return text
    return embedder.prefix(without_stop_words(text), tokens) or embedder.prefix(text, tokens)


def group_by_document(
    fused: Sequence[tuple[str, float]],
    document_of: Callable[[str], str],
    *,
    k: int,
    per_document: int = CHUNKS_PER_DOCUMENT,
) -> list[tuple[str, float, list[str]]]:
    """The first ``k`` documents of a fused chunk ranking, each as (its best chunk, that
    chunk's score, its next best chunks up to ``per_document`` in all)."""
    order: list[str] = []
    best: dict[str, tuple[str, float]] = {}
    more: dict[str, list[str]] = {}
    for key, score in fused:
        doc = document_of(key)
        if doc not in best:
            if len(order) == k:
                continue
            order.append(doc)
            best[doc] = (key, score)
            more[doc] = []
        elif len(more[doc]) < per_document - 1:
            more[doc].append(key)
    return [(best[d][0], best[d][1], more[d]) for d in order]


__all__ = [
    "CHUNKS_PER_DOCUMENT",
    "QUERY_EMBED_CHARS",
    "QUERY_EMBED_TOKENS",
    "SHARED_WEIGHT",
    "TITLE_WEIGHT",
    "CountsTokens",
    "embedding_text",
    "group_by_document",
    "query_embedding_text",
    "without_stop_words",
]
