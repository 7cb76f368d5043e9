"""Embedders for tests."""

from __future__ import annotations

from collections.abc import Sequence

from cockpit.embeddings import Embedder, Vectors


class Counting:
    """Wraps an embedder and records what it was asked to embed: every text, and each batch."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.seen: list[str] = []
        self.batches: list[list[str]] = []

    def embed(self, texts: Sequence[str]) -> Vectors:
        self.seen += texts
        self.batches.append(list(texts))
        return self.inner.embed(texts)
