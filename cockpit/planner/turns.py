"""How a user turn is shaped, before anyone asks what it means: a yes, a no, a short
reference to "it", several requests in a row, a greeting, thanks, a cancel, or a pick of
one of the options offered.

These are plain English function words (no domain vocabulary): whether "send it"
means a dispute defence or a refund is for the intents to decide. An agent adds its
own words of assent (``PlannerSpec.affirmations``) for other languages.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

_YES_WORDS = (
    r"yes|yeah|yea|yep|yup|ya|sure|ok(?:ay)?|k|alright|all\s+right|fine|right|correct|"
    r"go\s+ahead|go\s+for\s+it|do\s+it|please\s+do|please|proceed|confirm(?:ed)?|approved?|"
    r"let'?s\s+do\s+it|let'?s\s+go|sounds\s+good|looks\s+(?:good|fine|great|ok(?:ay)?)|"
    r"that'?s\s+(?:fine|good|great|ok(?:ay)?)|perfect|great|good|lgtm|agreed|absolutely|"
    r"of\s+course|why\s+not|ship\s+it"
)
_YES = re.compile(rf"^\s*(?:(?:{_YES_WORDS})\b[\s,.!]*)+", re.I)
_NO = re.compile(
    r"^\s*(?:no|nope|nah|not\s+(?:now|yet)|don'?t|do\s+not|hold\s+(?:on|off)|wait|"
    r"leave\s+it|skip\s+it|no\s+thanks?)\b",
    re.I,
)
_DEICTIC = re.compile(
    r"\b(?:it|its|that|this|them|those|these|same|one|him|her)\b|\bthe\s+(?:rest|other)\b",
    re.I,
)
#: Words that carry no request of their own once the yes is taken away ("yes, do that now").
_FILLER = re.compile(
    r"\b(?:it|that|this|one|them|now|then|please|pls|plz|thanks?|thx|just|go|ahead|do|"
    r"so|and|the|a|for|me|us|asap|right|away|again|thing)\b|[^\w\s]",
    re.I,
)
_ID_TOKEN = re.compile(r"\b[A-Za-z][A-Za-z0-9]{0,7}_[A-Za-z0-9][A-Za-z0-9_-]*\b")

#: Where one request ends and the next begins. "then" alone splits only after a comma or
#: when the turn starts with "first" (see :func:`split_requests`).
_SEPARATORS = re.compile(
    r"\s*(?:"
    r",?\s*\band\s+then\b,?"
    r"|,\s*then\b,?"
    r"|,?\s*\b(?:and\s+)?after\s+that\b,?"
    r"|,?\s*\band\s+also\b,?"
    r"|,\s*also\b,?"
    r"|(?<=[a-z0-9)\]])[.?!;]+\s+(?:and\s+)?(?:also,?\s+|then,?\s+)?(?=[A-Za-z])"
    r")\s*",
    re.I,
)
_THEN = re.compile(r"\s+\bthen\b,?\s*", re.I)
_FIRST = re.compile(r"^\s*(?:first(?:ly)?|to\s+start|start\s+by)\b[\s,:]*", re.I)
_LEAD = re.compile(r"^\s*(?:and\s+|also,?\s+|then,?\s+|please,?\s+)+", re.I)
MAX_REQUESTS = 3


def _words(text: str) -> list[str]:
    return re.findall(r"[\w'’]+", text)


@lru_cache(maxsize=64)
def _extra(phrases: tuple[str, ...]) -> re.Pattern[str] | None:
    if not phrases:
        return None
    alternatives = "|".join(re.escape(p.strip()) for p in phrases if p.strip())
    return re.compile(rf"^\s*(?:(?:{alternatives})(?!\w)[\s,.!]*)+", re.I) if alternatives else None


def affirmation(text: str, extra: Sequence[str] = ()) -> str | None:
    """The rest of ``text`` after a leading yes ("ok send it" -> "send it"), or None when the
    turn does not start with one."""
    for pattern in (_YES, _extra(tuple(extra))):
        match = pattern.match(text) if pattern is not None else None
        if match is not None and match.group(0).strip():
            return text[match.end() :].strip()
    return None


_NO_REST = re.compile(
    r"^(?:[\s,.!]|\b(?:not|yet|now|thanks?|thank\s+you|no|nope|for\s+now|later|please|pls|"
    r"it|that|this|them|do|don'?t|send|submit)\b)*$",
    re.I,
)


def is_negative(text: str) -> bool:
    """A plain no ("no", "not yet", "no thanks, not now"); "no, accept it instead" is a new
    request, not a no."""
    match = _NO.match(text)
    return match is not None and _NO_REST.match(text[match.end() :]) is not None


def only_filler(text: str) -> bool:
    """Nothing left that names a request ("do it now", "that one please")."""
    return not _FILLER.sub(" ", text).strip()


def is_short_reference(text: str, *, max_words: int = 7) -> bool:
    """A short turn about something already on the table ("fight it", "accept that one"),
    naming no id of its own."""
    return (
        len(_words(text)) <= max_words
        and _DEICTIC.search(text) is not None
        and _ID_TOKEN.search(text) is None
    )


def split_requests(text: str) -> list[str]:
    """Candidate requests of one turn, in order ("first A, then B" -> [A, B]); one item when
    no separator is found. Whether the parts really are requests is the caller's call."""
    starts_first = _FIRST.match(text) is not None
    body = _FIRST.sub("", text, count=1)
    parts = _SEPARATORS.split(body)
    if starts_first and len(parts) == 1:
        parts = _THEN.split(body, maxsplit=1)
    parts = [_LEAD.sub("", p).strip(" ,;") for p in parts]
    parts = [p for p in parts if p]
    if len(parts) < 2 or len(parts) > MAX_REQUESTS:
        return [text.strip()]
    return parts


