"""Which record of a list the user means: "the one due first", "whichever is due today".

A merchant often names a record by where it stands in a list rather than by its id: "draft a
reply for the one that's due first", "accept whichever chargeback is due today". A slot with a
:class:`~cockpit.planner.spec.ListSource` takes its id from such a pick: the list (read first
when the thread has none) is ordered by the item's date field and the pick chooses from it.

Only plain English order words live here (first, soonest, today, tomorrow); what the date means
(a response deadline, an expiry) is the spec's. A pick that matches no item, or a day that
matches several, picks nothing: the slot is then asked for as usual, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final, Literal

_FIRST: Final = re.compile(
    r"\b(?:due|expir(?:es|ing)|ending|closing)\s+(?:the\s+)?(?:first|soonest|earliest|next)\b"
    r"|\b(?:soonest|earliest|nearest|closest|next)\s+(?:deadline|due\s+date|one)\b"
    r"|\bmost\s+urgent\b"
    r"|\b(?:the|whichever|which)\s+(?:one\s+)?(?:is\s+|that'?s\s+|that\s+is\s+)?due\s+next\b",
    re.I,
)
_LAST: Final = re.compile(
    r"\b(?:due|expir(?:es|ing))\s+(?:the\s+)?(?:last|latest)\b"
    r"|\b(?:latest|furthest)\s+(?:deadline|due\s+date)\b",
    re.I,
)
# A pick names one record: "the one", "whichever", "the chargeback that's due …".
_ONE: Final = re.compile(
    r"\b(?:whichever|which\s+one|the\s+(?:[\w-]+\s+){0,2}one)\b"
    r"|\bthe\s+[\w-]+\s+(?:that|which)(?:'s|\s+is)?\s+(?:due|expir|ending|closing)",
    re.I,
)
_DAY: Final = re.compile(
    r"\b(?:due|expir(?:es|ing)|ending|closing)\s+(?:by\s+|on\s+)?(today|tonight|tomorrow)\b",
    re.I,
)


@dataclass(frozen=True, slots=True)
class Pick:
    """One record chosen by its date: the earliest, the latest, or the one on ``day``."""

    order: Literal["first", "last", "day"]
    day: date | None = None


def find_pick(text: str, today: date) -> Pick | None:
    """The pick ``text`` makes, if any ("the one that's due first" -> earliest); a question
    about several ("which chargebacks are due first") picks nothing."""
    if _ONE.search(text) is None:
        return None
    day = _DAY.search(text)
    if day is not None:
        offset = 1 if day.group(1).lower() == "tomorrow" else 0
        return Pick("day", today + timedelta(days=offset))
    if _FIRST.search(text):
        return Pick("first")
    if _LAST.search(text):
        return Pick("last")
    return None


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def choose(items: Iterable[Any], pick: Pick, *, id_field: str, date_field: str) -> str | None:
    """The id of the item ``pick`` chooses, or None when none (or, for a day, several) fit."""
    dated: list[tuple[datetime, str]] = []
    for item in items:
        if not isinstance(item, Mapping):
            continue
        when, ident = _when(item.get(date_field)), item.get(id_field)
        if when is not None and isinstance(ident, str) and ident:
            dated.append((when, ident))
    if not dated:
        return None
    dated.sort(key=lambda pair: pair[0])
    if pick.order == "first":
        return dated[0][1]
    if pick.order == "last":
        return dated[-1][1]
    on_day = [ident for when, ident in dated if when.date() == pick.day]
    return on_day[0] if len(on_day) == 1 else None


__all__ = ["Pick", "choose", "find_pick"]
