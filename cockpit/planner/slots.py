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
from decimal import Decimal
from functools import lru_cache
from itertools import pairwise
from typing import Any

from cockpit.planner.amounts import MONEY_PATTERNS, parse_number
from cockpit.planner.dates import DateSpan, find_dates
from cockpit.planner.fill import (
    Claims,
    fill_currency_roles,
    fill_dates,
    fill_money,
    find_money,
    to_minor,
)
from cockpit.planner.lexicon import ID_PREFIXES, MARKET_VARIANTS, PAYMENT_METHODS
from cockpit.planner.places import currency_role, find_market
from cockpit.planner.spec import SlotHint, SlotKind

ID_TOKEN = re.compile(r"\b[A-Za-z][A-Za-z0-9]{0,7}_[A-Za-z0-9][A-Za-z0-9_-]*\b")
_BARE_NUMBER = re.compile(r"(?<![\w.$€£¥₩₹₱฿₫])(?P<num>\d[\d,]*(?:\.\d+)?)(?!\s?%)(?![\w.])")
# "since" gives a reason only before a clause ("since it is our office"), not a time ("since May").
_REASON = re.compile(
    r"\b(?:because(?:\s+of)?|as the|reason(?:\s+is)?\s*[:=]?|due to"
    r"|since the|since(?=\s+(?:it|it's|they|they're|he|she|this|that|we|our|their|its)\b)"
    r"|porque|karena|kerana|weil|parce qu(?:e|')|wegen)\s*(?P<text>(?<=[\s'])[^.?!]+)",
    re.I,
)
# "block customer X, they are a fraudster": a clause about the entity after a comma, when no
# word says "because" (then that part is the reason: "…, it is trusted, release it because …").
_REASON_CLAUSE = re.compile(
    r"[,;]\s+(?P<text>(?:they|he|she|it|this|that)(?:'s|'re|\s+(?:is|are|was|were|has|have"
    r"|looks?|keeps?|belongs?|uses?))\b[^.?!]*)",
    re.I,
)


# "some bot is testing cards from ip X, block it": the situation said first, then a short
# command about it. Only a required reason is taken from it (an optional one is not guessed),
# and never a clause that is little more than the entity ("ip X - block it").
_REASON_LEAD = re.compile(
    r"^\s*(?P<text>\S.*?)\s*(?:[,;!]|\.(?=\s)|\s[-–—]+)\s*"
    r"(?:(?:so|pls|plz|please|just|and|then|now|can\s+you|could\s+you)\s+)*"
    r"[a-z]+\s+(?:it|them|this|that|him|her)(?:\s+one)?"
    r"(?:\s+(?:now|please|pls|plz|asap|for\s+me))*[\s.!]*$",
    re.I,
)
_IPV4 = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b")


def _reason(utterance: str) -> re.Match[str] | None:
    return _REASON.search(utterance) or _REASON_CLAUSE.search(utterance)


def _lead_reason(utterance: str) -> str | None:
    """The situation a short trailing command acts on, as the reason for it."""
    lead = _REASON_LEAD.match(utterance)
    if lead is None:
        return None
    text = lead.group("text").strip()
    words = _IPV4.sub(" ", ID_TOKEN.sub(" ", text)).split()
    return text if len(words) >= 3 else None


_TOP_N = re.compile(r"\b(?:top|first|limit(?:\s+to)?|show(?:\s+me)?)\s+(?P<n>\d{1,4})\b", re.I)
_YES = re.compile(r"^\s*(?:yes|yeah|yep|sure|ok(?:ay)?|true|please do|do it)\b", re.I)
_NO = re.compile(r"^\s*(?:no|nope|false|don'?t)\b", re.I)
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


@lru_cache(maxsize=4096)
def _phrase_regex(phrase: str) -> re.Pattern[str]:
    return re.compile(
        r"(?<![\w-])" + re.escape(phrase).replace(r"\ ", r"[\s_-]?") + r"(?![\w-])", re.I
    )


def find_method(text: Claims, allowed: Sequence[Any] | None, market: str | None) -> str | None:
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


def find_enum(text: Claims, plan: SlotPlan) -> Any:
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


def _by_shape(plan: SlotPlan, values: Mapping[str, Any]) -> Any:
    """The enum value another slot's value implies by its shape (``hint.by_shape``)."""
    shapes = plan.hint.by_shape if plan.hint else {}
    for slot, patterns in shapes.items():
        other = values.get(slot)
        if not isinstance(other, str):
            continue
        for value, regex in patterns.items():
            if re.fullmatch(regex, other) and (plan.enum is None or value in plan.enum):
                return value
    return None


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


def find_id(text: Claims, plan: SlotPlan, *, answering: bool) -> str | None:
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
    full_amount: bool = False
    """The whole remaining amount was asked for ("in full", "the rest", "everything") and
    no number was given: the caller maps it to what remains of the record (never a guess)."""
    fraction: Decimal | None = None
    """A share of that remaining amount ("half" -> 0.5, "30%" -> 0.3) with no number given."""
    currency_assumed: bool = False
    """An amount was heard whose currency the text did not name outright (a bare number,
    ``$``, "dollars", "bucks", "a tenner"): the record's currency should decide it, so a
    caller that has not read the record yet reads it and extracts again with
    ``implied_currency``."""
    heard_amount: str | None = None
    """The number said for the amount (decimal string in major units), whatever currency it
    was read in: what stays of "5 bucks" while the record that says its currency is read."""
    window: DateSpan | None = None
    """The period the date slots were filled from; :func:`~cockpit.planner.dates.describe_span`
    says it in words for the answer ("last week (16–22 Nov 2026)")."""


