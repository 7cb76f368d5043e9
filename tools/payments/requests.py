"""Gateway request objects: what a merchant sends to pay, capture and refund.

Plain frozen dataclasses; the HTTP layer and agent tools validate their own
pydantic bodies and build these. Each request's fields are its idempotency
fingerprint, so two calls with the same request id must carry the same values.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from cockpit.errors import ValidationFailed
from cockpit.guardrails.redact import redact_text


@dataclass(frozen=True, slots=True)
class PayRequest:
    """A ``pay`` call; ``request_id`` is the merchant's ``paymentRequestId``."""

    merchant_id: str
    request_id: str
    amount: int
    currency: str
    method_type: str = "CARD"
    card_id: str | None = None
    customer_id: str | None = None
    device_id: str | None = None
    capture_mode: str = "AUTOMATIC"
    three_ds: bool = False
    eci: str | None = None
    """The 3-D Secure ECI when the caller authenticated the card (05/06, Mastercard 02/01);
    None: the gateway records the brand's fully authenticated ECI for a ``three_ds`` payment."""
    market: str | None = None
    """Buyer's market (``userRegion``); defaults to the card's country or the method's market."""
    description: str | None = None
    """The merchant's note on the payment (≤ 500 chars); untrusted text, shown as data."""
    metadata: Mapping[str, str] | None = None
    """The merchant's key/value notes (≤ 20 pairs, keys ≤ 40 chars, values ≤ 500 chars)."""

    def fingerprint_body(self) -> dict[str, Any]:
        """The idempotency fingerprint's body: notes count only when given, so a request
        without them fingerprints exactly as it did before payments had notes."""
        # The fields as they are (not ``asdict``, whose deep copies cost more than the hash):
        # canonical JSON reads a dict, and anything else the way the copy would have read.
        body = {name: getattr(self, name) for name in _PAY_FIELDS}
        for name in ("description", "metadata", "eci"):
            if body[name] is None:
                del body[name]
        return body


_PAY_FIELDS = tuple(f.name for f in fields(PayRequest))


@dataclass(frozen=True, slots=True)
class CaptureRequest:
    merchant_id: str
    payment_id: str
    request_id: str
    amount: int
    is_last: bool = False


@dataclass(frozen=True, slots=True)
class RefundRequest:
    merchant_id: str
    payment_id: str
    request_id: str
    amount: int
    reason: str | None = None


DESCRIPTION_MAX = 500
METADATA_MAX_KEYS = 20
METADATA_KEY_MAX = 40
METADATA_VALUE_MAX = 500


def check_notes(description: object, metadata: object) -> None:
    """Validate a payment's notes (one rule set for HTTP, agent tools and the demo world)."""
    if description is not None:
        if not isinstance(description, str):
            raise ValidationFailed(
                "description must be a string", code="invalid_description", param="description"
            )
        if len(description) > DESCRIPTION_MAX:
            raise ValidationFailed(
                f"description is at most {DESCRIPTION_MAX} characters",
                code="description_too_long",
                param="description",
            )
        _check_not_sensitive(description, "description")
    if metadata is None:
        return
    if not isinstance(metadata, Mapping):
        raise ValidationFailed(
            "metadata must be an object of string keys and values",
            code="invalid_metadata",
            param="metadata",
        )
    if len(metadata) > METADATA_MAX_KEYS:
        raise ValidationFailed(
            f"metadata holds at most {METADATA_MAX_KEYS} keys",
            code="metadata_too_many_keys",
            param="metadata",
        )
    for key, value in metadata.items():
        _check_metadata_pair(key, value)


def _check_metadata_pair(key: object, value: object) -> None:
    if not isinstance(key, str) or not 1 <= len(key) <= METADATA_KEY_MAX:
        raise ValidationFailed(
            f"metadata keys are strings of 1–{METADATA_KEY_MAX} characters",
            code="invalid_metadata_key",
            param=f"metadata.{key}",
        )
    if not isinstance(value, str):
        raise ValidationFailed(
            "metadata values must be strings",
            code="invalid_metadata_value",
            param=f"metadata.{key}",
        )
    if len(value) > METADATA_VALUE_MAX:
        raise ValidationFailed(
            f"metadata values are at most {METADATA_VALUE_MAX} characters",
            code="metadata_value_too_long",
            param=f"metadata.{key}",
        )
    _check_not_sensitive(value, f"metadata.{key}")


def _check_not_sensitive(text: str, param: str) -> None:
    # Notes are stored, shown and handed to agents as they are: never a card number or a key.
    if redact_text(text) != text:
        raise ValidationFailed(
            "notes must not hold card numbers, API keys or tokens",
            code="sensitive_data_in_notes",
            param=param,
        )


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:24]}"


def check_request_id(value: str, param: str) -> None:
    if not isinstance(value, str) or not 1 <= len(value) <= 64:
        raise ValidationFailed(
            "request id must be 1–64 characters", code="invalid_request_id", param=param
        )


__all__ = [
    "DESCRIPTION_MAX",
    "METADATA_KEY_MAX",
    "METADATA_MAX_KEYS",
    "METADATA_VALUE_MAX",
    "CaptureRequest",
    "PayRequest",
    "RefundRequest",
    "check_notes",
    "check_request_id",
    "new_id",
]
