"""The local planner: a deterministic, offline dialogue engine that is a LangChain chat model.

Give it a :class:`PlannerSpec` (intents with example utterances, slot hints
and answer templates), bind tools as usual, and it emits tool calls like an
LLM would: intent by nearest neighbours over sentence embeddings, arguments
from each tool's JSON schema, clarifying questions when unsure, answers
rendered from tool results with the spec's templates.

It chains only what the spec or the user spells out: a record read before the
slot that lives in it, the step an answer offered, the requests of a "first …,
then …" turn in order. It does not reason across tools or understand requests
unlike any example; it then asks or declines.
"""

from cockpit.planner.dialogue import STATE_KEY, Dialogue, PlannerState
from cockpit.planner.model import MODEL_NAME, LocalPlanner
from cockpit.planner.spec import (
    DEFAULT_OUT_OF_SCOPE_EXAMPLES,
    IntentSpec,
    OfferSpec,
    PlannerSpec,
    RecordSource,
    SlotHint,
)
from cockpit.planner.template import TemplateError, check_template, render

__all__ = [
    "DEFAULT_OUT_OF_SCOPE_EXAMPLES",
    "MODEL_NAME",
    "STATE_KEY",
    "Dialogue",
    "IntentSpec",
    "LocalPlanner",
    "OfferSpec",
    "PlannerSpec",
    "PlannerState",
    "RecordSource",
    "SlotHint",
    "TemplateError",
    "check_template",
    "render",
]
