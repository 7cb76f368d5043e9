"""The planner's dialogue policy: one reply per turn, decided from the message history.

The planner keeps no state of its own. What it was doing (the intent, slots
filled so far, what it asked) rides on its own AIMessages under
``additional_kwargs["cockpit_planner"]``, so a conversation survives restarts
and checkpoints like any other. Per turn it:

1. after a tool result: renders the intent's template for the outcome;
2. while waiting for slots: fills them from the answer (or notices a new request);
3. while waiting for a clarification: takes a choice ("the second one") or a rephrase;
4. after an answer that offered a next step (draft -> submit): a yes runs it on the
   same record;
5. otherwise: splits a turn of several requests ("first …, then …") into its parts,
   detects the intent — for a short "fight it", in the light of the record under
   discussion — fills slots from the tool's JSON schema (reading a record first when a
   slot lives in it), and either asks for what is missing or emits one tool call.

Requests left over from a turn of several ride on the state too: after the first
one's result the answer and the next request's call go out in one message, so one
run answers all of them.

Below the confidence threshold it asks; out of scope it declines politely. It
never calls a tool it was not given.
"""

from __future__ import annotations

import hashlib
import inspect
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from itertools import pairwise
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from cockpit.embeddings import Embedder
from cockpit.planner import dates as planner_dates
from cockpit.planner.amounts import says_remaining_amount
from cockpit.planner.context import (
    PLANNER_KEY,
    message_text,
    parse_tool_content,
    points_at,
    read_record,
    recall_exact,
    recall_id,
    recall_result,
    record_value,
    refers_back,
)
from cockpit.planner.cues import unquoted, with_cues
from cockpit.planner.intents import IntentScore, cached_index
from cockpit.planner.picks import choose, find_pick
from cockpit.planner.places import currency_role
from cockpit.planner.slots import (
    ID_TOKEN,
    Extraction,
    SlotPlan,
    accepted_evidence,
    describe_slot,
    evidence,
    extract,
    id_matches,
    only_values,
    plan_slots,
    to_minor,
)
from cockpit.planner.spec import IntentSpec, PlannerSpec, RecordSource
from cockpit.planner.template import format_date, lookup, render, scalar_text
from cockpit.planner.turns import (
    affirmation,
    asks_the_same,
    is_negative,
    is_short_reference,
    only_filler,
    split_on_and,
    split_requests,
)

STATE_KEY = PLANNER_KEY
STATE_VERSION = 1
#: Score added per piece of slot evidence an intent can use (subtracted per piece it cannot).
EVIDENCE_WEIGHT = 0.03
#: Score taken, on top of EVIDENCE_WEIGHT, from an intent whose tool has no place for a record
#: id the utterance names (handoffs and fixed answers pass the whole request on: not them).
NAMED_RECORD_WEIGHT = 0.05
#: Evidence kind of a record picked by its place in a list ("the one due first").
PICKED = "id:picked"
#: Score added to an intent that acts on the record under discussion for a short "… it"
#: (subtracted from one that needs a record of a kind nobody mentioned).
CONTEXT_WEIGHT = 0.04
#: How far below the best reading an offered intent may be and still be what "… it" means.
OFFER_SLACK = 0.06
#: Only intents this close to the best are re-read in context.
CONTEXT_WINDOW = 0.12
_NO_OFFER = frozenset({"error", "empty", "approval_rejected"})
# Keywords of slots.extract that another module may add later: passed only when present.
_EXTRACT_KEYWORDS = frozenset(inspect.signature(extract).parameters)

_GREETING = re.compile(
    r"^\s*(?:hi|hello|hey|hiya|good\s+(?:morning|afternoon|evening)|howdy)\b[\s\w]{0,12}[!.?]*\s*$",
    re.I,
)
_THANKS = re.compile(
    r"^\s*(?:ok(?:ay)?,?\s+|great,?\s+|perfect,?\s+)?(?:thanks|thank\s+you|thx|cheers)\b", re.I
)
_CANCEL = re.compile(r"^\s*(?:cancel|never\s*mind|forget\s+it|stop|nevermind|abort)\b", re.I)
# The opening clause of a turn, up to its first punctuation or dash ("fight it!! we shipped…").
_LEAD_CLAUSE = re.compile(r"^\s*([^,.!?;:()\s][^,.!?;:()]*?)\s*(?:[,.!?;:]+|\s-+\s)")
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


@dataclass
class PlannerState:
    """What the planner was doing, as stored on its own AIMessage."""

    intent: str | None = None
    slots: dict[str, Any] = field(default_factory=dict)
    pending: str | None = None
    """``"slots"`` (asked for ``missing``), ``"clarify"`` (asked to choose) or None."""
    missing: list[str] = field(default_factory=list)
    candidates: list[str] = field(default_factory=list)
    query: str = ""
    pending_amount: str | None = None
    offer: str | None = None
    """The intent the last answer proposed as the next step (a yes runs it)."""
    entities: dict[str, Any] = field(default_factory=dict)
    """Ids of the record the last answer was about (``{"dispute_id": "dsp_1"}``)."""
    queue: list[str] = field(default_factory=list)
    """Requests of the same user turn still to do, in order."""

    def dump(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "v": STATE_VERSION,
            "intent": self.intent,
            "slots": self.slots,
            "pending": self.pending,
            "missing": self.missing,
            "candidates": self.candidates,
            "query": self.query,
            "pending_amount": self.pending_amount,
        }
        # Added later in version 1: written only when set, read with defaults.
        if self.offer:
            out["offer"] = self.offer
        if self.entities:
            out["entities"] = self.entities
        if self.queue:
            out["queue"] = self.queue
        return out

    @classmethod
    def load(cls, raw: Any) -> PlannerState | None:
        if not isinstance(raw, Mapping) or raw.get("v") != STATE_VERSION:
            return None
        return cls(
            intent=raw.get("intent"),
            slots=dict(raw.get("slots") or {}),
            pending=raw.get("pending"),
            missing=list(raw.get("missing") or []),
            candidates=list(raw.get("candidates") or []),
            query=str(raw.get("query") or ""),
            pending_amount=raw.get("pending_amount"),
            offer=raw.get("offer") if isinstance(raw.get("offer"), str) else None,
            entities=dict(raw.get("entities") or {}),
            queue=[str(q) for q in raw.get("queue") or []],
        )


def _state_of(message: AIMessage) -> PlannerState | None:
    return PlannerState.load(message.additional_kwargs.get(STATE_KEY))


def _with_state(message: AIMessage, state: PlannerState) -> AIMessage:
    return AIMessage(
        content=message.content,
        tool_calls=message.tool_calls,
        additional_kwargs={**message.additional_kwargs, STATE_KEY: state.dump()},
    )


