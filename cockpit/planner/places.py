"""Markets and currencies named in text: "Thai customers", "USD to THB", "my home currency is SGD".

Three readings, all from :mod:`cockpit.planner.lexicon` word lists:

- a **market** is a country by name, adjective or demonym ("in Indonesia", "Filipinos"),
  or its ISO code where the words around it make it a place ("payments for ID");
- a **pair** is two currencies joined as an exchange rate is ("USD/THB", "EUR-SGD",
  "from euros to Singapore dollars", "baht per dollar"): :func:`find_pair` returns
  ``(base, quote)`` with the rate read as QUOTE per one BASE;
- **roles**: which named currency is the merchant's own (home) and which are foreign,
  so "how much PHP will I need" makes PHP the foreign currency of an exposure or hedge,
  never the home one. A currency is home only when the text says so ("my home currency
  is SGD", "we report in SGD").

Tool arguments get a role from their names (:func:`currency_role`), e.g. ``pair``,
``source``/``target``, ``home``, ``currencies``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from cockpit.planner.lexicon import (
    AMBIGUOUS_CURRENCY_WORDS,
    CURRENCY_CODES,
    CURRENCY_SYMBOLS,
    CURRENCY_WORDS,
    DOLLAR_WORDS,
    GENERIC_MONEY_WORDS,
    MARKETS,
)

Span = tuple[int, int]
Free = Callable[[Span], bool]
Role = Literal["pair", "base", "quote", "home", "foreign"]


def _alternation(words: Iterable[str]) -> str:
    return "|".join(
        re.escape(w).replace(r"\ ", r"[\s_-]?") for w in sorted(words, key=len, reverse=True)
    )


# ----- markets -------------------------------------------------------------------------------
_MARKET_NAMES = {name: code for code, names in MARKETS.items() for name in names}
_MARKET_WORD = re.compile(rf"(?<![\w-])(?:{_alternation(_MARKET_NAMES)})(?![\w-])", re.I)
_MARKET_CODE = re.compile(rf"\b(?:{'|'.join(MARKETS)})\b")
_MARKET_CONTEXT = re.compile(r"\b(?:in|for|from|market|country|across|within)\s+$", re.I)


def find_market(
    text: str, *, allowed: Sequence[Any] | None = None, free: Free = lambda _: True
) -> str | None:
    """The first market (ISO 3166 alpha-2) the text names, among ``allowed`` when given."""
    hits: list[tuple[int, str]] = []
    for m in _MARKET_WORD.finditer(text):
        key = re.sub(r"[\s_-]+", " ", m.group(0).lower())
        code = _MARKET_NAMES.get(key) or _MARKET_NAMES.get(key.replace(" ", ""))
        if code is not None and free(m.span()):
            hits.append((m.start(), code))
    for m in _MARKET_CODE.finditer(text):
        in_context = _MARKET_CONTEXT.search(text[: m.start()]) or len(text.strip()) <= 3
        if in_context and free(m.span()):
            hits.append((m.start(), m.group(0)))
    ok = sorted(h for h in hits if allowed is None or h[1] in allowed)
    return ok[0][1] if ok else None


# ----- currencies ----------------------------------------------------------------------------
# Codes that are also English words ("try", "pen", "cad") or a programming language ("php")
# count only in capitals; the rest are read in any case ("usd to thb").
_WORDLIKE_CODES = frozenset({"TRY", "PEN", "COP", "SAR", "MOP", "ILS", "ISK", "ARS", "CAD", "PHP"})
_CODE = re.compile(rf"\b(?:{'|'.join(sorted(CURRENCY_CODES))}|RMB)\b", re.I)
_NAMES = {w: c for w, c in CURRENCY_WORDS.items()}
_NAME = re.compile(rf"(?<![\w-])(?:{_alternation(_NAMES)})(?![\w-])", re.I)
_SYMBOL = re.compile(
    rf"(?<![A-Za-z])(?:{_alternation(s for s in CURRENCY_SYMBOLS if s != '$')})(?=\s?\d)"
)
_AMBIGUOUS_BEFORE = re.compile(r"(?:\d|\bthe)\s*$", re.I)
# "… in won", "into real today": the currency a sum is converted into, said last.
_AMBIGUOUS_TARGET_BEFORE = re.compile(r"\b(?:in|into)\s+$", re.I)
_AMBIGUOUS_TARGET_AFTER = re.compile(r"^\s*(?:$|[?.!,;]|(?:right\s+)?now\b|today\b|please\b)", re.I)


def _ambiguous_is_currency(text: str, span: Span) -> bool:
    """Whether "won", "real" or "rand" at ``span`` names the currency ("50 won", "the won",
    "80 euros in won today") rather than the word ("I won", "in real time")."""
    before, after = text[: span[0]], text[span[1] :]
    if _AMBIGUOUS_BEFORE.search(before):
        return True
    return bool(_AMBIGUOUS_TARGET_BEFORE.search(before) and _AMBIGUOUS_TARGET_AFTER.match(after))


@dataclass(frozen=True, slots=True)
class CurrencyMention:
    """A currency named in text."""

    code: str
    """ISO 4217 code; a country-less "dollar" reads as USD."""
    span: Span
    """Where it was named."""


def find_currencies(text: str, *, free: Free = lambda _: True) -> list[CurrencyMention]:
    """Every currency the text names by code, name or country symbol, in order."""
    found: list[CurrencyMention] = []
    for m in _CODE.finditer(text):
        code = m.group(0).upper()
        if code in _WORDLIKE_CODES and not m.group(0).isupper():
            continue
        found.append(CurrencyMention("CNY" if code == "RMB" else code, m.span()))
    for m in _NAME.finditer(text):
        name = re.sub(r"[\s_-]+", " ", m.group(0).lower())
        if name in AMBIGUOUS_CURRENCY_WORDS and not _ambiguous_is_currency(text, m.span()):
            continue
        named = _NAMES.get(name) or ("USD" if name in DOLLAR_WORDS | GENERIC_MONEY_WORDS else None)
        if named is not None:
            found.append(CurrencyMention(named, m.span()))
    for m in _SYMBOL.finditer(text):
        found.append(CurrencyMention(CURRENCY_SYMBOLS[m.group(0)], m.span()))
    kept: list[CurrencyMention] = []
    for item in sorted(found, key=lambda c: (c.span[0], -c.span[1])):
        overlaps = any(item.span[0] < k.span[1] and k.span[0] < item.span[1] for k in kept)
        if not overlaps and free(item.span):
            kept.append(item)
    return kept


_PAIR_JOINED = re.compile(rf"\b(?P<a>{'|'.join(sorted(CURRENCY_CODES))})(?P<b>[A-Z]{{3}})\b")
_JOIN = re.compile(
    r"^\s*(?:(?:is|are|was)\s+)?(?:worth\s+)?"
    r"(?P<how>/|-|–|:|->|→|to|into|in|vs\.?|versus|against|and|over|per|for)"
    r"\s*(?:(?:the|a|an|one|1)\s+)?$",
    re.I,
)


# A few words of a verb between the two currencies, then the word that joins them: "250
# Singapore dollars come to in pesos", "the baht is going to weaken vs the dollar", "how many
# baht do I get for a dollar". Punctuation or a word that starts another clause ("and",
# "but"…) ends the reading: "we report in SGD - what we hold in ringgit" names no pair.
_LOOSE_JOIN = re.compile(
    r"^\s*(?:(?!(?:and|or|but|while|whereas|because|so|then|also|plus)\b)[a-z']+\s+){1,3}"
    r"(?P<how>to|into|in|vs\.?|versus|against|per|for)"
    r"\s+(?:(?:the|a|an|one|1)\s+)?$",
    re.I,
)


def find_pair(text: str, *, free: Free = lambda _: True) -> tuple[str, str] | None:
    """``(base, quote)`` of the first currency pair named, or ``None``.

    "USD/THB", "USD to THB", "EUR-SGD", "THB against USD" are read left to right, also with a
    short verb between ("250 SGD come to in pesos", "the baht weakens vs the dollar");
    "baht per dollar" and "baht for a dollar" name the quote first, so they swap.
    """
    for m in _PAIR_JOINED.finditer(text):
        if m.group("b") in CURRENCY_CODES and m.group("a") != m.group("b") and free(m.span()):
            return m.group("a"), m.group("b")
    mentions = find_currencies(text, free=free)
    for pattern in (_JOIN, _LOOSE_JOIN):
        for first, second in itertools.pairwise(mentions):
            join = pattern.match(text[first.span[1] : second.span[0]])
            if join is None or first.code == second.code:
                continue
            if join.group("how").lower() in ("per", "for"):
                return second.code, first.code
            return first.code, second.code
    return None


def currencies_as_word(text: str, word: str = "currency") -> str:
    """``text`` with every currency it names replaced by ``word``.

    Which currency is a value, not what the merchant asks for: "is the baht going to weaken"
    and "is the euro going to weaken" are the same request, as are "convert SGD to PHP" and
    "convert euros to dollars". Intent detection reads the text this way.
    """
    for mention in reversed(find_currencies(text)):
        text = text[: mention.span[0]] + word + text[mention.span[1] :]
    return text


_HOME_BEFORE = re.compile(
    r"(?:\b(?:home|base|reporting|functional|local|settlement|domestic|accounting|own)\s+"
    r"currency(?:\s+(?:is|=|being|of))?\s*:?\s*(?:the\s+)?"
    r"|\b(?:i|we)\s+(?:report|account|settle|book|am\s+based|are\s+based|earn)\s+in\s+(?:the\s+)?"
    r"|\b(?:reporting|settling|settle|booked|based|accounts?|books?)\s+in\s+(?:the\s+)?"
    r"|\b(?:books|accounts)\s+(?:are\s+)?(?:kept|held|done|closed)\s+in\s+(?:the\s+)?)$",
    re.I,
)
_HOME_AFTER = re.compile(
    r"^\s*(?:is|=)\s+(?:my|our|the)\s+(?:home|base|reporting|functional|local|settlement|own)"
    r"|^\s+(?:is\s+)?(?:my|our)\s+(?:home|base|reporting|functional|local)\b",
    re.I,
)


@dataclass(frozen=True, slots=True)
class CurrencyRoles:
    """Which named currencies are the merchant's own and which are foreign."""

    home: str | None
    """The merchant's own (reporting) currency, only when the text says so."""
    foreign: tuple[str, ...]
    """The other currencies named, in order, without repeats."""


