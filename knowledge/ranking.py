"""How a query's candidate chunks become its answer: what is embedded, how the lists weigh,
and how chunks group into documents.

The store gathers candidates (BM25, vectors and the title/heading field per collection); the
choices here decide their order. Each has a reason measured on the external policy corpus
(``benchmarks/retrieval.py``, section ``external``) and an option that restores the old way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

#: What of a query (or of one window of a long one) is embedded. The embedder's cost grows with
#: every token it reads (MiniLM on this CPU: ~0.4 ms per word piece, ~100 ms for the 256 it
#: reads at most), while the vector gains little from a task description's later lines, which
#: BM25 still reads in full: the budget keeps query latency bounded at a small cost in recall.
QUERY_EMBED_CHARS = 800
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
    "SHARED_WEIGHT",
    "TITLE_WEIGHT",
    "embedding_text",
    "group_by_document",
]