def _joined(first: AIMessage, then: AIMessage) -> AIMessage:
    """One message that says ``first`` and goes on with ``then`` (its call and state)."""
    texts = [t for t in (message_text(first).strip(), message_text(then).strip()) if t]
    return AIMessage(
        content="\n\n".join(texts),
        tool_calls=then.tool_calls,
        additional_kwargs=dict(then.additional_kwargs),
    )


def _call_id(messages: Sequence[BaseMessage], name: str) -> str:
    # Stable across replays of the same history, different for every new turn,
    # so an idempotency key derived from thread + call id behaves.
    digest = hashlib.sha256()
    for message in messages:
        digest.update(message.type.encode())
        digest.update(message_text(message).encode())
        digest.update(b"\x00")
    digest.update(name.encode())
    return "call_" + digest.hexdigest()[:24]


def _lower_first(text: str) -> str:
    text = text.strip().rstrip(".")
    return text[:1].lower() + text[1:] if text else text


def _join_or(items: Sequence[str], word: str = "or") -> str:
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {word} " + items[-1]


@dataclass(frozen=True, slots=True)
class Request:
    """One request of a turn that holds several."""

    text: str
    intent: IntentSpec


@dataclass(frozen=True, slots=True)
class Classification:
    intent: IntentSpec | None
    verdict: str
    """``act``, ``clarify`` or ``out_of_scope``."""
    ranking: list[IntentScore]
    out_of_scope_similarity: float