def currency_roles(
    text: str, *, home: str | None = None, free: Free = lambda _: True
) -> CurrencyRoles:
    """Split the currencies named in ``text`` into home and foreign (``home`` if known)."""
    said_home: str | None = None
    foreign: list[str] = []
    for mention in find_currencies(text, free=free):
        before = text[max(0, mention.span[0] - 60) : mention.span[0]]
        after = text[mention.span[1] : mention.span[1] + 40]
        if said_home is None and (_HOME_BEFORE.search(before) or _HOME_AFTER.match(after)):
            said_home = mention.code
        elif mention.code not in foreign:
            foreign.append(mention.code)
    own = said_home or home
    return CurrencyRoles(said_home, tuple(c for c in foreign if c != own))


_ROLES: dict[str, Role] = {
    **dict.fromkeys(("pair", "currency_pair", "fx_pair", "ccy_pair"), "pair"),
    **dict.fromkeys(
        ("base", "base_currency", "from_currency", "currency_from", "source",
         "source_currency", "sell_currency", "base_ccy", "from_ccy", "source_ccy"),
        "base",
    ),
    **dict.fromkeys(
        ("quote", "quote_currency", "to_currency", "currency_to", "target", "target_currency",
         "buy_currency", "counter_currency", "quote_ccy", "to_ccy", "target_ccy"),
        "quote",
    ),
    **dict.fromkeys(
        ("home", "home_currency", "reporting_currency", "functional_currency",
         "local_currency", "settlement_currency"),
        "home",
    ),
    **dict.fromkeys(
        ("currencies", "foreign_currency", "foreign_currencies", "exposure_currency",
         "exposure_currencies"),
        "foreign",
    ),
}  # fmt: skip


def currency_role(name: str) -> Role | None:
    """What a tool argument's name says its currency is: ``pair``, ``base``, ``home``…"""
    return _ROLES.get(name.lower())


__all__ = [
    "CurrencyMention",
    "CurrencyRoles",
    "Role",
    "currencies_as_word",
    "currency_role",
    "currency_roles",
    "find_currencies",
    "find_market",
    "find_pair",
]
