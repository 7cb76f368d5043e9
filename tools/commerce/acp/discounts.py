"""The ACP discount extension: a merchant's discounts applied to a cart.

A merchant's discounts are rows of ``com_discounts`` (:class:`~tools.commerce.acp.models.
Discount`, per merchant, like its catalogue): codes an agent submits in ``discounts.codes``
(the deprecated ``coupons`` are the same codes, submitted first) and automatic discounts the
merchant applies by itself. :func:`apply` is pure: given the rules, the submitted codes, the
line amounts and the shipping price it returns the applied discounts with their allocations,
the rejected codes with the spec's ``discount_code_*`` reasons (also as warning messages),
and the amounts the totals need.

Rules, in order:

- a code is matched case-insensitively; the same code twice is ``discount_code_already_applied``,
  an unknown or inactive one ``discount_code_invalid`` (also one not started yet, or an amount
  in another currency), one past ``ends_at`` ``discount_code_expired``, goods below
  ``min_spend`` ``discount_code_minimum_not_met``; an ``exclusive`` code beside other accepted
  codes is ``discount_code_combination_disallowed`` (alone, it keeps the automatic discounts
  out). Automatic discounts that do not qualify are simply not applied.
- Accepted discounts are computed by ``priority`` (lower first; ties in submission order,
  automatic ones last), each on what the earlier ones left (the ``_notes`` of the spec's
  stacked example).
- ``items`` discounts reduce the goods: ``each`` takes the percentage of every line (half-even
  rounding per line), ``across`` takes one amount and splits it over the lines by what is left
  of them (largest remainder), so allocations always sum exactly to the amount. ``order``
  discounts come off after the subtotal (no allocations, like the spec's SAVE10 example);
  ``shipping`` discounts reduce the standard shipping price (allocation ``$.totals.fulfillment``
  as in the spec's automatic example). No discount takes more than what is left.

The extension is active for a session when the agent lists ``discount`` (optionally
``discount@2026-01-27``) in ``capabilities.extensions``; only then does the session carry the
``discounts`` object and the extension declaration. Codes are applied either way: totals and
warnings are core fields every agent reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cockpit.money import exponent, to_minor
from tools.commerce.acp.models import Discount
from tools.payments.money import split_largest_remainder
from tools.payments.requests import new_id

EXTENSION = "discount"
EXTENSION_VERSION = "2026-01-27"
DECLARATION: dict[str, Any] = {
    "name": EXTENSION,
    "extends": [
        "$.CheckoutSessionCreateRequest.discounts",
        "$.CheckoutSessionUpdateRequest.discounts",
        "$.CheckoutSession.discounts",
    ],
    "schema": f"https://agenticcommerce.dev/schemas/discount/{EXTENSION_VERSION}.json",
}
"""This seller's ``ExtensionDeclaration`` of the discount extension."""
SHIPPING_PATH = "$.totals.fulfillment"
"""Allocation path of a shipping discount (as the spec's automatic-discount example)."""


@dataclass(frozen=True, slots=True)
class Rule:
    """One discount definition, detached from its row (the engine stays pure)."""

    id: str
    code: str | None
    coupon_id: str
    name: str
    target: str
    method: str | None
    percent_bp: int | None
    amount_off: int | None
    currency: str
    priority: int = 1
    min_spend: int | None = None
    exclusive: bool = False
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    active: bool = True

    @property
    def automatic(self) -> bool:
        return self.code is None


@dataclass(slots=True)
class Outcome:
    """What the discounts did to a cart (amounts in minor units of the session currency)."""

    codes: list[str]
    applied: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    line_discounts: list[int] = field(default_factory=list)
    """``items`` discounts per line (what ``items_discount`` on each line shows)."""
    items_discount: int = 0
    order_discount: int = 0
    """``order`` and ``shipping`` discounts (the ``discount`` total)."""

    def response(self) -> dict[str, Any]:
        """The ``DiscountsResponse`` object."""
        return {"codes": list(self.codes), "applied": self.applied, "rejected": self.rejected}


def extension_requested(capabilities: Mapping[str, Any] | None) -> bool:
    """Did the agent declare the discount extension (by name, or name@our version)?"""
    for entry in (capabilities or {}).get("extensions") or []:
        name = entry.get("name") if isinstance(entry, Mapping) else entry
        if name in (EXTENSION, f"{EXTENSION}@{EXTENSION_VERSION}"):
            return True
    return False


def rules_for(session: Session, merchant_id: str) -> list[Rule]:
    """The merchant's discounts (inactive ones too: a code still names them)."""
    rows = session.scalars(
        select(Discount).where(Discount.merchant_id == merchant_id).order_by(Discount.id)
    )
    return [
        Rule(
            id=r.id,
            code=r.code,
            coupon_id=r.coupon_id,
            name=r.name,
            target=r.target,
            method=r.method,
            percent_bp=r.percent_bp,
            amount_off=r.amount_off,
            currency=r.currency,
            priority=r.priority,
            min_spend=r.min_spend,
            exclusive=r.exclusive,
            starts_at=r.starts_at,
            ends_at=r.ends_at,
            active=r.active,
        )
        for r in rows
    ]