class Dialogue:
    """Decides one reply for one history. Cheap to build; the heavy index is cached."""

    def __init__(
        self,
        spec: PlannerSpec,
        *,
        tools: Sequence[Mapping[str, Any]],
        embedder: Embedder,
        today: date,
    ) -> None:
        self.tools: dict[str, Mapping[str, Any]] = {}
        for tool in tools:
            function = tool.get("function", tool)
            if isinstance(function, Mapping) and isinstance(function.get("name"), str):
                self.tools[function["name"]] = function
        self.spec = spec if spec.intents else derive_spec(spec, self.tools)
        self.today = today
        self.index = cached_index(
            [(i.name, _examples(i)) for i in self.spec.intents],
            embedder=embedder,
            out_of_scope=self.spec.out_of_scope_examples,
        )
        # One Dialogue answers one reply: utterances embedded for it are kept for it.
        self._vectors: dict[str, Any] = {}
        # Agents a request handed to us came from: no handoff straight back (see _handed_turn).
        self._barred: frozenset[str] = frozenset()

    def _rank(self, text: str) -> tuple[list[IntentScore], float]:
        # A quoted passage is somebody else's words; the intents' cues hear direction and mood.
        text = unquoted(text)
        self._prime([text])
        ranking, oos = self.index.rank(text, vectors=self._vectors)
        cues = {i.name: i.cues for i in self.spec.intents}
        return with_cues(text, ranking, cues), oos

    def _prime(self, texts: Sequence[str]) -> None:
        """Embed ``texts`` in one batch before they are ranked one by one."""
        self._vectors.update(
            self.index.vectors([t for t in texts if self.index.query(t) not in self._vectors])
        )

    # ----- entry point -------------------------------------------------------------------
    def reply(self, messages: Sequence[BaseMessage]) -> AIMessage:
        if messages and isinstance(messages[-1], ToolMessage):
            return self._after_tool(messages)
        human_index = _last_index(messages, HumanMessage)
        if human_index is None:
            return self._say(self.spec.greeting_template, {"capabilities": self._capabilities()})
        text = message_text(messages[human_index]).strip()
        state = self._state_before(messages, human_index)
        return self._turn(text, state, messages)

    # ----- one user turn -----------------------------------------------------------------
    def _turn(
        self, text: str, state: PlannerState | None, messages: Sequence[BaseMessage]
    ) -> AIMessage:
        if state is not None and state.pending and _CANCEL.search(text):
            return self._say(self.spec.cancel_template, {})
        if state is not None and state.pending == "slots" and state.intent:
            intent = self.spec.intent(state.intent)
            if intent is not None:
                follow = self._continue_slots(text, intent, state, messages)
                if follow is not None:
                    return self._queued(follow, state.queue, messages)
        if state is not None and state.pending == "clarify" and state.candidates:
            chosen = self._resolve_clarification(text, state)
            if chosen is not None:
                reply = self._act(chosen, f"{state.query} {text}", messages, base={})
                return self._queued(reply, state.queue, messages)
        if state is not None and state.offer:
            taken = self._take_offer(text, state, messages)
            if taken is not None:
                return taken
        if len(text.split()) <= 6 and _THANKS.search(text):
            return self._say(self.spec.thanks_template, {})
        if _GREETING.match(text):
            return self._say(self.spec.greeting_template, {"capabilities": self._capabilities()})
        again = self._same_again(text, messages) if asks_the_same(text) else None
        if again is not None:
            return again
        requests = self._requests(text) if self.spec.split_requests else []
        if len(requests) > 1:
            first = self._act(requests[0].intent, requests[0].text, messages, base={})
            return self._queued(first, [r.text for r in requests[1:]], messages)
        result = self._in_context(text, self.classify(text), messages)
        if result.verdict != "act":
            result = self._lead_reading(text, result, messages)
        if result.verdict == "act" and result.intent is not None:
            each = self._per_record(result.intent, text)
            first = self._act(result.intent, each[0], messages, base={})
            return self._queued(first, each[1:], messages) if len(each) > 1 else first
        if result.verdict == "clarify":
            return self._clarify(text, [r.name for r in result.ranking[:2]])
        return self._say(self.spec.out_of_scope_template, {"capabilities": self._capabilities()})

    def classify(self, text: str) -> Classification:
        """Intent detection with the spec's thresholds (used by the eval harness too).

        ``gap`` is how much closer the utterance is to the nearest in-scope
        example than to the nearest out-of-scope one; a clear gap lets a
        low-scoring but unambiguous request through, a negative gap never acts.
        """
        ranking, oos = self._rank(text)
        if self._barred:
            ranking = [r for r in ranking if not self._hands_back(r.name)]
        ranking = self._with_evidence(text, ranking)
        if not ranking:
            return Classification(None, "out_of_scope", ranking, oos)
        spec = self.spec
        best = ranking[0]
        gap = best.embedding - oos
        margin = best.score - ranking[1].score if len(ranking) > 1 else 1.0
        clear_gap = gap >= spec.scope_gap and best.score >= spec.out_of_scope_threshold - 0.1
        if gap < 0 or (best.score < spec.out_of_scope_threshold and not clear_gap):
            return Classification(None, "out_of_scope", ranking, oos)
        if best.score < spec.clarify_threshold and not clear_gap:
            # Weak and barely closer to the domain than to small talk: not worth a question.
            verdict = "out_of_scope" if gap < spec.scope_gap / 2 else "clarify"
            return Classification(None, verdict, ranking, oos)
        chosen = spec.intent(best.name)
        needed = max(spec.ambiguity_margin, (chosen.min_margin or 0.0) if chosen else 0.0)
        if margin < needed and not self._same_call(chosen, ranking[1].name):
            return Classification(None, "clarify", ranking, oos)
        if margin < needed:
            chosen = self._reading_the_rest(text, chosen, ranking[1].name)
        return Classification(chosen, "act", ranking, oos)

    # ----- follow-ups and several requests ------------------------------------------------
    def _take_offer(
        self, text: str, state: PlannerState, messages: Sequence[BaseMessage]
    ) -> AIMessage | None:
        """After an answer that offered ``state.offer``: a yes runs it on the same record, a
        no ends it, and a short "send it" runs it when it is about as likely as the best
        reading. Anything else is an ordinary new turn (None)."""
        offered = self.spec.intent(state.offer or "")
        if offered is None:
            return None
        if is_negative(text):
            return self._say(self.spec.offer_declined_template, {})
        rest = affirmation(text, self.spec.affirmations)
        if rest is not None and only_filler(rest):
            return self._act(offered, text, messages, base={}, carry=state.entities)
        if rest is None and not is_short_reference(text):
            return None
        ranking, _ = self._rank(text)
        ranking = self._with_evidence(text, ranking)
        mine = next((r for r in ranking if r.name == offered.name), None)
        if mine is not None and mine.score >= ranking[0].score - OFFER_SLACK:
            return self._act(offered, text, messages, base={}, carry=state.entities)
        return None

    def _on_record(self, intent: IntentSpec, messages: Sequence[BaseMessage]) -> bool | None:
        """Whether ``intent`` would act on a record the thread is about: True when each of its
        required ids can be taken from the thread, False when one cannot, None when it needs
        no id (a list, a search, a handoff)."""
        plans = self._plans(intent) or []
        ids = [p for p in plans if p.kind == "id" and p.required]
        if not ids:
            return None
        return all(recall_id(messages, p) is not None for p in ids)

    def _in_context(
        self, text: str, result: Classification, messages: Sequence[BaseMessage]
    ) -> Classification:
        """Re-read a short "fight it" / "cancel that one" in the light of the record under
        discussion: intents that act on that record move up, intents that need a record
        nobody mentioned move down, and a near tie between an action on the record and
        something else goes to the action. Two actions on it that tie are still asked."""
        if result.verdict not in ("act", "clarify") or len(result.ranking) < 2:
            return result
        if not is_short_reference(text) or not any(isinstance(m, AIMessage) for m in messages):
            return result
        top = result.ranking[0].score
        near = [r for r in result.ranking if r.score >= top - CONTEXT_WINDOW]
        if len(near) < 2:
            return result
        on: dict[str, bool | None] = {}
        for item in near:
            intent = self.spec.intent(item.name)
            on[item.name] = self._on_record(intent, messages) if intent is not None else None
        if not any(on.values()):
            return result  # nothing under discussion that these intents act on
        weight = {True: CONTEXT_WEIGHT, False: -CONTEXT_WEIGHT, None: 0.0}
        ranked = sorted(
            (replace(r, score=r.score + weight[on[r.name]]) for r in near),
            key=lambda r: r.score,
            reverse=True,
        )
        best, runner = ranked[0], ranked[1]
        chosen = self.spec.intent(best.name)
        if chosen is None or not on[best.name]:
            return result
        needed = max(self.spec.ambiguity_margin, chosen.min_margin or 0.0)
        if on[runner.name] and best.score - runner.score < needed:
            if self._same_call(chosen, runner.name):
                return Classification(chosen, "act", ranked, result.out_of_scope_similarity)
            return Classification(None, "clarify", ranked, result.out_of_scope_similarity)
        return Classification(chosen, "act", ranked, result.out_of_scope_similarity)

    def _per_record(self, intent: IntentSpec, text: str) -> list[str]:
        """For an intent with ``each``: the turn once per record it names, about that record
        alone ("accept both dsp_1 and dsp_2" -> about dsp_1, then about dsp_2; ids read alike
        in ranking, so each reads as the turn did); else just the turn."""
        plan = next((p for p in self._plans(intent) or [] if p.name == intent.each), None)
        if plan is None:
            return [text]
        named = [m.group(0) for m in ID_TOKEN.finditer(text) if id_matches(plan, m.group(0))]
        named = list(dict.fromkeys(named))
        if len(named) < 2:
            return [text]
        pattern = re.compile("|".join(re.escape(n) for n in named))
        return [pattern.sub(n, text) for n in named]

    def _lead_reading(
        self, text: str, result: Classification, messages: Sequence[BaseMessage]
    ) -> Classification:
        """A turn that opens with a short reference and goes on with details ("fight it!! we
        shipped with DHL, signed for"): when the whole turn is unclear, its opening names the
        request (the whole turn still fills the slots)."""
        lead = _LEAD_CLAUSE.match(text)
        if lead is None or not text[lead.end() :].strip():
            return result
        clause = lead.group(1)
        if not is_short_reference(clause, max_words=4):
            return result
        led = self._in_context(clause, self.classify(clause), messages)
        return led if led.verdict == "act" else result

    def _same_again(self, text: str, messages: Sequence[BaseMessage]) -> AIMessage | None:
        """ "And the same for the other one": the last request the user made, again, with its
        record swapped for the one named, else for the only other record of that kind the
        user mentioned and nothing was done to yet. None when that is not clear."""
        last = _last_request(messages)
        intent = self.spec.intent(last[0]) if last is not None else None
        if last is None or intent is None:
            return None
        args = last[1]
        keys = list(_entities(args))
        if len(keys) != 1:
            return None
        done = str(args[keys[0]])
        prefix = done.split("_", 1)[0] + "_"
        named = sorted(i for i in _ids(text) if i.startswith(prefix))
        if not named and _OTHER.search(text):
            used = _used_ids(messages, intent.tool_name)
            named = sorted({i for i in _said_ids(messages) if i.startswith(prefix)} - used - {done})
        if len(named) != 1:
            return None
        return self._act(intent, text, messages, base={**args, keys[0]: named[0]})

    def _requests(self, text: str) -> list[Request]:
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
        self._prime([text, *parts])
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
                _ids(before.text) and _ids(after.text) and _ids(before.text) != _ids(after.text)
            ):
                return []  # the same request twice is one request said in two ways
        first = requests[0]
        plans = self._plans(first.intent)
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
        if is_short_reference(part) or (len(part.split()) < 3 and not _ids(part)):
            return None
        own_record = bool(_ids(part) and _ids(before[-1].text) - _ids(part))
        own_record = own_record or find_pick(part, self.today) is not None  # "the one due first"
        if joint != ", and" and not (own_record and not _ids(part.split()[0])):
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
        got = extract(text, plans, today=self.today, default_currency=self.spec.default_currency)
        return {p.name for p in plans if p.required and p.name not in got.values}

    def _queued(
        self, reply: AIMessage, queue: Sequence[str], messages: Sequence[BaseMessage]
    ) -> AIMessage:
        """``reply`` to the first request, with the rest of the turn still to do: carried on
        its state while it waits (a tool result, an answer to its question), else done at
        once and said in the same message."""
        queue = list(queue)
        while queue:
            state = _state_of(reply) or PlannerState()
            if reply.tool_calls or state.pending:
                state.queue = queue
                return _with_state(reply, state)
            following = self._turn(queue.pop(0), None, messages)
            reply = _joined(reply, following)
        return reply

    def _reading_the_rest(
        self, text: str, chosen: IntentSpec | None, runner_up: str
    ) -> IntentSpec | None:
        """Of two intents that make the same call, the one that reads what is left of the
        amount from the record when the user asks for the rest ("whatever is left on pay_1"):
        the whole payment's amount would be too much once part of it was refunded."""
        other = self.spec.intent(runner_up)
        if other is None or not says_remaining_amount(text):
            return chosen
        if _reads_remaining(other) and not (chosen is not None and _reads_remaining(chosen)):
            return other
        return chosen

    def _same_call(self, chosen: IntentSpec | None, runner_up: str) -> bool:
        """Two intents that call the same tool differ only in how the answer reads: asking
        which one is meant would end in the same call, so the nearer one acts."""
        other = self.spec.intent(runner_up)
        return (
            chosen is not None
            and other is not None
            and chosen.tool_name is not None
            and chosen.tool_name == other.tool_name
            and not chosen.min_margin
        )

    def _accepts(self, intent: IntentSpec) -> set[str]:
        """The evidence kinds ``intent`` has a place for: its tool's slots, or for a handoff
        (no slots of its own) the kinds of values its examples carry, which the agent it hands
        to works with ("refund 15 EUR on pay_1" in the dispute agent is the copilot's)."""
        if intent.handoff is not None:
            return set(_examples_evidence(tuple(intent.examples), self.today))
        plans = self._plans(intent) or []
        picks = {PICKED} if any(p.hint and p.hint.from_list for p in plans) else set()
        return accepted_evidence(plans) | picks

    def _with_evidence(self, text: str, ranking: list[IntentScore]) -> list[IntentScore]:
        """Nudge intents whose tool can use the values the utterance carries.

        A date range, an amount with a currency or a typed id (``dsp_…``) in the
        text is evidence for intents whose argument schema has a place for it,
        and against those that have none.
        """
        found = evidence(text, self.today)
        if find_pick(text, self.today) is not None:
            found.add(PICKED)  # "the one due first" names a record as an id would
        if not found:
            return ranking
        adjusted: list[IntentScore] = []
        for item in ranking:
            intent = self.spec.intent(item.name)
            accepts = self._accepts(intent) if intent is not None else set()
            bonus = EVIDENCE_WEIGHT * (len(found & accepts) - len(found - accepts))
            if intent is not None and intent.tool and _unusable_ids(found, accepts):
                # A request that names a record is about that record: a tool with no place
                # for it ("the deadline on dsp_1" read as the list of deadlines) is unlikely.
                bonus -= NAMED_RECORD_WEIGHT
            adjusted.append(replace(item, score=item.score + bonus))
        adjusted.sort(key=lambda r: r.score, reverse=True)
        return adjusted

    def _continue_slots(
        self,
        text: str,
        intent: IntentSpec,
        state: PlannerState,
        messages: Sequence[BaseMessage],
    ) -> AIMessage | None:
        plans = self._plans(intent)
        if plans is None:
            return None
        got = extract(
            text,
            plans,
            today=self.today,
            known=state.slots,
            asked=state.missing,
            default_currency=self.spec.default_currency,
        )
        for plan in plans:
            wanted = plan.name in state.missing and plan.name not in got.values
            if wanted and plan.kind == "id" and refers_back(text, plan):
                value = recall_id(messages, plan)
                if value is not None:
                    got.values[plan.name] = value
        answered = [name for name in state.missing if name in got.values]
        if got.pending_amount and not state.pending_amount:
            answered.append("amount")
        kinds = {p.name: p.kind for p in plans}
        bare_number_only = (
            answered
            and all(kinds.get(n, "amount") in ("amount", "integer", "number") for n in answered)
            and "amount" not in evidence(text, self.today)
        )
        if bare_number_only and len(text.split()) > 3:
            # "show me the top 5 declines" while an amount was asked is a new request, not 5.
            result = self.classify(text)
            other = result.intent if result.verdict == "act" else None
            if other is not None and other.name != intent.name:
                return self._act(other, text, messages, base={})
        if not answered:
            result = self.classify(text)
            if result.verdict == "act" and result.intent is not None:
                if result.intent.name != intent.name:
                    return self._act(result.intent, text, messages, base={})
            else:
                # Neither an answer nor a new request: ask again.
                return self._ask(
                    intent, plans, state.slots, state.query, state.pending_amount, again=True
                )
        merged = {**state.slots, **got.values}
        pending_amount = got.pending_amount or state.pending_amount
        return self._act(intent, state.query, messages, base=merged, pending_amount=pending_amount)

    def _resolve_clarification(self, text: str, state: PlannerState) -> IntentSpec | None:
        choice = _CHOICE.search(text)
        if choice is not None and len(text.split()) <= 4:
            index = _ORDINALS.get(choice.group(1).lower())
            if index is not None and index < len(state.candidates):
                return self.spec.intent(state.candidates[index])
        result = self.classify(text)
        if result.verdict == "act" and result.intent is not None:
            return result.intent
        # A short reply ("the refund") is read together with the original request.
        ranking, _ = self._rank(f"{state.query} {text}")
        ranked = [r for r in ranking if r.name in state.candidates]
        if ranked and (
            len(ranked) == 1 or ranked[0].score - ranked[1].score >= self.spec.ambiguity_margin
        ):
            return self.spec.intent(ranked[0].name)
        return None

    # ----- acting ------------------------------------------------------------------------
    def _plans(self, intent: IntentSpec) -> list[SlotPlan] | None:
        name = intent.tool_name
        if name is None:
            return []
        tool = self.tools.get(name)
        if tool is None:
            return None
        params = tool.get("parameters")
        return plan_slots(params if isinstance(params, Mapping) else {}, intent.slots)

    def _extract(
        self, text: str, plans: Sequence[SlotPlan], *, implied_currency: str | None = None
    ) -> Extraction:
        extra: dict[str, Any] = {}
        if implied_currency and "implied_currency" in _EXTRACT_KEYWORDS:
            extra["implied_currency"] = implied_currency
        return extract(
            text, plans, today=self.today, default_currency=self.spec.default_currency, **extra
        )

    def _act(
        self,
        intent: IntentSpec,
        text: str,
        messages: Sequence[BaseMessage],
        *,
        base: Mapping[str, Any],
        pending_amount: str | None = None,
        carry: Mapping[str, Any] | None = None,
    ) -> AIMessage:
        """Fill ``intent``'s slots (``base`` from earlier turns, else from ``text``; ``carry``:
        ids of the record an accepted offer was about) and call its tool, read a record
        first, or ask for what is missing."""
        if intent.answer is not None:
            return self._say(
                intent.answer, {"capabilities": self._capabilities()}, intent=intent.name
            )
        plans = self._plans(intent)
        name = intent.tool_name
        if plans is None or name is None:
            return self._say(self.spec.unavailable_template, {}, intent=intent.name)
        slots = dict(base)
        full_amount = False
        if not base:
            got = self._extract(text, plans)
            implied = self._implied_currency(text, plans, got, messages)
            if implied is not None:
                got = self._extract(text, plans, implied_currency=implied)
            elif self._record_will_say_currency(text, plans, got, messages):
                _leave_currency_open(got, plans)
            slots.update(got.values)
            pending_amount = pending_amount or got.pending_amount
            full_amount = bool(getattr(got, "full_amount", False))
        for plan in plans:
            if plan.kind == "id" and plan.name not in slots and carry:
                value = _carried(plan, carry)
                if value is not None:
                    slots[plan.name] = value
        self._recall(text, plans, slots, messages)
        read = self._from_list(text, plans, slots, messages)
        if read is None:
            read = self._from_records(
                text, plans, slots, messages, full_amount=full_amount, said_amount=pending_amount
            )
        if read is not None:
            tool, args = read
            # The record comes first; its result resumes this request (see _after_tool).
            state = PlannerState(
                intent=intent.name,
                slots=dict(base),
                pending="record",
                query=text,
                pending_amount=pending_amount,
                entities=dict(carry or {}),
            )
            return AIMessage(
                content="",
                tool_calls=[
                    {
                        "name": tool,
                        "args": args,
                        "id": _call_id(messages, tool),
                        "type": "tool_call",
                    }
                ],
                additional_kwargs={STATE_KEY: state.dump()},
            )
        amount_plan = next((p for p in plans if p.kind == "amount"), None)
        currency_plan = next((p for p in plans if p.kind == "currency"), None)
        if pending_amount and amount_plan is not None and amount_plan.name not in slots:
            currency = slots.get(currency_plan.name) if currency_plan else None
            if currency:
                slots[amount_plan.name] = to_minor(Decimal(pending_amount), str(currency))
                pending_amount = None
        for plan in plans:
            if plan.name not in slots and plan.hint is not None and plan.hint.default is not None:
                slots[plan.name] = plan.hint.default
        missing = _missing(plans, slots, pending_amount)
        if missing:
            return self._ask(intent, plans, slots, text, pending_amount)
        args = {p.name: slots[p.name] for p in plans if p.name in slots}
        state = PlannerState(intent=intent.name, slots=args, query=text)
        return AIMessage(
            content="",
            tool_calls=[
                {"name": name, "args": args, "id": _call_id(messages, name), "type": "tool_call"}
            ],
            additional_kwargs={STATE_KEY: state.dump()},
        )

    # ----- slots that live in records -------------------------------------------------------
    def _record_id(
        self,
        source: RecordSource,
        text: str,
        plans: Sequence[SlotPlan],
        slots: Mapping[str, Any],
        messages: Sequence[BaseMessage],
    ) -> str | None:
        """The id of the record ``source`` reads: the intent's own slot of that name, else an
        id of that shape in the utterance, else the one the user refers back to."""
        value = slots.get(source.id)
        if isinstance(value, str) and value:
            return value
        if any(p.name == source.id for p in plans):
            return None  # the intent's own slot, still empty: it is asked for, not guessed
        plan = SlotPlan(name=source.id, kind="id", required=False, schema={})
        got = extract(text, [plan], today=self.today)
        found = got.values.get(source.id)
        if isinstance(found, str):
            return found
        if refers_back(text, plan) or points_at(text, plan):
            return recall_id(messages, plan)
        return None

    def _implied_currency(
        self,
        text: str,
        plans: Sequence[SlotPlan],
        got: Extraction,
        messages: Sequence[BaseMessage],
    ) -> str | None:
        """The currency of the record an amount is about ("5 bucks" on an SGD payment), when
        the currency slot reads it from a record the thread already holds."""
        plan = next((p for p in plans if p.kind == "currency" and p.hint is not None), None)
        source = plan.hint.from_record if plan is not None and plan.hint is not None else None
        if source is None:
            return None
        record_id = self._record_id(source, text, plans, got.values, messages)
        if record_id is None:
            return None
        _, record = read_record(messages, source.tool, source.arg or source.id, record_id)
        path = _record_path(source.field, got.values)
        value = record_value(record, path) if record is not None and path else None
        return str(value).upper() if isinstance(value, str) and value else None

    def _record_will_say_currency(
        self,
        text: str,
        plans: Sequence[SlotPlan],
        got: Extraction,
        messages: Sequence[BaseMessage],
    ) -> bool:
        """Whether an amount whose currency was only guessed ("5 bucks", "$12": USD) should
        wait for the record that says it: the currency slot reads a record that can still be
        read, now (its id is known) or once its id, which the intent asks for, is given."""
        if not got.currency_assumed or got.heard_amount is None:
            return False
        plan = next((p for p in plans if p.kind == "currency" and p.hint is not None), None)
        source = plan.hint.from_record if plan is not None and plan.hint is not None else None
        if source is None or source.tool not in self.tools:
            return False
        record_id = self._record_id(source, text, plans, got.values, messages)
        if record_id is None:
            return any(p.name == source.id for p in plans)
        attempted, _ = read_record(messages, source.tool, source.arg or source.id, record_id)
        return not attempted

    def _from_records(
        self,
        text: str,
        plans: Sequence[SlotPlan],
        slots: dict[str, Any],
        messages: Sequence[BaseMessage],
        *,
        full_amount: bool,
        said_amount: str | None = None,
    ) -> tuple[str, dict[str, Any]] | None:
        """Fill ``from_record`` slots from records the thread already read; return the read
        (tool, args) to make first when a needed record was not read yet. An amount the user
        said (``said_amount``, still waiting for its currency) is never replaced by a record's."""
        needed: tuple[str, dict[str, Any]] | None = None
        for plan in plans:
            source = plan.hint.from_record if plan.hint is not None else None
            if source is None or plan.name in slots or (plan.kind == "amount" and said_amount):
                continue
            if source.when == "full_amount" and not full_amount:
                continue
            path = _record_path(source.field, slots)
            record_id = self._record_id(source, text, plans, slots, messages)
            if record_id is None or path is None:
                continue
            arg = source.arg or source.id
            attempted, record = read_record(messages, source.tool, arg, record_id)
            if record is not None:
                value = _slot_value(plan, record_value(record, path))
                if value is not None:
                    slots[plan.name] = value
            elif not attempted and source.tool in self.tools and needed is None:
                needed = (source.tool, {arg: record_id})
        return needed

    def _from_list(
        self,
        text: str,
        plans: Sequence[SlotPlan],
        slots: dict[str, Any],
        messages: Sequence[BaseMessage],
    ) -> tuple[str, dict[str, Any]] | None:
        """Fill an id the request picks from a list ("the one due first"); return the list
        call to make first when this turn has not read that list yet."""
        pick = find_pick(text, self.today)
        for plan in plans:
            source = plan.hint.from_list if plan.hint is not None else None
            if source is None or pick is None or plan.name in slots:
                continue
            items = recall_exact(messages, f"{source.tool}.{source.items}", source.args)
            if items is None:
                if source.tool in self.tools and not _called_this_turn(messages, source.tool):
                    return source.tool, dict(source.args)
                continue
            chosen = choose(
                items if isinstance(items, list) else [],
                pick,
                id_field=source.id,
                date_field=source.date,
            )
            if chosen is not None:
                slots[plan.name] = chosen
        return None

    @staticmethod
    def _recall(
        text: str,
        plans: Sequence[SlotPlan],
        slots: dict[str, Any],
        messages: Sequence[BaseMessage],
    ) -> None:
        """Fill what the thread already says: referred-back ids, then ``from_result`` slots."""
        for plan in plans:
            if plan.kind != "id" or plan.name in slots:
                continue
            if refers_back(text, plan) if plan.required else points_at(text, plan):
                value = recall_id(messages, plan)
                if value is not None:
                    slots[plan.name] = value
        ids = {p.name: slots[p.name] for p in plans if p.kind == "id" and p.name in slots}
        for plan in plans:
            source = plan.hint.from_result if plan.hint is not None else None
            if source and plan.name not in slots:
                value = recall_result(messages, source, ids)
                if value is not None:
                    slots[plan.name] = value

    def _ask(
        self,
        intent: IntentSpec,
        plans: Sequence[SlotPlan],
        slots: Mapping[str, Any],
        query: str,
        pending_amount: str | None,
        *,
        again: bool = False,
    ) -> AIMessage:
        missing = _missing(plans, slots, pending_amount)
        currency_plan = next((p for p in plans if p.kind == "currency"), None)
        phrases = [
            f"the currency of {pending_amount}"
            if p is currency_plan and pending_amount
            else describe_slot(p)
            for p in missing
        ]
        context = {
            "intent": _lower_first(intent.description or intent.name.replace("_", " ")),
            "missing": _join_or(phrases, "and"),
        }
        text = render(self.spec.missing_slot_template, context)
        if again:
            text = "Sorry, I didn't catch that. " + text
        state = PlannerState(
            intent=intent.name,
            slots=dict(slots),
            pending="slots",
            missing=[p.name for p in missing],
            query=query,
            pending_amount=pending_amount,
        )
        return AIMessage(content=text, additional_kwargs={STATE_KEY: state.dump()})

    def _clarify(self, text: str, candidates: list[str]) -> AIMessage:
        intents = [i for c in candidates if (i := self.spec.intent(c)) is not None]
        options = [_lower_first(i.description or i.name.replace("_", " ")) for i in intents]
        reply = render(self.spec.clarify_template, {"options": _join_or(options)})
        state = PlannerState(pending="clarify", candidates=candidates, query=text)
        return AIMessage(content=reply, additional_kwargs={STATE_KEY: state.dump()})

    def _say(
        self, template: str, context: Mapping[str, Any], *, intent: str | None = None
    ) -> AIMessage:
        state = PlannerState(intent=intent)
        return AIMessage(
            content=render(template, context), additional_kwargs={STATE_KEY: state.dump()}
        )

    def _capabilities(self) -> str:
        described = [_lower_first(i.description) for i in self.spec.intents if i.description]
        return _join_or(described[:6]) or "with the tasks this agent supports"

    # ----- after a tool ran -----------------------------------------------------------------
    def _after_tool(self, messages: Sequence[BaseMessage]) -> AIMessage:
        tool_message = messages[-1]
        assert isinstance(tool_message, ToolMessage)
        call_message, call = _find_call(messages, tool_message.tool_call_id)
        tool_name = call["name"] if call else (tool_message.name or "")
        if tool_name.startswith("transfer_to_") and tool_name not in self.tools:
            # We are the agent that was handed the conversation: answer the user's request.
            handed = self._handed_part(messages, call_message)
            if handed is not None:
                query, queue = handed
                return self._queued(self._handed_turn(query, messages), queue, messages)
            human_index = _last_index(messages, HumanMessage)
            if human_index is not None:
                return self._handed_turn(message_text(messages[human_index]).strip(), messages)
        if tool_name.startswith("transfer_to_"):
            agent = tool_name.removeprefix("transfer_to_").replace("_", " ")
            return self._say(self.spec.handoff_template, {"agent": agent})
        state = _state_of(call_message) if call_message else None
        if state is not None and state.pending == "record" and state.intent:
            resumed = self._resume(state, messages)
            if resumed is not None:
                return self._queued(resumed, state.queue, messages)
        intent = self.spec.intent(state.intent) if state and state.intent else None
        if intent is None:
            intent = next((i for i in self.spec.intents if i.tool_name == tool_name), None)
        args = dict(call["args"]) if call else {}
        executed = tool_message.additional_kwargs.get("executed_args")
        if isinstance(executed, Mapping):
            args = dict(executed)  # an approver edited the call: answer about what ran
        result = parse_tool_content(tool_message)
        outcome = _outcome(tool_message, result)
        context: dict[str, Any] = {**args}
        if isinstance(result, Mapping):
            context.update(result)
        context.update(
            {"args": args, "result": result, "outcome": outcome, "error": _error_text(result)}
        )
        window = _window(args, state.query if state is not None else "", self.today)
        if window and "window" not in context:
            context["window"] = window
        template = intent.responses.get(outcome) if intent else None
        if template is None and outcome == "empty" and intent is not None:
            template = intent.responses.get("ok")
        if template is None:
            template = {
                "error": self.spec.error_template,
                "approval_rejected": self.spec.approval_rejected_template,
            }.get(outcome)
        if template is None:
            answer = self._say(
                "Done. {summary}", {"summary": scalar_text(result)}, intent=tool_name
            )
        else:
            answer = self._say(template, context, intent=intent.name if intent else None)
        offer = intent.offer if intent is not None else None
        if offer is not None and (
            outcome in offer.outcomes if offer.outcomes else outcome not in _NO_OFFER
        ):
            answered = _state_of(answer) or PlannerState()
            answered.offer = offer.intent
            answered.entities = _entities(args)
            answer = _with_state(answer, answered)
        if state is not None and state.queue:
            following = self._turn(state.queue[0], None, messages)
            return self._queued(_joined(answer, following), state.queue[1:], messages)
        return answer

    def _handed_turn(self, query: str, messages: Sequence[BaseMessage]) -> AIMessage:
        """Our reply to a request handed to us. It never hands the request straight back to an
        agent that already handed this same request on in this turn: that agent decided it is
        not its own, and the two would bounce it between them until the step limit."""
        self._barred = _handed_by(messages, query)
        try:
            return self._turn(query, None, messages)
        finally:
            self._barred = frozenset()

    def _hands_back(self, name: str) -> bool:
        intent = self.spec.intent(name)
        return intent is not None and intent.handoff in self._barred

    @staticmethod
    def _handed_part(
        messages: Sequence[BaseMessage], call_message: AIMessage | None
    ) -> tuple[str, list[str]] | None:
        """The request another planner-driven agent handed over, and the rest of the turn
        queued after it: the whole turn when that agent routed it whole, only its part when it
        split the turn ("show my disputes, then my success rate": the dispute agent lists the
        disputes and hands over just the success rate). Re-reading the whole turn instead made
        a turn spanning two agents bounce between them. None (an agent without planner state,
        e.g. an LLM): read the user's last message."""
        state = _state_of(call_message) if call_message is not None else None
        if state is None or not state.query or _last_index(messages, HumanMessage) is None:
            return None
        return state.query, list(state.queue)

    def _resume(self, state: PlannerState, messages: Sequence[BaseMessage]) -> AIMessage | None:
        """The record a slot lives in was read: go on with the request that needed it."""
        intent = self.spec.intent(state.intent or "")
        if intent is None:
            return None
        reply = self._act(
            intent,
            state.query,
            messages,
            base=state.slots,
            pending_amount=state.pending_amount,
            carry=state.entities,
        )
        tool_message = messages[-1]
        assert isinstance(tool_message, ToolMessage)
        result = parse_tool_content(tool_message)
        if _outcome(tool_message, result) == "error" and not reply.tool_calls:
            # Say why the record could not help before asking for what it would have given.
            said = render(self.spec.error_template, {"error": _error_text(result)})
            return _joined(AIMessage(content=said), reply)
        return reply

    # ----- history helpers -------------------------------------------------------------------
    @staticmethod
    def _state_before(messages: Sequence[BaseMessage], human_index: int) -> PlannerState | None:
        ai_index = _last_index(messages[:human_index], AIMessage)
        if ai_index is None:
            return None
        return PlannerState.load(messages[ai_index].additional_kwargs.get(STATE_KEY))


