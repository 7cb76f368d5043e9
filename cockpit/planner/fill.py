"""Filling value slots — money, currencies by role, periods — from what the text says.

The parsers (:mod:`~cockpit.planner.amounts`, :mod:`~cockpit.planner.places`,
:mod:`~cockpit.planner.dates`) find values; this module decides which argument each
value fills and in which currency, claiming the text it uses so that a later reader
(an enum, a bare number) never reads it twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any

from cockpit.planner.amounts import (
    Money,
    find_bare_amount,
    find_fraction,
    resolve_currency,
    says_full_amount,
)
from cockpit.planner.amounts import find_money as _find_money
from cockpit.planner.dates import DateSpan, find_dates
from cockpit.planner.lexicon import DOLLAR_CURRENCIES, currency_exponent
from cockpit.planner.places import currency_role, currency_roles, find_currencies, find_pair

if TYPE_CHECKING:
    from cockpit.planner.slots import Extraction, SlotPlan


@dataclass
class Claims:
    """The utterance plus the spans already claimed by an extractor."""

    raw: str
    taken: list[tuple[int, int]] = field(default_factory=list)

    def free(self, span: tuple[int, int]) -> bool:
        return not any(span[0] < end and start < span[1] for start, end in self.taken)

    def claim(self, span: tuple[int, int]) -> None:
        self.taken.append(span)


def to_minor(value: Decimal, currency: str) -> int:
    """Major units -> integer minor units (ISO 4217 exponent, half-even)."""
    exponent = currency_exponent(currency)
    return int((value.scaleb(exponent)).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def find_money(text: Claims) -> list[Money]:
    """Sums with a currency cue in the unclaimed text (they are claimed)."""
    found = _find_money(text.raw, free=text.free)
    for money in found:
        text.claim(money.span)
    return found


def find_currency(text: Claims, implied: str | None = None) -> str | None:
    """The first currency named in the unclaimed text ("dollars" -> the implied dollar)."""
    for mention in find_currencies(text.raw, free=text.free):
        if mention.code == "USD" and not _says_us(text.raw[slice(*mention.span)]):
            return implied if implied in DOLLAR_CURRENCIES else "USD"
        return mention.code
    return None


def _says_us(surface: str) -> bool:
    # "USD", "US$", "US dollars", "American dollars" name USD; "dollars" and "bucks" do not.
    return surface.upper().startswith(("USD", "US", "U.S", "AMERICAN", "GREENBACK"))


def fill_dates(
    text: Claims, by_kind: Mapping[str, list[SlotPlan]], out: Extraction, today: date
) -> None:
    dates: list[DateSpan] = [d for d in find_dates(text.raw, today) if text.free(d.span)]
    for d in dates:
        text.claim(d.span)
    ranges = [d for d in dates if d.is_range] or dates
    range_plans = [p for k in ("start_date", "end_date", "days") for p in by_kind.get(k, [])]
    if ranges and range_plans:
        first = ranges[0]
        out.window = first
        for plan in range_plans:
            if plan.kind == "start_date":
                out.values[plan.name] = first.start.isoformat()
            elif plan.kind == "end_date":
                out.values[plan.name] = first.end.isoformat()
            else:
                out.values[plan.name] = first.horizon_days or first.lookback_days
    singles = [d for d in dates if not d.is_range] or dates
    if singles and by_kind.get("date"):
        out.window = out.window or singles[0]
        for plan in by_kind["date"]:
            out.values[plan.name] = singles[0].start.isoformat()


def fill_currency_roles(
    text: Claims,
    plans: Sequence[SlotPlan],
    out: Extraction,
    *,
    asked: Sequence[str],
    home: str | None,
) -> None:
    """Arguments whose names give their currency a role: pair, base/quote, home, foreign."""
    roled = [
        (p, r) for p in plans if p.kind in ("currency", "text") and (r := currency_role(p.name))
    ]
    if not roled:
        return
    pair = find_pair(text.raw, free=text.free)
    named = [m.code for m in find_currencies(text.raw, free=text.free)]
    answered_home = any(r == "home" and p.name in asked for p, r in roled)
    if answered_home and named and not home:
        home = named[0]  # "SGD" in answer to "your home currency?"
    roles = currency_roles(text.raw, home=home, free=text.free)
    for plan, role in roled:
        value: Any = None
        if role == "pair" and pair is not None:
            value = f"{pair[0]}/{pair[1]}"
        elif role in ("base", "quote"):
            if pair is not None:
                value = pair[0] if role == "base" else pair[1]
            elif plan.name in asked and named:
                value = named[0]
        elif role == "home":
            value = roles.home or home
        elif role == "foreign" and roles.foreign:
            value = list(roles.foreign) if plan.json_type == "array" else roles.foreign[0]
        allowed = plan.enum
        if value is not None and (allowed is None or all(v in allowed for v in _listed(value))):
            out.values[plan.name] = value


def _listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def fill_money(
    text: Claims,
    by_kind: Mapping[str, list[SlotPlan]],
    out: Extraction,
    *,
    known: Mapping[str, Any],
    implied: str | None,
    fallback: str | None,
) -> None:
    """The amount and its currency; "the rest" / "half" when no number is given."""
    amount_plans = by_kind.get("amount", [])
    currency_plans = [p for p in by_kind.get("currency", []) if currency_role(p.name) is None]
    if not amount_plans and not currency_plans:
        return
    context = implied or next(
        (str(known[p.name]) for p in currency_plans if known.get(p.name)), None
    )
    hinted = next(
        (p.hint.default_currency for p in amount_plans if p.hint and p.hint.default_currency), None
    )
    fallback = hinted or fallback
    money = find_money(text)
    first = money[0] if money else None
    if first is None and amount_plans:
        first = find_bare_amount(text.raw, free=text.free, currency=context or fallback)
        if first is not None:
            text.claim(first.span)
    named = find_currency(text, implied=context)
    currency: str | None
    if first is not None and first.cue is not None:
        currency = resolve_currency(first, implied=context, fallback=fallback)
    elif first is not None:
        currency = named or context or fallback
    else:
        currency = named
    out.currency_assumed = first is not None and first.cue != "code" and named is None
    for plan in currency_plans:
        if currency and (plan.enum is None or currency in plan.enum):
            out.values[plan.name] = currency
    if first is None:
        out.full_amount = bool(amount_plans) and says_full_amount(text.raw)
        out.fraction = find_fraction(text.raw) if amount_plans and not out.full_amount else None
        return
    out.heard_amount = str(first.value) if amount_plans else None
    for plan in amount_plans:
        if plan.json_type == "integer":
            if currency is None:
                out.pending_amount = str(first.value)
                continue
            out.values[plan.name] = to_minor(first.value, currency)
        elif plan.json_type == "number":
            out.values[plan.name] = float(first.value)
        else:
            out.values[plan.name] = str(first.value)


__all__ = [
    "Claims",
    "fill_currency_roles",
    "fill_dates",
    "fill_money",
    "find_currency",
    "find_money",
    "to_minor",
]
