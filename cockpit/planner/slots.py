"""Slot filling from a tool's JSON argument schema.

Each argument gets a *kind* (from the spec's hint, else its schema and name:
``payment_id`` is an id, ``amount`` an amount, ``start_date`` a range start…)
and a matching extractor. Extractors claim the text spans they use, so a
payment id is never also read as an amount and "last 7 days" never as a
refund of 7. Amounts become integer minor units with the currency's ISO 4217
exponent when the schema says ``integer`` (see DOMAIN.md §1.2).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import lru_cache
from itertools import pairwise
from typing import Any

from cockpit.planner.dates import DateSpan, find_dates
from cockpit.planner.lexicon import (
    CURRENCY_CODES,
    CURRENCY_SYMBOLS,
    CURRENCY_WORDS,
    ID_PREFIXES,
    MARKET_VARIANTS,
    MARKETS,
    PAYMENT_METHODS,
    currency_exponent,
)
from cockpit.planner.spec import SlotHint, SlotKind

ID_TOKEN = re.compile(r"\b[A-Za-z][A-Za-z0-9]{0,7}_[A-Za-z0-9][A-Za-z0-9_-]*\b")
_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_SYMBOLS = "|".join(re.escape(s) for s in sorted(CURRENCY_SYMBOLS, key=len, reverse=True))
_CODES = "|".join(sorted(CURRENCY_CODES))
_WORDS = "|".join(re.escape(w) for w in sorted(CURRENCY_WORDS, key=len, reverse=True))
_MONEY_BEFORE = re.compile(
    rf"(?:(?<![A-Za-z])(?P<sym>{_SYMBOLS})|\b(?P<code>{_CODES})\b)\s?(?P<num>{_NUMBER})(?P<k>\s?[kK]\b)?",
    re.I,
)
_MONEY_AFTER = re.compile(
    rf"(?<![\w.])(?P<num>{_NUMBER})(?P<k>\s?[kK])?\s?(?:\b(?P<code>{_CODES})\b|\b(?P<word>{_WORDS})\b)",
    re.I,
)
MONEY_PATTERNS: tuple[re.Pattern[str], ...] = (_MONEY_BEFORE, _MONEY_AFTER)
"""A sum with its currency, symbol or code first (``S$ 20``) or after (``20 SGD``)."""
_BARE_NUMBER = re.compile(
    rf"(?<![\w.$€£¥₩₹₱฿₫])(?P<num>{_NUMBER})(?P<k>\s?[kK]\b)?(?!\s?%)(?![\w.])"
)
_REASON = re.compile(
    r"\b(?:because|as the|reason(?:\s+is)?\s*[:=]?|due to|since the)\s+(?P<text>[^.?!]+)", re.I
)
_TOP_N = re.compile(r"\b(?:top|first|limit(?:\s+to)?|show(?:\s+me)?)\s+(?P<n>\d{1,4})\b", re.I)
_YES = re.compile(r"^\s*(?:yes|yeah|yep|sure|ok(?:ay)?|true|please do|do it)\b", re.I)
_NO = re.compile(r"^\s*(?:no|nope|false|don'?t)\b", re.I)
_MARKET_CONTEXT = re.compile(r"\b(?:in|for|from|market|country|across|within)\s+$", re.I)
_AMBIGUOUS_METHODS = {
    "boost": ("Boost", "BOOST"),
    "ideal": ("iDEAL", "IDEAL", "iDeal"),
    "toss": ("Toss", "TOSS"),
    "eps": ("EPS",),
    "maya": ("Maya", "MAYA"),
    "dana": ("DANA", "Dana"),
    "kakao": ("Kakao", "KAKAO"),
    "momo": ("MoMo", "MOMO", "Momo"),
    "card": ("card",),
}

_START = {"start", "start_date", "from", "from_date", "date_from", "since", "period_start", "begin"}
_END = {"end", "end_date", "to", "to_date", "date_to", "until", "period_end"}
_QUERY = {"query", "question", "q", "search", "topic", "message", "prompt", "text"}
_MARKET = {"market", "country", "region", "country_code", "issuing_country", "market_code"}


@dataclass(frozen=True, slots=True)
class SlotPlan:
    """One tool argument and how to fill it."""

    name: str
    kind: SlotKind
    required: bool
    schema: Mapping[str, Any]
    hint: SlotHint | None = None

    @property
    def enum(self) -> list[Any] | None:
        values = self.schema.get("enum")
        return list(values) if isinstance(values, list) else None

    @property
    def json_type(self) -> str:
        kind = self.schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "string")
        return str(kind or "string")

    @property
    def default(self) -> Any:
        if self.hint is not None and self.hint.default is not None:
            return self.hint.default
        return self.schema.get("default")


def _resolve(schema: Mapping[str, Any], defs: Mapping[str, Any]) -> Mapping[str, Any]:
    # An Enum argument is a $ref to its definition ({"enum": [...]}): read it in place.
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        target = defs.get(ref.removeprefix("#/$defs/"))
        if isinstance(target, Mapping):
            return {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def _property_schema(
    schema: Mapping[str, Any], defs: Mapping[str, Any] | None = None
) -> Mapping[str, Any]:
    # pydantic emits Optional[X] as anyOf [X, null]; the non-null branch says what X is.
    defs = defs or {}
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list):
            for option in options:
                if isinstance(option, Mapping) and option.get("type") != "null":
                    rest = {k: v for k, v in schema.items() if k != key}
                    return {**_resolve(option, defs), **rest}
    return _resolve(schema, defs)


def infer_kind(name: str, schema: Mapping[str, Any]) -> SlotKind:
    """Guess how to fill an argument from its name and JSON schema."""
    lname = name.lower()
    json_type = schema.get("type")
    if "currency" in lname:
        return "currency"
    if lname in ("amount", "amount_minor", "value", "amount_value") or lname.endswith(
        ("_amount", "_amount_minor")
    ):
        return "amount"
    if lname == "id" or lname.endswith("_id") or ("pattern" in schema and json_type == "string"):
        return "id"
    if lname in _START:
        return "start_date"
    if lname in _END:
        return "end_date"
    if "days" in lname or "horizon" in lname:
        return "days"
    if schema.get("format") == "date" or lname.endswith(("date", "_day")) or lname == "day":
        return "date"
    if lname in _MARKET:
        return "market"
    if "method" in lname:
        return "payment_method"
    if "enum" in schema:
        return "enum"
    if lname in _QUERY:
        return "query"
    if json_type == "integer":
        return "integer"
    if json_type == "number":
        return "number"
    if json_type == "boolean":
        return "boolean"
    return "text"


def plan_slots(parameters: Mapping[str, Any], hints: Mapping[str, SlotHint]) -> list[SlotPlan]:
    """The slots of a tool from its ``parameters`` JSON schema plus the intent's hints."""
    props = parameters.get("properties") or {}
    required = set(parameters.get("required") or [])
    defs = parameters.get("$defs")
    plans: list[SlotPlan] = []
    for name, raw in props.items():
        schema = _property_schema(
            raw if isinstance(raw, Mapping) else {}, defs if isinstance(defs, Mapping) else {}
        )
        hint = hints.get(name)
        if hint is not None and hint.kind:
            kind: SlotKind = hint.kind
        elif hint is not None and hint.pattern and schema.get("type", "string") == "string":
            kind = "id"  # a hint's pattern makes any string argument an id-like value
        else:
            kind = infer_kind(name, schema)
        must = name in required and "default" not in schema
        if hint is not None and hint.required is not None:
            must = hint.required
        if hint is not None and hint.default is not None:
            must = False
        plans.append(SlotPlan(name=name, kind=kind, required=must, schema=schema, hint=hint))
    return plans


