"""``Merchant-Signature`` on order events: how the merchant signs and how a platform verifies.

ACP's webhook spec (``openapi.agentic_checkout_webhook.yaml``) signs the raw request body as
``t=<unix seconds>,v1=<64 hex>`` where ``v1 = HMAC-SHA256(secret, f"{t}.{raw_body}")``. A
receiver rejects a header that is missing, malformed, outside a 300-second window (a replay
or a skewed clock) or not matching, comparing digests in constant time. Both sides live here
so they cannot drift; the receiver answers each rejection with 401 ``invalid_signature``.

Never log the secret or a full header: the digest is a proof of the secret for that body.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from tools.commerce.errors import AcpError

SIGNATURE_HEADER = "Merchant-Signature"
TOLERANCE_S = 300
"""Largest distance between the signature's ``t`` and the receiver's clock."""
_HEADER = re.compile(r"^t=(\d{1,12}),v1=([a-fA-F0-9]{64})$")


class SignatureError(AcpError):
    """A rejected ``Merchant-Signature`` (401 ``invalid_signature``); ``reason`` says which
    check failed (``missing``, ``malformed``, ``expired``, ``mismatch``)."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message, code="invalid_signature", status=401, type="invalid_request")
        self.reason = reason


def new_secret() -> str:
    """A fresh webhook secret (shown to the merchant once, at registration or rotation)."""
    return "whsec_" + secrets.token_urlsafe(32)


def digest(secret: str, body: bytes, *, timestamp: int) -> str:
    """Hex HMAC-SHA256 of ``f"{timestamp}." + body`` under ``secret``."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, *, timestamp: int) -> str:
    """The ``Merchant-Signature`` value for ``body`` sent at ``timestamp`` (unix seconds)."""
    return f"t={timestamp},v1={digest(secret, body, timestamp=timestamp)}"


def verify(
    secret: str, body: bytes, header: str | None, *, now: int, tolerance_s: int = TOLERANCE_S
) -> int:
    """Return the signed timestamp, or raise :class:`SignatureError`.

    ``now`` is the receiver's clock in unix seconds (an input, so tests fix it).
    """
    if not header:
        raise SignatureError("Missing Merchant-Signature header.", reason="missing")
    match = _HEADER.match(header.strip())
    if match is None:
        raise SignatureError(
            "Merchant-Signature must be t=<timestamp>,v1=<64_hex>.", reason="malformed"
        )
    timestamp, given = int(match.group(1)), match.group(2).lower()
    expected = digest(secret, body, timestamp=timestamp)
    matches = hmac.compare_digest(expected.encode(), given.encode())
    if abs(now - timestamp) > tolerance_s:
        raise SignatureError("Timestamp outside allowed window.", reason="expired")
    if not matches:
        raise SignatureError("Webhook signature verification failed.", reason="mismatch")
    return timestamp


__all__ = [
    "SIGNATURE_HEADER",
    "TOLERANCE_S",
    "SignatureError",
    "digest",
    "new_secret",
    "sign",
    "verify",
]
