"""The planner's own replies that call no tool: saying a template, asking for missing slots,
asking which of two requests was meant.

Each reply carries the planner's state, so the next turn knows what was asked. The wording is
the spec's templates; this module only fills them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import AIMessage

from cockpit.planner.slots import SlotPlan, describe_slot
from cockpit.planner.spec import IntentSpec, PlannerSpec
from cockpit.planner.state import STATE_KEY, PlannerState
from cockpit.planner.template import render


def say(template: str, context: Mapping[str, Any], *, intent: str | None = None) -> AIMessage:
    """``template`` filled from ``context``, as the reply of ``intent`` (if any)."""
    state = PlannerState(intent=intent)
    return AIMessage(content=render(template, context), additional_kwargs={STATE_KEY: state.dump()})


def capabilities(spec: PlannerSpec) -> str:
    """What the agent can do, in a few words (its first intents' descriptions)."""
    described = [_lower_first(i.description) for i in spec.intents if i.description]
    return _join_or(described[:6]) or "with the tasks this agent supports"


def ask(
    spec: PlannerSpec,
    intent: IntentSpec,
    plans: Sequence[SlotPlan],
    slots: Mapping[str, Any],
    query: str,
    pending_amount: str | None,
    *,
    again: bool = False,
) -> AIMessage:
    """Ask for the slots ``intent`` still misses; ``again`` when the last answer was none."""
    missing = missing_slots(plans, slots, pending_amount)
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
    text = render(spec.missing_slot_template, context)
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


def clarify(spec: PlannerSpec, text: str, candidates: list[str]) -> AIMessage:
    """Ask which of ``candidates`` the request ``text`` meant."""
    intents = [i for c in candidates if (i := spec.intent(c)) is not None]
    options = [_lower_first(i.description or i.name.replace("_", " ")) for i in intents]
    reply = render(spec.clarify_template, {"options": _join_or(options)})
    state = PlannerState(pending="clarify", candidates=candidates, query=text)
    return AIMessage(content=reply, additional_kwargs={STATE_KEY: state.dump()})


def missing_slots(
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


def _lower_first(text: str) -> str:
    text = text.strip().rstrip(".")
    return text[:1].lower() + text[1:] if text else text


def _join_or(items: Sequence[str], word: str = "or") -> str:
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {word} " + items[-1]


__all__ = [
    "ask",
    "capabilities",
    "clarify",
    "missing_slots",
    "say",
]
