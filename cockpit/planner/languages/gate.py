"""What the local planner does with a message that is not in English.

The English dialogue engine stays as it is; this gate sits in front of it and
behind it, once per turn:

* **before** — detect each human message's language (a short reply such as an id
  or "ok" keeps the thread's language); translate messages in a language the
  agent's glossaries cover into canonical English. A request in a language they
  do not cover, one that is mostly not understood (coverage below
  :data:`MIN_COVERAGE`), or a new request with no topic phrase and words left
  over, gets a plain reply that says which languages and topics are supported —
  the dialogue never sees it, so no tool is called.
* **after** — a WRITE call that came from a translated request runs only when
  every message of that request was understood (coverage at least
  :data:`WRITE_COVERAGE`, no negation): otherwise the planner shows, in English,
  what it understood and asks for a "yes" first; the yes replays exactly that
  call. Text answers open with a short note naming the language and the topics.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Final

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolCall, ToolMessage

from cockpit.planner.context import PLANNER_KEY, message_text
from cockpit.planner.languages.glossary import (
    Lexicon,
    Translation,
    compile_lexicons,
    english_vocabulary,
)
from cockpit.planner.languages.profiles import (
    ENGLISH,
    UNKNOWN,
    Detector,
    LanguageDef,
    core_data,
)
from cockpit.planner.languages.text import fold
from cockpit.planner.slots import plan_slots
from cockpit.planner.spec import IntentSpec, PlannerSpec
from cockpit.planner.template import render

#: Below this share of understood words a translated message is not acted on at all.
MIN_COVERAGE: Final = 0.5
#: A WRITE call from a translated request needs this much of each of its messages understood.
WRITE_COVERAGE: Final = 0.85
#: Key on the planner's own AIMessage that holds a call waiting for the merchant's "yes".
CONFIRM_KEY: Final = "cockpit_language"
_NEGATION = re.compile(r"\b(?:not|do not|don't|never|no)\b", re.I)
_HANDOFF = "transfer_to_"


@dataclass
class Turn:
    """The gate's reading of one turn."""

    messages: list[BaseMessage]
    """The history the dialogue should see (translated; a confirmed call's text replayed)."""
    language: LanguageDef | None = None
    """The language of the current request when it is not English."""
    reply: AIMessage | None = None
    """Set when the gate answers the turn itself (the dialogue is not asked)."""
    request: list[Translation] = field(default_factory=list)
    """Translations of the messages that make up the current request (newest first)."""
    english_request: str = ""


