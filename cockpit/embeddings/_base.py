"""The embedder contract shared by every implementation, and a row normaliser."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

#: What every embedder returns: float32, shape ``(n, dim)``, unit-length rows.
Vectors = npt.NDArray[np.float32]


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit vectors; cosine similarity is then a dot product."""

    # Read-only properties so both plain attributes and lazily known values
    # (an HTTP endpoint's dimension) satisfy the contract.
    @property
    def name(self) -> str:
        """Stable id of the model; stored with vectors so spaces never get mixed."""
        ...

    @property
    def dim(self) -> int:
        """Length of every vector."""
        ...

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed ``texts`` into a float32 ``(len(texts), dim)`` array of L2-normalised rows."""
        ...


def l2_normalise(matrix: npt.ArrayLike) -> Vectors:
    """Scale each row to unit length (all-zero rows stay zero)."""
    data: Vectors = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(data, axis=1, keepdims=True)
    out: Vectors = (data / np.clip(norms, 1e-12, None)).astype(np.float32)
    return out


def empty(dim: int) -> Vectors:
    """The result of embedding no texts."""
    return np.zeros((0, dim), dtype=np.float32)