def extract(
    utterance: str,
    plans: Sequence[SlotPlan],
    *,
    today: date,
    known: Mapping[str, Any] | None = None,
    asked: Sequence[str] = (),
    default_currency: str | None = None,
    implied_currency: str | None = None,
    home_currency: str | None = None,
) -> Extraction:
    """Fill what ``utterance`` says about ``plans``; ``asked`` are slots just asked for.

    ``implied_currency`` is the currency of the record under discussion (the payment being
    refunded): a bare number, "bucks" and a dollar word or bare ``$`` (when it is a dollar
    currency) are read in it; a code or country symbol the text names always wins.
    ``home_currency`` is the merchant's own currency, never taken for a foreign one.
    """
    text = Claims(utterance)
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

    fill_dates(text, by_kind, out, today)
    fill_currency_roles(text, plans, out, asked=asked, home=home_currency)
    market_plans = by_kind.get("market", [])
    for plan in market_plans:
        market = find_market(text.raw, allowed=plan.enum, free=text.free)
        if market is not None:
            out.values[plan.name] = market
    market_value = next((out.values[p.name] for p in market_plans if p.name in out.values), None)
    market_value = market_value or next(
        (known[p.name] for p in market_plans if p.name in known), None
    )
    fill_money(
        text,
        by_kind,
        out,
        known=known,
        implied=implied_currency,
        fallback=default_currency,
    )

    for plan in by_kind.get("payment_method", []):
        method = find_method(text, plan.enum, str(market_value) if market_value else None)
        if method is not None:
            out.values[plan.name] = method
    reason = _reason(utterance) if by_kind.get("text") else None
    if reason is not None and not any(p.name in asked for p in by_kind["text"]):
        # The why is not the what: "block ip X because it runs card testing" names no card.
        text.claim(reason.span("text"))
    for plan in by_kind.get("enum", []):
        value = find_enum(text, plan)
        if value is not None:
            out.values[plan.name] = value
        shaped = _by_shape(plan, {**known, **out.values})
        if shaped is not None:
            out.values[plan.name] = shaped
    for plan in by_kind.get("integer", []) + by_kind.get("number", []):
        top = _TOP_N.search(utterance)
        if top is not None and text.free(top.span()):
            out.values[plan.name] = int(top.group("n"))
            text.claim(top.span())
        elif plan.name in asked:
            bare = next((m for m in _BARE_NUMBER.finditer(utterance) if text.free(m.span())), None)
            if bare is not None:
                number = parse_number(bare.group("num")) or Decimal(0)
                out.values[plan.name] = int(number) if plan.kind == "integer" else float(number)
    for plan in by_kind.get("boolean", []):
        if plan.name in asked and _YES.search(utterance):
            out.values[plan.name] = True
        elif plan.name in asked and _NO.search(utterance):
            out.values[plan.name] = False
    for plan in by_kind.get("query", []):
        out.values[plan.name] = utterance.strip()
    for plan in by_kind.get("text", []):
        if currency_role(plan.name) is not None:
            continue  # a pair or source currency, filled above (never the raw sentence)
        if plan.name in asked and utterance.strip():
            out.values[plan.name] = utterance.strip()
            continue
        reason = _reason(utterance)
        if reason is not None:
            out.values[plan.name] = reason.group("text").strip()
        elif plan.required and (lead := _lead_reason(utterance)) is not None:
            out.values[plan.name] = lead
    return out


def evidence(utterance: str, today: date) -> set[str]:
    """Kinds of slot values present in ``utterance``: ``date``, ``amount``, ``id:<prefix>``."""
    found: set[str] = set()
    text = Claims(utterance)
    for m in ID_TOKEN.finditer(utterance):
        if any(ch.isdigit() for ch in m.group(0)):
            found.add("id:" + m.group(0).split("_", 1)[0].lower())
            text.claim(m.span())
    spans = [d for d in find_dates(utterance, today) if text.free(d.span)]
    if spans:
        found.add("date")
    for d in spans:
        text.claim(d.span)
    if find_money(text):
        found.add("amount")
    return found


_LINKING = re.compile(
    r"\b(?:on|for|to|of|in|from|with|at|the|a|an|and|too|also|please|pls|as\s+well)\b|[^\w\s]",
    re.I,
)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def only_values(utterance: str, today: date) -> bool:
    """Whether ``utterance`` is nothing but values (ids, sums, dates, numbers) and linking
    words: "25 SGD on pay_2", the second half of "refund 15 SGD on pay_1 and 25 SGD on pay_2"."""
    text = Claims(utterance)
    for m in ID_TOKEN.finditer(utterance):
        if any(ch.isdigit() for ch in m.group(0)):
            text.claim(m.span())
    for d in find_dates(utterance, today):
        if text.free(d.span):
            text.claim(d.span)
    find_money(text)
    if not text.taken and not _NUMBER.search(utterance):
        return False
    rest = "".join(ch if text.free((i, i + 1)) else " " for i, ch in enumerate(utterance))
    return not _LINKING.sub(" ", _NUMBER.sub(" ", rest)).strip()


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
    "MONEY_PATTERNS",
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
    "only_values",
    "plan_slots",
    "to_minor",
]
