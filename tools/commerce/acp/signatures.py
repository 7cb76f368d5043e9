"""Request signatures of agent platforms: ``Signature`` + ``Timestamp`` (ES256, detached).

When the platform behind a shopper key registered a signing key (``Platform.signing_jwk``),
every ACP request of that key must carry ``Timestamp`` (RFC 3339, within
:data:`MAX_SKEW` of the server's time) and ``Signature`` = base64url of the raw ES256
signature (``r || s``, 64 bytes) over ``f"{Timestamp}.{JCS(body)}"`` (an empty body signs
``""``). Platforms without a key are not asked for one. Failures are 401 ACP errors; nothing
of the request runs.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from jwcrypto import jwk

from tools.commerce.acp.wire import RequestMeta, jcs
from tools.commerce.errors import AcpError

MAX_SKEW = timedelta(seconds=300)


def signing_input(timestamp: str, payload: Mapping[str, Any] | None) -> bytes:
    """The bytes a platform signs: ``"<Timestamp>.<JCS(body)>"``."""
    return f"{timestamp}.{'' if payload is None else jcs(payload)}".encode()


def _unauthorised(message: str, code: str, meta: RequestMeta) -> AcpError:
    return AcpError(message, code=code, status=401, headers=meta.echo())


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def verify_request(
    signing_jwk: Mapping[str, Any],
    meta: RequestMeta,
    payload: Mapping[str, Any] | None,
    *,
    at: datetime,
) -> None:
    """Raise a 401 :class:`AcpError` unless ``meta`` signs ``payload`` with ``signing_jwk``."""
    if not meta.signature or not meta.timestamp:
        raise _unauthorised(
            "Signature and Timestamp headers are required for this platform",
            "signature_required",
            meta,
        )
    try:
        when = datetime.fromisoformat(meta.timestamp.strip())
    except ValueError:
        raise _unauthorised(
            "Timestamp must be an RFC 3339 time", "invalid_timestamp", meta
        ) from None
    if when.tzinfo is None:
        raise _unauthorised("Timestamp needs a UTC offset", "invalid_timestamp", meta)
    if abs(when.astimezone(UTC) - at) > MAX_SKEW:
        raise _unauthorised(
            "Timestamp is outside the allowed window", "timestamp_out_of_range", meta
        )
    try:
        raw = _b64url(meta.signature.strip())
    except (binascii.Error, ValueError):
        raise _unauthorised("Signature is not base64url", "invalid_signature", meta) from None
    try:
        key = jwk.JWK(**dict(signing_jwk)).get_op_key("verify")
    except Exception as exc:  # a registered key we cannot use is our data's fault
        raise AcpError(
            "the platform's signing key is unusable",
            code="invalid_signing_key",
            status=500,
            type="processing_error",
        ) from exc
    if len(raw) != 64 or not isinstance(key, ec.EllipticCurvePublicKey):
        raise _unauthorised("Signature does not verify", "invalid_signature", meta)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        key.verify(der, signing_input(meta.timestamp, payload), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise _unauthorised("Signature does not verify", "invalid_signature", meta) from None


__all__ = ["MAX_SKEW", "signing_input", "verify_request"]