@lru_cache(maxsize=256)
def _examples_evidence(examples: tuple[str, ...], today: date) -> frozenset[str]:
    """The evidence kinds (see :func:`evidence`) a list of example utterances carries."""
    return frozenset(kind for example in examples for kind in evidence(example, today))


def _called_this_turn(messages: Sequence[BaseMessage], tool: str) -> bool:
    """Whether ``tool`` was called since the user's last message."""
    human = _last_index(messages, HumanMessage)
    return any(
        isinstance(m, AIMessage) and any(c.get("name") == tool for c in m.tool_calls)
        for m in messages[(human or 0) :]
    )


def _unusable_ids(found: set[str], accepts: set[str]) -> bool:
    """Whether the utterance names a record id (``id:<prefix>`` evidence) a tool cannot take."""
    return any(kind.startswith("id:") for kind in found - accepts)


_FIRST_VALUE = re.compile(r"[$€£¥]?\d")


def _lead(text: str) -> str:
    """What a request says before its first value ("please refund" of "please refund 5 on
    pay_1")."""
    starts = [m.start() for m in (ID_TOKEN.search(text), _FIRST_VALUE.search(text)) if m]
    return text[: min(starts)].strip() if starts else ""


def _last_request(messages: Sequence[BaseMessage]) -> tuple[str, dict[str, Any]] | None:
    """The intent and arguments of the last call the planner made for a user's request."""
    for message in reversed(messages):
        if isinstance(message, AIMessage) and message.tool_calls:
            state = _state_of(message)
            if state is not None and state.intent and state.pending != "record":
                return state.intent, dict(message.tool_calls[0]["args"])
    return None


