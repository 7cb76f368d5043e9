"""A query's hits from the collections the store picked: its checks, its candidates from each
collection, and their grouping into documents (or chunks).

Nothing here writes, reads Chroma's list of collections or knows tenants: the store resolves
which collections a caller may search, with their snapshots, and how a text is embedded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from chromadb.api.models.Collection import Collection

from cockpit.errors import ValidationFailed
from knowledge.candidates import Candidates, Snapshot, Weights, fuse_windows, rank
from knowledge.models import Grouping, SearchHit, SearchMode
from knowledge.ranking import group_by_document
from knowledge.segment import LONG_QUERY_LIMIT, SHORT_QUERY_LIMIT, split_query

EmbedQueries = Callable[[Sequence[str]], Any]
"""Query texts to their vectors (one row each)."""


def check_query(text: str, *, k: int, mode: str, group: str, segment_long: bool) -> None:
    """Refuse a query the caller got wrong (empty, too long, ``k``, ``mode`` or ``group``)."""
    if not text or not text.strip():
        raise ValidationFailed("the query is empty", code="empty_query", param="query")
    limit = LONG_QUERY_LIMIT if segment_long else SHORT_QUERY_LIMIT
    if len(text) > limit:
        raise ValidationFailed(
            f"the query is longer than {limit:,} characters",
            code="query_too_long",
            param="query",
        )
    if not 1 <= k <= 50:
        raise ValidationFailed("k must be between 1 and 50", code="invalid_k", param="k")
    if mode not in ("hybrid", "bm25", "vector"):
        raise ValidationFailed("mode is hybrid, bm25 or vector", code="invalid_mode", param="mode")
    if group not in ("documents", "chunks"):
        raise ValidationFailed("group is documents or chunks", code="invalid_group", param="group")


def search(
    sources: Sequence[tuple[Collection, Snapshot]],
    text: str,
    embed: EmbedQueries | None,
    *,
    k: int,
    mode: SearchMode,
    where: Mapping[str, Any],
    tags: Sequence[str],
    pool: int,
    weights: Weights,
    group: Grouping,
    strict_screen: bool,
) -> list[SearchHit]:
    """The top ``k`` hits for ``text`` from ``sources`` (``embed`` None: no vectors searched).

    A text over ``SHORT_QUERY_LIMIT`` is searched window by window (one embedding call for
    all), fused by document, one hit per document (``knowledge.segment``)."""
    if len(text) > SHORT_QUERY_LIMIT:
        windows = split_query(text)
        vectors = embed(windows) if embed is not None else None
        found = fuse_windows(
            [
                rank(
                    sources,
                    window,
                    vectors[n] if vectors is not None else None,
                    mode=mode,
                    where=where,
                    tags=tags,
                    pool=pool,
                    weights=weights,
                )
                for n, window in enumerate(windows)
            ]
        )
        return [
            found.hit(key, score, strict_screen=strict_screen) for key, score in found.fused[:k]
        ]
    query_vector = embed([text])[0] if embed is not None else None
    found = rank(
        sources,
        text,
        query_vector,
        mode=mode,
        where=where,
        tags=tags,
        pool=pool,
        weights=weights,
    )
    return hits(found, k=k, group=group, strict_screen=strict_screen)


def hits(found: Candidates, *, k: int, group: Grouping, strict_screen: bool) -> list[SearchHit]:
    """The top ``k`` chunks of ``found`` (``group="chunks"``), or its top ``k`` documents, each
    its best chunk with the next best in ``more``, ordered with the title field's bonus."""

    def make(key: str, score: float) -> SearchHit:
        return found.hit(key, score, strict_screen=strict_screen)

    if group == "chunks":
        return [make(key, score) for key, score in found.fused[:k]]
    scores = dict(found.fused)
    documents = [
        (key, score + found.bonus.get(found.document_of(key), 0.0), more)
        for key, score, more in group_by_document(
            found.fused, found.document_of, k=len(found.fused)
        )
    ]
    documents.sort(key=lambda d: -d[1])  # stable: the fused order breaks ties
    return [
        replace(make(key, score), more=tuple(make(m, scores[m]) for m in more))
        for key, score, more in documents[:k]
    ]


__all__ = ["EmbedQueries", "check_query", "hits", "search"]
