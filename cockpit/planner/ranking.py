"""Which intent a turn means, beyond how alike it sounds: values it carries, the record under
discussion, and ties that would end in the same call.

The intent index ranks by meaning; these readings move that ranking. A value the utterance
carries (an amount, a ``dsp_…`` id) counts for intents whose tool has a place for it; a short
"fight it" counts for intents that act on the record the thread is about. They only re-rank
and judge ties: the thresholds that decide to act, ask or decline are the dialogue's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache

from langchain_core.messages import AIMessage, BaseMessage

from cockpit.planner.amounts import says_remaining_amount
from cockpit.planner.context import recall_id
from cockpit.planner.intents import IntentScore
from cockpit.planner.picks import find_pick
from cockpit.planner.slots import SlotPlan, accepted_evidence, evidence
from cockpit.planner.spec import IntentSpec, PlannerSpec
from cockpit.planner.turns import is_short_reference

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
#: Only intents this close to the best are re-read in context.
CONTEXT_WINDOW = 0.12

#: The slot plans of an intent's tool: ``[]`` without a tool, None when its tool is missing.
PlansOf = Callable[[IntentSpec], list[SlotPlan] | None]


@dataclass(frozen=True, slots=True)
class Classification:
    intent: IntentSpec | None
    verdict: str
    """``act``, ``clarify`` or ``out_of_scope``."""
    ranking: list[IntentScore]
    out_of_scope_similarity: float


def _on_record(
    intent: IntentSpec, messages: Sequence[BaseMessage], *, plans: PlansOf
) -> bool | None:
    """Whether ``intent`` would act on a record the thread is about: True when each of its
    required ids can be taken from the thread, False when one cannot, None when it needs
    no id (a list, a search, a handoff)."""
    planned = plans(intent) or []
    ids = [p for p in planned if p.kind == "id" and p.required]
    if not ids:
        return None
    return all(recall_id(messages, p) is not None for p in ids)


def in_context(
    text: str,
    result: Classification,
    messages: Sequence[BaseMessage],
    *,
    spec: PlannerSpec,
    plans: PlansOf,
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
        intent = spec.intent(item.name)
        on[item.name] = _on_record(intent, messages, plans=plans) if intent is not None else None
    if not any(on.values()):
        return result  # nothing under discussion that these intents act on
    weight = {True: CONTEXT_WEIGHT, False: -CONTEXT_WEIGHT, None: 0.0}
    ranked = sorted(
        (replace(r, score=r.score + weight[on[r.name]]) for r in near),
        key=lambda r: r.score,
        reverse=True,
    )
    best, runner = ranked[0], ranked[1]
    chosen = spec.intent(best.name)
    if chosen is None or not on[best.name]:
        return result
    needed = max(spec.ambiguity_margin, chosen.min_margin or 0.0)
    if on[runner.name] and best.score - runner.score < needed:
        if same_call(spec, chosen, runner.name):
            return Classification(chosen, "act", ranked, result.out_of_scope_similarity)
        return Classification(None, "clarify", ranked, result.out_of_scope_similarity)
    return Classification(chosen, "act", ranked, result.out_of_scope_similarity)


def reading_the_rest(
    spec: PlannerSpec, text: str, chosen: IntentSpec | None, runner_up: str
) -> IntentSpec | None:
    """Of two intents that make the same call, the one that reads what is left of the
    amount from the record when the user asks for the rest ("whatever is left on pay_1"):
    the whole payment's amount would be too much once part of it was refunded."""
    other = spec.intent(runner_up)
    if other is None or not says_remaining_amount(text):
        return chosen
    if _reads_remaining(other) and not (chosen is not None and _reads_remaining(chosen)):
        return other
    return chosen


