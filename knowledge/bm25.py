"""Okapi BM25 over a collection's chunks, in memory.

Built from the chunk texts the store already holds and rebuilt when the
collection's revision changes, so several API workers sharing one Chroma
server still agree.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import numpy.typing as npt

_TOKEN = re.compile(r"[a-z0-9]+(?:[._][a-z0-9]+)*")
#: Words too common to tell passages apart: BM25 skips them, and so does the embedded text of
#: a query too long for its word-piece budget (``knowledge.ranking``).
STOP_WORDS = frozenset(
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
        if token in STOP_WORDS:
            continue
        out.append(_stem(token))
        if "_" in token or ("." in token and not token.replace(".", "").isdigit()):
            out.extend(_stem(p) for p in re.split(r"[._]", token) if p and p not in STOP_WORDS)
    return out


# Cached: the fold is pure and words repeat (a long query stems a few hundred of them).
@lru_cache(maxsize=65536)
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
    """An inverted index with BM25 scoring (k1=1.2, b=0.75).

    Each term's postings are two arrays, its rows and its per-row BM25 term weight (everything
    but the idf, which depends on the query term only), so a search is a few vector additions
    rather than a Python loop over every posting."""

    ids: list[str]
    k1: float = 1.2
    b: float = 0.75
    _postings: dict[str, tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]]] = field(
        default_factory=dict
    )

    @classmethod
    def build(cls, ids: Sequence[str], texts: Sequence[str]) -> BM25Index:
        index = cls(ids=list(ids))
        counts = [Counter(tokenize(text)) for text in texts]
        lengths = np.asarray([sum(c.values()) for c in counts], dtype=np.float64)
        avg = float(lengths.mean()) if len(lengths) and lengths.sum() else 1.0
        # The length normaliser of each row: k1 * (1 - b + b * length / average length).
        norms = index.k1 * (1 - index.b + index.b * lengths / avg)
        rows_of: dict[str, list[int]] = {}
        tfs_of: dict[str, list[int]] = {}
        for row, row_counts in enumerate(counts):
            for term, tf in row_counts.items():
                rows_of.setdefault(term, []).append(row)
                tfs_of.setdefault(term, []).append(tf)
        for term, term_rows in rows_of.items():
            rows = np.asarray(term_rows, dtype=np.intp)
            freq = np.asarray(tfs_of[term], dtype=np.float64)
            index._postings[term] = (rows, freq * (index.k1 + 1) / (freq + norms[rows]))
        return index

    def __len__(self) -> int:
        return len(self.ids)

    def search(
        self, query: str, *, limit: int, allowed: set[int] | None = None
    ) -> list[tuple[str, float]]:
        """Top ``limit`` (id, score) pairs; ``allowed`` restricts rows (metadata filters)."""
        return self.search_terms(set(tokenize(query)), limit=limit, allowed=allowed)

    def search_terms(
        self, terms: Iterable[str], *, limit: int, allowed: set[int] | None = None
    ) -> list[tuple[str, float]]:
        """:meth:`search` for a query already tokenized (its distinct terms), so that one query
        searched in several indexes is tokenized once."""
        n = len(self.ids)
        scores = np.zeros(n, dtype=np.float64)
        hit = np.zeros(n, dtype=bool)
        for term in terms:
            postings = self._postings.get(term)
            if postings is None:
                continue
            rows, weights = postings
            idf = math.log(1 + (n - len(rows) + 0.5) / (len(rows) + 0.5))
            scores[rows] += idf * weights
            hit[rows] = True
        if allowed is not None:
            permitted = np.zeros(n, dtype=bool)
            permitted[np.fromiter(allowed, dtype=np.intp, count=len(allowed))] = True
            hit &= permitted
        candidates = np.flatnonzero(hit)
        # Highest score first, ties by row: the order is the same in every process.
        best = candidates[np.lexsort((candidates, -scores[candidates]))][:limit]
        return [(self.ids[row], float(scores[row])) for row in best]


__all__ = ["STOP_WORDS", "BM25Index", "tokenize"]