class LanguageGate:
    """The per-agent language policy: built once per planner (glossaries compiled, cached)."""

    def __init__(self, spec: PlannerSpec) -> None:
        self.spec = spec
        texts: list[str] = list(spec.out_of_scope_examples)
        for intent in spec.intents:
            texts += [*intent.examples, intent.description]
        vocabulary = english_vocabulary(texts)
        self.lexicons: dict[str, Lexicon] = compile_lexicons(
            tuple(getattr(spec, "glossaries", ()) or ()), vocabulary
        )
        for lexicon in self.lexicons.values():
            vocabulary |= lexicon.english_out
        self.detector = Detector(
            vocabulary, {code: lexicon.words for code, lexicon in self.lexicons.items()}
        )
        english_yes = ("yes", "ok", "okay", "sure", "go ahead", "confirm", "do it", "yes please")
        self._yes: dict[str, frozenset[str]] = {
            lang.code: frozenset(fold(y) for y in (*lang.yes, *english_yes))
            for lang in core_data().languages
        }
        self._translate = lru_cache(maxsize=2048)(self._translate_uncached)

    # ----- before the dialogue -----------------------------------------------------------
    def read(self, messages: Sequence[BaseMessage], tool_names: Iterable[str]) -> Turn:
        """Detect, translate, and decide whether the dialogue may see this turn."""
        codes = self._languages(messages)
        rewritten: list[BaseMessage] = []
        translations: dict[int, Translation] = {}
        for index, message in enumerate(messages):
            code = codes.get(index)
            if code is not None and code in self.lexicons:
                translation = self._translate(code, message_text(message))
                translations[index] = translation
                rewritten.append(message.model_copy(update={"content": translation.text}))
            else:
                rewritten.append(message)
        human = _last_index(messages, HumanMessage)
        code = codes.get(human) if human is not None else None
        turn = Turn(messages=rewritten)
        if human is None or code in (None, ENGLISH):
            return turn
        turn.language = core_data().language(code) if code != UNKNOWN else None
        chain = _request_chain(messages, human)
        turn.request = [translations[i] for i in chain if i in translations]
        if human in translations:
            turn.english_request = translations[human].text
        if not _human_turn(messages, set(tool_names)):
            return turn
        confirmed = self._confirmed(messages, human, code)
        if confirmed is not None:
            turn.reply = confirmed
            return turn
        if code not in self.lexicons:
            turn.reply = _plain(self._unsupported(turn.language))
            return turn
        current = translations[human]
        pending = len(chain) > 1 or _confirming(messages, human)
        if current.coverage < MIN_COVERAGE or (
            not current.topics and current.coverage < 1.0 and not pending
        ):
            turn.reply = _plain(self._off_topic(turn.language))
        return turn

    # ----- after the dialogue ------------------------------------------------------------
    def finish(
        self, turn: Turn, reply: AIMessage, tools: Sequence[Mapping[str, Any]] = ()
    ) -> AIMessage:
        """Hold back a WRITE from a partly understood request; open answers with the note.
        Free text of a call (``tools``: their schemas) keeps the merchant's own words."""
        language = turn.language
        if reply is turn.reply or language is None or language.code not in self.lexicons:
            return reply
        if reply.tool_calls:
            reply = self._in_own_words(turn, reply, tools)
            writes = [c for c in reply.tool_calls if _is_write(c["name"])]
            if writes and not self._understood(turn):
                return self._ask_to_confirm(turn, reply)
            return reply
        if not isinstance(reply.content, str):
            return reply
        note = self.note(language)
        if reply.content.startswith(note):
            return reply
        return reply.model_copy(update={"content": f"{note} {reply.content}".strip()})

    def note(self, language: LanguageDef) -> str:
        """The short opening of every answer to a request in ``language``."""
        topics = _join(self.lexicons[language.code].topics)
        lead = f"{language.answering} — " if language.answering else ""
        return (
            f"({lead}Answering in English: I understand {language.name} requests about {topics}.)"
        )

    # ----- helpers -----------------------------------------------------------------------
    def _translate_uncached(self, code: str, text: str) -> Translation:
        return self.lexicons[code].translate(text)

    def _languages(self, messages: Sequence[BaseMessage]) -> dict[int, str]:
        """Language per human message; an undecided one keeps the thread's language."""
        codes: dict[int, str] = {}
        thread = ENGLISH
        for index, message in enumerate(messages):
            if not isinstance(message, HumanMessage):
                continue
            detection = self.detector.detect(message_text(message))
            if detection.decided:
                thread = detection.code
            codes[index] = thread
        return codes

    def _in_own_words(
        self, turn: Turn, reply: AIMessage, tools: Sequence[Mapping[str, Any]]
    ) -> AIMessage:
        """A free-text argument (a block's reason, a note) as the merchant wrote it, not the
        English the dialogue read it in: the audit trail keeps what they said."""
        state = reply.additional_kwargs.get(PLANNER_KEY)
        name = state.get("intent") if isinstance(state, Mapping) else None
        intent = self.spec.intent(name) if isinstance(name, str) else None
        calls: list[ToolCall] = []
        for call in reply.tool_calls:
            args = dict(call["args"])
            for arg in _free_text(call["name"], intent, tools):
                value = args.get(arg)
                if not isinstance(value, str) or len(value.split()) < 2:
                    continue
                found = (t.original_of(value) for t in turn.request)
                args[arg] = next((o for o in found if o is not None), value)
            calls.append({**call, "args": args})
        return reply.model_copy(update={"tool_calls": calls})

    def _understood(self, turn: Turn) -> bool:
        for translation in turn.request:
            if translation.coverage < WRITE_COVERAGE or _NEGATION.search(translation.text):
                return False
        return True

    def _ask_to_confirm(self, turn: Turn, reply: AIMessage) -> AIMessage:
        assert turn.language is not None
        call = reply.tool_calls[0]
        state = reply.additional_kwargs.get(PLANNER_KEY)
        intent_name = state.get("intent") if isinstance(state, Mapping) else None
        intent = self.spec.intent(intent_name) if isinstance(intent_name, str) else None
        action = (intent.description if intent and intent.description else call["name"]).strip()
        action = action[:1].lower() + action[1:].rstrip(".")
        details = _describe_args(call["args"])
        text = (
            f"{self.note(turn.language)} I read your request as “{turn.english_request}”, "
            f"which would {action}{f' ({details})' if details else ''}. I'm not sure I understood "
            "all of it, so I haven't done anything yet: reply “yes” to go ahead with exactly "
            "that, or write the request in English."
        )
        pending = {"v": 1, "call": {"name": call["name"], "args": call["args"]}, "state": state}
        return AIMessage(content=text, additional_kwargs={CONFIRM_KEY: pending})

    def _confirmed(
        self, messages: Sequence[BaseMessage], human: int, code: str
    ) -> AIMessage | None:
        """The held-back call, when the merchant answers the confirmation with a yes."""
        previous = _last_index(messages[:human], AIMessage)
        if previous is None:
            return None
        pending = messages[previous].additional_kwargs.get(CONFIRM_KEY)
        if not isinstance(pending, Mapping) or not isinstance(pending.get("call"), Mapping):
            return None
        said = re.sub(r"[^\w\s]", " ", fold(message_text(messages[human]))).split()
        yes = self._yes.get(code, self._yes.get("id", frozenset()))
        if not said or len(said) > 4 or not (" ".join(said) in yes or said[0] in yes):
            return None
        call = pending["call"]
        name = str(call.get("name"))
        digest = hashlib.sha256()
        for message in messages:
            digest.update(message.type.encode() + message_text(message).encode() + b"\x00")
        digest.update(name.encode())
        state = pending.get("state")
        return AIMessage(
            content="",
            tool_calls=[
                {
                    "name": name,
                    "args": dict(call.get("args") or {}),
                    "id": "call_" + digest.hexdigest()[:24],
                    "type": "tool_call",
                }
            ],
            additional_kwargs={PLANNER_KEY: state} if isinstance(state, Mapping) else {},
        )

    def _supported(self) -> str:
        names = [core_data().language(c) for c in self.lexicons]
        listed = [lang.name for lang in names if lang is not None]
        if not listed:
            return "I understand requests in English only"
        topics = _join(_topics(self.lexicons.values()))
        return f"I understand English, and requests about {topics} in {_join(listed)}"

    def _unsupported(self, language: LanguageDef | None) -> str:
        what = f"{language.english} ({language.name})" if language else "this language"
        if language is not None and language.english in language.name:
            what = language.name
        return (
            f"Sorry, I can't read {what} here, so I haven't done anything. "
            f"{self._supported()}. Please write your request in one of these."
        )

    def _off_topic(self, language: LanguageDef | None) -> str:
        assert language is not None
        topics = _join(self.lexicons[language.code].topics)
        return (
            f"Sorry, I couldn't understand this request in {language.name}, so I haven't done anything. In {language.name} I understand "
            f"requests about {topics}; for anything else, please write in English."
        )