def _money(amount: int, currency: str) -> str:
    return f"{Decimal(amount).scaleb(-exponent(currency)):f} {currency}"


def _date(value: datetime) -> str:
    d = value.astimezone(UTC)
    return f"{d:%B} {d.day}, {d.year}"


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _percent(remaining: int, bp: int) -> int:
    return int((Decimal(remaining) * bp / Decimal(10_000)).quantize(Decimal(1), ROUND_HALF_EVEN))


def _split(amount: int, weights: Sequence[int]) -> list[int]:
    if amount <= 0 or sum(weights) <= 0:
        return [0] * len(weights)
    return split_largest_remainder(amount, list(weights))


def _coupon(rule: Rule) -> dict[str, Any]:
    coupon: dict[str, Any] = {"id": rule.coupon_id, "name": rule.name}
    if rule.percent_bp is not None:
        pct = Decimal(rule.percent_bp) / 100
        coupon["percent_off"] = int(pct) if pct == pct.to_integral_value() else float(pct)
    elif rule.amount_off is not None:
        coupon["amount_off"] = rule.amount_off
        coupon["currency"] = rule.currency.lower()
    coupon["duration"] = "once"
    return coupon


def _problem(
    rule: Rule | None, key: str, seen: set[str], base: int, currency: str, at: datetime
) -> tuple[str, str] | None:
    """Why a submitted code cannot apply: (reason, text), or None."""
    if key in seen:
        return "discount_code_already_applied", "is already applied"
    if rule is None or not rule.active:
        return "discount_code_invalid", "is not a valid discount code"
    if rule.starts_at is not None and at < rule.starts_at:
        return "discount_code_invalid", "is not active yet"
    if rule.ends_at is not None and at >= rule.ends_at:
        return "discount_code_expired", f"expired on {_date(rule.ends_at)}"
    if rule.amount_off is not None and rule.currency.upper() != currency:
        return "discount_code_invalid", f"is not valid for payments in {currency}"
    if rule.min_spend is not None and base < rule.min_spend:
        need = _money(rule.min_spend, currency)
        return "discount_code_minimum_not_met", f"needs an order of at least {need}"
    return None


def _qualifies(rule: Rule, base: int, currency: str, at: datetime) -> bool:
    return (
        rule.active
        and (rule.starts_at is None or rule.starts_at <= at)
        and (rule.ends_at is None or at < rule.ends_at)
        and (rule.amount_off is None or rule.currency.upper() == currency)
        and (rule.min_spend is None or base >= rule.min_spend)
    )


def apply(
    rules: Sequence[Rule],
    codes: Sequence[str],
    line_amounts: Sequence[int],
    *,
    shipping: int,
    currency: str,
    at: datetime,
) -> Outcome:
    """Apply the submitted ``codes`` and the automatic ``rules`` to a cart.

    ``line_amounts`` are the lines' base amounts, ``shipping`` the part of the shipping price
    a shipping discount may take (standard shipping), ``currency`` uppercase."""
    currency = currency.upper()
    out = Outcome(codes=list(codes), line_discounts=[0] * len(line_amounts))
    by_code = {r.code.upper(): r for r in rules if r.code is not None}
    base = sum(line_amounts)
    seen: set[str] = set()
    chosen: list[tuple[int, int, Rule, str | None, int]] = []  # priority, order, rule, code, idx
    for index, code in enumerate(codes):
        key = code.strip().upper()
        rule = by_code.get(key)
        problem = _problem(rule, key, seen, base, currency, at)
        seen.add(key)
        if problem is not None or rule is None:
            reason, why = problem or ("discount_code_invalid", "is not a valid discount code")
            _reject(out, code, index, reason, f"Code '{code}' {why} and could not be applied.")
            continue
        chosen.append((rule.priority, index, rule, code, index))
    if len(chosen) > 1:  # an exclusive code applies only when it is the only code
        for entry in [c for c in chosen if c[2].exclusive]:
            _reject(
                out,
                str(entry[3]),
                entry[4],
                "discount_code_combination_disallowed",
                f"Code '{entry[3]}' cannot be combined with other discount codes.",
            )
            chosen.remove(entry)
    alone = any(c[2].exclusive for c in chosen)
    for n, rule in enumerate(r for r in rules if r.automatic):
        if not alone and _qualifies(rule, base, currency, at):
            if rule.exclusive and chosen:
                continue
            alone = rule.exclusive
            chosen.append((rule.priority, len(codes) + n, rule, None, -1))
    chosen.sort(key=lambda c: (c[0], c[1]))
    remaining = list(line_amounts)
    ship_left = shipping
    for _, _, rule, given, _ in chosen:
        applied = _one(rule, remaining, ship_left, out)
        if rule.target == "shipping":
            ship_left -= applied["amount"]
        if rule.automatic:
            applied["automatic"] = True
            out.messages.append(
                {"type": "info", "content_type": "plain", "content": f"{rule.name} applied."}
            )
        else:
            applied["code"] = given
            applied["automatic"] = False
        out.applied.append(applied)
    return out


