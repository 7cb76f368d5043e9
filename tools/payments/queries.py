"""Read-side API shared by the agent tools, the router and the CLI (no writes here).

Every function takes a tenant session and an optional ``merchant_id`` scope:
a caller bound to one merchant never sees another merchant's objects, and an
id outside its scope reads as "not found".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cockpit.errors import NotFound, ValidationFailed
from tools.payments import ledger
from tools.payments.codes import LEVERS, describe
from tools.payments.models import (
    Card,
    Customer,
    Device,
    Dispute,
    DisputeEvidence,
    Merchant,
    Payment,
    Refund,
)
from tools.payments.views import dispute_view, payment_view, refund_view

MAC_MEANINGS = {
    "01": "new account information available: use the account updater",
    "02": "cannot approve now: retry later (about 72 h)",
    "03": "do not try again",
    "24": "retry after 1 hour",
    "25": "retry after 24 hours",
}


def scoped_payment(session: Session, payment_id: str, merchant_id: str | None) -> Payment:
    stmt = select(Payment).where(Payment.id == payment_id)
    if merchant_id:
        stmt = stmt.where(Payment.merchant_id == merchant_id)
    payment = session.scalar(stmt)
    if payment is None:
        raise NotFound(f"no payment {payment_id!r}", code="payment_not_found", param="payment_id")
    return payment


def payment_entities(session: Session, payment: Payment) -> dict[str, Any]:
    """Who paid, by the fraud engine's entity kinds: ``{customer, card, device, ip}`` ids
    (None when the payment has none stored) and the card's non-sensitive details.

    Keyed by kind so "block the device used on pay_…" is ``entities["device"]`` with kind
    ``device`` — never the payment id itself. The IP is the one recorded on the device.
    """
    device = session.get(Device, payment.device_id) if payment.device_id else None
    card = session.get(Card, payment.card_id) if payment.card_id else None
    tenant = payment.tenant_id
    # session.get skips the tenant criteria on identity-map hits: check the tenant here.
    device = device if device is not None and device.tenant_id == tenant else None
    card = card if card is not None and card.tenant_id == tenant else None
    return {
        "customer": payment.customer_id,
        "card": payment.card_id,
        "device": payment.device_id,
        "ip": device.ip if device is not None else None,
        "cardDetails": None
        if card is None
        else {
            "brand": card.brand,
            "bin": card.bin,
            "last4": card.last4,
            "funding": card.funding,
            "issuingCountry": card.issuing_country,
        },
    }


_DISPUTE_SUMMARY = ("disputeId", "disputeReasonCode", "stage", "status", "defenseDueTime")


def get_payment(
    session: Session, payment_id: str, *, merchant_id: str | None = None
) -> dict[str, Any]:
    """The payment's wire view plus its refunds, its disputes (newest first), dispute flag and
    ``entities`` (who paid)."""
    payment = scoped_payment(session, payment_id, merchant_id)
    view = payment_view(payment)
    refunds = session.scalars(
        select(Refund).where(Refund.payment_id == payment.id).order_by(Refund.created_at)
    )
    view["refunds"] = [refund_view(r, payment) for r in refunds]
    view["disputed"] = payment.disputed
    disputes = session.scalars(
        select(Dispute)
        .where(Dispute.payment_id == payment.id)
        .order_by(Dispute.opened_at.desc(), Dispute.id)
    )
    view["disputes"] = [
        {k: v for k, v in dispute_view(d).items() if k in _DISPUTE_SUMMARY} for d in disputes
    ]
    view["refundableAmount"] = {
        "currency": payment.currency,
        "value": str(max(payment.captured_amount - payment.refunded_amount, 0)),
    }
    view["entities"] = payment_entities(session, payment)
    return view


def search_payments(
    session: Session,
    *,
    merchant_id: str | None = None,
    state: str | None = None,
    method_type: str | None = None,
    decline_code: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int = 20,
) -> list[dict[str, Any]]:
    """Newest first, filtered; at most ``limit`` (≤ 200)."""
    if not 1 <= limit <= 200:
        raise ValidationFailed("limit must be 1–200", code="invalid_limit", param="limit")
    stmt = select(Payment).order_by(Payment.created_at.desc()).limit(limit)
    for column, value in (
        (Payment.merchant_id, merchant_id), (Payment.state, state),
        (Payment.method_type, method_type), (Payment.decline_code, decline_code),
    ):  # fmt: skip
        if value:
            stmt = stmt.where(column == value)
    if start:
        stmt = stmt.where(Payment.created_at >= start)
    if end:
        stmt = stmt.where(Payment.created_at < end)
    return [payment_view(p) for p in session.scalars(stmt)]


def latest_declined(session: Session, merchant_id: str | None) -> Payment:
    """The most recent declined payment in scope (404 when there is none)."""
    stmt = select(Payment).where(Payment.state == "FAILED", Payment.decline_code.is_not(None))
    if merchant_id:
        stmt = stmt.where(Payment.merchant_id == merchant_id)
    payment = session.scalar(stmt.order_by(Payment.created_at.desc(), Payment.id.desc()).limit(1))
    if payment is None:
        raise NotFound("no declined payment yet", code="payment_not_found", param="payment_id")
    return payment


def explain_decline(
    session: Session, payment_id: str | None, *, merchant_id: str | None = None
) -> dict[str, Any]:
    """Why a payment failed and what to do: code, soft/hard, Visa category, lever, MAC, context.
    Without ``payment_id``: the most recent declined payment in scope."""
    p = (
        scoped_payment(session, payment_id, merchant_id)
        if payment_id
        else latest_declined(session, merchant_id)
    )
    if p.state != "FAILED" or not p.decline_code:
        return {"paymentId": p.id, "declined": False, "state": p.state,
                "message": f"payment is {p.state}; it was not declined"}  # fmt: skip
    d = describe(p.decline_code)
    context = {
        "method": p.method_type, "brand": p.brand, "issuer": p.issuer, "issuingCountry": p.issuing_country,
        "market": p.market, "threeDS": p.three_ds, "networkToken": p.network_token,
    }  # fmt: skip
    return {
        "paymentId": p.id,
        "declined": True,
        "code": d.code,
        "meaning": d.meaning,
        "type": "SOFT" if d.soft else "HARD",
        "visaCategory": d.visa_category,
        "retryAllowed": d.retry_allowed,
        "action": d.action,
        "lever": d.lever,
        "leverDescription": LEVERS.get(d.lever, ""),
        "merchantAdviceCode": p.merchant_advice_code,
        "merchantAdvice": MAC_MEANINGS.get(p.merchant_advice_code or ""),
        "context": context,
    }


def list_disputes(
    session: Session, *, merchant_id: str | None = None, status: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    stmt = select(Dispute).order_by(Dispute.defense_due_at).limit(limit)
    if merchant_id:
        stmt = stmt.where(Dispute.merchant_id == merchant_id)
    if status:
        stmt = stmt.where(Dispute.status == status)
    return [dispute_view(d) for d in session.scalars(stmt)]


def scoped_dispute(session: Session, dispute_id: str, merchant_id: str | None) -> Dispute:
    stmt = select(Dispute).where(Dispute.id == dispute_id)
    if merchant_id:
        stmt = stmt.where(Dispute.merchant_id == merchant_id)
    dispute = session.scalar(stmt)
    if dispute is None:
        raise NotFound(f"no dispute {dispute_id!r}", code="dispute_not_found", param="dispute_id")
    return dispute


def dispute_evidence(session: Session, dispute_id: str) -> list[dict[str, Any]]:
    items = session.scalars(
        select(DisputeEvidence)
        .where(DisputeEvidence.dispute_id == dispute_id)
        .order_by(DisputeEvidence.id)
    )
    return [{"evidenceTag": i.tag, "winRateContribution": i.contribution, "obtained": i.obtained,
             "source": i.source, "content": i.content} for i in items]  # fmt: skip


def require_merchant(session: Session, merchant_id: str) -> Merchant:
    """The caller's tenant's merchant, or 404 (another tenant's merchant is unknown here)."""
    merchant = session.scalar(select(Merchant).where(Merchant.id == merchant_id))
    if merchant is None:
        raise NotFound(
            f"no merchant {merchant_id!r}", code="merchant_not_found", param="merchant_id"
        )
    return merchant


def merchant_kyb(session: Session, merchant_id: str) -> dict[str, Any]:
    merchant = require_merchant(session, merchant_id)
    return {
        "merchantId": merchant.id, "name": merchant.name, "legalName": merchant.legal_name,
        "country": merchant.country, "mcc": merchant.mcc, "markets": merchant.markets,
        "settlementCurrency": merchant.settlement_currency, "kybState": merchant.kyb_state,
        "canTransact": merchant.kyb_state in ("APPROVED", "APPROVED_WITH_RESERVE"),
        "detail": merchant.kyb_detail,
    }  # fmt: skip


def list_merchants(session: Session) -> list[dict[str, Any]]:
    return [
        merchant_kyb(session, m) for m in session.scalars(select(Merchant.id).order_by(Merchant.id))
    ]


def balances(session: Session, merchant_id: str) -> dict[str, Any]:
    merchant_kyb(session, merchant_id)  # NotFound for unknown / other-tenant merchants
    return {"merchantId": merchant_id, "balances": ledger.merchant_balances(session, merchant_id)}


__all__ = [
    "balances",
    "customer_records",
    "dispute_evidence",
    "explain_decline",
    "get_payment",
    "list_disputes",
    "list_merchants",
    "merchant_kyb",
    "payment_entities",
    "require_merchant",
    "scoped_dispute",
    "scoped_payment",
    "search_payments",
]


def customer_records(session: Session) -> list[dict[str, Any]]:
    """Every customer with its cards and devices (what another domain simulates around)."""
    cards: dict[str, list[str]] = {}
    for card in session.scalars(select(Card)):
        if card.customer_id is not None:
            cards.setdefault(card.customer_id, []).append(card.id)
    devices: dict[str, list[str]] = {}
    for device in session.scalars(select(Device)):
        devices.setdefault(device.customer_id, []).append(device.id)
    return [
        {
            "customer_id": c.id,
            "card_ids": sorted(cards.get(c.id, [])),
            "device_ids": sorted(devices.get(c.id, [])),
            "country": c.country or "US",
        }
        for c in session.scalars(select(Customer).order_by(Customer.id))
    ]
