"""``PlannerSpec``: what the local planner knows about one agent (part of its AgentSpec).

It crosses a trust boundary (partners write it in YAML), so it is pydantic and
every template is checked by the safe renderer at load time; an error names
the exact field (``intents.2.responses.ok``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cockpit.planner.template import TemplateError, check_template, placeholder_findings

SlotKind = Literal[
    "id",
    "amount",
    "currency",
    "date",
    "start_date",
    "end_date",
    "days",
    "market",
    "payment_method",
    "enum",
    "integer",
    "number",
    "text",
    "query",
    "boolean",
]

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_TOOL = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,127}$")

DEFAULT_OUT_OF_SCOPE_EXAMPLES: tuple[str, ...] = (
    "what's the weather like tomorrow",
    "tell me a joke",
    "who won the football match last night",
    "write me a poem about the sea",
    "what is the capital of France",
    "recommend a good restaurant nearby",
    "can you book me a flight to Tokyo",
    "what is the meaning of life",
    "help me with my homework",
    "play some music",
    "translate this sentence into Spanish",
    "what do you think about the election",
    "give me a recipe for lasagna",
    "how tall is Mount Everest",
    "write a python script that sorts a list",
    "what's your favourite movie",
    "what is the price of bitcoin today",
    "send money to my friend",
    "help me file my tax return",
    "open a personal bank account",
    "change my login password",
    "cancel my streaming subscription",
)


def _check(template: str | None) -> str | None:
    if template is not None:
        try:
            check_template(template)
        except TemplateError as exc:
            raise ValueError(str(exc)) from None
    return template


_FIELD_PATH = r"^(?:[A-Za-z0-9_]+|\{[a-z][a-z0-9_]*\})(?:\.(?:[A-Za-z0-9_]+|\{[a-z][a-z0-9_]*\}))*$"
"""A dotted path; a ``{slot}`` segment is that slot's value (``entities.{kind}``)."""


class RecordSource(BaseModel):
    """Where a slot's value lives in a record the planner can read first.

    "Block the device used on pay_1": the block tool needs a device id, the
    payment record has it. When the slot is missing and the record's id is known
    (in the utterance, or referred back to in the thread), the planner reads the
    record with ``tool`` (if that tool is bound) and fills the slot from ``field``
    of its result, then goes on with the original request — no extra user turn.
    A read already in the thread for the same record is reused.
    """

    model_config = ConfigDict(extra="forbid")

    tool: str = Field(pattern=_TOOL.pattern)
    """The read tool (``payments_get_payment``)."""
    id: str = Field(pattern=_NAME.pattern)
    """Slot name of the record's id (``payment_id``): read from the utterance or the thread
    by its shape (the ``pay_`` prefix), whether or not the intent's own tool has that slot."""
    field: str = Field(pattern=_FIELD_PATH)
    """Dotted path of the value in the read tool's result (``deviceId``,
    ``paymentAmount.currency``). A ``{slot}`` segment is the value of another slot of the
    intent (``entities.{kind}``: "block the card / device used on pay_1" reads the kind named);
    until that slot is filled, the record is not read."""
    arg: str | None = Field(default=None, pattern=_NAME.pattern)
    """The read tool's argument that takes the id, when it is not named ``id``'s name."""
    when: Literal["missing", "full_amount"] = "missing"
    """``missing``: whenever the slot is not given. ``full_amount``: only when the user asked
    for the whole amount ("in full", "the rest") — an amount slot's remaining balance."""


class ListSource(BaseModel):
    """A record picked from a list by its date ("the one due first", "whichever is due today").

    When the slot is missing and the request makes such a pick (:mod:`cockpit.planner.picks`),
    the id is taken from the latest result of ``tool`` in the thread whose call agrees with
    ``args``; with none, the planner calls ``tool`` with ``args`` first, then goes on.
    """

    model_config = ConfigDict(extra="forbid")

    tool: str = Field(pattern=_TOOL.pattern)
    """The list tool (``payments_list_disputes``)."""
    args: dict[str, Any] = Field(default_factory=dict)
    """Arguments of the list call (``{status: NEEDS_RESPONSE}``: only the open ones)."""
    items: str = Field(pattern=_FIELD_PATH)
    """Dotted path of the list in the result (``disputes``)."""
    id: str = Field(pattern=_FIELD_PATH)
    """The id field of an item (``disputeId``)."""
    date: str = Field(pattern=_FIELD_PATH)
    """The item's date field the pick orders by (``defenseDueTime``)."""


