"""Okapi BM25 over a collection's chunks, in memory.

Built from the chunk texts the store already holds and rebuilt when the
collection's revision changes, so several API workers sharing one Chroma
server still agree.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

_TOKEN = re.compile(r"[a-z0-9]+(?:[._][a-z0-9]+)*")
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "our",
        "should",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "this",
        "to",
        "was",
        "we",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
        "my",
        "me",
        "after",
        "before",
        "about",
        "into",
        "than",
    ]
)


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens; codes like ``10.4`` and ``REPEAT_REQ_INCONSISTENT`` stay whole
    and also contribute their parts."""
    out: list[str] = []
    for token in _TOKEN.findall(text.lower()):
        if token in _STOP:
            continue
        out.append(_stem(token))
        if "_" in token or ("." in token and not token.replace(".", "").isdigit()):
            out.extend(_stem(p) for p in re.split(r"[._]", token) if p and p not in _STOP)
    return out


def _stem(token: str) -> str:
    # A light plural/verb-ending fold; good enough to match "refunds" to "refund".
    if len(token) > 4 and not token[0].isdigit():
        for suffix in ("ies", "es", "s", "ing", "ed"):
            if token.endswith(suffix) and len(token) - len(suffix) >= 3:
                if suffix == "ies":
                    return token[:-3] + "y"
                if suffix == "es" and not token.endswith(("ses", "xes", "ches", "shes")):
                    return token[:-1]
                return token[: -len(suffix)]
    return token


@dataclass
class BM25Index:
    """An inverted index with BM25 scoring (k1=1.2, b=0.75)."""

    ids: list[str]
    k1: float = 1.2
    b: float = 0.75
    _postings: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    _lengths: list[int] = field(default_factory=list)
    _avg: float = 1.0

    @classmethod
    def build(cls, ids: Sequence[str], texts: Sequence[str]) -> BM25Index:
        index = cls(ids=list(ids))
        for row, text in enumerate(texts):
            counts = Counter(tokenize(text))
            index._lengths.append(sum(counts.values()))
            for term, tf in counts.items():
                index._postings.setdefault(term, []).append((row, tf))
        index._avg = (sum(index._lengths) / len(index._lengths)) if index._lengths else 1.0
        return index

    def __len__(self) -> int:
        return len(self.ids)

    def search(
        self, query: str, *, limit: int, allowed: set[int] | None = None
    ) -> list[tuple[str, float]]:
        """Top ``limit`` (id, score) pairs; ``allowed`` restricts rows (metadata filters)."""
        n = len(self.ids)
        scores: dict[int, float] = {}
        for term in set(tokenize(query)):
            postings = self._postings.get(term)
            if not postings:
                continue
            idf = math.log(1 + (n - len(postings) + 0.5) / (len(postings) + 0.5))
            for row, tf in postings:
                if allowed is not None and row not in allowed:
                    continue
                norm = tf + self.k1 * (1 - self.b + self.b * self._lengths[row] / self._avg)
                scores[row] = scores.get(row, 0.0) + idf * tf * (self.k1 + 1) / norm
        best = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
        return [(self.ids[row], score) for row, score in best]


__all__ = ["BM25Index", "tokenize"]
