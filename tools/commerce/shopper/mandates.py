"""Paying with AP2 v0.2 mandates (handler ``dev.ap2.mandate``), built with the AP2 wallet.

The merchant signs its own stored checkout (``checkout_jwt``; its hash is the challenge). The
payment instrument is a delegated vault token, so the card still never reaches the merchant.

- ``ap2`` (human present): the user's wallet signs closed checkout and payment mandates for
  exactly that signed cart (:func:`tools.commerce.ap2.wallet.human_present`).
- ``ap2-open`` (human not present): the user signed, beforehand, open mandates delegating to
  the agent's key — allowed merchant, acceptable items and quantity, an amount range and the
  payee, the payment bound to the open checkout by ``payment.reference`` — and the agent closes
  each with a leaf it signs itself (:func:`~tools.commerce.ap2.wallet.close_checkout`,
  :func:`~tools.commerce.ap2.wallet.close_payment`).

The user's wallet key must be on the tenant's trust list (the operator adds it when the
platform onboards). ``MandateTamper`` knobs serve the eval suite's adversarial tasks.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from tools.commerce.ap2 import wallet
from tools.commerce.shopper.agent import PayContext, _total, money
from tools.commerce.shopper.payment import AP2_HANDLER, DemoCard, Tamper, delegate_token


@dataclass(frozen=True, slots=True)
class MandateTamper:
    """Deliberate misuse for adversarial eval tasks (all off by default)."""

    wrong_checkout_hash: bool = False
    """Bind the mandates to the hash of a different checkout JWT."""
    expired: bool = False
    """Mandates whose ``exp`` has passed."""
    budget_delta: int = 0
    """Added to the open payment mandate's ``amount_range.max`` (negative: below the total)."""


def _b64url_json(segment: str) -> dict[str, Any]:
    out = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    return out if isinstance(out, dict) else {}


def _hash(text: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()


@dataclass
class Ap2Mandates:
    """Pay under AP2 mandates (``present``: human present; ``open``: human not present)."""

    mode: Literal["present", "open"] = "present"
    user: wallet.Party = field(default_factory=lambda: wallet.Party.new("user-wallet"))
    agent: wallet.Party = field(default_factory=lambda: wallet.Party.new("shopping-agent"))
    card: DemoCard = field(default_factory=DemoCard)
    budget: int | None = None
    """The user's ceiling for ``ap2-open`` (``payment.amount_range.max``); None: the total."""
    tamper: MandateTamper = field(default_factory=MandateTamper)
    handler_id: str = AP2_HANDLER
    tokens: list[str] = field(default_factory=list)

    def payment_data(self, ctx: PayContext) -> dict[str, Any]:
        sid = str(ctx.checkout["id"])
        signed = ctx.client.checkout_jwt(sid)
        checkout_jwt = str(signed["checkout_jwt"])
        checkout_hash = str(signed.get("checkout_hash") or _hash(checkout_jwt))
        claims = _b64url_json(checkout_jwt.split(".")[1])
        merchant = dict(claims.get("merchant") or {"id": ctx.merchant_id, "name": ctx.merchant_id})
        ctx.note(
            "checkout_jwt",
            True,
            f"merchant-signed cart for {merchant.get('name')}, hash {checkout_hash[:12]}…",
            {"checkout_hash": checkout_hash},
        )
        if self.tamper.wrong_checkout_hash:
            checkout_hash = _hash(checkout_jwt + ".other")
        token = delegate_token(ctx, self.card, tamper=Tamper())
        self.tokens.append(token)
        total = _total(ctx.checkout) or 0
        currency = str(ctx.checkout.get("currency", "")).upper()
        instrument = {
            "id": token,
            "type": "card",
            "description": f"{self.card.brand} ····{self.card.last4}",
        }
        at = ctx.at - timedelta(hours=1) if self.tamper.expired else ctx.at
        ttl = timedelta(minutes=5) if self.tamper.expired else wallet.DEFAULT_TTL
        if self.mode == "present":
            presented = wallet.human_present(
                self.user,
                merchant=merchant,
                checkout_jwt=checkout_jwt,
                checkout_hash=checkout_hash,
                amount=total,
                currency=currency,
                instrument=instrument,
                at=at,
                ttl=ttl,
            )
            ctx.note(
                "mandates",
                True,
                f"user signed closed checkout + payment mandates for {money(total, currency)}",
                {"mode": "human_present"},
            )
            instrument_out = presented.instrument()
        else:
            instrument_out = self._open(
                ctx, merchant, checkout_jwt, checkout_hash, total, currency, instrument, at, ttl
            )
        return {"handler_id": self.handler_id, "instrument": instrument_out}

    def _open(
        self,
        ctx: PayContext,
        merchant: dict[str, Any],
        checkout_jwt: str,
        checkout_hash: str,
        total: int,
        currency: str,
        instrument: dict[str, Any],
        at: Any,
        ttl: timedelta,
    ) -> dict[str, Any]:
        lines = ctx.checkout.get("line_items") or []
        requirements = [
            (
                f"req_{i}",
                [{"id": str((li.get("item") or {}).get("id")), "title": str(li.get("name") or "")}],
                int(li.get("quantity") or 1),
            )
            for i, li in enumerate(lines)
        ]
        ceiling = (self.budget if self.budget is not None else total) + self.tamper.budget_delta
        open_co = wallet.open_checkout(
            self.user,
            self.agent,
            [
                wallet.allowed_merchants_constraint([merchant]),
                wallet.line_items_constraint(requirements),
            ],
            at=at,
            ttl=ttl if self.tamper.expired else timedelta(days=30),
        )
        open_pay = wallet.open_payment(
            self.user,
            self.agent,
            [
                {"type": "payment.amount_range", "currency": currency, "max": ceiling, "min": 0},
                {"type": "payment.allowed_payees", "allowed": [merchant]},
                wallet.payment_reference(open_co),
            ],
            at=at,
            ttl=ttl if self.tamper.expired else timedelta(days=30),
        )
        ctx.note(
            "mandates",
            True,
            f"user's open mandates: {merchant.get('name')}, {len(requirements)} item lines, "
            f"up to {money(ceiling, currency)}; the agent signs the closed leaves",
            {"mode": "human_not_present", "max": ceiling},
        )
        checkout_chain = wallet.close_checkout(
            self.agent,
            [open_co],
            merchant_id=str(merchant["id"]),
            checkout_jwt=checkout_jwt,
            checkout_hash=checkout_hash,
            at=at,
        )
        payment_chain = wallet.close_payment(
            self.agent,
            [open_pay],
            merchant=merchant,
            checkout_hash=checkout_hash,
            amount=total,
            currency=currency,
            instrument=instrument,
            at=at,
        )
        return wallet.Presented(checkout_chain, payment_chain).instrument()


__all__ = ["Ap2Mandates", "MandateTamper"]
