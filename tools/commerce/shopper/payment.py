"""How the shopping agent pays: a delegated card token, or AP2 mandates.

:class:`DelegatedCard` asks the PSP vault (``POST /agentic_commerce/delegate_payment``) for a
single-use token bound to this checkout — allowance = the session total, its currency, the
merchant and the session, a short expiry — and presents it under ``dev.acp.tokenized.card``.
The card is a demo test card; the number leaves this process only in that one request.

The AP2 methods (:mod:`.mandates`) present signed mandates under ``dev.ap2.mandate``.

``Tamper`` knobs exist for the eval suite's adversarial tasks (a token for another merchant,
an allowance below the total, a token spent before): the server must refuse each and move
nothing. A normal run sets none of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from tools.commerce.shopper.agent import PayContext, _total, money
from tools.commerce.shopper.client import rfc3339

TOKEN_HANDLER = "dev.acp.tokenized.card"
AP2_HANDLER = "dev.ap2.mandate"


@dataclass(frozen=True, slots=True)
class DemoCard:
    """A demo test card (Luhn-valid, not a real account)."""

    number: str = "4242424242424242"
    exp_month: str = "12"
    exp_year: str = "2030"
    cvc: str = "123"
    name: str = "Mara Lindqvist"
    brand: str = "visa"
    funding: str = "credit"

    @property
    def last4(self) -> str:
        return self.number[-4:]


@dataclass(frozen=True, slots=True)
class Tamper:
    """Deliberate misuse for adversarial eval tasks (all off by default)."""

    allowance_delta: int = 0
    """Added to the allowance's ``max_amount`` (negative: below the total)."""
    allowance_merchant: str | None = None
    """Bind the token to this merchant instead of the one being paid."""
    expires_in_s: int | None = None
    """Token lifetime (seconds; ≤ 0 gives an already expired token)."""
    reuse_token: str | None = None
    """Present this (already spent) token instead of asking for a new one."""


def billing_address(ctx: PayContext) -> dict[str, Any]:
    details = ctx.checkout.get("fulfillment_details") or {}
    address = dict(details.get("address") or {})
    return address or {
        "name": "Mara Lindqvist",
        "line_one": "Torstrasse 101",
        "line_two": "",
        "city": "Berlin",
        "state": "BE",
        "country": "DE",
        "postal_code": "10119",
    }


def delegate_request(
    ctx: PayContext, card: DemoCard, *, tamper: Tamper | None = None, ttl_s: int = 900
) -> dict[str, Any]:
    """The ``delegate_payment`` body for this checkout (allowance = its total)."""
    t = tamper or Tamper()
    total = _total(ctx.checkout) or 0
    expires = ctx.at + timedelta(seconds=t.expires_in_s if t.expires_in_s is not None else ttl_s)
    return {
        "payment_method": {
            "type": "card",
            "card_number_type": "fpan",
            "virtual": False,
            "number": card.number,
            "exp_month": card.exp_month,
            "exp_year": card.exp_year,
            "name": card.name,
            "cvc": card.cvc,
            "checks_performed": ["cvv"],
            "iin": card.number[:6],
            "display_card_funding_type": card.funding,
            "display_brand": card.brand,
            "display_last4": card.last4,
            "metadata": {},
        },
        "allowance": {
            "reason": "one_time",
            "max_amount": total + t.allowance_delta,
            "currency": str(ctx.checkout.get("currency", "")).lower(),
            "checkout_session_id": str(ctx.checkout["id"]),
            "merchant_id": t.allowance_merchant or ctx.merchant_id,
            "expires_at": rfc3339(expires),
        },
        "billing_address": billing_address(ctx),
        "risk_signals": [],
        "metadata": {"source": "cockpit-shop"},
    }


def delegate_token(ctx: PayContext, card: DemoCard, *, tamper: Tamper | None = None) -> str:
    """A vault token for this checkout (or the tampered one to reuse)."""
    t = tamper or Tamper()
    if t.reuse_token:
        ctx.note(
            "delegate_payment", True, f"reusing token {t.reuse_token}", {"token": t.reuse_token}
        )
        return t.reuse_token
    answer = ctx.client.delegate_payment(delegate_request(ctx, card, tamper=t))
    token = str(answer["id"])
    allowance = delegate_request(ctx, card, tamper=t)["allowance"]
    ctx.note(
        "delegate_payment",
        True,
        f"vault token {token} for {card.brand} ····{card.last4}, "
        f"max {money(allowance['max_amount'], allowance['currency'].upper())}, single use",
        {"token": token, "max_amount": allowance["max_amount"]},
    )
    return token


@dataclass
class DelegatedCard:
    """Pay with a single-use vault token (``dev.acp.tokenized.card``)."""

    card: DemoCard = field(default_factory=DemoCard)
    tamper: Tamper | None = None
    handler_id: str = TOKEN_HANDLER
    tokens: list[str] = field(default_factory=list)
    """Tokens this method obtained, in order (tests and evals reuse them)."""

    def payment_data(self, ctx: PayContext) -> dict[str, Any]:
        token = delegate_token(ctx, self.card, tamper=self.tamper)
        self.tokens.append(token)
        return {
            "handler_id": self.handler_id,
            "instrument": {"type": "card", "credential": {"type": "spt", "token": token}},
            "billing_address": billing_address(ctx),
        }


__all__ = [
    "AP2_HANDLER",
    "TOKEN_HANDLER",
    "DelegatedCard",
    "DemoCard",
    "Tamper",
    "billing_address",
    "delegate_request",
    "delegate_token",
]