@dataclass
class _Text:
    """The utterance plus the spans already claimed by an extractor."""

    raw: str
    taken: list[tuple[int, int]] = field(default_factory=list)

    def free(self, span: tuple[int, int]) -> bool:
        return not any(span[0] < end and start < span[1] for start, end in self.taken)

    def claim(self, span: tuple[int, int]) -> None:
        self.taken.append(span)


def _to_decimal(num: str, thousands: str | None) -> Decimal | None:
    try:
        value = Decimal(num.replace(",", ""))
    except InvalidOperation:
        return None
    return value * 1000 if thousands and thousands.strip() else value


def to_minor(value: Decimal, currency: str) -> int:
    """Major units -> integer minor units (ISO 4217 exponent, half-even)."""
    exponent = currency_exponent(currency)
    return int((value.scaleb(exponent)).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


@dataclass(frozen=True, slots=True)
class Money:
    value: Decimal
    currency: str | None
    span: tuple[int, int]


def _currency_of(match: re.Match[str]) -> str | None:
    groups = match.groupdict()
    if groups.get("sym"):
        sym = groups["sym"]
        return CURRENCY_SYMBOLS.get(sym) or CURRENCY_SYMBOLS.get(sym.upper())
    if groups.get("code"):
        return str(groups["code"]).upper()
    if groups.get("word"):
        return CURRENCY_WORDS.get(str(groups["word"]).lower())
    return None


def find_money(text: _Text) -> list[Money]:
    found: list[Money] = []
    for pattern in (_MONEY_BEFORE, _MONEY_AFTER):
        for m in pattern.finditer(text.raw):
            if not text.free(m.span()):
                continue
            value = _to_decimal(m.group("num"), m.group("k"))
            if value is not None:
                text.claim(m.span())
                found.append(Money(value, _currency_of(m), m.span()))
    return sorted(found, key=lambda money: money.span)


def find_currency(text: _Text) -> str | None:
    for m in re.finditer(rf"\b(?P<code>{_CODES})\b", text.raw, re.I):
        if text.free(m.span()) and (m.group(0).isupper() or len(text.raw.split()) <= 2):
            return m.group(0).upper()
    for m in re.finditer(rf"\b(?P<word>{_WORDS})\b", text.raw, re.I):
        if text.free(m.span()):
            return CURRENCY_WORDS[m.group(0).lower()]
    return None


@lru_cache(maxsize=4096)
def _phrase_regex(phrase: str) -> re.Pattern[str]:
    return re.compile(
        r"(?<![\w-])" + re.escape(phrase).replace(r"\ ", r"[\s_-]?") + r"(?![\w-])", re.I
    )


def find_market(text: _Text, allowed: Sequence[Any] | None) -> str | None:
    best: tuple[int, str] | None = None
    for code, names in MARKETS.items():
        if allowed is not None and code not in allowed:
            continue
        for name in names:
            for m in _phrase_regex(name).finditer(text.raw):
                if text.free(m.span()) and (best is None or m.start() < best[0]):
                    best = (m.start(), code)
        for m in re.finditer(rf"\b{code}\b", text.raw):
            before = text.raw[: m.start()]
            in_context = _MARKET_CONTEXT.search(before) or len(text.raw) <= 3
            if text.free(m.span()) and in_context and (best is None or m.start() < best[0]):
                best = (m.start(), code)
    return best[1] if best else None


def find_method(text: _Text, allowed: Sequence[Any] | None, market: str | None) -> str | None:
    hits: list[tuple[int, int, str]] = []
    for code, phrases in PAYMENT_METHODS.items():
        for phrase in (*phrases, code.lower()):
            for m in _phrase_regex(phrase).finditer(text.raw):
                surface = m.group(0)
                if phrase in _AMBIGUOUS_METHODS and surface not in _AMBIGUOUS_METHODS[phrase]:
                    continue
                if text.free(m.span()):
                    hits.append((m.start(), -len(surface), code))
    if not hits:
        return None
    hits.sort()
    code = hits[0][2]
    base = MARKET_VARIANTS.get(code)
    if base and market:
        variant = base + market
        if allowed is None or variant in allowed:
            code = variant
    if allowed is not None and code not in allowed:
        prefix = code.split("_")[0]
        return next((str(v) for v in allowed if str(v).split("_")[0] == prefix), None)
    return code


_COORDINATED = re.compile(r"^[\s,]*(?:and|or|nor|&|/|as well as|plus)?[\s,]*$", re.I)


def find_enum(text: _Text, plan: SlotPlan) -> Any:
    """The value of ``plan``'s enum the text names (the longest phrase, then the first).

    Values named together ("won and lost ones", "card or device") are no filter on
    either: then nothing is filled.
    """
    values = plan.enum or []
    synonyms = plan.hint.synonyms if plan.hint else {}
    hits: list[tuple[int, int, Any]] = []
    for value in values:
        phrases = [str(value), str(value).replace("_", " "), *synonyms.get(str(value), [])]
        for phrase in phrases:
            for m in _phrase_regex(phrase).finditer(text.raw):
                if text.free(m.span()):
                    hits.append((m.start(), m.end(), value))
    # "german credit holdout" names german_credit_holdout, not also german_credit.
    kept = sorted(
        (start, end, value)
        for start, end, value in hits
        if not any(s <= start and end <= e and e - s > end - start for s, e, _ in hits)
    )
    for (_, end, first), (start, _, second) in pairwise(kept):
        if first != second and _COORDINATED.match(text.raw[end:start]):
            return None
    if not kept:
        return None
    return max(kept, key=lambda h: (h[1] - h[0], -h[0]))[2]


def _id_prefixes(plan: SlotPlan) -> tuple[str, ...]:
    noun = plan.name.lower().removesuffix("_id").split("_")[-1]
    return ID_PREFIXES.get(noun, ())


def _id_pattern(plan: SlotPlan) -> re.Pattern[str] | None:
    pattern = (plan.hint.pattern if plan.hint else None) or plan.schema.get("pattern")
    if not pattern:
        return None
    return re.compile(str(pattern).removeprefix("^").removesuffix("$"))


def id_pattern(plan: SlotPlan) -> re.Pattern[str] | None:
    """The compiled pattern of an id slot (hint first, then schema), anchors removed."""
    return _id_pattern(plan)


def id_matches(plan: SlotPlan, token: str) -> bool:
    pattern = _id_pattern(plan)
    if pattern is not None:
        return pattern.fullmatch(token) is not None
    prefixes = _id_prefixes(plan)
    if prefixes:
        return token.lower().startswith(prefixes)
    return any(ch.isdigit() for ch in token)


def find_id(text: _Text, plan: SlotPlan, *, answering: bool) -> str | None:
    for m in ID_TOKEN.finditer(text.raw):
        if text.free(m.span()) and id_matches(plan, m.group(0)):
            text.claim(m.span())
            return m.group(0)
    pattern = _id_pattern(plan)
    if pattern is not None:
        # Values that are not prefix_token shaped (an IP address, an e-mail) by their pattern.
        for m in re.finditer(rf"(?<![\w.:@-])(?:{pattern.pattern})(?![\w:@-]|\.\w)", text.raw):
            if m.group(0) and text.free(m.span()):
                text.claim(m.span())
                return m.group(0)
    words = text.raw.strip().strip(".").split()
    if answering and 0 < len(words) <= 3 and any(ch.isdigit() for ch in words[-1]):
        # A bare answer to "which payment?" may omit the prefix ("it's 8F3K2Q").
        for prefix in _id_prefixes(plan):
            if id_matches(plan, prefix + words[-1]):
                return prefix + words[-1]
    return None


@dataclass
class Extraction:
    """What one utterance said about the slots (values are JSON-ready)."""

    values: dict[str, Any] = field(default_factory=dict)
    pending_amount: str | None = None
    """An amount heard without a currency (decimal string in major units)."""


def extract(
    utterance: str,
    plans: Sequence[SlotPlan],
    *,
    today: date,
    known: Mapping[str, Any] | None = None,
    asked: Sequence[str] = (),
    default_currency: str | None = None,
) -> Extraction:
    """Fill what ``utterance`` says about ``plans``; ``asked`` are slots just asked for."""
    text = _Text(utterance)
    known = dict(known or {})
    out = Extraction()
    by_kind: dict[str, list[SlotPlan]] = {}
    for plan in plans:
        by_kind.setdefault(plan.kind, []).append(plan)

    for plan in by_kind.get("id", []):
        found = find_id(text, plan, answering=plan.name in asked)
        if found is not None:
            out.values[plan.name] = found
    for m in ID_TOKEN.finditer(utterance):
        if any(ch.isdigit() for ch in m.group(0)):
            text.claim(m.span())  # ids of other kinds are never amounts or dates

    dates: list[DateSpan] = [d for d in find_dates(utterance, today) if text.free(d.span)]
    for d in dates:
        text.claim(d.span)
    ranges = [d for d in dates if d.is_range] or dates
    if ranges:
        first = ranges[0]
        for plan in by_kind.get("start_date", []):
            out.values[plan.name] = first.start.isoformat()
        for plan in by_kind.get("end_date", []):
            out.values[plan.name] = first.end.isoformat()
        for plan in by_kind.get("days", []):
            out.values[plan.name] = first.horizon_days or first.days
    singles = [d for d in dates if not d.is_range] or dates
    if singles:
        for plan in by_kind.get("date", []):
            out.values[plan.name] = singles[0].start.isoformat()

    money = find_money(text) if by_kind.get("amount") or by_kind.get("currency") else []
    market_plans = by_kind.get("market", [])
    for plan in market_plans:
        market = find_market(text, plan.enum)
        if market is not None:
            out.values[plan.name] = market
    market_value = next((out.values[p.name] for p in market_plans if p.name in out.values), None)
    market_value = market_value or next(
        (known[p.name] for p in market_plans if p.name in known), None
    )

    currency = next((m.currency for m in money if m.currency), None)
    if currency is None and by_kind.get("currency"):
        currency = find_currency(text)
    for plan in by_kind.get("currency", []):
        if currency and (plan.enum is None or currency in plan.enum):
            out.values[plan.name] = currency
    for plan in by_kind.get("amount", []):
        amount: Decimal | None = money[0].value if money else None
        if amount is None:
            # Ids and dates are claimed already, so a bare number left over is the amount.
            bare = next((m for m in _BARE_NUMBER.finditer(utterance) if text.free(m.span())), None)
            if bare is not None:
                amount = _to_decimal(bare.group("num"), bare.group("k"))
                text.claim(bare.span())
        if amount is None:
            continue
        if plan.json_type == "integer":
            ccy = (
                currency
                or next(
                    (str(known[p.name]) for p in by_kind.get("currency", []) if known.get(p.name)),
                    None,
                )
                or (plan.hint.default_currency if plan.hint else None)
                or default_currency
            )
            if ccy is None:
                out.pending_amount = str(amount)
                continue
            out.values[plan.name] = to_minor(amount, ccy)
        elif plan.json_type == "number":
            out.values[plan.name] = float(amount)
        else:
            out.values[plan.name] = str(amount)

    for plan in by_kind.get("payment_method", []):
        method = find_method(text, plan.enum, str(market_value) if market_value else None)
        if method is not None:
            out.values[plan.name] = method
    for plan in by_kind.get("enum", []):
        value = find_enum(text, plan)
        if value is not None:
            out.values[plan.name] = value
    for plan in by_kind.get("integer", []) + by_kind.get("number", []):
        top = _TOP_N.search(utterance)
        if top is not None and text.free(top.span()):
            out.values[plan.name] = int(top.group("n"))
            text.claim(top.span())
        elif plan.name in asked:
            bare = next((m for m in _BARE_NUMBER.finditer(utterance) if text.free(m.span())), None)
            if bare is not None:
                number = _to_decimal(bare.group("num"), bare.group("k")) or Decimal(0)
                out.values[plan.name] = int(number) if plan.kind == "integer" else float(number)
    for plan in by_kind.get("boolean", []):
        if plan.name in asked and _YES.search(utterance):
            out.values[plan.name] = True
        elif plan.name in asked and _NO.search(utterance):
            out.values[plan.name] = False
    for plan in by_kind.get("query", []):
        out.values[plan.name] = utterance.strip()
    for plan in by_kind.get("text", []):
        if plan.name in asked and utterance.strip():
            out.values[plan.name] = utterance.strip()
            continue
        reason = _REASON.search(utterance)
        if reason is not None:
            out.values[plan.name] = reason.group("text").strip()
    return out


def evidence(utterance: str, today: date) -> set[str]:
    """Kinds of slot values present in ``utterance``: ``date``, ``amount``, ``id:<prefix>``."""
    found: set[str] = set()
    text = _Text(utterance)
    for m in ID_TOKEN.finditer(utterance):
        if any(ch.isdigit() for ch in m.group(0)):
            found.add("id:" + m.group(0).split("_", 1)[0].lower())
            text.claim(m.span())
    spans = [d for d in find_dates(utterance, today) if text.free(d.span)]
    if spans:
        found.add("date")
    for d in spans:
        text.claim(d.span)
    if any(m.currency for m in find_money(text)):
        found.add("amount")
    return found


def accepted_evidence(plans: Sequence[SlotPlan]) -> set[str]:
    """The evidence kinds (see :func:`evidence`) a tool's slots have a place for."""
    accepted: set[str] = set()
    for plan in plans:
        if plan.kind in ("date", "start_date", "end_date", "days"):
            accepted.add("date")
        elif plan.kind in ("amount", "currency"):
            accepted.add("amount")
        elif plan.kind == "id":
            prefixes = list(_id_prefixes(plan))
            pattern = _id_pattern(plan)
            if pattern is not None:
                literal = re.match(r"([A-Za-z]+)_", pattern.pattern)
                if literal:
                    prefixes.append(literal.group(0))
            accepted.update("id:" + p.rstrip("_").lower() for p in prefixes)
    return accepted


def describe_slot(plan: SlotPlan) -> str:
    """A short noun phrase for the question that asks for this slot."""
    if plan.hint is not None and plan.hint.prompt:
        return plan.hint.prompt
    words = plan.name.replace("_", " ")
    if plan.kind == "id":
        prefixes = _id_prefixes(plan)
        pattern = _id_pattern(plan)
        if not prefixes and pattern is not None:
            literal = re.match(r"[A-Za-z]+_", pattern.pattern)
            prefixes = (literal.group(0),) if literal else ()
        noun = words.removesuffix(" id")
        return f"the {noun} id" + (f" (it starts with {prefixes[0]})" if prefixes else "")
    if plan.kind == "amount":
        return "the amount (with its currency)"
    if plan.kind in ("start_date", "end_date", "date"):
        return "the period (for example: last 7 days, this month, or 2026-10-01 to 2026-10-31)"
    if plan.kind == "market":
        return "the market (country)"
    if plan.kind == "payment_method":
        return "the payment method"
    if plan.kind == "enum" and plan.enum:
        return f"the {words} (one of: {', '.join(str(v) for v in plan.enum)})"
    return f"the {words}"


__all__ = [
    "Extraction",
    "SlotPlan",
    "accepted_evidence",
    "describe_slot",
    "evidence",
    "extract",
    "find_money",
    "id_matches",
    "id_pattern",
    "infer_kind",
    "plan_slots",
    "to_minor",
]
