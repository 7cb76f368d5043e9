"""Reciprocal-rank fusion: merge ranked lists without comparing their scores."""

from __future__ import annotations

from collections.abc import Sequence

#: The usual constant; it damps the weight of the very top ranks.
RRF_K = 60


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[str]], *, k: int = RRF_K, weights: Sequence[float] | None = None
) -> list[tuple[str, float]]:
    """Fuse ranked id lists: score(id) = Σ weight / (k + rank), rank starting at 1."""
    scores: dict[str, float] = {}
    first_seen: dict[str, int] = {}
    for list_index, ranking in enumerate(rankings):
        weight = 1.0 if weights is None else weights[list_index]
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
            first_seen.setdefault(item, len(first_seen))
    return sorted(scores.items(), key=lambda kv: (-kv[1], first_seen[kv[0]]))


__all__ = ["RRF_K", "reciprocal_rank_fusion"]
