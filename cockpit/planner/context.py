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
* :func:`read_record` — whether a record (``payments_get_payment`` of ``pay_1``) was
  already read by one of the user's calls, and what came back; :func:`record_value`
  takes a field of it (never one the record's author wrote). ``from_record`` slots
  use these before asking the planner to read the record itself.

Handoffs keep one thread, so both work across agents.

A reference binds only what the *user* put in the thread: ids in the user's own
turns, ids in the arguments of tool calls the user caused, and ids in the
id-named fields (``id``, ``paymentId``…) of records those calls returned. It must
never bind an id from text the user did not write: retrieved passages, notes and
metadata, quarantined fields, or an answer that quotes them. A tool call counts
as the user's when the local planner made it (its arguments come from the user's
words or from these same rules) or when every id in its arguments was already the
user's. Otherwise a document saying "refund 250 EUR on pay_T" would make "refund
5 EUR on that payment" refund pay_T.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from cockpit.planner.lexicon import ID_PREFIXES
from cockpit.planner.slots import ID_TOKEN, SlotPlan, id_matches, id_pattern
from cockpit.planner.template import lookup

PLANNER_KEY = "cockpit_planner"
"""Key of the planner's state on its own AIMessages: marks the calls the planner made."""
#: Fields whose content the record's author chose (free text, key-value notes): never ids.
_AUTHORED = frozenset({"description", "metadata", "note", "notes", "_untrusted", "_flagged"})
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")

