"""The planner's dialogue policy: one reply per turn, decided from the message history.

The planner keeps no state of its own. What it was doing (the intent, slots
filled so far, what it asked) rides on its own AIMessages under
``additional_kwargs["cockpit_planner"]``, so a conversation survives restarts
and checkpoints like any other. Per turn it:

1. after a tool result: renders the intent's template for the outcome;
2. while waiting for slots: fills them from the answer (or notices a new request);
3. while waiting for a clarification: takes a choice ("the second one") or a rephrase;
4. otherwise: detects the intent, fills slots from the tool's JSON schema, and
   either asks for what is missing or emits one tool call.

Below the confidence threshold it asks; out of scope it declines politely. It
never calls a tool it was not given.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from cockpit.embeddings import Embedder
from cockpit.planner.context import (
    PLANNER_KEY,
    message_text,
    parse_tool_content,
    points_at,
    recall_id,
    recall_result,
    refers_back,
)
from cockpit.planner.intents import IntentScore, cached_index
from cockpit.planner.slots import (
    SlotPlan,
    accepted_evidence,
    describe_slot,
    evidence,
    extract,
    plan_slots,
    to_minor,
)
from cockpit.planner.spec import IntentSpec, PlannerSpec
from cockpit.planner.template import lookup, render, scalar_text

STATE_KEY = PLANNER_KEY
STATE_VERSION = 1
#: Score added per piece of slot evidence an intent can use (subtracted per piece it cannot).
EVIDENCE_WEIGHT = 0.03

_GREETING = re.compile(
    r"^\s*(?:hi|hello|hey|hiya|good\s+(?:morning|afternoon|evening)|howdy)\b[\s\w]{0,12}[!.?]*\s*$",
    re.I,
)
_THANKS = re.compile(
    r"^\s*(?:ok(?:ay)?,?\s+|great,?\s+|perfect,?\s+)?(?:thanks|thank\s+you|thx|cheers)\b", re.I
)
_CANCEL = re.compile(r"^\s*(?:cancel|never\s*mind|forget\s+it|stop|nevermind|abort)\b", re.I)
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

    def dump(self) -> dict[str, Any]:
        return {
            "v": STATE_VERSION,
            "intent": self.intent,
            "slots": self.slots,
            "pending": self.pending,
            "missing": self.missing,
            "candidates": self.candidates,
            "query": self.query,
            "pending_amount": self.pending_amount,
        }

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
                    return follow
        if state is not None and state.pending == "clarify" and state.candidates:
            chosen = self._resolve_clarification(text, state)
            if chosen is not None:
                return self._act(chosen, f"{state.query} {text}", messages, base={})
        if len(text.split()) <= 6 and _THANKS.search(text):
            return self._say(self.spec.thanks_template, {})
        if _GREETING.match(text):
            return self._say(self.spec.greeting_template, {"capabilities": self._capabilities()})
        result = self.classify(text)
        if result.verdict == "act" and result.intent is not None:
            return self._act(result.intent, text, messages, base={})
        if result.verdict == "clarify":
            return self._clarify(text, [r.name for r in result.ranking[:2]])
        return self._say(self.spec.out_of_scope_template, {"capabilities": self._capabilities()})

    def classify(self, text: str) -> Classification:
        """Intent detection with the spec's thresholds (used by the eval harness too).

        ``gap`` is how much closer the utterance is to the nearest in-scope
        example than to the nearest out-of-scope one; a clear gap lets a
        low-scoring but unambiguous request through, a negative gap never acts.
        """
        ranking, oos = self.index.rank(text)
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
        return Classification(chosen, "act", ranking, oos)

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

    def _with_evidence(self, text: str, ranking: list[IntentScore]) -> list[IntentScore]:
        """Nudge intents whose tool can use the values the utterance carries.

        A date range, an amount with a currency or a typed id (``dsp_…``) in the
        text is evidence for intents whose argument schema has a place for it,
        and against those that have none.
        """
        found = evidence(text, self.today)
        if not found:
            return ranking
        adjusted: list[IntentScore] = []
        for item in ranking:
            intent = self.spec.intent(item.name)
            plans = self._plans(intent) if intent is not None else None
            accepts = accepted_evidence(plans or [])
            bonus = EVIDENCE_WEIGHT * (len(found & accepts) - len(found - accepts))
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
        ranking, _ = self.index.rank(f"{state.query} {text}")
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

    def _act(
        self,
        intent: IntentSpec,
        text: str,
        messages: Sequence[BaseMessage],
        *,
        base: Mapping[str, Any],
        pending_amount: str | None = None,
    ) -> AIMessage:
        if intent.answer is not None:
            return self._say(
                intent.answer, {"capabilities": self._capabilities()}, intent=intent.name
            )
        plans = self._plans(intent)
        name = intent.tool_name
        if plans is None or name is None:
            return self._say(self.spec.unavailable_template, {}, intent=intent.name)
        slots = dict(base)
        if not base:
            got = extract(
                text, plans, today=self.today, default_currency=self.spec.default_currency
            )
            slots.update(got.values)
            pending_amount = pending_amount or got.pending_amount
        amount_plan = next((p for p in plans if p.kind == "amount"), None)
        currency_plan = next((p for p in plans if p.kind == "currency"), None)
        if pending_amount and amount_plan is not None and amount_plan.name not in slots:
            currency = slots.get(currency_plan.name) if currency_plan else None
            if currency:
                slots[amount_plan.name] = to_minor(Decimal(pending_amount), str(currency))
                pending_amount = None
        self._recall(text, plans, slots, messages)
        for plan in plans:
            if plan.name not in slots and plan.hint is not None and plan.hint.default is not None:
                slots[plan.name] = plan.hint.default
        missing = [p for p in plans if p.required and p.name not in slots]
        if pending_amount and currency_plan is not None and currency_plan not in missing:
            missing.append(currency_plan)
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
        missing = [p for p in plans if p.required and p.name not in slots]
        currency_plan = next((p for p in plans if p.kind == "currency"), None)
        if (
            pending_amount
            and currency_plan is not None
            and currency_plan.name not in slots
            and currency_plan not in missing
        ):
            missing.append(currency_plan)
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
            human_index = _last_index(messages, HumanMessage)
            if human_index is not None:
                return self._turn(message_text(messages[human_index]).strip(), None, messages)
        if tool_name.startswith("transfer_to_"):
            agent = tool_name.removeprefix("transfer_to_").replace("_", " ")
            return self._say(self.spec.handoff_template, {"agent": agent})
        state = (
            PlannerState.load(call_message.additional_kwargs.get(STATE_KEY))
            if call_message
            else None
        )
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
        template = intent.responses.get(outcome) if intent else None
        if template is None and outcome == "empty" and intent is not None:
            template = intent.responses.get("ok")
        if template is None:
            template = {
                "error": self.spec.error_template,
                "approval_rejected": self.spec.approval_rejected_template,
            }.get(outcome)
        if template is None:
            return self._say("Done. {summary}", {"summary": scalar_text(result)}, intent=tool_name)
        return self._say(template, context, intent=intent.name if intent else None)

    # ----- history helpers -------------------------------------------------------------------
    @staticmethod
    def _state_before(messages: Sequence[BaseMessage], human_index: int) -> PlannerState | None:
        ai_index = _last_index(messages[:human_index], AIMessage)
        if ai_index is None:
            return None
        return PlannerState.load(messages[ai_index].additional_kwargs.get(STATE_KEY))


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
