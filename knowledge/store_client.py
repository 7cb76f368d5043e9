"""Which Chroma the knowledge store talks to: embedded in the data dir, or a Chroma server.

Scaled out, every API worker points ``COCKPIT_CHROMA_URL`` at one Chroma server. The URL
may name a Chroma tenant and database in its query string
(``http://chroma:8000/?database=cockpit-prod``, ``&tenant=…``) so that several Cockpit
deployments, or parallel test runs, share one server without seeing each other's
collections. A named database (or tenant) that does not exist yet is created: every
worker tries at start, and the one that loses the race finds it there.

Chroma's single-node server keeps its catalogue in SQLite and answers concurrent database
creates and deletes with ``database is locked`` (collection reads and writes are not
affected); those admin calls are retried briefly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import parse_qs, urlparse

import chromadb
from chromadb.api import AdminAPI, ClientAPI
from chromadb.config import DEFAULT_DATABASE, DEFAULT_TENANT
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import ChromaError, InternalError
from chromadb.errors import NotFoundError as ChromaNotFound

from cockpit.config import Settings
from cockpit.errors import ValidationFailed

_PARAM = "COCKPIT_CHROMA_URL"
_OPTIONS = ("database", "tenant")
_ADMIN_ATTEMPTS = 8
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class ChromaServer:
    """Where a Chroma server is and which of its tenants and databases Cockpit uses."""

    host: str
    port: int
    ssl: bool
    tenant: str = DEFAULT_TENANT
    database: str = DEFAULT_DATABASE

    @property
    def url(self) -> str:
        return f"{'https' if self.ssl else 'http'}://{self.host}:{self.port}"


def _invalid(message: str) -> ValidationFailed:
    return ValidationFailed(message, code="invalid_chroma_url", param=_PARAM)


def parse_chroma_url(url: str) -> ChromaServer:
    """``http(s)://host[:port][/][?database=…&tenant=…]``; anything else is refused, so a typo
    in an option cannot silently put a deployment's data in the default database."""
    parts = urlparse(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _invalid(f"{_PARAM} must be http(s)://host:port, not {url!r}")
    if parts.path not in ("", "/") or parts.params or parts.fragment:
        raise _invalid(f"{_PARAM} takes no path: {url!r}")
    query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    unknown = sorted(set(query) - set(_OPTIONS))
    if unknown:
        raise _invalid(f"{_PARAM} options are database and tenant, not {', '.join(unknown)}")
    chosen: dict[str, str] = {}
    for key, values in query.items():
        if len(values) != 1 or not values[0]:
            raise _invalid(f"{_PARAM} names {key} once, with a value")
        chosen[key] = values[0]
    return ChromaServer(
        host=parts.hostname,
        port=parts.port or (443 if parts.scheme == "https" else 8000),
        ssl=parts.scheme == "https",
        **chosen,
    )


def _chroma_settings(server: ChromaServer | None = None) -> ChromaSettings:
    """Chroma's client settings: embedded, or for ``server``. Over plain http the client's TLS
    context is never used, so it gets an empty one rather than one loaded with the CA bundle
    (~20 ms of CPU for every client made); over https Chroma verifies as it always does."""
    if server is None:
        return ChromaSettings(anonymized_telemetry=False)
    return ChromaSettings(
        anonymized_telemetry=False,
        chroma_api_impl="chromadb.api.fastapi.FastAPI",
        chroma_server_host=server.host,
        chroma_server_http_port=server.port,
        chroma_server_ssl_enabled=server.ssl,
        chroma_server_ssl_verify=None if server.ssl else False,  # None: Chroma's default
    )


def admin_client(server: ChromaServer) -> AdminAPI:
    """Chroma's admin API on ``server`` (tenants and databases)."""
    return chromadb.AdminClient(_chroma_settings(server))


def _admin_call(call: Callable[[], _T]) -> _T:
    """``call()``, retried with a short backoff while Chroma's catalogue is locked."""
    for attempt in range(_ADMIN_ATTEMPTS):
        try:
            return call()
        except InternalError as exc:
            if "database is locked" not in str(exc) or attempt == _ADMIN_ATTEMPTS - 1:
                raise
            time.sleep(0.05 * 2**attempt)
    raise AssertionError("unreachable")  # the loop returns or raises


def _ensure(get: Callable[[], object], create: Callable[[], object]) -> None:
    try:
        _admin_call(get)
    except ChromaNotFound:
        try:
            _admin_call(create)
        except ChromaError:
            _admin_call(get)  # another worker created it meanwhile; else this raises


def ensure_database(server: ChromaServer) -> None:
    """Create the tenant and database ``server`` names, unless they exist (Chroma's defaults
    always do). Safe to call from several workers at once."""
    admin = admin_client(server)
    tenant, database = server.tenant, server.database
    if tenant != DEFAULT_TENANT:
        _ensure(lambda: admin.get_tenant(tenant), lambda: admin.create_tenant(tenant))
    if (tenant, database) != (DEFAULT_TENANT, DEFAULT_DATABASE):
        _ensure(
            lambda: admin.get_database(database, tenant=tenant),
            lambda: admin.create_database(database, tenant=tenant),
        )


def drop_database(server: ChromaServer) -> None:
    """Delete the database ``server`` names, with every collection in it."""
    admin = admin_client(server)
    _admin_call(lambda: admin.delete_database(server.database, tenant=server.tenant))


def make_chroma_client(settings: Settings) -> ClientAPI:
    """Embedded Chroma under ``data_dir/chroma``, or the Chroma server at ``chroma_url``."""
    if settings.chroma_url:
        server = parse_chroma_url(settings.chroma_url)
        ensure_database(server)
        return chromadb.HttpClient(
            host=server.host,
            port=server.port,
            ssl=server.ssl,
            tenant=server.tenant,
            database=server.database,
            settings=_chroma_settings(server),
        )
    path = settings.ensure_data_dir() / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=_chroma_settings())


__all__ = [
    "ChromaServer",
    "admin_client",
    "drop_database",
    "ensure_database",
    "make_chroma_client",
    "parse_chroma_url",
]