_REFERENCE = re.compile(
    r"\b(?:that|this|it|its|same|these|those|them|above|previous|last\s+one|just|the\s+rest)\b",
    re.I,
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
        if _is_id(plan, data):
            yield data
    elif isinstance(data, Mapping):
        for value in data.values():
            yield from _in_data(value, plan)
    elif isinstance(data, list | tuple):
        for value in data:
            yield from _in_data(value, plan)


def _is_id(plan: SlotPlan, value: str) -> bool:
    # One token, whole: "pay_1 refund it" in a note is a sentence, not pay_1.
    return bool(value) and not any(ch.isspace() for ch in value) and id_matches(plan, value)


def _field(key: str) -> str:
    return _CAMEL.sub("_", key).lower()


def _record_ids(
    data: Any,
    wanted: Callable[[str, str], bool],
    *,
    skip: frozenset[str],
    path: str = "$",
    key: str = "",
    depth: int = 0,
) -> Iterator[tuple[int, str]]:
    """``(depth, value)`` of the strings of a tool result at fields ``wanted(field, value)``
    accepts; depth counts the fields above the value.

    Fields the record's author wrote (``metadata``, ``description``…), paths the
    runtime quarantined (``_untrusted``) and passages flagged ``untrusted`` are
    never read. A list's items are read under the list's field name.
    """
    if isinstance(data, str):
        if wanted(_field(key), data):
            yield depth, data
    elif isinstance(data, Mapping):
        if data.get("untrusted") is True:
            return
        for name, value in data.items():
            sub = f"{path}.{name}"
            if str(name) not in _AUTHORED and sub not in skip:
                yield from _record_ids(
                    value, wanted, skip=skip, path=sub, key=str(name), depth=depth + 1
                )
    elif isinstance(data, list | tuple):
        for i, value in enumerate(data):
            yield from _record_ids(
                value, wanted, skip=skip, path=f"{path}[{i}]", key=key, depth=depth
            )


def _quarantined(result: Any) -> frozenset[str]:
    paths = result.get("_untrusted") if isinstance(result, Mapping) else None
    return frozenset(str(p) for p in paths) if isinstance(paths, list) else frozenset()


def _in_result(result: Any, plan: SlotPlan) -> list[str]:
    """Ids of ``plan``'s shape at fields named for them (``payment_id``/``paymentId``, ``id``).

    Only the shallowest such fields count: a new strategy version's ``version_id`` is
    the result, the ``derived_from.version_id`` under it is context.
    """
    name = plan.name.lower()

    def wanted(field: str, value: str) -> bool:
        return field in (name, "id") and _is_id(plan, value)

    found = list(_record_ids(result, wanted, skip=_quarantined(result)))
    top = min((depth for depth, _ in found), default=0)
    return [value for depth, value in found if depth == top]


def _id_like(field: str, value: str) -> bool:
    """An argument value that names a record: checked against what the user said."""
    if not value or any(ch.isspace() for ch in value):
        return False
    return field == "id" or field.endswith("_id") or ID_TOKEN.fullmatch(value) is not None


def _gateway_id(field: str, value: str) -> bool:
    """A record's own id (``id``) or a gateway id under its own name (``payment_id``: pay_…)."""
    if not value or any(ch.isspace() for ch in value):
        return False
    if field == "id":
        return True
    prefixes = ID_PREFIXES.get(field.removesuffix("_id"))
    return field.endswith("_id") and bool(prefixes) and value.lower().startswith(prefixes or ())


def _said(value: str, texts: Sequence[str]) -> bool:
    pattern = re.compile(rf"(?<![\w.:@-]){re.escape(value)}(?![\w:@-])")
    return any(pattern.search(text) for text in texts)


def users_calls(messages: Sequence[BaseMessage]) -> dict[str, Mapping[str, Any]]:
    """The tool calls in ``messages`` that the user's own words caused (see above): their
    arguments by call id."""
    said: list[str] = []
    known: set[str] = set()  # ids of the records the user's calls returned
    users: dict[str, Mapping[str, Any]] = {}
    for message in messages:
        if isinstance(message, HumanMessage):
            said.append(message_text(message))
        elif isinstance(message, AIMessage):
            by_planner = PLANNER_KEY in message.additional_kwargs
            for call in message.tool_calls:
                args = call.get("args")
                values = [v for _, v in _record_ids(args, _id_like, skip=frozenset())]
                grounded = all(v in known or _said(v, said) for v in values)
                if call.get("id") and (by_planner or grounded):
                    users[str(call["id"])] = args if isinstance(args, Mapping) else {}
        elif isinstance(message, ToolMessage) and message.tool_call_id in users:
            result = parse_tool_content(message)
            known.update(v for _, v in _record_ids(result, _gateway_id, skip=_quarantined(result)))
    return users


def parse_tool_content(message: ToolMessage) -> Any:
    """A tool message's JSON content, or its text when it is not JSON."""
    text = message_text(message)
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text


def _distinct(values: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _candidates(
    message: BaseMessage, plan: SlotPlan, users: Mapping[str, Mapping[str, Any]]
) -> list[str]:
    """Distinct values of ``plan``'s shape the user put in one message, likeliest first."""
    if isinstance(message, HumanMessage):
        # People name the thing they mean last ("not pay_1, I mean pay_2").
        return _distinct(list(reversed(_in_text(message_text(message), plan))))
    if isinstance(message, ToolMessage):
        if message.tool_call_id not in users:
            return []
        executed = message.additional_kwargs.get("executed_args")
        args = executed if isinstance(executed, Mapping) else users[message.tool_call_id]
        named = args.get(plan.name)
        if isinstance(named, str) and _is_id(plan, named):
            # A result is about what its call named: a backtest of cstr_new that also
            # reports the champion cstr_old is still about cstr_new.
            return [named]
        return _distinct(_in_result(parse_tool_content(message), plan))
    if isinstance(message, AIMessage):
        # Only the calls, never the text: an answer may quote a passage or a note.
        calls = [c for c in message.tool_calls if c.get("id") in users]
        named = [
            str(call["args"][plan.name])
            for call in calls
            if isinstance(call.get("args"), Mapping) and plan.name in call["args"]
        ]
        named = [v for v in named if _is_id(plan, v)]
        if named:
            return _distinct(named)
        return _distinct([v for call in calls for v in _in_data(call.get("args"), plan)])
    return []


def recall_id(messages: Sequence[BaseMessage], plan: SlotPlan) -> str | None:
    """The value of ``plan``'s shape the user last talked about, if unambiguous."""
    users = users_calls(messages)
    for message in reversed(messages):
        found = _candidates(message, plan, users)
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


def _agreeing_results(
    messages: Sequence[BaseMessage], tool: str, agree: Mapping[str, Any], *, strict: bool
) -> Iterator[tuple[ToolMessage, Any]]:
    """Results of the user's calls to ``tool`` whose arguments agree with ``agree``, newest
    first. ``strict``: every name in ``agree`` must be among the arguments, not just not
    contradict them."""
    users = users_calls(messages)
    calls: dict[str, Mapping[str, Any]] = {}
    for message in messages:
        if isinstance(message, AIMessage):
            for call in message.tool_calls:
                if call.get("name") == tool and call.get("id") in users:
                    calls[str(call["id"])] = call.get("args") or {}
    for message in reversed(messages):
        if not isinstance(message, ToolMessage) or message.tool_call_id not in calls:
            continue
        executed = message.additional_kwargs.get("executed_args")
        args = executed if isinstance(executed, Mapping) else calls[message.tool_call_id]
        if any(name in args and args[name] != value for name, value in agree.items()):
            continue
        if strict and any(name not in args for name in agree):
            continue
        yield message, parse_tool_content(message)


def recall_result(
    messages: Sequence[BaseMessage], source: str, agree: Mapping[str, Any], *, strict: bool = False
) -> Any:
    """``source`` is ``tool.path``: that path of the tool's latest agreeing successful result.

    ``strict``: only from a call made with every one of ``agree`` (a list of the open
    disputes, not of all of them), not merely one that does not contradict them.
    """
    tool, _, path = source.partition(".")
    for message, result in _agreeing_results(messages, tool, agree, strict=strict):
        if _succeeded(message, result):
            value = lookup(result, path)
            if value is not None:
                return value
    return None


def recall_exact(messages: Sequence[BaseMessage], source: str, args: Mapping[str, Any]) -> Any:
    """:func:`recall_result` from a call made with every one of ``args``."""
    return recall_result(messages, source, args, strict=True)


def record_value(result: Any, path: str) -> Any:
    """``path`` of a record a user's call returned, unless the path runs through what the
    record's author wrote (``metadata``, ``notes``…) or what the runtime quarantined."""
    if not isinstance(result, Mapping) or result.get("untrusted") is True:
        return None
    keys = path.split(".")
    if any(k in _AUTHORED for k in keys):
        return None
    quarantined = _quarantined(result)
    if any("$." + ".".join(keys[: n + 1]) in quarantined for n in range(len(keys))):
        return None
    return lookup(result, path)


def read_record(
    messages: Sequence[BaseMessage], tool: str, arg: str, record_id: str
) -> tuple[bool, Any]:
    """Whether the user's thread already read record ``record_id`` with ``tool`` (its argument
    ``arg``), and the latest successful result of that read (None when it failed)."""
    attempted = False
    for message, result in _agreeing_results(messages, tool, {arg: record_id}, strict=True):
        attempted = True
        if _succeeded(message, result):
            return True, result
    return attempted, None


__all__ = [
    "PLANNER_KEY",
    "message_text",
    "parse_tool_content",
    "points_at",
    "read_record",
    "recall_exact",
    "recall_id",
    "recall_result",
    "record_value",
    "refers_back",
    "users_calls",
]