def _said_ids(messages: Sequence[BaseMessage]) -> set[str]:
    """The record ids the user named in the thread."""
    said: set[str] = set()
    for message in messages:
        if isinstance(message, HumanMessage):
            said |= _ids(message_text(message))
    return said


def _used_ids(messages: Sequence[BaseMessage], tool: str | None) -> set[str]:
    """The record ids calls of ``tool`` were made with."""
    return {
        str(value)
        for message in messages
        if isinstance(message, AIMessage)
        for call in message.tool_calls
        if call["name"] == tool
        for value in _entities(call["args"]).values()
    }


_OTHER = re.compile(r"\b(?:other|another|second|remaining)\b", re.I)


def _handed_by(messages: Sequence[BaseMessage], query: str) -> frozenset[str]:
    """The agents (by their messages' names) that handed ``query`` on since the user's last
    message; an agent without planner state (an LLM) hands the whole message on."""
    start = _last_index(messages, HumanMessage) or 0
    names: set[str] = set()
    for message in messages[start:]:
        if not isinstance(message, AIMessage) or not message.name:
            continue
        if not any(str(c.get("name", "")).startswith("transfer_to_") for c in message.tool_calls):
            continue
        state = _state_of(message)
        if state is None or not state.query or state.query == query:
            names.add(message.name)
    return frozenset(names)