class OfferSpec(BaseModel):
    """The next step an answer proposes ("Say 'submit it' to send this draft").

    After such an answer a plain yes ("ok do it", "go ahead", "yes send it") runs
    ``intent`` on the same record (its ids are carried over), and a short reply
    about "it" prefers ``intent`` when it is about as likely as the best reading.
    """

    model_config = ConfigDict(extra="forbid")

    intent: str = Field(pattern=_NAME.pattern)
    """Name of the intent offered (in the same spec)."""
    outcomes: list[str] = Field(default_factory=list)
    """Outcomes whose answer makes the offer; empty: every outcome except ``error``,
    ``empty`` and ``approval_rejected``."""


class SlotHint(BaseModel):
    """How to fill one argument of the intent's tool (all optional: the schema says most)."""

    model_config = ConfigDict(extra="forbid")

    kind: SlotKind | None = None
    """Override the kind inferred from the argument's JSON schema and name."""
    pattern: str | None = None
    """Regular expression an id must match in full (e.g. ``pay_[A-Za-z0-9]+``)."""
    synonyms: dict[str, list[str]] = Field(default_factory=dict)
    """Enum value -> phrases that mean it (``open: [pending, unresolved]``)."""
    prompt: str | None = None
    """The question asked when this slot is required and missing."""
    default: Any = None
    """Value used when the user does not say (the slot then never needs asking)."""
    required: bool | None = None
    """Override whether the slot must be filled before the tool is called."""
    default_currency: str | None = None
    """For amounts: currency assumed when the user names none."""
    from_result: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_]+\.[A-Za-z0-9_.]+$")
    """``<tool>.<dotted.path>``: take the value from that tool's latest successful result in
    the thread (when its call agrees on every id already filled); applies before ``default``."""
    from_record: RecordSource | None = None
    """Read the value from a record, calling its read tool first when needed (see
    :class:`RecordSource`); applies after ``from_result`` and before ``default``."""
    from_list: ListSource | None = None
    """For an id: the record a pick names ("the one due first"), from a list (see
    :class:`ListSource`); applies after ``from_result``."""
    by_shape: dict[str, dict[str, str]] = Field(default_factory=dict)
    """For an enum slot: ``{other slot: {value: regex}}`` — when the other slot's value fully
    matches a value's regex, that value is meant, whatever other words say ("block ip X
    because of card testing", "is ring_1 in a ring": the id's shape names its kind)."""

    @field_validator("by_shape")
    @classmethod
    def _shapes(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        for shapes in value.values():
            for regex in shapes.values():
                try:
                    re.compile(regex)
                except re.error as exc:
                    raise ValueError(f"invalid regular expression: {exc}") from None
        return value

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regular expression: {exc}") from None
        return value

    @field_validator("prompt")
    @classmethod
    def _prompt(cls, value: str | None) -> str | None:
        return _check(value)


class IntentSpec(BaseModel):
    """One thing the agent can do: examples to recognise it, and what to do about it."""

    model_config = ConfigDict(extra="forbid")

    name: str
    """snake_case id, unique in the spec."""
    description: str = ""
    """One line; shown in clarifying questions ("Did you mean: <description>?")."""
    examples: list[str] = Field(min_length=1)
    """Example utterances. Paraphrases are recognised by meaning, not by exact match."""
    tool: str | None = None
    """Registry name of the tool to call (also ``transfer_to_<agent>``)."""
    handoff: str | None = None
    """Agent id to hand over to; the planner calls ``transfer_to_<handoff>``."""
    answer: str | None = None
    """Template of a direct answer when the intent needs no tool."""
    slots: dict[str, SlotHint] = Field(default_factory=dict)
    """Hints per tool argument name."""
    responses: dict[str, str] = Field(default_factory=dict)
    """Answer templates by outcome: ``ok``, ``error``, ``approval_rejected``, ``empty``…"""
    min_margin: float | None = Field(default=None, ge=0.0, le=1.0)
    """Act only when this intent leads the runner-up by at least this much (else ask): for
    writes that cannot be undone, where a near tie should be a question, not a guess."""
    offer: OfferSpec | None = None
    """The next intent this intent's answer proposes (draft -> submit); see
    :class:`OfferSpec`."""
    each: str | None = Field(default=None, pattern=_NAME.pattern)
    """An id slot that a request may fill with several records ("accept both dsp_1 and
    dsp_2"): the intent then runs once per record named, in order, each with its own call
    (and approval)."""
    cues: list[str] = Field(default_factory=list)
    """Regular expressions (case-insensitive) for wording that tells this intent apart from a
    look-alike whose examples share its words: direction ("lift the ban" is a release, not a
    block), mood ("if we …, what would …" is a what-if, not a change). A request matching one
    ranks this intent higher and the other intents with cues lower (:mod:`cockpit.planner.cues`)."""

    @field_validator("cues")
    @classmethod
    def _cues(cls, value: list[str]) -> list[str]:
        for cue in value:
            try:
                re.compile(cue)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {cue!r}: {exc}") from None
        return value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("must be snake_case: lower-case letters, digits and _")
        return value

    @field_validator("examples")
    @classmethod
    def _examples(cls, value: list[str]) -> list[str]:
        cleaned = [v.strip() for v in value]
        if any(not v for v in cleaned):
            raise ValueError("examples must not be empty strings")
        return cleaned

    @field_validator("tool")
    @classmethod
    def _tool(cls, value: str | None) -> str | None:
        if value is not None and not _TOOL.match(value):
            raise ValueError("must be a tool registry name")
        return value

    @field_validator("handoff")
    @classmethod
    def _handoff(cls, value: str | None) -> str | None:
        if value is not None and not _NAME.match(value):
            raise ValueError("must be an agent id (snake_case)")
        return value

    @field_validator("answer")
    @classmethod
    def _answer(cls, value: str | None) -> str | None:
        return _check(value)

    @field_validator("responses")
    @classmethod
    def _responses(cls, value: dict[str, str]) -> dict[str, str]:
        for outcome, template in value.items():
            if not _NAME.match(outcome):
                raise ValueError(f"outcome {outcome!r} must be snake_case")
            try:
                check_template(template)
            except TemplateError as exc:
                raise ValueError(f"{outcome}: {exc}") from None
        return value

    @model_validator(mode="after")
    def _one_action(self) -> IntentSpec:
        actions = [a for a in (self.tool, self.handoff, self.answer) if a is not None]
        if len(actions) != 1:
            raise ValueError("an intent needs exactly one of: tool, handoff, answer")
        return self

    @property
    def tool_name(self) -> str | None:
        """The tool this intent calls (handoffs call ``transfer_to_<agent>``)."""
        if self.handoff is not None:
            return f"transfer_to_{self.handoff}"
        return self.tool


class PlannerSpec(BaseModel):
    """The local planner's configuration for one agent."""

    model_config = ConfigDict(extra="forbid")

    intents: list[IntentSpec] = Field(default_factory=list)
    """What the agent can do, each with example utterances (see :class:`IntentSpec`)."""
    clarify_threshold: float = Field(default=0.36, ge=0.0, le=1.0)
    """Below this confidence the planner asks a clarifying question instead of acting."""
    out_of_scope_threshold: float = Field(default=0.30, ge=0.0, le=1.0)
    """Below this confidence the request is treated as out of scope."""
    scope_gap: float = Field(default=0.15, ge=0.0, le=1.0)
    """Act below ``clarify_threshold`` when the nearest example is at least this much
    more similar than the nearest out-of-scope example (a clearly in-scope request)."""
    ambiguity_margin: float = Field(default=0.02, ge=0.0, le=1.0)
    """If the top two intents are closer than this, ask which one was meant."""
    out_of_scope_examples: list[str] = Field(
        default_factory=lambda: list(DEFAULT_OUT_OF_SCOPE_EXAMPLES)
    )
    """Requests the agent should decline; nearest-neighbour evidence for "out of scope"."""
    clarify_template: str = "I'm not sure I understood. Did you want to {options}?"
    """Asked when no intent is clear enough; ``{options}`` lists the likely ones."""
    out_of_scope_template: str = (
        "Sorry, I can't help with that here. I can help you {capabilities}."
    )
    """Said to an out-of-scope request; ``{capabilities}`` lists the intents' descriptions."""
    missing_slot_template: str = "To {intent}, I need {missing}."
    """Asked when a required argument is missing and its slot has no ``prompt``."""
    unavailable_template: str = "Sorry, I can't do that in this conversation."
    """Said when the intent's tool is not bound for this caller (its role may not run it)."""
    handoff_template: str = "I'm passing you to the {agent} agent."
    """Said when the conversation is handed to another agent."""
    cancel_template: str = "OK, I've cancelled that. What else can I help with?"
    """Said when the user calls off what was being asked ("never mind")."""
    greeting_template: str = "Hello! I can help you {capabilities}."
    """The answer to a greeting."""
    thanks_template: str = "You're welcome! Anything else I can help with?"
    """The answer to thanks."""
    error_template: str = "Sorry, that didn't work: {error}."
    """Said when a tool fails and the intent has no ``error`` response."""
    approval_rejected_template: str = "The request was not approved, so nothing was changed."
    """Said when a human rejects the call the intent asked for."""
    offer_declined_template: str = "OK, I'll leave it there. Anything else I can help with?"
    """Said when the user turns down what the last answer offered ("no, not yet")."""
    default_currency: str | None = None
    """Currency assumed for amounts when the user names none (``None``: ask)."""
    affirmations: list[str] = Field(default_factory=list)
    """Extra words or phrases that accept an offer (``"gas"``, ``"boleh"``), besides the
    built-in English ones (yes, ok, go ahead, do it…)."""
    split_requests: bool = True
    """Read "first A, then B" / "A and also B" as two requests when each part is clearly one
    on its own: the first runs, the rest follow in the same turn."""
    glossaries: list[str] = Field(
        default_factory=list,
        max_length=8,
        json_schema_extra={"items": {"pattern": r"^[a-z_][a-z0-9_.]*:[A-Za-z0-9_-]+\.ya?ml$"}},
    )
    """Glossaries for requests in other languages, as ``package:file.yaml`` shipped in a
    package (``tools.payments:planner_lexicon.yaml``); see :mod:`cockpit.planner.languages`.
    Without any, a request that is not in English gets a reply saying so, and no tool call."""

    @field_validator(
        "clarify_template",
        "out_of_scope_template",
        "missing_slot_template",
        "unavailable_template",
        "handoff_template",
        "cancel_template",
        "greeting_template",
        "thanks_template",
        "error_template",
        "approval_rejected_template",
        "offer_declined_template",
    )
    @classmethod
    def _templates(cls, value: str) -> str:
        _check(value)
        return value

    @field_validator("intents")
    @classmethod
    def _unique(cls, value: list[IntentSpec]) -> list[IntentSpec]:
        seen: set[str] = set()
        for intent in value:
            if intent.name in seen:
                raise ValueError(f"duplicate intent name {intent.name!r}")
            seen.add(intent.name)
        return value

    @model_validator(mode="after")
    def _thresholds(self) -> PlannerSpec:
        if self.out_of_scope_threshold > self.clarify_threshold:
            raise ValueError("out_of_scope_threshold must not exceed clarify_threshold")
        return self

    @model_validator(mode="after")
    def _offers(self) -> PlannerSpec:
        names = {i.name for i in self.intents}
        for intent in self.intents:
            if intent.offer is not None and intent.offer.intent not in names:
                raise ValueError(
                    f"intent {intent.name!r} offers {intent.offer.intent!r}, which is not an "
                    "intent of this spec"
                )
        return self

    def intent(self, name: str) -> IntentSpec | None:
        return next((i for i in self.intents if i.name == name), None)

    def template_findings(self) -> list[str]:
        """Templates that would show a bare ``-``, ``n/a`` or ``none (-)`` where a sentence
        should say that the data is missing: ``"intents.2.responses.ok: …"`` per finding.

        Not a load error (existing specs keep loading); spec tests and the agent checks
        report these so their owners rewrite them with ``{[ … ]}`` sections or a worded
        default."""
        found: list[str] = []
        for name in type(self).model_fields:
            value = getattr(self, name)
            if name.endswith("_template") and isinstance(value, str):
                found += [f"{name}: {f}" for f in placeholder_findings(value)]
        for i, intent in enumerate(self.intents):
            templates = {f"responses.{k}": v for k, v in intent.responses.items()}
            if intent.answer is not None:
                templates["answer"] = intent.answer
            for where, template in templates.items():
                found += [f"intents.{i}.{where}: {f}" for f in placeholder_findings(template)]
        return found


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


__all__ = [
    "DEFAULT_OUT_OF_SCOPE_EXAMPLES",
    "IntentSpec",
    "ListSource",
    "OfferSpec",
    "PlannerSpec",
    "RecordSource",
    "SlotHint",
    "SlotKind",
    "derive_spec",
]
