"""Network off: a fresh data dir, the real MiniLM embedder, ingestion and queries all work."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from cockpit.config import Settings
from cockpit.embeddings import OnnxMiniLMEmbedder
from knowledge.store import KnowledgeStore


def test_network_guard_really_blocks(network_off: list[Any]) -> None:
    with pytest.raises(OSError), socket.create_connection(("192.0.2.10", 443), timeout=1):
        pass
    assert network_off


def test_ingest_and_query_offline(
    tmp_path: Path, network_off: list[Any], markdown_doc: bytes
) -> None:
    settings = Settings(data_dir=tmp_path / "fresh")
    store = KnowledgeStore.from_settings(settings, embedder=OnnxMiniLMEmbedder())
    result = store.ingest("acme", "docs", markdown_doc, filename="refunds.md", create=True)
    assert (result.status, result.chunks) == ("created", 3)
    hits = store.query("acme", "How long can a customer get their money back?", k=3)
    assert hits[0].section == "Refund window"
    assert (tmp_path / "fresh" / "chroma").is_dir()
    # Nothing even tried to reach the network (no telemetry, no model hub).
    assert network_off == []