def _ids(text: str) -> set[str]:
    return {m.group(0) for m in ID_TOKEN.finditer(text) if any(ch.isdigit() for ch in m.group(0))}


def _entities(args: Mapping[str, Any]) -> dict[str, Any]:
    """The ids a call was about (``dispute_id``, ``payment_id``…): what "it" means next."""
    return {
        key: value
        for key, value in args.items()
        if isinstance(value, str)
        and (key == "id" or key.endswith("_id"))
        and ID_TOKEN.fullmatch(value) is not None
    }


def _carried(plan: SlotPlan, carry: Mapping[str, Any]) -> str | None:
    """The carried id for ``plan``: under its own name, else the only one of its shape."""
    named = carry.get(plan.name)
    if isinstance(named, str) and id_matches(plan, named):
        return named
    shaped = {v for v in carry.values() if isinstance(v, str) and id_matches(plan, v)}
    return shaped.pop() if len(shaped) == 1 else None


def _reads_remaining(intent: IntentSpec) -> bool:
    """Whether ``intent`` fills an amount with what remains of a record's when asked to."""
    return any(
        hint.from_record is not None and hint.from_record.when == "full_amount"
        for hint in intent.slots.values()
    )


def _missing(
    plans: Sequence[SlotPlan], slots: Mapping[str, Any], pending_amount: str | None
) -> list[SlotPlan]:
    """The slots to ask for: the required ones still empty, and the currency of an amount said
    without one; but not a slot a record will give once its id, asked for too, is known (the
    payment's currency once the payment is named)."""
    missing = [p for p in plans if p.required and p.name not in slots]
    currency_plan = next((p for p in plans if p.kind == "currency"), None)
    if (
        pending_amount
        and currency_plan is not None
        and currency_plan.name not in slots
        and currency_plan not in missing
    ):
        missing.append(currency_plan)
    asked = {p.name for p in missing}
    return [
        p for p in missing if not (p.hint and p.hint.from_record and p.hint.from_record.id in asked)
    ]