_SAME = re.compile(
    r"^\s*(?:(?:and|then|now|please|pls|ok(?:ay)?|also)[\s,]+)*(?:(?:do|repeat)\s+)?(?:the\s+)?"
    r"same(?:\s+(?:thing|again|here))*(?:\s+(?:for|on|with|to)\b|[\s.!]*$)",
    re.I,
)


def asks_the_same(text: str) -> bool:
    """The last request again, for another record ("and the same for the other one", "same
    for pay_2")."""
    return _SAME.match(text) is not None


#: A bare "and" between two requests ("refund 15 on A and 25 on B", "what's my balance, and
#: is my KYB done?"); "and then" / "and also" are separators of their own (above).
_AND = re.compile(r"\s*,?\s+\band\b(?!\s+(?:then|also|after)\b)\s+", re.I)
_COMMA_AND = re.compile(r"\s*,\s*\band\b(?!\s+(?:then|also|after)\b)\s+", re.I)


def split_on_and(text: str, *, after_comma: bool = False) -> list[str]:
    """Candidate requests joined by "and" (only ", and" when ``after_comma``), in order; one
    item when there is none.

    Weaker than :func:`split_requests`: "and" joins words inside one request just as often
    ("declines between Monday and Friday", "when was it paid and how much"), so the caller
    keeps a split only when each part is clearly a request of its own."""
    parts = [p.strip(" ,;") for p in (_COMMA_AND if after_comma else _AND).split(text)]
    parts = [p for p in parts if p]
    if len(parts) < 2 or len(parts) > MAX_REQUESTS:
        return [text.strip()]
    return parts


_GREETING = re.compile(
    r"^\s*(?:hi|hello|hey|hiya|good\s+(?:morning|afternoon|evening)|howdy)\b[\s\w]{0,12}[!.?]*\s*$",
    re.I,
)
_THANKS = re.compile(
    r"^\s*(?:ok(?:ay)?,?\s+|great,?\s+|perfect,?\s+)?(?:thanks|thank\s+you|thx|cheers)\b", re.I
)
_CANCEL = re.compile(r"^\s*(?:cancel|never\s*mind|forget\s+it|stop|nevermind|abort)\b", re.I)


def is_greeting(text: str) -> bool:
    """A hello and nothing more ("hi there!")."""
    return _GREETING.match(text) is not None


def is_thanks(text: str) -> bool:
    """A short thanks ("ok thanks", "cheers"), not a request that opens with one."""
    return len(text.split()) <= 6 and _THANKS.search(text) is not None


def is_cancel(text: str) -> bool:
    """A turn that drops what was being asked ("never mind", "cancel")."""
    return _CANCEL.search(text) is not None


_ORDINALS = {
    "1": 0,
    "first": 0,
    "one": 0,
    "2": 1,
    "second": 1,
    "two": 1,
    "3": 2,
    "third": 2,
    "three": 2,
}
# "the second one", "option 2", "first" — at the start, so "the chargeback one" is not a choice.
_CHOICE = re.compile(
    r"^\s*(?:(?:the|option|number)\s+)?(1|2|3|first|second|third|one|two|three)\b", re.I
)


def chosen_option(text: str) -> int | None:
    """The option a short reply picks by its place ("the second one" -> 1); else None."""
    choice = _CHOICE.search(text)
    if choice is not None and len(text.split()) <= 4:
        return _ORDINALS.get(choice.group(1).lower())
    return None


__all__ = [
    "MAX_REQUESTS",
    "affirmation",
    "asks_the_same",
    "chosen_option",
    "is_cancel",
    "is_greeting",
    "is_negative",
    "is_short_reference",
    "is_thanks",
    "only_filler",
    "split_on_and",
    "split_requests",
]
