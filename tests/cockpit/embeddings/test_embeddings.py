"""The offline embedders honour the contract: unit float32 rows, stable and meaningful."""

from __future__ import annotations

import json
import socket
from typing import Any

import httpx
import numpy as np
import pytest

import cockpit.embeddings as emb
from cockpit.embeddings import (
    Embedder,
    HashingEmbedder,
    OnnxMiniLMEmbedder,
    OpenAICompatibleEmbedder,
    default_embedder,
    make_embedder,
)
from cockpit.errors import ToolError, UserError, ValidationFailed


@pytest.fixture(scope="module")
def minilm() -> OnnxMiniLMEmbedder:
    return OnnxMiniLMEmbedder()


def _unit_rows(matrix: np.ndarray) -> bool:
    return bool(np.allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-4))


def test_minilm_shape_dtype_and_norm(minilm: OnnxMiniLMEmbedder) -> None:
    vectors = minilm.embed(["a refund", "", "x" * 5000])
    assert vectors.shape == (3, 384)
    assert vectors.dtype == np.float32
    assert _unit_rows(vectors)
    assert minilm.embed([]).shape == (0, 384)


def test_minilm_ranks_paraphrase_above_unrelated(minilm: OnnxMiniLMEmbedder) -> None:
    query, para, other = minilm.embed(
        [
            "How do I give the customer their money back?",
            "Refunding a payment to the buyer",
            "The train to Lyon leaves at nine",
        ]
    )
    assert float(query @ para) > float(query @ other) + 0.2


def test_minilm_padding_does_not_change_vectors(minilm: OnnxMiniLMEmbedder) -> None:
    # A short text batched with a long one is padded; the attention mask must hide that.
    short = "decline code 51 insufficient funds"
    alone = minilm.embed([short])[0]
    batched = minilm.embed([short, "a much longer sentence " * 20])[0]
    assert float(alone @ batched) > 0.9999


def test_minilm_loads_with_network_blocked(monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[Any] = []

    def refuse(self: socket.socket, address: Any) -> None:
        attempts.append(address)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    fresh = OnnxMiniLMEmbedder()
    assert fresh.embed(["offline works"]).shape == (1, 384)
    assert attempts == []


def test_hashing_is_deterministic_and_lexical() -> None:
    fake = HashingEmbedder(128)
    a, b, c = fake.embed(["chargeback evidence", "evidence for a chargeback", "sunny weather"])
    again = HashingEmbedder(128).embed(["chargeback evidence"])[0]
    assert np.array_equal(a, again)
    assert float(a @ b) > float(a @ c)
    assert fake.name == "hashing-128" and fake.dim == 128
    assert _unit_rows(fake.embed(["x", "y z"]))


def test_every_implementation_satisfies_the_protocol(minilm: OnnxMiniLMEmbedder) -> None:
    assert isinstance(minilm, Embedder)
    assert isinstance(HashingEmbedder(), Embedder)


def _fake_endpoint(dim: int) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        assert request.url.path.endswith("/embeddings")
        assert request.headers["authorization"] == "Bearer k"
        data = [
            {"index": i, "embedding": [float(len(t))] + [1.0] * (dim - 1)}
            for i, t in enumerate(body["input"])
        ]
        return httpx.Response(200, json={"data": list(reversed(data)), "model": body["model"]})

    return httpx.MockTransport(handle)


def test_openai_compatible_embedder_orders_and_normalises() -> None:
    client = OpenAICompatibleEmbedder(
        "text-embedding-3-small",
        base_url="http://127.0.0.1:9/v1",
        api_key="k",
        transport=_fake_endpoint(8),
        batch_size=2,
    )
    vectors = client.embed(["a", "bbb", "cc"])
    assert vectors.shape == (3, 8)
    assert _unit_rows(vectors)
    # Rows come back in input order even though the endpoint reversed them.
    assert vectors[1, 0] > vectors[2, 0] > vectors[0, 0]
    assert client.dim == 8
    assert client.name == "openai:text-embedding-3-small"


def test_openai_compatible_errors_are_tool_errors() -> None:
    broken = httpx.MockTransport(lambda request: httpx.Response(500, json={}))
    client = OpenAICompatibleEmbedder(
        "m", base_url="http://127.0.0.1:9", api_key="k", transport=broken
    )
    with pytest.raises(ToolError) as info:
        client.embed(["x"])
    assert info.value.code == "embeddings_unavailable"


def test_openai_requires_a_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COCKPIT_EMBEDDINGS_URL", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(UserError) as info:
        make_embedder("openai:m")
    assert info.value.param == "COCKPIT_EMBEDDINGS_URL"


def test_default_embedder_follows_env_and_is_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COCKPIT_EMBEDDINGS", "hashing")
    first = default_embedder()
    assert isinstance(first, HashingEmbedder)
    assert default_embedder() is first
    monkeypatch.setenv("COCKPIT_EMBEDDINGS", "hashing:64")
    assert default_embedder().dim == 64


def test_unknown_spec_is_a_validation_error() -> None:
    with pytest.raises(ValidationFailed) as info:
        make_embedder("word2vec")
    assert info.value.param == "COCKPIT_EMBEDDINGS"


def test_public_surface() -> None:
    assert set(emb.__all__) >= {
        "Embedder",
        "HashingEmbedder",
        "OnnxMiniLMEmbedder",
        "OpenAICompatibleEmbedder",
        "default_embedder",
    }
