"""A deterministic fake embedder for tests: feature hashing of word unigrams and bigrams.

It needs no model file and gives the same vector for the same text in every
process, so tests can assert on rankings. Texts that share words land close
together; it knows nothing about meaning.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from itertools import pairwise

import numpy as np

from cockpit.embeddings._base import Vectors, empty, l2_normalise

_WORD = re.compile(r"[a-z0-9]+")


class HashingEmbedder:
    """Signed feature hashing of lower-cased tokens and adjacent token pairs."""

    def __init__(self, dim: int = 256) -> None:
        if dim < 8:
            raise ValueError("dim must be at least 8")
        self.dim = dim
        self.name = f"hashing-{dim}"

    def _bucket(self, feature: str) -> tuple[int, float]:
        digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
        value = int.from_bytes(digest, "little")
        # The low bit picks the sign so collisions cancel out on average.
        return (value >> 1) % self.dim, 1.0 if value & 1 else -1.0

    def embed(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return empty(self.dim)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            tokens = _WORD.findall(text.lower())
            features = tokens + [f"{a} {b}" for a, b in pairwise(tokens)]
            for feature in features:
                index, sign = self._bucket(feature)
                out[row, index] += sign
        return l2_normalise(out)


__all__ = ["HashingEmbedder"]
