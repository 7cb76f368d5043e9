"""ACP request headers and canonical JSON: what every ACP operation checks before it runs.

The HTTP routes and the MCP tools hand the header values over as a :class:`RequestMeta`;
this module validates ``API-Version`` and ``Idempotency-Key``, builds the echo headers
(``Idempotency-Key``, ``Request-Id``) and holds :func:`jcs`, the RFC 8785 canonical JSON that
both the idempotency fingerprint and the request signature are computed over (so ``1.0`` and
``1`` are the same request, key order is ignored, ``null`` is not absence).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tools.commerce.errors import AcpError

API_VERSION = "2026-04-17"
SUPPORTED_VERSIONS: tuple[str, ...] = (API_VERSION,)
"""Versions this server speaks (the ``Error.supported_versions`` and discovery lists)."""
IDEMPOTENCY_KEY_MAX = 255


@dataclass(frozen=True, slots=True)
class RequestMeta:
    """The ACP header values of one request (HTTP headers or the MCP ``meta`` object)."""

    api_version: str | None
    idempotency_key: str | None
    request_id: str | None = None
    signature: str | None = None
    timestamp: str | None = None
    accept_language: str | None = None

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> RequestMeta:
        """The ACP header values of an HTTP request (header names in any case)."""
        h = {name.lower(): value for name, value in headers.items()}
        return cls(
            api_version=h.get("api-version"),
            idempotency_key=h.get("idempotency-key"),
            request_id=h.get("request-id"),
            signature=h.get("signature"),
            timestamp=h.get("timestamp"),
            accept_language=h.get("accept-language"),
        )

    def echo(self) -> dict[str, str]:
        """Response headers that echo the request's ``Idempotency-Key`` and ``Request-Id``."""
        out: dict[str, str] = {}
        if self.idempotency_key:
            out["Idempotency-Key"] = self.idempotency_key
        if self.request_id:
            out["Request-Id"] = self.request_id
        return out


@dataclass(frozen=True, slots=True)
class AcpResponse:
    """An ACP answer: HTTP status, JSON body and response headers."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    """``Idempotency-Key`` / ``Request-Id`` echo, ``Idempotent-Replayed: true`` on replays."""


def check_version(meta: RequestMeta) -> None:
    """400 ``missing_api_version`` / ``unsupported_api_version`` with ``supported_versions``."""
    if not meta.api_version:
        raise AcpError(
            "API-Version header is required",
            code="missing_api_version",
            supported_versions=list(SUPPORTED_VERSIONS),
            headers=meta.echo(),
        )
    if meta.api_version.strip() not in SUPPORTED_VERSIONS:
        raise AcpError(
            f"API-Version {meta.api_version!r} is not supported",
            code="unsupported_api_version",
            supported_versions=list(SUPPORTED_VERSIONS),
            headers=meta.echo(),
        )


def require_idempotency_key(meta: RequestMeta) -> str:
    """The POST's ``Idempotency-Key`` (1–255 characters), or 400 ``idempotency_key_required``."""
    key = meta.idempotency_key
    if key is None or key == "":
        raise AcpError(
            "Idempotency-Key header is required",
            code="idempotency_key_required",
            headers=meta.echo(),
        )
    if len(key) > IDEMPOTENCY_KEY_MAX or not key.isprintable():
        raise AcpError(
            "Idempotency-Key must be 1-255 printable characters",
            code="invalid_idempotency_key",
            headers=meta.echo(),
        )
    return key


def _number(value: float) -> str:
    """ECMAScript ``Number.prototype.toString`` of a finite float (RFC 8785 §3.2.2.3)."""
    if value == 0:
        return "0"
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    sign = "-" if value < 0 else ""
    digits_tuple = Decimal(repr(abs(value))).normalize().as_tuple()
    digits = "".join(map(str, digits_tuple.digits))
    exp = digits_tuple.exponent
    assert isinstance(exp, int)
    k, n = len(digits), len(digits) + exp
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        mantissa = digits[0] + ("." + digits[1:] if k > 1 else "")
        body = f"{mantissa}e{'+' if e > 0 else '-'}{abs(e)}"
    return sign + body


def jcs(value: Any) -> str:
    """RFC 8785 JSON Canonicalization Scheme of a JSON value."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise AcpError("numbers must be finite", code="invalid_request")
        return _number(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        keys = sorted(value, key=lambda k: str(k).encode("utf-16-be"))
        return "{" + ",".join(f"{jcs(str(k))}:{jcs(value[k])}" for k in keys) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(jcs(v) for v in value) + "]"
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def body_fingerprint(payload: Mapping[str, Any] | None) -> str:
    """SHA-256 hex of the JCS form of a request body (an absent body hashes as ``""``)."""
    text = "" if payload is None else jcs(payload)
    return hashlib.sha256(text.encode()).hexdigest()


_HTML = re.compile(r"<\s*/?\s*[A-Za-z!][^>]*>|&(?:[A-Za-z]+|#\d+|#x[0-9A-Fa-f]+);")


def reject_html(value: Any, path: str = "$") -> None:
    """400 ``invalid_content`` when an inbound text field holds raw HTML (ACP: markdown and
    text must be CommonMark without raw HTML; servers reject it)."""
    if isinstance(value, str):
        if _HTML.search(value):
            raise AcpError(
                "text fields must not contain raw HTML", code="invalid_content", param=path
            )
    elif isinstance(value, Mapping):
        for key, item in value.items():
            reject_html(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            reject_html(item, f"{path}[{i}]")


__all__ = [
    "API_VERSION",
    "IDEMPOTENCY_KEY_MAX",
    "SUPPORTED_VERSIONS",
    "AcpResponse",
    "RequestMeta",
    "body_fingerprint",
    "check_version",
    "jcs",
    "reject_html",
    "require_idempotency_key",
]
