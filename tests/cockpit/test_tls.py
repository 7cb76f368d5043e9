"""The shared client TLS context verifies as httpx's own default would, and is built once."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import certifi
import pytest

from cockpit.tls import client_context


@pytest.fixture
def fresh_context() -> Iterator[None]:
    client_context.cache_clear()
    yield
    client_context.cache_clear()


def _subjects(ctx: ssl.SSLContext) -> int:
    return len(ctx.get_ca_certs())


@pytest.mark.usefixtures("fresh_context")
def test_one_verifying_context_with_certifis_bundle(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    ctx = client_context()
    assert client_context() is ctx
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    assert _subjects(ctx) == _subjects(ssl.create_default_context(cafile=certifi.where())) > 100


@pytest.mark.usefixtures("fresh_context")
def test_ssl_cert_file_replaces_the_bundle(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # One certificate of certifi's bundle, as a deployment's own CA file would be.
    pem = certifi.contents()
    first = pem[: pem.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----")]
    cafile = tmp_path / "ca.pem"
    cafile.write_text(first[first.index("-----BEGIN CERTIFICATE-----") :] + "\n")
    monkeypatch.setenv("SSL_CERT_FILE", str(cafile))
    ctx = client_context()
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    assert _subjects(ctx) == 1