def _one(rule: Rule, remaining: list[int], ship_left: int, out: Outcome) -> dict[str, Any]:
    """Apply one accepted discount; updates ``remaining`` and ``out``'s amounts."""
    left = sum(remaining)
    applied: dict[str, Any] = {"id": f"di_{rule.id}", "coupon": _coupon(rule)}
    if rule.target == "shipping":
        amount = min(
            ship_left,
            rule.amount_off
            if rule.amount_off is not None
            else _percent(ship_left, rule.percent_bp or 0),
        )
        out.order_discount += amount
        applied["amount"] = amount
        applied["allocations"] = [{"path": SHIPPING_PATH, "amount": amount}]
    elif rule.target == "items" and rule.method == "each" and rule.percent_bp is not None:
        parts = [_percent(r, rule.percent_bp) for r in remaining]
        applied["amount"] = _items(parts, remaining, out)
        applied["method"] = "each"
        applied["allocations"] = _allocations(parts)
    else:
        wanted = (
            rule.amount_off if rule.amount_off is not None else _percent(left, rule.percent_bp or 0)
        )
        amount = min(wanted, left)
        parts = _split(amount, remaining)
        if rule.target == "items":
            applied["amount"] = _items(parts, remaining, out)
            applied["method"] = "across"
            applied["allocations"] = _allocations(parts)
        else:  # an order-level discount: after the subtotal, no line shows it
            for i, part in enumerate(parts):
                remaining[i] -= part
            out.order_discount += amount
            applied["amount"] = amount
    applied["priority"] = rule.priority
    if rule.starts_at is not None:
        applied["start"] = _iso(rule.starts_at)
    if rule.ends_at is not None:
        applied["end"] = _iso(rule.ends_at)
    return applied


def _items(parts: Sequence[int], remaining: list[int], out: Outcome) -> int:
    for i, part in enumerate(parts):
        remaining[i] -= part
        out.line_discounts[i] += part
    out.items_discount += sum(parts)
    return sum(parts)


def _allocations(parts: Sequence[int]) -> list[dict[str, Any]]:
    return [{"path": f"$.line_items[{i}]", "amount": p} for i, p in enumerate(parts) if p > 0]


def _reject(out: Outcome, code: str, index: int, reason: str, text: str) -> None:
    out.rejected.append({"code": code, "reason": reason, "message": text})
    out.messages.append(
        {
            "type": "warning",
            "code": reason,
            "resolution": "recoverable",
            "param": f"$.discounts.codes[{index}]",
            "content_type": "plain",
            "content": text,
        }
    )


# ---- the demo merchants' discounts -------------------------------------------------------

_ORDER_OFF = {
    "KRW": ("5000", "50000"),
    "THB": ("150", "1500"),
    "IDR": ("50000", "500000"),
    "JPY": ("500", "5000"),
    "BRL": ("25", "250"),
    "PHP": ("250", "2500"),
}
"""Currency → (amount off, minimum spend) of the demo ``THANKYOU`` code, major units; others
5 off 50."""


def demo_rules(merchant_id: str, currency: str) -> list[Discount]:
    """The demo codes of a merchant: ``WELCOME10`` (10 % off every item) and ``THANKYOU``
    (a fixed amount off orders above a minimum spend)."""
    off, minimum = _ORDER_OFF.get(currency, ("5", "50"))
    common = {
        "merchant_id": merchant_id,
        "currency": currency,
        "exclusive": False,
        "active": True,
        "starts_at": None,
        "ends_at": None,
    }
    return [
        Discount(
            code="WELCOME10",
            coupon_id="coupon_welcome10",
            name="Welcome 10% off",
            target="items",
            method="each",
            percent_bp=1000,
            amount_off=None,
            priority=1,
            min_spend=None,
            **common,
        ),
        Discount(
            code="THANKYOU",
            coupon_id="coupon_thankyou",
            name=f"{off} {currency} off orders of {minimum} {currency} or more",
            target="order",
            method=None,
            percent_bp=None,
            amount_off=to_minor(Decimal(off), currency),
            priority=2,
            min_spend=to_minor(Decimal(minimum), currency),
            **common,
        ),
    ]


def seed_discounts(session: Session, merchant_id: str, currency: str, *, at: datetime) -> int:
    """Give a merchant the demo codes it lacks (idempotent); returns the codes added."""
    have = set(session.scalars(select(Discount.code).where(Discount.merchant_id == merchant_id)))
    added = 0
    for row in demo_rules(merchant_id, currency.upper()):
        if row.code in have:
            continue
        row.id, row.created_at = new_id("dsc"), at
        session.add(row)
        added += 1
    session.flush()
    return added


__all__ = [
    "DECLARATION",
    "EXTENSION",
    "EXTENSION_VERSION",
    "SHIPPING_PATH",
    "Outcome",
    "Rule",
    "apply",
    "demo_rules",
    "extension_requested",
    "rules_for",
    "seed_discounts",
]
