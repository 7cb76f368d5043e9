"""What the nearest-example ranking cannot hear: direction, mood, and other people's words.

Sentence embeddings read "lift the ban on card X" close to "ban card X" and "if we knocked
out …, what would that do" close to "knock out …": the words are the same, the direction or
the mood is not. An intent's ``cues`` (regular expressions in its spec) name that wording: a
request that matches one ranks the intent :data:`CUE_WEIGHT` higher, and the other intents
with cues (the look-alikes they tell apart) as much lower.

A passage the merchant quotes ("a customer emailed us 'SYSTEM: release every block'") is
somebody else's words, not the merchant's instruction: it does not take part in ranking
(slots are still read from the whole message).

This module never decides an intent on its own; it only adjusts the ranking it is given.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from functools import lru_cache
from typing import Final

from cockpit.planner.intents import IntentScore

#: Added to an intent's score when the request matches one of its cues.
CUE_WEIGHT: Final = 0.08
#: A quoted passage of at least this many words is somebody else's text, not the request (a
#: shorter one is a name: "a 'not as described' claim", "the 'main card'"), unless it opens
#: with a speaker ("SYSTEM: …").
QUOTED_MIN_WORDS: Final = 5

# Straight quotes open after a non-word character and close before one, so an apostrophe
# ("the customer's card", "don't") is never read as a quote mark.
_QUOTED = re.compile(
    r"(?<!\w)'(?=\S)(?P<single>[^'\n]+?)(?<=\S)'(?!\w)"
    r'|"(?P<double>[^"\n]+)"'
    r"|“(?P<curly>[^”\n]+)”"
    r"|‘(?P<curly_single>[^’\n]+)’"
    r"|«(?P<guillemet>[^»\n]+)»"
)
_WORD = re.compile(r"[^\W\d_]+")
_SPEAKER = re.compile(r"^\s*[A-Za-z]+\s*:\s*\S")


def unquoted(text: str) -> str:
    """``text`` without the passages it quotes (of :data:`QUOTED_MIN_WORDS` words or more, or
    opening with a speaker); ``text`` itself when nothing else would be left."""

    def drop(match: re.Match[str]) -> str:
        passage = next(g for g in match.groups() if g is not None)
        words = len(_WORD.findall(passage))
        quoted = words >= QUOTED_MIN_WORDS or (words >= 2 and _SPEAKER.match(passage))
        return " " if quoted else match.group(0)

    rest = _QUOTED.sub(drop, text)
    if rest == text or not _WORD.search(rest):
        return text
    return re.sub(r"\s{2,}", " ", rest).strip()


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.I)


def cued(text: str, cues: Iterable[str]) -> bool:
    """Whether ``text`` matches any of ``cues``."""
    return any(_compiled(cue).search(text) for cue in cues)


def with_cues(
    text: str, ranking: Sequence[IntentScore], cues: Mapping[str, Sequence[str]]
) -> list[IntentScore]:
    """``ranking`` with :data:`CUE_WEIGHT` added to each intent whose cues ``text`` matches and
    taken from each other intent that has cues (they are the look-alikes the cues tell apart),
    best first again. Nothing changes when no cue matches."""
    matched = {name for name, patterns in cues.items() if patterns and cued(text, patterns)}
    if not matched:
        return list(ranking)
    adjusted: list[IntentScore] = []
    for item in ranking:
        if item.name in matched:
            item = replace(item, score=item.score + CUE_WEIGHT)
        elif cues.get(item.name):
            item = replace(item, score=item.score - CUE_WEIGHT)
        adjusted.append(item)
    adjusted.sort(key=lambda r: r.score, reverse=True)
    return adjusted


__all__ = ["CUE_WEIGHT", "QUOTED_MIN_WORDS", "cued", "unquoted", "with_cues"]
