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

This module decides which step answers the turn; the steps live beside it:
:mod:`~cockpit.planner.ranking` (evidence, the record under discussion, ties),
:mod:`~cockpit.planner.requests` (several requests in one turn, "the same again"),
:mod:`~cockpit.planner.records` (slots that live in records and lists),
:mod:`~cockpit.planner.replies` (asking and saying), :mod:`~cockpit.planner.answers`
(the answer after a tool ran), :mod:`~cockpit.planner.state` and
:mod:`~cockpit.planner.thread` (what the history holds).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from cockpit.embeddings import Embedder
from cockpit.planner.answers import answer_result, error_text, outcome_of
from cockpit.planner.context import message_text, parse_tool_content, recall_id, refers_back
from cockpit.planner.cues import unquoted, with_cues
from cockpit.planner.intents import IntentIndex, IntentScore, cached_index
from cockpit.planner.ranking import (
    Classification,
    accepted_kinds,
    in_context,
    reading_the_rest,
    same_call,
    with_evidence,
)
from cockpit.planner.records import (
    from_list,
    from_records,
    implied_currency,
    leave_currency_open,
    recall,
    record_will_say_currency,
)
from cockpit.planner.replies import ask, capabilities, clarify, missing_slots, say
from cockpit.planner.requests import Request, RequestSplitter, per_record, same_again
from cockpit.planner.slots import Extraction, SlotPlan, evidence, extract, plan_slots, to_minor
from cockpit.planner.spec import IntentSpec, PlannerSpec, derive_spec
from cockpit.planner.state import (
    STATE_KEY,
    PlannerState,
    calling,
    find_call,
    joined,
    last_index,
    state_before,
    state_of,
    with_state,
)
from cockpit.planner.template import render
from cockpit.planner.thread import carried_id, handed_by, handed_part
from cockpit.planner.turns import (
    affirmation,
    asks_the_same,
    chosen_option,
    is_cancel,
    is_greeting,
    is_negative,
    is_short_reference,
    is_thanks,
    only_filler,
)

#: How far below the best reading an offered intent may be and still be what "… it" means.
OFFER_SLACK = 0.06
# Keywords of slots.extract that another module may add later: passed only when present.
_EXTRACT_KEYWORDS = frozenset(inspect.signature(extract).parameters)

