"""Chroma adapter for :mod:`cockpit.embeddings`.

Chroma persists the embedding function's name and config with each
collection and rebuilds it on ``get_collection``; registering this class (by
importing this module before any ``get_collection``) lets it do so without
ever falling back to Chroma's own default, which downloads a model.
"""

from __future__ import annotations

from typing import Any

from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function

from cockpit.embeddings import Embedder, make_embedder

EMBEDDING_FUNCTION_NAME = "cockpit"


@register_embedding_function
class CockpitEmbeddingFunction(EmbeddingFunction[Documents]):
    """Wraps an :class:`~cockpit.embeddings.Embedder` for Chroma (cosine space)."""

    def __init__(self, embedder: Embedder | None = None, *, spec: str | None = None) -> None:
        self._embedder = embedder
        self._spec = spec

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            from cockpit.embeddings import default_embedder, embeddings_spec

            self._embedder = make_embedder(self._spec) if self._spec else default_embedder()
            self._spec = self._spec or embeddings_spec()
        return self._embedder

    def __call__(self, input: Documents) -> Embeddings:
        return list(self.embedder.embed(list(input)))

    @staticmethod
    def name() -> str:
        return EMBEDDING_FUNCTION_NAME

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "ip"]

    def get_config(self) -> dict[str, Any]:
        return {"embedder": self.embedder.name, "spec": self._spec or ""}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> CockpitEmbeddingFunction:
        spec = config.get("spec") or None
        return CockpitEmbeddingFunction(spec=str(spec) if spec else None)

    def is_legacy(self) -> bool:
        return False


__all__ = ["EMBEDDING_FUNCTION_NAME", "CockpitEmbeddingFunction"]