def same_call(spec: PlannerSpec, chosen: IntentSpec | None, runner_up: str) -> bool:
    """Two intents that call the same tool differ only in how the answer reads: asking
    which one is meant would end in the same call, so the nearer one acts."""
    other = spec.intent(runner_up)
    return (
        chosen is not None
        and other is not None
        and chosen.tool_name is not None
        and chosen.tool_name == other.tool_name
        and not chosen.min_margin
    )


def accepted_kinds(intent: IntentSpec, *, plans: PlansOf, today: date) -> set[str]:
    """The evidence kinds ``intent`` has a place for: its tool's slots and the ids of the
    records a slot is read from at a fixed field (:class:`~cockpit.planner.spec.RecordSource`),
    or for a handoff (no slots of its own) the kinds of values its examples carry, which the
    agent it hands to works with ("refund 15 EUR on pay_1" in the dispute agent is the copilot's)."""
    if intent.handoff is not None:
        return set(_examples_evidence(tuple(intent.examples), today))
    planned = plans(intent) or []
    picks = {PICKED} if any(p.hint and p.hint.from_list for p in planned) else set()
    # A slot read from a fixed field of a record takes that record's id too: "the chargeback
    # on pay_1" is the dispute the payment lists. A field that depends on another slot
    # ("entities.{kind}") does not: the record alone does not say which value is meant.
    records = [
        SlotPlan(name=p.hint.from_record.id, kind="id", required=False, schema={})
        for p in planned
        if p.hint is not None
        and p.hint.from_record is not None
        and "{" not in p.hint.from_record.field
    ]
    return accepted_evidence([*planned, *records]) | picks


def with_evidence(
    text: str,
    ranking: list[IntentScore],
    *,
    spec: PlannerSpec,
    plans: PlansOf,
    today: date,
) -> list[IntentScore]:
    """Nudge intents whose tool can use the values the utterance carries.

    A date range, an amount with a currency or a typed id (``dsp_…``) in the
    text is evidence for intents whose argument schema has a place for it,
    and against those that have none.
    """
    found = evidence(text, today)
    if find_pick(text, today) is not None:
        found.add(PICKED)  # "the one due first" names a record as an id would
    if not found:
        return ranking
    adjusted: list[IntentScore] = []
    for item in ranking:
        intent = spec.intent(item.name)
        accepts = accepted_kinds(intent, plans=plans, today=today) if intent is not None else set()
        bonus = EVIDENCE_WEIGHT * (len(found & accepts) - len(found - accepts))
        if intent is not None and intent.tool and _unusable_ids(found, accepts):
            # A request that names a record is about that record: a tool with no place
            # for it ("the deadline on dsp_1" read as the list of deadlines) is unlikely.
            bonus -= NAMED_RECORD_WEIGHT
        adjusted.append(replace(item, score=item.score + bonus))
    adjusted.sort(key=lambda r: r.score, reverse=True)
    return adjusted


@lru_cache(maxsize=256)
def _examples_evidence(examples: tuple[str, ...], today: date) -> frozenset[str]:
    """The evidence kinds (see :func:`evidence`) a list of example utterances carries."""
    return frozenset(kind for example in examples for kind in evidence(example, today))


def _unusable_ids(found: set[str], accepts: set[str]) -> bool:
    """Whether the utterance names a record id (``id:<prefix>`` evidence) a tool cannot take."""
    return any(kind.startswith("id:") for kind in found - accepts)


def _reads_remaining(intent: IntentSpec) -> bool:
    """Whether ``intent`` fills an amount with what remains of a record's when asked to."""
    return any(
        hint.from_record is not None and hint.from_record.when == "full_amount"
        for hint in intent.slots.values()
    )


__all__ = [
    "CONTEXT_WEIGHT",
    "CONTEXT_WINDOW",
    "EVIDENCE_WEIGHT",
    "NAMED_RECORD_WEIGHT",
    "PICKED",
    "Classification",
    "PlansOf",
    "accepted_kinds",
    "in_context",
    "reading_the_rest",
    "same_call",
    "with_evidence",
]
