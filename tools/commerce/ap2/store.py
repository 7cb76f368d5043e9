"""AP2 state in the caller's transaction: keys, trust list, signed checkouts, replay, usage.

Everything here runs in the session the checkout's complete runs in, so a presentation's
replay row, the mandate's usage and the gateway's payment commit together or not at all.
Concurrent presentations of one leaf race on the unique ``leaf_hash``; the loser's whole
transaction is retried by ``run_tx`` and then finds the winner's row (a replay).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from jwcrypto.jwk import JWK
from sqlalchemy import select
from sqlalchemy.orm import Session

from tools.commerce.ap2.constraints import Usage
from tools.commerce.ap2.errors import MandateRejected
from tools.commerce.ap2.models import (
    IssuedCheckout,
    MandateUsage,
    MerchantKey,
    Presentation,
    TrustedKey,
)
from tools.commerce.ap2.sdjwt import SdJwtError, new_key, public_jwk, public_key
from tools.payments.requests import new_id


def merchant_key(session: Session, merchant_id: str, *, at: datetime) -> tuple[JWK, str]:
    """(signing key, kid) of the merchant, generated and stored on first use."""
    row = session.scalar(select(MerchantKey).where(MerchantKey.merchant_id == merchant_id))
    if row is None:
        kid = new_id("ap2k")
        key = new_key(kid)
        row = MerchantKey(
            id=kid,
            merchant_id=merchant_id,
            private_jwk=key.export_private(as_dict=True),
            public_jwk=public_jwk(key),
            created_at=at,
        )
        session.add(row)
        session.flush()  # a concurrent first use fails here and its transaction is retried
    return JWK(**row.private_jwk), row.id


def merchant_public_keys(session: Session) -> list[dict[str, Any]]:
    """Every merchant's public JWK in the session's tenant, each with ``kid`` and merchant."""
    rows = session.scalars(select(MerchantKey).order_by(MerchantKey.merchant_id)).all()
    return [{**row.public_jwk, "kid": row.id, "merchant_id": row.merchant_id} for row in rows]


def merchant_public_key(session: Session, merchant_id: str) -> JWK | None:
    row = session.scalar(select(MerchantKey).where(MerchantKey.merchant_id == merchant_id))
    return None if row is None else public_key(row.public_jwk)


def trust_key(session: Session, jwk: Mapping[str, Any], *, label: str, at: datetime) -> str:
    """Add a root-mandate issuer key to the tenant's trust list; returns its id."""
    try:
        public_key(jwk)
    except SdJwtError as exc:
        raise MandateRejected("invalid_credential", str(exc), param="jwk") from exc
    row = TrustedKey(
        id=new_id("ap2t"),
        label=label,
        jwk={k: v for k, v in jwk.items() if k != "d"},
        disabled=False,
        created_at=at,
    )
    session.add(row)
    session.flush()
    return row.id


def trusted_keys(session: Session) -> list[dict[str, Any]]:
    rows = session.scalars(select(TrustedKey).where(TrustedKey.disabled.is_(False))).all()
    return [dict(row.jwk) for row in rows]


def save_issued(
    session: Session,
    *,
    merchant_id: str,
    session_id: str,
    key_id: str | None,
    checkout_jwt: str,
    checkout_hash: str,
    at: datetime,
) -> IssuedCheckout:
    row = IssuedCheckout(
        id=new_id("ap2c"),
        merchant_id=merchant_id,
        session_id=session_id,
        key_id=key_id,
        checkout_hash=checkout_hash,
        checkout_jwt=checkout_jwt,
        issued_at=at,
    )
    session.add(row)
    session.flush()
    return row


def issued_for(session: Session, *, merchant_id: str, session_id: str) -> list[IssuedCheckout]:
    """The checkout JWTs this merchant signed for this checkout session, newest first."""
    return list(
        session.scalars(
            select(IssuedCheckout)
            .where(
                IssuedCheckout.merchant_id == merchant_id,
                IssuedCheckout.session_id == session_id,
            )
            .order_by(IssuedCheckout.issued_at.desc())
        ).all()
    )


def seen(session: Session, leaf_hash: str) -> Presentation | None:
    return session.scalar(select(Presentation).where(Presentation.leaf_hash == leaf_hash))


def record_presentation(
    session: Session,
    *,
    leaf_hash: str,
    kind: str,
    merchant_id: str,
    session_id: str,
    checkout_hash: str,
    open_mandate_hash: str | None,
    status: str,
    payment_id: str | None,
    receipt: str | None,
    at: datetime,
) -> Presentation:
    row = Presentation(
        id=new_id("ap2p"),
        leaf_hash=leaf_hash,
        kind=kind,
        merchant_id=merchant_id,
        session_id=session_id,
        checkout_hash=checkout_hash,
        open_mandate_hash=open_mandate_hash,
        status=status,
        payment_id=payment_id,
        receipt=receipt,
        created_at=at,
    )
    session.add(row)
    session.flush()  # the unique leaf hash stops a concurrent replay here
    return row


def presentations_for(session: Session, session_id: str) -> list[Presentation]:
    return list(
        session.scalars(
            select(Presentation)
            .where(Presentation.session_id == session_id)
            .order_by(Presentation.created_at, Presentation.kind)
        ).all()
    )


def usage(session: Session, mandate_hash: str) -> Usage:
    """The open mandate's approved usage, row-locked until the transaction ends."""
    row = session.scalar(
        select(MandateUsage).where(MandateUsage.mandate_hash == mandate_hash).with_for_update()
    )
    if row is None:
        return Usage()
    return Usage(row.total_amount, row.uses, row.last_used_at, row.currency)


def add_usage(
    session: Session, mandate_hash: str, *, amount: int, currency: str, at: datetime
) -> None:
    """Count one approved payment against the open mandate (after approval, same tx)."""
    row = session.scalar(
        select(MandateUsage).where(MandateUsage.mandate_hash == mandate_hash).with_for_update()
    )
    if row is None:
        row = MandateUsage(
            id=new_id("ap2u"), mandate_hash=mandate_hash, currency=currency, total_amount=0, uses=0
        )
        session.add(row)
    row.total_amount += amount
    row.uses += 1
    row.last_used_at = at
    session.flush()


__all__ = [
    "add_usage",
    "issued_for",
    "merchant_key",
    "merchant_public_key",
    "merchant_public_keys",
    "presentations_for",
    "record_presentation",
    "save_issued",
    "seen",
    "trust_key",
    "trusted_keys",
    "usage",
]
