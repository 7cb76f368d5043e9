"""A turn of several requests, and a request made again: "first A, then B", "the same for
the other one".

It reads each part of a turn with the dialogue's own intent detection and says which parts are
requests of their own; it never acts on them (the dialogue does, in order).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from typing import Any

from langchain_core.messages import BaseMessage

from cockpit.planner.picks import find_pick
from cockpit.planner.ranking import Classification, PlansOf
from cockpit.planner.slots import ID_TOKEN, SlotPlan, evidence, extract, id_matches, only_values
from cockpit.planner.spec import IntentSpec, PlannerSpec
from cockpit.planner.thread import entities_of, ids_in, last_request, said_ids, used_ids
from cockpit.planner.turns import is_short_reference, split_on_and, split_requests

_FIRST_VALUE = re.compile(r"[$€£¥]?\d")
_OTHER = re.compile(r"\b(?:other|another|second|remaining)\b", re.I)


@dataclass(frozen=True, slots=True)
class Request:
    """One request of a turn that holds several."""

    text: str
    intent: IntentSpec


@dataclass(frozen=True, slots=True)
class RequestSplitter:
    """Splits a turn into requests, reading each part as the dialogue reads a turn."""

    classify: Callable[[str], Classification]
    """The dialogue's intent detection, with its thresholds."""
    prime: Callable[[Sequence[str]], None]
    """Embeds utterances in one batch before they are ranked one by one."""
    plans: PlansOf
    """The slot plans of an intent's tool (a part that misses a slot the turn fills is no
    request of its own)."""
    today: date
    default_currency: str | None
    """The spec's default currency, as the slot filler takes it."""

    def requests(self, text: str) -> list[Request]:
        """The requests of a turn that makes several ("first A, then B", "A and also B", two
        sentences), when each part is clearly a request on its own; else ``[]``.

        A part that only adds details to the one before ("I want to refund a customer. The
        payment is pay_1.") keeps the turn whole: the first part alone would miss a slot
        the whole turn fills. "And" joins words inside one request as often as two requests,
        so a part after it must be clearly its own (see :meth:`_joined_part`)."""
        parts = split_requests(text)
        if len(parts) >= 2:
            return self._each_a_request(text, parts, joint=None)
        for joint in (", and", "and"):
            parts = split_on_and(text, after_comma=joint == ", and")
            requests = self._each_a_request(text, parts, joint=joint) if len(parts) > 1 else []
            if requests:
                return requests
        return []

    def _each_a_request(
        self, text: str, parts: Sequence[str], *, joint: str | None
    ) -> list[Request]:
        """``parts`` as requests when each one is; else ``[]``."""
        self.prime([text, *parts])
        requests: list[Request] = []
        for part in parts:
            if joint is not None and requests:
                request = self._joined_part(part, requests, joint=joint)
                if request is None:
                    return []
                requests.append(request)
                continue
            result = self.classify(part)
            if result.verdict != "act" or result.intent is None:
                return []
            requests.append(Request(part, result.intent))
        for before, after in pairwise(requests):
            if before.intent.name == after.intent.name and not (
                ids_in(before.text)
                and ids_in(after.text)
                and ids_in(before.text) != ids_in(after.text)
            ):
                return []  # the same request twice is one request said in two ways
        first = requests[0]
        plans = self.plans(first.intent)
        if plans:
            alone = self._missing_after(first.text, plans)
            whole = self._missing_after(text, plans)
            if len(whole) < len(alone):
                return []
        return requests

    def _joined_part(self, part: str, before: Sequence[Request], *, joint: str) -> Request | None:
        """The request ``part`` makes after an "and": the first request again when it is only
        other values ("… and 25 SGD on pay_2"); else a request by itself, of some words and
        not a bare "it", after ", and" ("what's my balance, and is my KYB done?"); after a
        bare "and" only one that opens with a word and is about a record of its own ("refund
        pay_1 and cancel pay_2", not "accept both dsp_1 and dsp_2")."""
        if self._repeats(before[0].text, part):
            # Said in full ("refund 7 on pay_2"): a queued part is read again on its own.
            return Request(f"{_lead(before[0].text)} {part}".strip(), before[0].intent)
        if is_short_reference(part) or (len(part.split()) < 3 and not ids_in(part)):
            return None
        own_record = bool(ids_in(part) and ids_in(before[-1].text) - ids_in(part))
        own_record = own_record or find_pick(part, self.today) is not None  # "the one due first"
        if joint != ", and" and not (own_record and not ids_in(part.split()[0])):
            return None  # "cancel pay_2" has a verb and a record of its own; "pay_2, …" not
        result = self.classify(part)
        return Request(part, result.intent) if result.verdict == "act" and result.intent else None

    def _repeats(self, first: str, part: str) -> bool:
        """Whether ``part`` is only other values of the kinds ``first`` names (an id, a sum):
        "25 SGD on pay_2" after "refund 15 SGD on pay_1"."""
        kinds = evidence(part, self.today)
        return (
            any(k == "amount" or k.startswith("id:") for k in kinds)
            and kinds == evidence(first, self.today)
            and only_values(part, self.today)
        )

    def _missing_after(self, text: str, plans: Sequence[SlotPlan]) -> set[str]:
        got = extract(text, plans, today=self.today, default_currency=self.default_currency)
        return {p.name for p in plans if p.required and p.name not in got.values}


def per_record(intent: IntentSpec, text: str, *, plans: PlansOf) -> list[str]:
    """For an intent with ``each``: the turn once per record it names, about that record
    alone ("accept both dsp_1 and dsp_2" -> about dsp_1, then about dsp_2; ids read alike
    in ranking, so each reads as the turn did); else just the turn."""
    plan = next((p for p in plans(intent) or [] if p.name == intent.each), None)
    if plan is None:
        return [text]
    named = [m.group(0) for m in ID_TOKEN.finditer(text) if id_matches(plan, m.group(0))]
    named = list(dict.fromkeys(named))
    if len(named) < 2:
        return [text]
    pattern = re.compile("|".join(re.escape(n) for n in named))
    return [pattern.sub(n, text) for n in named]


def same_again(
    text: str, messages: Sequence[BaseMessage], *, spec: PlannerSpec
) -> tuple[IntentSpec, dict[str, Any]] | None:
    """ "And the same for the other one": the last request the user made, again, with its
    record swapped for the one named, else for the only other record of that kind the
    user mentioned and nothing was done to yet. None when that is not clear."""
    last = last_request(messages)
    intent = spec.intent(last[0]) if last is not None else None
    if last is None or intent is None:
        return None
    args = last[1]
    keys = list(entities_of(args))
    if len(keys) != 1:
        return None
    done = str(args[keys[0]])
    prefix = done.split("_", 1)[0] + "_"
    named = sorted(i for i in ids_in(text) if i.startswith(prefix))
    if not named and _OTHER.search(text):
        used = used_ids(messages, intent.tool_name)
        named = sorted({i for i in said_ids(messages) if i.startswith(prefix)} - used - {done})
    if len(named) != 1:
        return None
    return intent, {**args, keys[0]: named[0]}


def _lead(text: str) -> str:
    """What a request says before its first value ("please refund" of "please refund 5 on
    pay_1")."""
    starts = [m.start() for m in (ID_TOKEN.search(text), _FIRST_VALUE.search(text)) if m]
    return text[: min(starts)].strip() if starts else ""


__all__ = [
    "Request",
    "RequestSplitter",
    "per_record",
    "same_again",
]
