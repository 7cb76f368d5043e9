"""What the planner was doing, as it rides on its own AIMessages, and the messages that carry it.

The planner keeps no state of its own: its intent, the slots filled so far and what it asked
live under ``additional_kwargs["cockpit_planner"]`` of the messages it wrote. This module reads
and writes that record; it must never decide what to say.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage

from cockpit.planner.context import PLANNER_KEY, message_text

STATE_KEY = PLANNER_KEY
STATE_VERSION = 1


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


def state_of(message: AIMessage) -> PlannerState | None:
    return PlannerState.load(message.additional_kwargs.get(STATE_KEY))


def with_state(message: AIMessage, state: PlannerState) -> AIMessage:
    return AIMessage(
        content=message.content,
        tool_calls=message.tool_calls,
        additional_kwargs={**message.additional_kwargs, STATE_KEY: state.dump()},
    )


def joined(first: AIMessage, then: AIMessage) -> AIMessage:
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


def calling(
    name: str, args: dict[str, Any], messages: Sequence[BaseMessage], state: PlannerState
) -> AIMessage:
    """A message that calls tool ``name`` with ``args``, with ``state`` on it."""
    return AIMessage(
        content="",
        tool_calls=[
            {"name": name, "args": args, "id": _call_id(messages, name), "type": "tool_call"}
        ],
        additional_kwargs={STATE_KEY: state.dump()},
    )


def last_index(messages: Sequence[BaseMessage], kind: type[BaseMessage]) -> int | None:
    for index in range(len(messages) - 1, -1, -1):
        if isinstance(messages[index], kind):
            return index
    return None


def find_call(
    messages: Sequence[BaseMessage], call_id: str
) -> tuple[AIMessage | None, dict[str, Any] | None]:
    for message in reversed(messages):
        if isinstance(message, AIMessage):
            for call in message.tool_calls:
                if call.get("id") == call_id:
                    return message, dict(call)
    return None, None


def state_before(messages: Sequence[BaseMessage], human_index: int) -> PlannerState | None:
    """The state on the planner's last message before the user's message at ``human_index``."""
    ai_index = last_index(messages[:human_index], AIMessage)
    if ai_index is None:
        return None
    return PlannerState.load(messages[ai_index].additional_kwargs.get(STATE_KEY))


__all__ = [
    "STATE_KEY",
    "STATE_VERSION",
    "PlannerState",
    "calling",
    "find_call",
    "joined",
    "last_index",
    "state_before",
    "state_of",
    "with_state",
]