# The opening clause of a turn, up to its first punctuation or dash ("fight it!! we shipped…").
_LEAD_CLAUSE = re.compile(r"^\s*([^,.!?;:()\s][^,.!?;:()]*?)\s*(?:[,.!?;:]+|\s-+\s)")


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
        self.index = intent_index(self.spec, embedder)
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
        human_index = last_index(messages, HumanMessage)
        if human_index is None:
            return say(self.spec.greeting_template, {"capabilities": capabilities(self.spec)})
        text = message_text(messages[human_index]).strip()
        state = state_before(messages, human_index)
        return self._turn(text, state, messages)

    # ----- one user turn -----------------------------------------------------------------
    def _turn(
        self, text: str, state: PlannerState | None, messages: Sequence[BaseMessage]
    ) -> AIMessage:
        if state is not None and state.pending and is_cancel(text):
            return say(self.spec.cancel_template, {})
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
        if is_thanks(text):
            return say(self.spec.thanks_template, {})
        if is_greeting(text):
            return say(self.spec.greeting_template, {"capabilities": capabilities(self.spec)})
        again = same_again(text, messages, spec=self.spec) if asks_the_same(text) else None
        if again is not None:
            return self._act(again[0], text, messages, base=again[1])
        requests = self._requests(text) if self.spec.split_requests else []
        if len(requests) > 1:
            first = self._act(requests[0].intent, requests[0].text, messages, base={})
            return self._queued(first, [r.text for r in requests[1:]], messages)
        result = in_context(text, self.classify(text), messages, spec=self.spec, plans=self._plans)
        if result.verdict != "act":
            result = self._lead_reading(text, result, messages)
        if result.verdict == "act" and result.intent is not None:
            each = per_record(result.intent, text, plans=self._plans)
            first = self._act(result.intent, each[0], messages, base={})
            return self._queued(first, each[1:], messages) if len(each) > 1 else first
        if result.verdict == "clarify":
            return clarify(self.spec, text, [r.name for r in result.ranking[:2]])
        return say(self.spec.out_of_scope_template, {"capabilities": capabilities(self.spec)})

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
        if margin < needed and not same_call(self.spec, chosen, ranking[1].name):
            return Classification(None, "clarify", ranking, oos)
        if margin < needed:
            chosen = reading_the_rest(self.spec, text, chosen, ranking[1].name)
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
            return say(self.spec.offer_declined_template, {})
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
        led = in_context(clause, self.classify(clause), messages, spec=self.spec, plans=self._plans)
        return led if led.verdict == "act" else result

    def _requests(self, text: str) -> list[Request]:
        """The requests of a turn that makes several, each clearly a request on its own; else
        ``[]`` (see :class:`~cockpit.planner.requests.RequestSplitter`)."""
        splitter = RequestSplitter(
            classify=self.classify,
            prime=self._prime,
            plans=self._plans,
            today=self.today,
            default_currency=self.spec.default_currency,
        )
        return splitter.requests(text)

    def _accepts(self, intent: IntentSpec) -> set[str]:
        """The evidence kinds ``intent`` has a place for (see :func:`accepted_kinds`)."""
        return accepted_kinds(intent, plans=self._plans, today=self.today)

    def _with_evidence(self, text: str, ranking: list[IntentScore]) -> list[IntentScore]:
        """Nudge intents whose tool can use the values the utterance carries."""
        return with_evidence(text, ranking, spec=self.spec, plans=self._plans, today=self.today)

    def _queued(
        self, reply: AIMessage, queue: Sequence[str], messages: Sequence[BaseMessage]
    ) -> AIMessage:
        """``reply`` to the first request, with the rest of the turn still to do: carried on
        its state while it waits (a tool result, an answer to its question), else done at
        once and said in the same message."""
        queue = list(queue)
        while queue:
            state = state_of(reply) or PlannerState()
            if reply.tool_calls or state.pending:
                state.queue = queue
                return with_state(reply, state)
            following = self._turn(queue.pop(0), None, messages)
            reply = joined(reply, following)
        return reply

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
                return ask(
                    self.spec,
                    intent,
                    plans,
                    state.slots,
                    state.query,
                    state.pending_amount,
                    again=True,
                )
        merged = {**state.slots, **got.values}
        pending_amount = got.pending_amount or state.pending_amount
        return self._act(intent, state.query, messages, base=merged, pending_amount=pending_amount)

    def _resolve_clarification(self, text: str, state: PlannerState) -> IntentSpec | None:
        index = chosen_option(text)
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
            return say(intent.answer, {"capabilities": capabilities(self.spec)}, intent=intent.name)
        plans = self._plans(intent)
        name = intent.tool_name
        if plans is None or name is None:
            return say(self.spec.unavailable_template, {}, intent=intent.name)
        slots = dict(base)
        full_amount = False
        if not base:
            got = self._extract(text, plans)
            implied = implied_currency(text, plans, got, messages, today=self.today)
            if implied is not None:
                got = self._extract(text, plans, implied_currency=implied)
            elif record_will_say_currency(
                text, plans, got, messages, tools=self.tools, today=self.today
            ):
                leave_currency_open(got, plans)
            slots.update(got.values)
            pending_amount = pending_amount or got.pending_amount
            full_amount = bool(getattr(got, "full_amount", False))
        for plan in plans:
            if plan.kind == "id" and plan.name not in slots and carry:
                value = carried_id(plan, carry)
                if value is not None:
                    slots[plan.name] = value
        recall(text, plans, slots, messages)
        read = from_list(text, plans, slots, messages, tools=self.tools, today=self.today)
        if read is None:
            read = from_records(
                text,
                plans,
                slots,
                messages,
                tools=self.tools,
                today=self.today,
                full_amount=full_amount,
                said_amount=pending_amount,
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
            return calling(tool, args, messages, state)
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
        missing = missing_slots(plans, slots, pending_amount)
        if missing:
            return ask(self.spec, intent, plans, slots, text, pending_amount)
        args = {p.name: slots[p.name] for p in plans if p.name in slots}
        state = PlannerState(intent=intent.name, slots=args, query=text)
        return calling(name, args, messages, state)

    # ----- after a tool ran -----------------------------------------------------------------
    def _after_tool(self, messages: Sequence[BaseMessage]) -> AIMessage:
        tool_message = messages[-1]
        assert isinstance(tool_message, ToolMessage)
        call_message, call = find_call(messages, tool_message.tool_call_id)
        tool_name = call["name"] if call else (tool_message.name or "")
        if tool_name.startswith("transfer_to_") and tool_name not in self.tools:
            # We are the agent that was handed the conversation: answer the user's request.
            handed = handed_part(messages, call_message)
            if handed is not None:
                query, queue = handed
                return self._queued(self._handed_turn(query, messages), queue, messages)
            human_index = last_index(messages, HumanMessage)
            if human_index is not None:
                return self._handed_turn(message_text(messages[human_index]).strip(), messages)
        if tool_name.startswith("transfer_to_"):
            agent = tool_name.removeprefix("transfer_to_").replace("_", " ")
            return say(self.spec.handoff_template, {"agent": agent})
        state = state_of(call_message) if call_message else None
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
        answer = answer_result(
            tool_message,
            args=args,
            intent=intent,
            tool_name=tool_name,
            query=state.query if state is not None else "",
            spec=self.spec,
            today=self.today,
        )
        if state is not None and state.queue:
            following = self._turn(state.queue[0], None, messages)
            return self._queued(joined(answer, following), state.queue[1:], messages)
        return answer

    def _handed_turn(self, query: str, messages: Sequence[BaseMessage]) -> AIMessage:
        """Our reply to a request handed to us. It never hands the request straight back to an
        agent that already handed this same request on in this turn: that agent decided it is
        not its own, and the two would bounce it between them until the step limit."""
        self._barred = handed_by(messages, query)
        try:
            return self._turn(query, None, messages)
        finally:
            self._barred = frozenset()

    def _hands_back(self, name: str) -> bool:
        intent = self.spec.intent(name)
        return intent is not None and intent.handoff in self._barred

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
        if outcome_of(tool_message, result) == "error" and not reply.tool_calls:
            # Say why the record could not help before asking for what it would have given.
            said = render(self.spec.error_template, {"error": error_text(result)})
            return joined(AIMessage(content=said), reply)
        return reply


def intent_index(spec: PlannerSpec, embedder: Embedder) -> IntentIndex:
    """The index of ``spec``'s intents (each one's examples and description) and out-of-scope
    examples; built once per process and embedder."""
    return cached_index(
        [(i.name, _examples(i)) for i in spec.intents],
        embedder=embedder,
        out_of_scope=spec.out_of_scope_examples,
    )


def _examples(intent: IntentSpec) -> list[str]:
    # The description is one more (usually well-worded) example of the intent.
    return [*intent.examples, intent.description] if intent.description else list(intent.examples)


__all__ = [
    "STATE_KEY",
    "Classification",
    "Dialogue",
    "PlannerState",
    "derive_spec",
    "intent_index",
    "message_text",
]