def _leave_currency_open(got: Extraction, plans: Sequence[SlotPlan]) -> None:
    """Take back a guessed currency (and the amount read in it): the number waits, as said,
    for the record's currency."""
    for plan in plans:
        if plan.kind in ("amount", "currency") and currency_role(plan.name) is None:
            got.values.pop(plan.name, None)
    got.pending_amount = got.heard_amount


def _record_path(field: str, slots: Mapping[str, Any]) -> str | None:
    """``field`` with its ``{slot}`` segments filled from ``slots``; None while one is empty."""
    parts: list[str] = []
    for part in field.split("."):
        if part.startswith("{") and part.endswith("}"):
            value = slots.get(part[1:-1])
            if not isinstance(value, str) or not value:
                return None
            part = value
        parts.append(part)
    return ".".join(parts)


def _slot_value(plan: SlotPlan, value: Any) -> Any:
    """A record's field as the slot's JSON type (minor units stay integers)."""
    if value is None or isinstance(value, Mapping | list):
        return None
    if plan.kind == "currency" and isinstance(value, str):
        return value.upper()
    if plan.json_type == "integer" and not isinstance(value, bool):
        try:
            return int(str(value))
        except ValueError:
            return None
    return value


def _window(args: Mapping[str, Any], query: str, today: date) -> str | None:
    """How the answer names the period a call covered ("last week (16–22 Nov 2026)"): the
    period as the user's words named it when they name the one the call used, else the
    call's own dates."""
    start, end = args.get("start_date"), args.get("end_date")
    describe = getattr(planner_dates, "describe_span", None)
    if isinstance(start, str) and isinstance(end, str):
        if describe is not None and query:
            for span in planner_dates.find_dates(query, today):
                if span.start.isoformat() == start and span.end.isoformat() == end:
                    return str(describe(span))
        try:
            first, last = date.fromisoformat(start), date.fromisoformat(end)
        except ValueError:
            return None
        format_range = getattr(planner_dates, "format_range", None)
        if format_range is not None:
            return str(format_range(first, last))
        return f"{format_date(start)} to {format_date(end)}"
    days = args.get("days")
    if isinstance(days, int) and not isinstance(days, bool):
        return _lookback_window(days, query, today)
    return None


