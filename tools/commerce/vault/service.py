"""Cockpit as the PSP vault: issue allowance-bound single-use tokens, and redeem them once.

:func:`delegate` is ``POST /agentic_commerce/delegate_payment``: it checks the card (Luhn,
brand, expiry against ``at``), the allowance (``max_amount`` > 0, a future ``expires_at``, a
merchant of the caller's tenant — and the caller's own merchant when its key is bound — whose
currency it is), then stores a ``pay_cards`` row and the token. The token row is the idempotency
record of the call (key scoped to the calling API key), so the token and its key commit
together: the same key and body replay the first 201 (``replayed``), another body under the key
is 422 ``idempotency_conflict``. Two concurrent calls with one key are serialised by the unique
key (the later one waits and replays), so ``idempotency_in_flight`` never has to be answered.

:func:`redeem` enforces DOMAIN §10a's allowance rules in the caller's transaction — single use,
charge ≤ ``max_amount``, equal currency, equal ``merchant_id`` and ``checkout_session_id``,
refused at or after ``expires_at`` — and marks the token used with a compare-and-set update, so
of two concurrent redemptions exactly one wins. A refused token raises :class:`AcpError` and is
left exactly as it was.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cockpit.db.session import Database, session_tenant
from cockpit.money import is_known
from cockpit.tenancy.principal import Principal
from tools.commerce.errors import AcpError
from tools.commerce.vault.cards import BadNumber, CheckedNumber, check_number, wire_brand
from tools.commerce.vault.models import TOKEN_ACTIVE, TOKEN_USED, VaultToken
from tools.commerce.vault.wire import (
    DelegatePaymentRequest,
    PaymentMethodCard,
    invalid,
    parse_instant,
    parse_request,
)
from tools.payments.models import Card, Merchant
from tools.payments.requests import new_id
from tools.payments.tx import run_tx

TOKEN_PARAM = "$.payment_data.instrument.credential.token"
"""Where a token sits in an ACP complete request (the default ``param`` of redeem errors)."""

# Redeem error codes (the checkout ``Error.code`` is implementation-defined).
TOKEN_NOT_FOUND = "payment_token_not_found"
TOKEN_USED_CODE = "payment_token_used"
TOKEN_EXPIRED = "payment_token_expired"
TOKEN_MERCHANT = "payment_token_merchant_mismatch"
TOKEN_SESSION = "payment_token_session_mismatch"
TOKEN_CURRENCY = "payment_token_currency_mismatch"
TOKEN_AMOUNT = "payment_token_amount_exceeded"


# ----- delegate -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Delegated:
    """What the delegate endpoint answers."""

    token_id: str
    body: dict[str, Any]
    """The ``DelegatePaymentResponse``: ``{id, created, metadata}``."""
    replayed: bool
    """True when an earlier call with the same key and body answered."""
    status: int = 201


def _canonical(value: Any) -> Any:
    """Semantic JSON: ``1.0`` is ``1``; key order is ignored by the sorted dump."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


def request_fingerprint(payload: Mapping[str, Any], *, key: bytes) -> str:
    """HMAC of the canonical body under the vault key (the body holds the PAN and CVC, so a
    plain hash of it would be guessable from the stored fields)."""
    text = json.dumps(_canonical(payload), sort_keys=True, separators=(",", ":"))
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def _expiry(pm: PaymentMethodCard, at: datetime) -> tuple[int, int]:
    if pm.exp_month is None or pm.exp_year is None:
        param = (
            "$.payment_method.exp_month" if pm.exp_month is None else "$.payment_method.exp_year"
        )
        raise invalid("the card's expiry month and year are required", param, status=400)
    if not pm.exp_month.isdigit() or not 1 <= int(pm.exp_month) <= 12:
        raise invalid("the expiry month must be 01 to 12", "$.payment_method.exp_month")
    if not pm.exp_year.isdigit() or len(pm.exp_year) != 4:
        raise invalid("the expiry year must be four digits", "$.payment_method.exp_year")
    month, year = int(pm.exp_month), int(pm.exp_year)
    if (year, month) < (at.year, at.month):
        raise invalid("the card has expired", "$.payment_method.exp_year")
    return month, year


