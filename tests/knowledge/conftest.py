"""Fixtures for the knowledge tests: stores on a throw-away embedded Chroma or Chroma server."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import chromadb
import pytest
from chromadb.config import Settings as ChromaSettings

from cockpit.config import Settings
from cockpit.embeddings import HashingEmbedder
from knowledge.store import KnowledgeStore
from knowledge.store_client import make_chroma_client

MARKDOWN = b"""# Refund handbook

How refunds work for our shop.

## Refund window

Refunds are accepted for 365 days after capture. Partial refunds are allowed.

## Cross-currency refunds

A refund in another currency uses the rate of the day after the refund.
"""


def new_store(path: Path) -> KnowledgeStore:
    client = chromadb.PersistentClient(
        path=str(path), settings=ChromaSettings(anonymized_telemetry=False)
    )
    return KnowledgeStore(client, embedder=HashingEmbedder(256))


@pytest.fixture(params=["embedded", pytest.param("server", marks=pytest.mark.slow)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> KnowledgeStore:
    """The same store tests run on embedded Chroma and (slow) on a Chroma server, reached the
    way the product reaches it (``COCKPIT_CHROMA_URL``), in an empty database of its own."""
    if request.param == "embedded":
        return new_store(tmp_path / "chroma")
    url: str = request.getfixturevalue("fresh_chroma_url")
    client = make_chroma_client(Settings(chroma_url=url, data_dir=tmp_path))
    return KnowledgeStore(client, embedder=HashingEmbedder(256))


def make_pdf(lines: list[str]) -> bytes:
    """A minimal one-page PDF with ``lines`` of Helvetica text (no library needed)."""
    body = " ".join(f"({line}) Tj 0 -16 Td" for line in lines)
    content = f"BT /F1 12 Tf 72 720 Td {body} ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(content)} >>\nstream\n{content}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{obj}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return out


def _is_local(address: Any) -> bool:
    if isinstance(address, str | bytes):  # AF_UNIX path
        return True
    host = str(address[0])
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture
def network_off(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Refuse every connection and name lookup that is not loopback; yields the attempts."""
    attempts: list[Any] = []
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> None:
        if not _is_local(address):
            attempts.append(address)
            raise OSError(f"network disabled in this test: {address!r}")
        real_connect(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and not _is_local((host,)):
            attempts.append(host)
            raise socket.gaierror(f"DNS disabled in this test: {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield attempts


@pytest.fixture
def pdf_factory() -> Callable[[list[str]], bytes]:
    return make_pdf


@pytest.fixture
def markdown_doc() -> bytes:
    return MARKDOWN


@pytest.fixture
def store_factory(tmp_path: Path) -> Callable[[str], KnowledgeStore]:
    return lambda name: new_store(tmp_path / name)
