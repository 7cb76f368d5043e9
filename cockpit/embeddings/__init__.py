"""Sentence embeddings that work offline, behind one small contract.

``default_embedder()`` picks the implementation from ``COCKPIT_EMBEDDINGS``
(or ``Settings.embeddings`` once that field exists):

- ``minilm`` (default): all-MiniLM-L6-v2 int8 ONNX, shipped in a PyPI package;
- ``hashing``: a deterministic feature-hashing fake for tests;
- ``openai:<model>``: an OpenAI-compatible ``/embeddings`` endpoint.

This package is core: it never imports ``knowledge``, ``tools`` or ``agents``.
"""

from __future__ import annotations

import os
import threading

from cockpit.config import Settings
from cockpit.embeddings._base import Embedder, Vectors, l2_normalise
from cockpit.embeddings.hashing import HashingEmbedder
from cockpit.embeddings.minilm import OnnxMiniLMEmbedder
from cockpit.embeddings.openai_compat import OpenAICompatibleEmbedder
from cockpit.errors import ValidationFailed

_CACHE: dict[str, Embedder] = {}
_CACHE_LOCK = threading.Lock()


def embeddings_spec(settings: Settings | None = None) -> str:
    """The configured embedder spec: ``minilm`` | ``hashing`` | ``openai:<model>``."""
    configured = getattr(settings, "embeddings", None) if settings is not None else None
    spec = configured or os.environ.get("COCKPIT_EMBEDDINGS") or "minilm"
    return str(spec).strip()


def make_embedder(spec: str) -> Embedder:
    """Build a new embedder from a spec string (not cached)."""
    kind, _, arg = spec.partition(":")
    kind = kind.strip().lower()
    if kind == "minilm" and not arg:
        return OnnxMiniLMEmbedder()
    if kind == "hashing":
        return HashingEmbedder(int(arg) if arg.isdigit() else 256)
    if kind == "openai" and arg:
        return OpenAICompatibleEmbedder(arg.strip())
    raise ValidationFailed(
        f"unknown embeddings setting {spec!r}; use minilm, hashing or openai:<model>",
        code="invalid_embeddings",
        param="COCKPIT_EMBEDDINGS",
    )


def default_embedder(settings: Settings | None = None) -> Embedder:
    """The configured embedder, built once per process (model loading takes ~1 s)."""
    spec = embeddings_spec(settings)
    with _CACHE_LOCK:
        embedder = _CACHE.get(spec)
        if embedder is None:
            embedder = make_embedder(spec)
            _CACHE[spec] = embedder
        return embedder


__all__ = [
    "Embedder",
    "HashingEmbedder",
    "OnnxMiniLMEmbedder",
    "OpenAICompatibleEmbedder",
    "Vectors",
    "default_embedder",
    "embeddings_spec",
    "l2_normalise",
    "make_embedder",
]
