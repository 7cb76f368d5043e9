"""What the conversation already said: references back ("that payment") and earlier results.

The planner is stateless; the thread is its memory. Two lookups read it, newest
message first:

* :func:`recall_id` — a required id slot the user refers back to ("refund *it*",
  "the same dispute") takes the most recent value of that id's shape, unless the
  latest message that holds any such value holds several different ones (a list
  of payments): then the reference is ambiguous and the planner asks.
* :func:`recall_result` — a slot with ``from_result: tool.path`` takes that path
  of the tool's latest successful result, provided the call that produced it
  agrees on every id already filled (a draft for ``dsp_1`` never fills the
  submission for ``dsp_2``).

Handoffs keep one thread, so both work across agents.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from cockpit.planner.slots import ID_TOKEN, SlotPlan, id_matches, id_pattern
from cockpit.planner.template import lookup

_REFERENCE = re.compile(
    r"\b(?:that|this|it|its|same|these|those|them|above|previous|last\s+one|just)\b", re.I
)


def message_text(message: BaseMessage) -> str:
    """The plain text of a message (content blocks joined)."""
    content = message.content
    if isinstance(content, str):
        return content
    parts: list[str] = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, Mapping) and isinstance(block.get("text"), str):
            parts.append(block["text"])
    return " ".join(parts)


def refers_back(text: str, plan: SlotPlan) -> bool:
    """Whether ``text`` points at something said before ("that payment", "the dispute")."""
    if _REFERENCE.search(text):
        return True
    noun = plan.name.lower().removesuffix("_id").replace("_", " ")
    return re.search(rf"\bthe\s+{re.escape(noun)}\b", text, re.I) is not None


def points_at(text: str, plan: SlotPlan) -> bool:
    """Whether ``text`` names the earlier thing itself ("that payment", "this same dispute"):
    strong enough to fill an *optional* id, where a bare "it" is not."""
    noun = re.escape(plan.name.lower().removesuffix("_id").replace("_", " "))
    return (
        re.search(rf"\b(?:that|this|the\s+same|same)\s+(?:\w+\s+)?{noun}\b", text, re.I) is not None
    )


def _in_text(text: str, plan: SlotPlan) -> list[str]:
    found = [
        (m.start(), m.group(0)) for m in ID_TOKEN.finditer(text) if id_matches(plan, m.group(0))
    ]
    pattern = id_pattern(plan)
    if pattern is not None:
        for m in re.finditer(rf"(?<![\w.:@-])(?:{pattern.pattern})(?![\w:@-]|\.\w)", text):
            if m.group(0) and all(m.start() != start for start, _ in found):
                found.append((m.start(), m.group(0)))
    return [value for _, value in sorted(found)]


def _in_data(data: Any, plan: SlotPlan) -> Iterator[str]:
    if isinstance(data, str):
        if id_matches(plan, data):
            yield data
    elif isinstance(data, Mapping):
        for value in data.values():
            yield from _in_data(value, plan)
    elif isinstance(data, list | tuple):
        for value in data:
            yield from _in_data(value, plan)


def parse_tool_content(message: ToolMessage) -> Any:
    """A tool message's JSON content, or its text when it is not JSON."""
    text = message_text(message)
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text


def _distinct(values: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _candidates(message: BaseMessage, plan: SlotPlan) -> list[str]:
    """Distinct values of ``plan``'s shape in one message, the likeliest referent first."""
    if isinstance(message, HumanMessage):
        # People name the thing they mean last ("not pay_1, I mean pay_2").
        return _distinct(list(reversed(_in_text(message_text(message), plan))))
    if isinstance(message, ToolMessage):
        return _distinct(list(_in_data(parse_tool_content(message), plan)))
    if isinstance(message, AIMessage):
        named = [
            str(call["args"][plan.name])
            for call in message.tool_calls
            if isinstance(call.get("args"), Mapping) and plan.name in call["args"]
        ]
        named = [v for v in named if id_matches(plan, v)]
        if named:
            return _distinct(named)
        from_args = [v for call in message.tool_calls for v in _in_data(call.get("args"), plan)]
        return _distinct(from_args + _in_text(message_text(message), plan))
    return []


def recall_id(messages: Sequence[BaseMessage], plan: SlotPlan) -> str | None:
    """The value of ``plan``'s shape the conversation last talked about, if unambiguous."""
    for message in reversed(messages):
        found = _candidates(message, plan)
        if not found:
            continue
        if len(found) == 1 or isinstance(message, HumanMessage):
            return found[0]
        return None  # a list of several: the reference is ambiguous
    return None


def _succeeded(message: ToolMessage, result: Any) -> bool:
    if message.status == "error" or message.additional_kwargs.get("outcome") not in (None, "ok"):
        return False
    if not isinstance(result, Mapping):
        return False
    return not (result.get("error") or result.get("rejected") is True)


def recall_result(messages: Sequence[BaseMessage], source: str, agree: Mapping[str, Any]) -> Any:
    """``source`` is ``tool.path``: that path of the tool's latest agreeing successful result."""
    tool, _, path = source.partition(".")
    calls: dict[str, Mapping[str, Any]] = {}
    for message in messages:
        if isinstance(message, AIMessage):
            for call in message.tool_calls:
                if call.get("name") == tool and call.get("id"):
                    calls[str(call["id"])] = call.get("args") or {}
    for message in reversed(messages):
        if not isinstance(message, ToolMessage) or message.tool_call_id not in calls:
            continue
        executed = message.additional_kwargs.get("executed_args")
        args = executed if isinstance(executed, Mapping) else calls[message.tool_call_id]
        if any(name in args and args[name] != value for name, value in agree.items()):
            continue
        result = parse_tool_content(message)
        if _succeeded(message, result):
            value = lookup(result, path)
            if value is not None:
                return value
    return None


__all__ = [
    "message_text",
    "parse_tool_content",
    "points_at",
    "recall_id",
    "recall_result",
    "refers_back",
]