def _check_card(pm: PaymentMethodCard, *, key: bytes) -> CheckedNumber:
    try:
        checked = check_number(pm.number, key=key)
    except BadNumber as exc:
        raise invalid(f"invalid card number: {exc}", "$.payment_method.number") from None
    digits = pm.number.strip()
    if pm.cvc is not None and not (pm.cvc.isdigit() and len(pm.cvc) in (3, 4)):
        raise invalid("the card verification code must be 3 or 4 digits", "$.payment_method.cvc")
    if pm.iin is not None and not (pm.iin.isdigit() and digits.startswith(pm.iin)):
        raise invalid("iin does not match the card number", "$.payment_method.iin")
    if pm.display_last4 is not None and pm.display_last4 != checked.last4:
        raise invalid(
            "display_last4 does not match the card number", "$.payment_method.display_last4"
        )
    if pm.display_brand is not None and pm.display_brand.strip().lower() not in (
        wire_brand(checked.brand),
        checked.brand.lower(),
    ):
        raise invalid(
            "display_brand does not match the card number", "$.payment_method.display_brand"
        )
    return checked


def _merchant(session: Session, principal: Principal, merchant_id: str) -> Merchant:
    merchant = session.get(Merchant, merchant_id)
    foreign = merchant is None or merchant.tenant_id != session_tenant(session)
    other = principal.merchant_id is not None and principal.merchant_id != merchant_id
    if merchant is None or foreign or other:
        # One answer for "no such merchant" and "not yours": existence is not revealed.
        raise invalid(f"no merchant {merchant_id!r} for this key", "$.allowance.merchant_id")
    return merchant


def _card_row(
    session: Session,
    checked: CheckedNumber,
    req: DelegatePaymentRequest,
    merchant: Merchant,
    exp: tuple[int, int],
) -> str:
    """The ``pay_cards`` id for this number and expiry: an earlier delegation's, or a new one."""
    month, year = exp
    known = session.scalars(
        select(VaultToken.card_id)
        .where(VaultToken.pan_hash == checked.pan_hash)
        .order_by(VaultToken.created_at.desc())
    ).all()
    for card_id in known:
        card = session.get(Card, card_id)
        if card is not None and (card.exp_month, card.exp_year) == (month, year):
            return card.id
    pm = req.payment_method
    country = (req.billing_address.country if req.billing_address else merchant.country).upper()
    issuer = (pm.metadata.get("issuing_bank") or f"{wire_brand(checked.brand)} issuer")[:64]
    card = Card(
        id=new_id("card"),
        brand=checked.brand,
        bin=checked.bin,
        last4=checked.last4,
        funding=pm.display_card_funding_type.upper(),
        issuer=issuer,
        issuing_country=country,
        exp_month=month,
        exp_year=year,
        network_token=pm.card_number_type == "network_token",
    )
    session.add(card)
    session.flush()
    return card.id


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _issue(
    session: Session,
    principal: Principal,
    req: DelegatePaymentRequest,
    *,
    idempotency_key: str,
    fp: str,
    key: bytes,
    at: datetime,
) -> dict[str, Any]:
    pm, allowance = req.payment_method, req.allowance
    checked = _check_card(pm, key=key)
    exp = _expiry(pm, at)
    if allowance.max_amount <= 0:
        raise invalid(
            "max_amount must be a positive amount in minor units", "$.allowance.max_amount"
        )
    expires_at = parse_instant(allowance.expires_at, "$.allowance.expires_at")
    if expires_at <= at:
        raise invalid("the allowance has already expired", "$.allowance.expires_at")
    merchant = _merchant(session, principal, allowance.merchant_id)
    currency = allowance.currency
    if not is_known(currency.upper()) or currency.upper() != merchant.settlement_currency:
        raise invalid(
            f"merchant {merchant.id} does not take payments in {currency}",
            "$.allowance.currency",
        )
    card_id = _card_row(session, checked, req, merchant, exp)
    token_id = new_id("spt")
    body = {
        "id": token_id,
        "created": _iso(at),
        "metadata": {
            **req.metadata,
            "merchant_id": merchant.id,
            "idempotency_key": idempotency_key,
        },
    }
    session.add(
        VaultToken(
            id=token_id,
            key_id=principal.key_id,
            idempotency_key=idempotency_key,
            fingerprint=fp,
            response=body,
            card_id=card_id,
            pan_hash=checked.pan_hash,
            card_number_type=pm.card_number_type,
            checks_performed=list(pm.checks_performed or []),
            reason=allowance.reason,
            max_amount=allowance.max_amount,
            currency=currency,
            merchant_id=merchant.id,
            checkout_session_id=allowance.checkout_session_id,
            expires_at=expires_at,
            billing_address=(
                req.billing_address.model_dump(exclude_none=True) if req.billing_address else None
            ),
            risk_signals=[s.model_dump() for s in req.risk_signals],
            metadata_=dict(req.metadata),
            created_at=at,
            status=TOKEN_ACTIVE,
        )
    )
    session.flush()  # a concurrent twin with the same key fails here and the tx is retried
    return body


