"""Sums of money as merchants write them: "5 bucks", "a tenner", "S$ 20", "1.234,56 EUR", "20k".

A sum is a number (digits with either separator convention, a ``k`` or "thousand"
multiplier, or number words) plus a currency *cue*: an ISO code or a country-specific
symbol or name says the currency outright; a bare ``$`` or "dollars" says only "some
dollar"; "bucks" and banknote slang ("a tenner") say only "money". Which currency
those cues mean is decided by :func:`resolve_currency` from the currency the
conversation implies (the payment under discussion), so "5 bucks" on an SGD payment is
5 SGD. A bare number left over may be an amount too (:func:`find_bare_amount`), but
never a card's last four digits, a decline code, a time of day, a percentage or a
count of things. Words that mean "the whole remaining amount" or a share of it are
recognised separately (:func:`says_full_amount`, :func:`find_fraction`) and are never
turned into a number here: only the caller knows what remains refundable.

Nothing here knows payments: these are the conventions of written money.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

from cockpit.planner.lexicon import (
    AMBIGUOUS_CURRENCY_WORDS,
    CURRENCY_CODES,
    CURRENCY_SYMBOLS,
    CURRENCY_WORDS,
    DOLLAR_CURRENCIES,
    DOLLAR_WORDS,
    GENERIC_MONEY_WORDS,
    NOTE_SLANG,
    currency_exponent,
)

Span = tuple[int, int]
Free = Callable[[Span], bool]
Cue = Literal["code", "dollar", "generic", "slang"]
"""How a sum named its currency: outright (``code``), as "some dollar" (``$``, "dollars"),
as "money" ("bucks"), or as banknote slang / "grand" with no currency at all."""

# Digits: 1,234.56 | 1.234,56 | 1.234.567 | 35,50 (decimal comma) | 1234.5
_DIGITS = (
    # "7 000" / "7 000": thousands grouped by a (no-break, thin) space, as in French and German.
    r"\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:[.,]\d{1,2})?(?![\d.,])"
    r"|\d{1,3}(?:,\d{3})+(?:\.\d+)?"
    r"|\d{1,3}(?:\.\d{3})+,\d{1,2}(?!\d)"
    r"|\d{1,3}(?:\.\d{3}){2,}(?![\d,])"
    r"|\d+,\d{1,2}(?![\d,])"
    r"|\d+(?:\.\d+)?"
)
_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
_WORD = "|".join(sorted([*_UNITS, *_SCALES], key=len, reverse=True))
_WORDS = rf"(?:an?\s+)?(?:{_WORD})(?:(?:\s+and\s+|[\s-]+)(?:{_WORD})){{0,7}}"
# "20k", "2 thousand", "1.5 million"; Indonesian "50rb" / "50 ribu" (thousand), "2jt" (million).
_MULT = r"(?P<mult>\s?(?:k|K|rb|jt)\b|\s+(?:thousand|million|mn|m|bn|ribu|juta)\b|\s?(?:mn|bn)\b)"


def _alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_SYMBOL_RE = _alternation(CURRENCY_SYMBOLS)
_CODE_RE = "|".join(sorted(CURRENCY_CODES))
_NAME_RE = _alternation(CURRENCY_WORDS).replace(r"\ ", r"\s+")
# After a number word only names that are no everyday word: "the two won" is no sum.
_SAFE_NAME_RE = _alternation(set(CURRENCY_WORDS) - AMBIGUOUS_CURRENCY_WORDS).replace(r"\ ", r"\s+")
_CURRENCY_AFTER = rf"(?:\b(?P<code>{_CODE_RE})\b|(?P<grand>\s?grand\b)|\b(?P<name>{{names}})\b)"
_NOT_AFTER = r"(?<![\w.,$€£¥₩₹₱฿₫])"

_BEFORE = re.compile(
    rf"(?:(?<![A-Za-z])(?P<sym>{_SYMBOL_RE})|\b(?P<code>{_CODE_RE})\b)\s?"
    rf"(?P<num>{_DIGITS}){_MULT}?(?![\d%])",
    re.I,
)
_AFTER = re.compile(
    rf"{_NOT_AFTER}(?P<num>{_DIGITS}){_MULT}?\s?{_CURRENCY_AFTER.format(names=_NAME_RE)}",
    re.I,
)
_AFTER_WORDS = re.compile(
    rf"{_NOT_AFTER}(?P<words>{_WORDS})\b{_MULT}?\s?{_CURRENCY_AFTER.format(names=_SAFE_NAME_RE)}",
    re.I,
)
_SLANG = re.compile(
    rf"\b(?:(?P<count>an?|one|two|three|four|five|\d)\s+)?(?P<note>{'|'.join(NOTE_SLANG)})s?\b",
    re.I,
)

# A bare number is not an amount when it is a card's last four, a code, a time, a count.
_BARE = re.compile(
    rf"(?<![\w.,$€£¥₩₹₱฿₫/#:-])(?P<num>{_DIGITS})(?P<mult>\s?(?:[kK]|rb|jt)\b|\s+(?:ribu|juta|thousand)\b)?"
    r"(?![\w.,:/%-])"
)
_NOT_AMOUNT_BEFORE = re.compile(
    r"(?:\bend(?:s|ing)?(?:\s+(?:in|with))?|\blast\s+(?:4|four)(?:\s+digits)?(?:\s+(?:are|is|of))?"
    r"|\b(?:decline|reason|response|error|result|status|return|mcc|bin|code|pin|otp|cvv|cvc)"
    r"(?:\s+code)?(?:\s+(?:is|was|of|=|:))?|\b(?:at|around|by|before|after|until|till)"
    r"|\b(?:top|first|last|next|limit(?:\s+to)?|show(?:\s+me)?|page|no\.?|number|version|v)"
    r"|[*•×]+|(?<![A-Za-z])x|\bcard\b|\bstep|\b(?:rule|tier|level|score(?:\s+of)?|cutoff|threshold))\s*[:#=]?\s*$",
    re.I,
)
_NOT_AMOUNT_AFTER = re.compile(
    r"^\s*(?:%|percent|per\s*cent|pct|bps|a\.?m\b|p\.?m\b|o'?clock|h\b|hrs?\b|hours?\b"
    r"|min(?:ute)?s?\b|sec(?:ond)?s?\b|days?\b|nights?\b|weeks?\b|fortnights?\b|months?\b"
    r"|quarters?\b|years?\b|times\b|x\b|items?\b|orders?\b|payments?\b|transactions?\b"
    r"|txns?\b|charges?\b|customers?\b|buyers?\b|users?\b|people\b|cards?\b|devices?\b"
    r"|disputes?\b|chargebacks?\b|refunds?\b|attempts?\b|declines?\b|tries\b|merchants?\b"
    r"|shops?\b|stores?\b|units?\b|pcs\b|pieces?\b|stars?\b|digits?\b|accounts?\b|ips?\b"
    r"|of\s+(?:them|those|these|the|my|our)\b|st\b|nd\b|rd\b|th\b"
    # "a loan 4 my biz": a digit standing for a word ("for", "to") before a possessive.
    r"|(?:my|our|your|ur|the|u|you)\b)",
    re.I,
)

# What remains of a sum: "the rest", "whatever is left", "the remaining balance".
_REMAINING = (
    r"the\s+(?:rest|remainder|remaining(?:\s+(?:amount|balance|sum|money))?)"
    r"|(?:what(?:ever)?|all\s+that)(?:'s|\s+is)\s+(?:left|remaining)"
)
_FULL = re.compile(
    r"\b(?:in\s+full|fully|(?:a\s+|the\s+)?full\s+(?:refund|amount|sum|price|payment|charge"
    r"|value|thing)|(?:the\s+)?(?:whole|entire|total|complete)\s+(?:amount|sum|thing|payment"
    rf"|charge|order|price|value|lot)|everything|all\s+of\s+it|it\s+all|all\s+the\s+money"
    rf"|{_REMAINING})\b",
    re.I,
)
_REMAINING_RE = re.compile(rf"\b(?:{_REMAINING})\b", re.I)
_HALF = re.compile(r"\bhalf\b(?!\s+(?:an?\s+)?(?:hour|day|year|month|week))", re.I)
_SHARE = re.compile(
    # "refund 30%" / "30% of it", not "at 12% APR": a share stands alone or is "of" something.
    r"(?<![\w.])(?P<pct>\d{1,3}(?:\.\d+)?)\s?(?:%|percent\b|per\s*cent\b)"
    r"(?=\s*(?:of\b|back\b|refund|on\b|$|[.,!?;]))"
    r"|\b(?:an?|one)\s+(?P<part>third|quarter|fifth|tenth)\s+of\b",
    re.I,
)
_PARTS = {"third": Decimal(1) / 3, "quarter": Decimal("0.25"), "fifth": Decimal("0.2")}
_PARTS["tenth"] = Decimal("0.1")

MONEY_PATTERNS: tuple[re.Pattern[str], ...] = (_BEFORE, _AFTER, _AFTER_WORDS, _SLANG)
"""Every way a sum with a currency cue is written (intent matching masks them as "amount")."""


@dataclass(frozen=True, slots=True)
class Money:
    """A sum found in text."""

    value: Decimal
    """In major units ("12.50")."""
    currency: str | None
    """The ISO code the text named outright (``S$``, ``USD``, "baht"), else ``None``."""
    span: Span
    """Where it was found."""
    cue: Cue | None = None
    """How the currency was named; ``None`` for a bare number."""


def parse_number(token: str, *, currency: str | None = None) -> Decimal | None:
    """Digits in either convention: ``15,000``, ``1,234.56``, ``1.234,56``, ``35,50``.

    A single dot followed by exactly three digits ("15.000 IDR") is a thousands separator
    only when the currency has fewer than three decimals; otherwise it is a decimal point.
    """
    text = re.sub(r"(?<=\d)[ \u00a0\u202f](?=\d{3})", "", token.strip())
    if "," in text and "." in text:
        text = (
            text.replace(",", "")
            if text.rfind(".") > text.rfind(",")
            else text.replace(".", "").replace(",", ".")
        )
    elif "," in text:
        head, _, tail = text.rpartition(",")
        text = text.replace(",", "") if len(tail) == 3 else f"{head.replace(',', '')}.{tail}"
    elif text.count(".") > 1 or (
        re.fullmatch(r"[1-9]\d{0,2}\.\d{3}", text) and currency and currency_exponent(currency) < 3
    ):
        text = text.replace(".", "")
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def words_to_number(words: str) -> Decimal | None:
    """ "twenty-five" -> 25, "a hundred" -> 100, "two thousand five hundred" -> 2500."""
    total = current = 0
    seen = False
    for word in re.split(r"[\s-]+", words.lower()):
        if word in ("a", "an"):
            current = current or 1
        elif word == "and":
            continue
        elif word in _UNITS:
            current += _UNITS[word]
            seen = True
        elif word in _SCALES:
            scale = _SCALES[word]
            current = (current or 1) * scale
            seen = True
            if scale >= 1000:
                total, current = total + current, 0
        else:
            return None
    return Decimal(total + current) if seen else None


def _multiplier(raw: str | None) -> Decimal:
    word = (raw or "").strip().lower()
    if word in ("k", "thousand", "rb", "ribu"):
        return Decimal(1000)
    if word in ("m", "mn", "million", "jt", "juta"):
        return Decimal(1_000_000)
    if word == "bn":
        return Decimal(1_000_000_000)
    return Decimal(1)


def _currency_and_cue(match: re.Match[str]) -> tuple[str | None, Cue]:
    groups = match.groupdict()
    if groups.get("sym"):
        sym = groups["sym"]
        if sym == "$":
            return None, "dollar"
        return CURRENCY_SYMBOLS.get(sym) or CURRENCY_SYMBOLS.get(sym.upper()), "code"
    if groups.get("code"):
        return str(groups["code"]).upper(), "code"
    if groups.get("grand"):
        return None, "slang"
    name = re.sub(r"\s+", " ", str(groups.get("name") or "")).lower()
    if name in DOLLAR_WORDS:
        return None, "dollar"
    if name in GENERIC_MONEY_WORDS:
        return None, "generic"
    return CURRENCY_WORDS.get(name), "code"


def _value(match: re.Match[str], currency: str | None) -> Decimal | None:
    groups = match.groupdict()
    if groups.get("num"):
        value = parse_number(groups["num"], currency=currency)
    else:
        value = words_to_number(str(groups.get("words") or ""))
    if value is None:
        return None
    if groups.get("grand"):
        value *= 1000
    return value * _multiplier(groups.get("mult"))


def find_money(text: str, *, free: Free = lambda _: True) -> list[Money]:
    """Every sum with a currency cue, in order; spans must be ``free`` (not claimed)."""
    found: list[Money] = []
    taken: list[Span] = []

    def open_(span: Span) -> bool:
        return free(span) and not any(span[0] < e and s < span[1] for s, e in taken)

    for pattern in (_BEFORE, _AFTER, _AFTER_WORDS):
        for m in pattern.finditer(text):
            if not open_(m.span()):
                continue
            currency, cue = _currency_and_cue(m)
            value = _value(m, currency)
            if value is not None:
                taken.append(m.span())
                found.append(Money(value, currency, m.span(), cue))
    for m in _SLANG.finditer(text):
        if open_(m.span()):
            count = (m.group("count") or "a").lower()
            times = int(count) if count.isdigit() else words_to_number(count) or 1
            taken.append(m.span())
            value = Decimal(NOTE_SLANG[m.group("note").lower()]) * times
            found.append(Money(value, None, m.span(), "slang"))
    return sorted(found, key=lambda money: money.span)


def find_bare_amount(
    text: str, *, free: Free = lambda _: True, currency: str | None = None
) -> Money | None:
    """The first number that can only be a sum (no currency cue): not a code, time or count."""
    for m in _BARE.finditer(text):
        if not free(m.span()):
            continue
        # "at 15,000", "limit to 20k": grouped or scaled, a number is a sum whatever precedes it.
        grouped = m.group("mult") or re.search(r"\d[,.\s\u00a0\u202f]\d{3}", m.group("num"))
        if not grouped and _NOT_AMOUNT_BEFORE.search(text[max(0, m.start() - 40) : m.start()]):
            continue
        if _NOT_AMOUNT_AFTER.match(text[m.end() : m.end() + 30]):
            continue
        value = parse_number(m.group("num"), currency=currency)
        if value is not None:
            return Money(value * _multiplier(m.group("mult")), None, m.span())
    return None


def says_full_amount(text: str) -> bool:
    """Whether the text asks for the whole (remaining) amount: "in full", "the rest"."""
    return _FULL.search(text) is not None


def says_remaining_amount(text: str) -> bool:
    """Whether the text asks for what is left of the amount ("the rest", "whatever is left"),
    as opposed to the whole of it ("in full")."""
    return _REMAINING_RE.search(text) is not None


def find_fraction(text: str) -> Decimal | None:
    """A share of the amount: "half" -> 0.5, "30%" -> 0.3, "a third of" -> 1/3."""
    if _HALF.search(text):
        return Decimal("0.5")
    m = _SHARE.search(text)
    if m is None:
        return None
    if m.group("part"):
        return _PARTS[m.group("part").lower()]
    share = Decimal(m.group("pct")) / 100
    return share if 0 < share <= 1 else None


def resolve_currency(
    money: Money, *, implied: str | None = None, fallback: str | None = None
) -> str | None:
    """The currency a sum is in, given what the context implies.

    An outright code always wins. "Some dollar" takes the implied (else the fallback)
    currency when that is a dollar currency, USD otherwise. "Bucks" takes the implied
    currency whatever it is (else a dollar fallback, else USD). Slang and bare numbers
    take the implied currency, else the fallback, else none (the caller asks).
    """
    if money.currency:
        return money.currency
    if money.cue == "dollar":
        return next((c for c in (implied, fallback) if c in DOLLAR_CURRENCIES), "USD")
    if money.cue == "generic":
        return implied or (fallback if fallback in DOLLAR_CURRENCIES else None) or "USD"
    return implied or fallback


__all__ = [
    "MONEY_PATTERNS",
    "Cue",
    "Money",
    "find_bare_amount",
    "find_fraction",
    "find_money",
    "parse_number",
    "resolve_currency",
    "says_full_amount",
    "says_remaining_amount",
    "words_to_number",
]
