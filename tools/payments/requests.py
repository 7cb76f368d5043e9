"""Gateway request objects: what a merchant sends to pay, capture and refund.

Plain frozen dataclasses; the HTTP layer and agent tools validate their own
pydantic bodies and build these. Each request's fields are its idempotency
fingerprint, so two calls with the same request id must carry the same values.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from cockpit.errors import ValidationFailed


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
    market: str | None = None
    """Buyer's market (``userRegion``); defaults to the card's country or the method's market."""


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


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:24]}"


def check_request_id(value: str, param: str) -> None:
    if not isinstance(value, str) or not 1 <= len(value) <= 64:
        raise ValidationFailed(
            "request id must be 1–64 characters", code="invalid_request_id", param=param
        )


__all__ = ["CaptureRequest", "PayRequest", "RefundRequest", "check_request_id", "new_id"]
