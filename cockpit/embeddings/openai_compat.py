"""Embeddings from an OpenAI-compatible ``/embeddings`` endpoint, when one is configured.

Only used when ``COCKPIT_EMBEDDINGS=openai:<model>``; the default stays offline.
The endpoint comes from ``COCKPIT_EMBEDDINGS_URL`` (or ``OPENAI_BASE_URL``) and
the key from ``COCKPIT_EMBEDDINGS_API_KEY`` (or ``OPENAI_API_KEY``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import httpx
import numpy as np

from cockpit.embeddings._base import Vectors, empty, l2_normalise
from cockpit.errors import ToolError, UserError


class OpenAICompatibleEmbedder:
    """Calls ``POST {base_url}/embeddings`` with ``{"model", "input"}``."""

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        dim: int | None = None,
        timeout_s: float = 30.0,
        batch_size: int = 64,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not model:
            raise UserError(
                "an embeddings model name is required",
                code="invalid_embeddings_model",
                param="COCKPIT_EMBEDDINGS",
            )
        url = (
            base_url
            or os.environ.get("COCKPIT_EMBEDDINGS_URL")
            or os.environ.get("OPENAI_BASE_URL")
        )
        if not url:
            raise UserError(
                "set COCKPIT_EMBEDDINGS_URL to use an OpenAI-compatible embeddings endpoint",
                code="embeddings_url_missing",
                param="COCKPIT_EMBEDDINGS_URL",
            )
        key = (
            api_key
            or os.environ.get("COCKPIT_EMBEDDINGS_API_KEY")
            or os.environ.get("OPENAI_API_KEY")
        )
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.model = model
        self.name = f"openai:{model}"
        self._batch_size = batch_size
        self._client = httpx.Client(
            base_url=url.rstrip("/"), headers=headers, timeout=timeout_s, transport=transport
        )
        self._dim = dim

    @property
    def dim(self) -> int:
        # Unknown until the endpoint answers once, unless configured.
        if self._dim is None:
            self._dim = int(self._request(["dimension probe"]).shape[1])
        return self._dim

    def _request(self, batch: Sequence[str]) -> Vectors:
        try:
            response = self._client.post(
                "/embeddings", json={"model": self.model, "input": list(batch)}
            )
            response.raise_for_status()
            payload: Any = response.json()
            rows = sorted(payload["data"], key=lambda item: int(item["index"]))
            matrix = np.asarray([row["embedding"] for row in rows], dtype=np.float32)
        except (httpx.HTTPError, KeyError, TypeError, ValueError) as exc:
            raise ToolError(
                f"embeddings endpoint failed: {type(exc).__name__}", code="embeddings_unavailable"
            ) from exc
        if matrix.ndim != 2 or matrix.shape[0] != len(batch):
            raise ToolError(
                "embeddings endpoint returned the wrong shape", code="embeddings_unavailable"
            )
        return l2_normalise(matrix)

    def embed(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return empty(self.dim)
        parts = [
            self._request(texts[i : i + self._batch_size])
            for i in range(0, len(texts), self._batch_size)
        ]
        out = np.concatenate(parts, axis=0)
        if self._dim is None:
            self._dim = int(out.shape[1])
        return out

    def close(self) -> None:
        self._client.close()


__all__ = ["OpenAICompatibleEmbedder"]
