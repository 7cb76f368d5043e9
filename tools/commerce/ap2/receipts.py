"""Signed AP2 receipts (``checkout_receipt.json``, ``payment_receipt.json``): the merchant's
answer to a presented mandate, an ES256 JWT under the merchant's key (published at
``GET /acp/ap2/keys``). ``reference`` binds the receipt to the closed leaf it answers:
b64url(hash of the leaf JWT). Success and Error receipts carry exactly the fields the schemas'
``oneOf`` branches allow.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.orm import Session

from tools.commerce.ap2 import store
from tools.commerce.ap2.errors import Ap2Code
from tools.commerce.ap2.sdjwt import peek, sign_jwt

RECEIPT_TYP = "JWT"


def checkout_receipt(
    *,
    merchant_id: str,
    reference: str,
    at: datetime,
    order_id: str | None = None,
    error: Ap2Code | str | None = None,
    error_description: str | None = None,
) -> dict[str, Any]:
    """Claims of a checkout receipt: Success with ``order_id`` or Error with a code."""
    claims = _base(merchant_id, reference, at, "Error" if error else "Success")
    if error:
        claims.update(error=error, error_description=error_description or error)
    else:
        claims["order_id"] = order_id or ""
    return claims


def payment_receipt(
    *,
    merchant_id: str,
    reference: str,
    payment_id: str,
    at: datetime,
    psp_confirmation_id: str | None = None,
    network_confirmation_id: str | None = None,
    error: Ap2Code | str | None = None,
    error_description: str | None = None,
) -> dict[str, Any]:
    """Claims of a payment receipt; ``payment_id`` is required even on Error (use "" when no
    payment was created: nothing reached the gateway)."""
    claims = _base(merchant_id, reference, at, "Error" if error else "Success")
    claims["payment_id"] = payment_id
    if error:
        claims.update(error=error, error_description=error_description or error)
    else:
        claims.update(
            psp_confirmation_id=psp_confirmation_id or payment_id,
            network_confirmation_id=network_confirmation_id or payment_id,
        )
    return claims


def _base(merchant_id: str, reference: str, at: datetime, status: str) -> dict[str, Any]:
    return {
        "status": status,
        "iss": merchant_id,
        "iat": int(at.timestamp()),
        "reference": reference,
    }


def sign_receipt(
    session: Session, merchant_id: str, claims: Mapping[str, Any], *, at: datetime
) -> str:
    """The receipt as a compact ES256 JWT under the merchant's key."""
    key, kid = store.merchant_key(session, merchant_id, at=at)
    return sign_jwt(claims, key, typ=RECEIPT_TYP, kid=kid)


def receipt_claims(receipt_jwt: str) -> dict[str, Any]:
    """Decode a receipt we signed (no signature check: for display and evidence)."""
    return peek(receipt_jwt)[1]


ReceiptKind = Literal["checkout", "payment"]

__all__ = [
    "ReceiptKind",
    "checkout_receipt",
    "payment_receipt",
    "receipt_claims",
    "sign_receipt",
]