def delegate(
    db: Database,
    principal: Principal,
    *,
    idempotency_key: str | None,
    payload: Any,
    key: bytes,
    at: datetime,
) -> Delegated:
    """Issue a token for ``payload`` (a ``DelegatePaymentRequest``), once per idempotency key.

    ``key`` is the vault's HMAC key (:func:`tools.commerce.vault.cards.load_or_create_key`).
    """
    if not idempotency_key:
        raise AcpError(
            "Idempotency-Key header is required", code="idempotency_key_required", status=400
        )
    if len(idempotency_key) > 255:
        raise AcpError(
            "Idempotency-Key is at most 255 characters",
            code="idempotency_key_required",
            status=400,
        )
    fp = request_fingerprint(payload if isinstance(payload, Mapping) else {"": payload}, key=key)

    def once(session: Session) -> Delegated:
        existing = session.scalar(
            select(VaultToken).where(
                VaultToken.key_id == principal.key_id,
                VaultToken.idempotency_key == idempotency_key,
            )
        )
        if existing is not None:
            if not hmac.compare_digest(existing.fingerprint, fp):
                raise AcpError(
                    "Idempotency-Key has already been used with a different request body",
                    code="idempotency_conflict",
                    status=422,
                )
            return Delegated(existing.id, dict(existing.response), replayed=True)
        req = parse_request(payload)
        body = _issue(
            session, principal, req, idempotency_key=idempotency_key, fp=fp, key=key, at=at
        )
        return Delegated(str(body["id"]), body, replayed=False)

    return run_tx(db, principal.tenant_id, once)


# ----- redeem ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VaultCard:
    """A redeemed token: the card to charge and what may be shown of it."""

    token_id: str
    card_id: str
    """The ``pay_cards`` row to pass to the gateway."""
    brand: str
    """ACP spelling (``visa``)."""
    last4: str
    funding: str
    """``credit``, ``debit`` or ``prepaid``."""
    exp_month: int
    exp_year: int
    allowance: Mapping[str, Any]
    risk_signals: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)
    """The agent platform's own signals sent with the card."""

    def display(self) -> dict[str, Any]:
        """What evidence and messages may show of the card (never more than brand + last 4)."""
        return {
            "brand": self.brand,
            "last4": self.last4,
            "funding": self.funding,
            "exp_month": self.exp_month,
            "exp_year": self.exp_year,
        }


