"""What happened in a trial: the user's turns, the agent's tool calls and answers, approvals."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class ToolCall:
    """One tool call the agent made (or the replay ran), with what came back."""

    tool: str
    args: dict[str, Any]
    ok: bool = True
    error_type: str | None = None
    """``policy_error``, ``permission_error``… when the call was refused or failed."""
    error_code: str | None = None
    rejected: bool = False
    """A human rejected its approval request: nothing ran."""


@dataclass
class Transcript:
    """A trial's conversation."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    """``{role, content}`` in order: user, assistant (answers), tool (calls and results)."""
    calls: list[ToolCall] = field(default_factory=list)
    approvals: list[dict[str, Any]] = field(default_factory=list)
    """Each approval request with the decision the simulated user gave."""
    error: str | None = None
    """The trial could not finish (a run failed, the server refused)."""

    @property
    def answers(self) -> list[str]:
        return [m["content"] for m in self.messages if m["role"] == "assistant"]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def calls_from_messages(messages: list[dict[str, Any]]) -> list[ToolCall]:
    """Tool calls (handoffs excluded) paired with their results, from LangGraph message dicts."""
    results = {m.get("tool_call_id"): m for m in messages if m.get("type") == "tool"}
    out: list[ToolCall] = []
    for m in messages:
        if m.get("type") != "ai":
            continue
        for call in m.get("tool_calls") or []:
            if call["name"].startswith("transfer_to_"):
                continue
            result = results.get(call.get("id"))
            tc = ToolCall(call["name"], dict(call.get("args") or {}))
            if result is not None:
                executed = (result.get("additional_kwargs") or {}).get("executed_args")
                if isinstance(executed, dict):
                    tc.args = executed
                body = _json(result.get("content"))
                if isinstance(body, dict) and body.get("rejected") is True:
                    tc.ok, tc.rejected = False, True
                elif isinstance(body, dict) and isinstance(body.get("error"), dict):
                    tc.ok = False
                    tc.error_type = body["error"].get("type")
                    tc.error_code = body["error"].get("code")
            out.append(tc)
    return out


def _json(raw: Any) -> Any:
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def readable(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """LangGraph message dicts as ``{role, content}`` lines for reports."""
    out: list[dict[str, Any]] = []
    for m in messages:
        kind = m.get("type")
        content = m.get("content")
        text = content if isinstance(content, str) else json.dumps(content)
        if kind == "human":
            out.append({"role": "user", "content": text})
        elif kind == "ai":
            for call in m.get("tool_calls") or []:
                args = json.dumps(call.get("args"), sort_keys=True)
                out.append({"role": "call", "content": f"{call['name']}({args})"})
            if text:
                out.append({"role": "assistant", "content": text})
        elif kind == "tool":
            out.append({"role": "tool", "content": text[:2000]})
    return out


__all__ = ["ToolCall", "Transcript", "calls_from_messages", "readable"]
