"""Standard Webhooks signatures: how Cockpit signs a delivery and how a receiver verifies it.

Per the Standard Webhooks specification (https://www.standardwebhooks.com): a secret is
``whsec_`` + base64 of 24-32 random bytes, the HMAC key is those bytes; every request carries
``webhook-id`` (the delivery id, the same on retries), ``webhook-timestamp`` (unix seconds of
this attempt) and ``webhook-signature``: space-separated ``v1,<base64 HMAC-SHA256(key,
f"{id}.{timestamp}.{body}")>``, one per secret that has not expired, so a receiver holding
either the old or the new secret during a rotation verifies.

A receiver checks, in this order: the three headers are present; the timestamp is within
``TOLERANCE_S`` of its clock (older is a replay, newer a skewed clock); one of the ``v1``
signatures equals its own, compared in constant time. :func:`verify` does exactly that.

Never log a secret or a signature: each proves the secret for that body.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime

from cockpit.clock import utcnow
from cockpit.errors import AuthError, ValidationFailed

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
TOLERANCE_S = 300
"""Largest distance, in seconds, between ``webhook-timestamp`` and the receiver's clock."""
ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
VERSION = "v1"


class SignatureError(AuthError):
    """A request a receiver must refuse (401 ``invalid_signature``); ``reason`` says which
    check failed: ``missing_headers``, ``bad_timestamp``, ``too_old``, ``too_new``,
    ``no_match``."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message, code="invalid_signature")
        self.reason = reason


def generate_secret() -> str:
    """A fresh ``whsec_`` secret (shown to its owner once: at creation or rotation)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key a ``whsec_…`` secret stands for (the prefix is optional, as in the spec)."""
    text = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed(
            "secret: not base64 after 'whsec_'", code="invalid_secret", param="secret"
        ) from None
    if not 24 <= len(key) <= 64:
        raise ValidationFailed(
            "secret: the key must be 24 to 64 bytes", code="invalid_secret", param="secret"
        )
    return key


def sign(secret: str, *, msg_id: str, timestamp: int, body: bytes) -> str:
    """One ``v1,<base64>`` signature of ``body`` under ``secret``."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    mac = hmac.new(secret_key(secret), content, hashlib.sha256).digest()
    return f"{VERSION},{base64.b64encode(mac).decode()}"


def signed_headers(
    signing_secrets: Iterable[str], *, msg_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt, signed with every secret given."""
    signatures = [sign(s, msg_id=msg_id, timestamp=timestamp, body=body) for s in signing_secrets]
    if not signatures:
        raise ValueError("a webhook needs at least one secret to be signed")
    return {
        ID_HEADER: msg_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: " ".join(signatures),
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: datetime | int | None = None,
    tolerance_s: int = TOLERANCE_S,
) -> int:
    """Check a received request as a receiver must; returns its timestamp or raises
    :class:`SignatureError`. ``headers`` match case-insensitively; ``now`` defaults to the
    platform clock (a receiver passes its own)."""
    lower = {k.lower(): v for k, v in headers.items()}
    msg_id = lower.get(ID_HEADER)
    stamp = lower.get(TIMESTAMP_HEADER)
    header = lower.get(SIGNATURE_HEADER)
    if not (msg_id and stamp and header):
        raise SignatureError(
            "missing webhook-id, -timestamp or -signature", reason="missing_headers"
        )
    try:
        timestamp = int(stamp)
    except ValueError:
        raise SignatureError(
            "webhook-timestamp is not unix seconds", reason="bad_timestamp"
        ) from None
    clock = now if now is not None else utcnow()
    current = int(clock.timestamp()) if isinstance(clock, datetime) else int(clock)
    if timestamp < current - tolerance_s:
        raise SignatureError("webhook-timestamp is too old", reason="too_old")
    if timestamp > current + tolerance_s:
        raise SignatureError("webhook-timestamp is in the future", reason="too_new")
    expected = sign(secret, msg_id=msg_id, timestamp=timestamp, body=body).encode()
    for candidate in header.split(" "):
        if hmac.compare_digest(candidate.encode(), expected):
            return timestamp
    raise SignatureError("no webhook-signature matches", reason="no_match")


__all__ = [
    "ID_HEADER",
    "SECRET_PREFIX",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "TOLERANCE_S",
    "SignatureError",
    "generate_secret",
    "secret_key",
    "sign",
    "signed_headers",
    "verify",
]
