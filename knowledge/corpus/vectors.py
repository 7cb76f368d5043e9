"""The shared corpus's chunk embeddings, shipped, so a fresh data dir loads it without the model.

Embedding every chunk of the corpus is most of a fresh start's knowledge work (seconds of CPU,
and the ONNX runtime's working memory for long chunks stays resident afterwards). The vectors
are a pure function of a chunk's text and the embedding model, so they ship in
``vectors.json`` beside the corpus: one row per chunk, keyed by the SHA-256 of the exact text
embedded, under the id of the model that embedded it. :class:`ShippedEmbedder` answers those
texts from the file and hands every other text (a changed chunk, a query, a tenant's upload)
to the model, which it loads only then. Regenerate with ``python scripts/ship_startup_artefacts.py``;
a test fails while the file is stale.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cockpit.embeddings import Embedder, Vectors

VECTORS_FILE = Path(__file__).parent / "vectors.json"
FORMAT = 1


def text_key(text: str) -> str:
    """The key a chunk's vector is shipped under: the SHA-256 of the exact text embedded."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class ShippedVectors:
    """Vectors of one embedding model, by text key."""

    embedder: str
    """The model id (:attr:`Embedder.name`) the vectors came from; no other model may use them."""
    rows: dict[str, int]
    """Text key -> row of ``matrix``."""
    matrix: Vectors
    """float32, ``(len(rows), dim)``, unit-length rows as the model returned them."""

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1])


def load_vectors(path: Path = VECTORS_FILE) -> ShippedVectors | None:
    """The shipped vectors, or None when the file is absent or of another format."""
    if not path.is_file():
        return None
    body = json.loads(path.read_text(encoding="utf-8"))
    if body.get("format") != FORMAT:
        return None
    keys = list(body["keys"])
    raw = base64.b64decode(body["vectors"])
    matrix = np.frombuffer(raw, dtype="<f4").reshape(len(keys), int(body["dim"])).astype(np.float32)
    return ShippedVectors(str(body["embedder"]), {k: i for i, k in enumerate(keys)}, matrix)


def write_vectors(embedder: Embedder, texts: Sequence[str], path: Path = VECTORS_FILE) -> Path:
    """Embed ``texts`` (each once, in a stable order) and write them as the shipped file."""
    unique = sorted({text_key(t): t for t in texts}.items())
    matrix = np.asarray(embedder.embed([t for _, t in unique]), dtype="<f4")
    body = {
        "format": FORMAT,
        "embedder": embedder.name,
        "dim": int(matrix.shape[1]),
        "keys": [k for k, _ in unique],
        "vectors": base64.b64encode(matrix.tobytes()).decode("ascii"),
    }
    path.write_text(json.dumps(body, indent=0) + "\n", encoding="utf-8")
    return path


class ShippedEmbedder:
    """An :class:`Embedder` that answers shipped texts from the file and the rest from the model.

    ``name`` and ``dim`` are the model's, so collections written through it are the model's
    collections; the model itself (``load``) is built on the first text the file lacks.
    """

    def __init__(
        self, shipped: ShippedVectors, *, load: Callable[[], Embedder], name: str, dim: int
    ) -> None:
        self._shipped = shipped
        self._load = load
        self._model: Embedder | None = None
        self._lock = threading.Lock()
        self.name = name
        self.dim = dim

    @property
    def model(self) -> Embedder:
        """The model behind the file, loaded now if it was not yet."""
        with self._lock:
            if self._model is None:
                self._model = self._load()
            return self._model

    def embed(self, texts: Sequence[str]) -> Vectors:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        missing: list[int] = []
        for i, text in enumerate(texts):
            row = self._shipped.rows.get(text_key(text))
            if row is None:
                missing.append(i)
            else:
                out[i] = self._shipped.matrix[row]
        if missing:
            out[missing] = self.model.embed([texts[i] for i in missing])
        return out


def shipped_embedder(
    model_name: str, dim: int, load: Callable[[], Embedder], *, path: Path = VECTORS_FILE
) -> Embedder | None:
    """A :class:`ShippedEmbedder` for ``model_name``, or None when nothing ships for that model."""
    shipped = load_vectors(path)
    if shipped is None or shipped.embedder != model_name or shipped.dim != dim:
        return None
    return ShippedEmbedder(shipped, load=load, name=model_name, dim=dim)


__all__ = [
    "VECTORS_FILE",
    "ShippedEmbedder",
    "ShippedVectors",
    "load_vectors",
    "shipped_embedder",
    "text_key",
    "write_vectors",
]
