"""What the thread says about records and requests: ids the user named, calls already made.

Plain readings of the message history that the dialogue policy decides with ("the same for
the other one", who handed a request on, what "it" means after an answer). They never decide
anything themselves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from cockpit.planner.context import message_text
from cockpit.planner.slots import ID_TOKEN, SlotPlan, id_matches
from cockpit.planner.state import last_index, state_of


def called_this_turn(messages: Sequence[BaseMessage], tool: str) -> bool:
    """Whether ``tool`` was called since the user's last message."""
    human = last_index(messages, HumanMessage)
    return any(
        isinstance(m, AIMessage) and any(c.get("name") == tool for c in m.tool_calls)
        for m in messages[(human or 0) :]
    )


def last_request(messages: Sequence[BaseMessage]) -> tuple[str, dict[str, Any]] | None:
    """The intent and arguments of the last call the planner made for a user's request."""
    for message in reversed(messages):
        if isinstance(message, AIMessage) and message.tool_calls:
            state = state_of(message)
            if state is not None and state.intent and state.pending != "record":
                return state.intent, dict(message.tool_calls[0]["args"])
    return None


def said_ids(messages: Sequence[BaseMessage]) -> set[str]:
    """The record ids the user named in the thread."""
    said: set[str] = set()
    for message in messages:
        if isinstance(message, HumanMessage):
            said |= ids_in(message_text(message))
    return said


def used_ids(messages: Sequence[BaseMessage], tool: str | None) -> set[str]:
    """The record ids calls of ``tool`` were made with."""
    return {
        str(value)
        for message in messages
        if isinstance(message, AIMessage)
        for call in message.tool_calls
        if call["name"] == tool
        for value in entities_of(call["args"]).values()
    }


def handed_by(messages: Sequence[BaseMessage], query: str) -> frozenset[str]:
    """The agents (by their messages' names) that handed ``query`` on since the user's last
    message; an agent without planner state (an LLM) hands the whole message on."""
    start = last_index(messages, HumanMessage) or 0
    names: set[str] = set()
    for message in messages[start:]:
        if not isinstance(message, AIMessage) or not message.name:
            continue
        if not any(str(c.get("name", "")).startswith("transfer_to_") for c in message.tool_calls):
            continue
        state = state_of(message)
        if state is None or not state.query or state.query == query:
            names.add(message.name)
    return frozenset(names)


def ids_in(text: str) -> set[str]:
    return {m.group(0) for m in ID_TOKEN.finditer(text) if any(ch.isdigit() for ch in m.group(0))}


def entities_of(args: Mapping[str, Any]) -> dict[str, Any]:
    """The ids a call was about (``dispute_id``, ``payment_id``…): what "it" means next."""
    return {
        key: value
        for key, value in args.items()
        if isinstance(value, str)
        and (key == "id" or key.endswith("_id"))
        and ID_TOKEN.fullmatch(value) is not None
    }


def carried_id(plan: SlotPlan, carry: Mapping[str, Any]) -> str | None:
    """The carried id for ``plan``: under its own name, else the only one of its shape."""
    named = carry.get(plan.name)
    if isinstance(named, str) and id_matches(plan, named):
        return named
    shaped = {v for v in carry.values() if isinstance(v, str) and id_matches(plan, v)}
    return shaped.pop() if len(shaped) == 1 else None


def handed_part(
    messages: Sequence[BaseMessage], call_message: AIMessage | None
) -> tuple[str, list[str]] | None:
    """The request another planner-driven agent handed over, and the rest of the turn
    queued after it: the whole turn when that agent routed it whole, only its part when it
    split the turn ("show my disputes, then my success rate": the dispute agent lists the
    disputes and hands over just the success rate). Re-reading the whole turn instead made
    a turn spanning two agents bounce between them. None (an agent without planner state,
    e.g. an LLM): read the user's last message."""
    state = state_of(call_message) if call_message is not None else None
    if state is None or not state.query or last_index(messages, HumanMessage) is None:
        return None
    return state.query, list(state.queue)


__all__ = [
    "called_this_turn",
    "carried_id",
    "entities_of",
    "handed_by",
    "handed_part",
    "ids_in",
    "last_request",
    "said_ids",
    "used_ids",
]