def _free_text(
    tool: str, intent: IntentSpec | None, tools: Sequence[Mapping[str, Any]]
) -> list[str]:
    """The arguments of ``tool`` that take free text (no enum, pattern or synonyms)."""
    for schema in tools:
        function = schema.get("function", schema)
        if isinstance(function, Mapping) and function.get("name") == tool:
            hints = intent.slots if intent is not None and intent.tool_name == tool else {}
            plans = plan_slots(function.get("parameters") or {}, hints)
            return [
                p.name
                for p in plans
                if p.kind == "text"
                and p.enum is None
                and not (p.hint and (p.hint.pattern or p.hint.synonyms))
            ]
    return []


def _plain(text: str) -> AIMessage:
    return AIMessage(content=text, additional_kwargs={PLANNER_KEY: {"v": 1}})


def _topics(lexicons: Iterable[Lexicon]) -> list[str]:
    seen: list[str] = []
    for lexicon in lexicons:
        seen += [t for t in lexicon.topics if t not in seen]
    return seen


def _join(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _describe_args(args: Mapping[str, Any]) -> str:
    parts: list[str] = []
    currency = args.get("currency")
    for key, value in args.items():
        if key == "currency" and "amount" in args:
            continue
        if key == "amount" and currency:
            parts.append(f"amount {render('{amount|money:currency}', args)}")
        elif value not in (None, "", [], {}):
            parts.append(f"{key.replace('_', ' ')} {value}")
    return ", ".join(parts)


def _last_index(messages: Sequence[BaseMessage], kind: type[BaseMessage]) -> int | None:
    for index in range(len(messages) - 1, -1, -1):
        if isinstance(messages[index], kind):
            return index
    return None


def _request_chain(messages: Sequence[BaseMessage], human: int) -> list[int]:
    """The human messages that make up the current request: while the planner's message
    before one was a question (slots or clarify), the message before that belongs too."""
    chain = [human]
    index = human
    while True:
        ai = _last_index(messages[:index], AIMessage)
        if ai is None:
            return chain
        state = messages[ai].additional_kwargs.get(PLANNER_KEY)
        if not (isinstance(state, Mapping) and state.get("pending")):
            return chain
        before = _last_index(messages[:ai], HumanMessage)
        if before is None:
            return chain
        chain.append(before)
        index = before


def _confirming(messages: Sequence[BaseMessage], human: int) -> bool:
    previous = _last_index(messages[:human], AIMessage)
    return previous is not None and CONFIRM_KEY in messages[previous].additional_kwargs


def _human_turn(messages: Sequence[BaseMessage], tool_names: set[str]) -> bool:
    """Whether the dialogue will answer a human request now (not render a tool result)."""
    if not messages:
        return False
    last = messages[-1]
    if isinstance(last, HumanMessage):
        return True
    if not isinstance(last, ToolMessage):
        return False
    name = last.name or ""
    for message in reversed(messages):
        if isinstance(message, AIMessage):
            for call in message.tool_calls:
                if call.get("id") == last.tool_call_id:
                    name = call["name"]
    # Handed the conversation by another agent: this agent answers the human's request.
    return name.startswith(_HANDOFF) and name not in tool_names


def _is_write(name: str) -> bool:
    """WRITE per the tool registry; a tool the registry does not know counts as a write."""
    if name.startswith(_HANDOFF):
        return False
    from cockpit.toolkit import ToolKind, default_registry

    if name not in default_registry:
        return True
    return default_registry.get(name).kind is ToolKind.WRITE


__all__ = ["CONFIRM_KEY", "MIN_COVERAGE", "WRITE_COVERAGE", "LanguageGate", "Turn"]
