"""The merchant's side of AP2: sign the stored checkout so a mandate can bind exactly it.

``issue_checkout_jwt`` signs the merchant's OWN stored checkout (never a cart the agent
describes) with the merchant's ES256 key and keeps the JWT: verification later recomputes the
mandate's ``checkout_hash`` over this stored copy. ECDSA signatures are randomised, so the hash
of a checkout cannot be precomputed from its content; it doubles as the challenge nonce.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tools.commerce.ap2 import store
from tools.commerce.ap2.sdjwt import SD_ALG, digest, sign_jwt
from tools.payments.models import Merchant


def merchant_claim(session: Session, merchant_id: str) -> dict[str, Any]:
    """AP2 ``types/merchant.json`` for one of the tenant's merchants."""
    row = session.get(Merchant, merchant_id)
    name = row.name if row is not None else merchant_id
    return {"id": merchant_id, "name": name}


def issue_checkout_jwt(
    session: Session,
    merchant_id: str,
    checkout_json: Mapping[str, Any],
    *,
    at: datetime,
    key_id: str | None = None,
) -> tuple[str, str]:
    """(checkout_jwt, checkout_hash) over the stored checkout, signed and recorded."""
    session_id = str(checkout_json["id"])
    key, kid = store.merchant_key(session, merchant_id, at=at)
    payload = {
        **dict(checkout_json),
        "merchant": merchant_claim(session, merchant_id),
        "iss": merchant_id,
        "iat": int(at.timestamp()),
    }
    checkout_jwt = sign_jwt(payload, key, typ="JWT", kid=kid)
    checkout_hash = digest(checkout_jwt, SD_ALG)
    store.save_issued(
        session,
        merchant_id=merchant_id,
        session_id=session_id,
        key_id=key_id,
        checkout_jwt=checkout_jwt,
        checkout_hash=checkout_hash,
        at=at,
    )
    return checkout_jwt, checkout_hash


__all__ = ["issue_checkout_jwt", "merchant_claim"]