def _lookback_window(days: int, query: str, today: date) -> str:
    """A look-back-only call names the days it covered with their dates, and the calendar
    period the user asked for when the look-back was sized to cover it ("the last 10 days
    (16–25 Nov 2026), which covers last week (16–22 Nov 2026)")."""
    first = today - timedelta(days=days - 1)
    covered = f"the last {days} days ({planner_dates.format_range(first, today)})"
    for span in planner_dates.find_dates(query, today) if query else ():
        if span.lookback_days == days and (span.start, span.end) != (first, today):
            return f"{covered}, which covers {planner_dates.describe_span(span)}"
    return covered


def _examples(intent: IntentSpec) -> list[str]:
    # The description is one more (usually well-worded) example of the intent.
    return [*intent.examples, intent.description] if intent.description else list(intent.examples)


def _last_index(messages: Sequence[BaseMessage], kind: type[BaseMessage]) -> int | None:
    for index in range(len(messages) - 1, -1, -1):
        if isinstance(messages[index], kind):
            return index
    return None


def _find_call(
    messages: Sequence[BaseMessage], call_id: str
) -> tuple[AIMessage | None, dict[str, Any] | None]:
    for message in reversed(messages):
        if isinstance(message, AIMessage):
            for call in message.tool_calls:
                if call.get("id") == call_id:
                    return message, dict(call)
    return None, None


def _outcome(message: ToolMessage, result: Any) -> str:
    explicit = message.additional_kwargs.get("outcome")
    if isinstance(explicit, str):
        return explicit
    if isinstance(result, Mapping):
        if isinstance(result.get("outcome"), str):
            return str(result["outcome"])
        status = str(result.get("status") or "").lower()
        # The runtime reports a human rejection as {"rejected": true, "approval_id": ...}.
        rejected = result.get("rejected") is True or result.get("approval") == "rejected"
        if status in ("approval_rejected", "rejected") or rejected:
            return "approval_rejected"
    if message.status == "error" or (isinstance(result, Mapping) and result.get("error")):
        return "error"
    if result in ([], {}, "", None):
        return "empty"
    if isinstance(result, Mapping):
        lists = [v for v in result.values() if isinstance(v, list)]
        if len(lists) == 1 and not lists[0] and len(result) <= 3:
            return "empty"
    return "ok"


def _error_text(result: Any) -> str:
    if isinstance(result, Mapping):
        error = result.get("error")
        if isinstance(error, Mapping):
            return scalar_text(lookup(error, "message") or error.get("code"))
        if error:
            return scalar_text(error)
        if result.get("message"):
            return scalar_text(result["message"])
    return scalar_text(result)


def derive_spec(base: PlannerSpec, tools: Mapping[str, Mapping[str, Any]]) -> PlannerSpec:
    """A spec with one intent per tool, from tool names and descriptions (no examples given)."""
    intents: list[IntentSpec] = []
    for name, tool in tools.items():
        words = name.replace("_", " ").replace(".", " ")
        description = str(tool.get("description") or words).strip().split("\n")[0]
        examples = [words, description]
        if name.startswith("transfer_to_"):
            agent = name.removeprefix("transfer_to_").replace("_", " ")
            examples = [f"talk to the {agent} agent", f"transfer me to {agent}", description]
        intent_name = re.sub(r"[^a-z0-9_]", "_", name.lower())[:64] or "tool"
        if not intent_name[0].isalpha():
            intent_name = "t_" + intent_name[:62]
        intents.append(
            IntentSpec(name=intent_name, description=description, examples=examples, tool=name)
        )
    return base.model_copy(update={"intents": intents})


__all__ = ["STATE_KEY", "Classification", "Dialogue", "PlannerState", "derive_spec", "message_text"]