def _refuse(code: str, message: str, param: str) -> AcpError:
    return AcpError(message, code=code, status=422, param=param)


def redeem(
    session: Session,
    token_id: str,
    *,
    merchant_id: str,
    checkout_session_id: str,
    amount: int,
    currency: str,
    at: datetime,
    param: str = TOKEN_PARAM,
) -> VaultCard:
    """Spend ``token_id`` on this checkout in ``session``, or raise :class:`AcpError`.

    On success the token is marked used in the caller's transaction (it commits or rolls back
    with the payment). ``currency`` may be given in either case.
    """
    token = session.scalar(select(VaultToken).where(VaultToken.id == token_id))
    if token is None:
        raise _refuse(TOKEN_NOT_FOUND, "the payment token is not known", param)
    if token.merchant_id != merchant_id:
        raise _refuse(TOKEN_MERCHANT, "the payment token was issued for another merchant", param)
    if token.checkout_session_id != checkout_session_id:
        raise _refuse(
            TOKEN_SESSION, "the payment token was issued for another checkout session", param
        )
    if token.status != TOKEN_ACTIVE:
        raise _refuse(TOKEN_USED_CODE, "the payment token was already used", param)
    if at >= token.expires_at:
        raise _refuse(TOKEN_EXPIRED, "the payment token's allowance has expired", param)
    if token.currency != currency.lower():
        raise _refuse(
            TOKEN_CURRENCY,
            f"the payment token allows {token.currency}, not {currency.lower()}",
            param,
        )
    if amount <= 0 or amount > token.max_amount:
        raise _refuse(
            TOKEN_AMOUNT,
            f"the charge of {amount} exceeds the token's allowance of {token.max_amount}",
            param,
        )
    won = session.execute(
        update(VaultToken)
        .where(VaultToken.id == token.id, VaultToken.status == TOKEN_ACTIVE)
        .values(status=TOKEN_USED, used_at=at)
        .execution_options(synchronize_session=False)
    )
    if getattr(won, "rowcount", 0) != 1:  # a concurrent redemption committed first
        raise _refuse(TOKEN_USED_CODE, "the payment token was already used", param)
    session.expire(token)
    card = session.get(Card, token.card_id)
    if card is None:  # pragma: no cover - the foreign key keeps it
        raise _refuse(TOKEN_NOT_FOUND, "the payment token is not known", param)
    return VaultCard(
        token_id=token.id,
        card_id=card.id,
        brand=wire_brand(card.brand),
        last4=card.last4,
        funding=card.funding.lower(),
        exp_month=card.exp_month,
        exp_year=card.exp_year,
        allowance=token.allowance(),
        risk_signals=tuple(token.risk_signals or ()),
    )


def bind_payment(session: Session, token_id: str, payment_id: str) -> None:
    """Record the gateway payment a redeemed token paid for."""
    session.execute(
        update(VaultToken)
        .where(VaultToken.id == token_id)
        .values(used_by_payment_id=payment_id)
        .execution_options(synchronize_session=False)
    )


def token_for_card(
    session: Session, card_id: str, *, checkout_session_id: str
) -> VaultToken | None:
    """The token that put ``card_id`` on this checkout, if a vault token did."""
    return session.scalar(
        select(VaultToken)
        .where(
            VaultToken.card_id == card_id,
            VaultToken.checkout_session_id == checkout_session_id,
        )
        .order_by(VaultToken.created_at.desc())
        .limit(1)
    )


__all__ = [
    "TOKEN_AMOUNT",
    "TOKEN_CURRENCY",
    "TOKEN_EXPIRED",
    "TOKEN_MERCHANT",
    "TOKEN_NOT_FOUND",
    "TOKEN_PARAM",
    "TOKEN_SESSION",
    "TOKEN_USED_CODE",
    "Delegated",
    "VaultCard",
    "bind_payment",
    "delegate",
    "redeem",
    "request_fingerprint",
    "token_for_card",
]
