"""The local planner behind the OpenAI wire: a responder for :class:`FakeOpenAIServer`.

Agents configured with ``model: openai:<name>`` talk to an OpenAI-compatible server through the
real ``openai`` client. To run the eval suites that way offline, this responder answers each
chat-completion request with the local planner of the agent that sent it — so a suite run on
``openai:<name>`` exercises the whole LLM path (tool schemas as JSON, arguments as JSON strings,
tool results as text, the provider chain, timeouts) with the same deterministic decisions as
``local:planner``.

The agent is recognised by the tool names the request offers (each built-in agent binds a
distinct set). What the wire cannot carry is the planner's own dialogue state, which rides on its
AIMessages; the responder remembers it by the reply it belongs to (content and calls) and puts it
back on the matching assistant message of the next request, exactly as the checkpoint would.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

from cockpit.embeddings import Embedder
from cockpit.planner import STATE_KEY, LocalPlanner
from cockpit.specs.spec import AgentSpec
from cockpit.testing.openai_server import FakeReply


def _signature(content: str, calls: Sequence[tuple[str, str]]) -> str:
    digest = hashlib.sha256(content.encode())
    for name, arguments in calls:
        digest.update(b"\x00" + name.encode() + b"\x00" + arguments.encode())
    return digest.hexdigest()


def _canonical(arguments: Any) -> str:
    value = json.loads(arguments) if isinstance(arguments, str) else arguments
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, Mapping))
    return ""


class PlannerResponder:
    """``responder(body) -> FakeReply`` for :class:`FakeOpenAIServer`, one planner per agent."""

    def __init__(self, specs: Mapping[str, AgentSpec], *, embedder: Embedder) -> None:
        self._embedder = embedder
        self._specs = dict(specs)
        self._states: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self.served: dict[str, int] = {}
        """Replies per agent id (a test checks the suites really went through the wire)."""

    def _agent_for(self, tool_names: set[str]) -> AgentSpec | None:
        """The spec whose tools (and handoffs) best match the offered ones (Jaccard > 0.5)."""

        def similarity(spec: AgentSpec) -> float:
            own = {t.name for t in spec.tools} | {f"transfer_to_{h}" for h in spec.handoffs}
            return len(own & tool_names) / max(len(own | tool_names), 1)

        scored = [(similarity(spec), spec) for spec in self._specs.values()]
        best = max(scored, key=lambda pair: pair[0], default=None)
        return best[1] if best is not None and best[0] > 0.5 else None

    def _messages(self, raw: Sequence[Mapping[str, Any]]) -> list[BaseMessage]:
        out: list[BaseMessage] = []
        for item in raw:
            role = item.get("role")
            content = _text(item.get("content"))
            if role == "system":
                out.append(SystemMessage(content=content))
            elif role == "user":
                out.append(HumanMessage(content=content))
            elif role == "tool":
                out.append(ToolMessage(content=content, tool_call_id=str(item.get("tool_call_id"))))
            elif role == "assistant":
                calls = [c.get("function", {}) for c in item.get("tool_calls") or []]
                signature = _signature(
                    content,
                    [(str(c.get("name")), _canonical(c.get("arguments") or "{}")) for c in calls],
                )
                with self._lock:
                    state = self._states.get(signature)
                out.append(
                    AIMessage(
                        content=content,
                        tool_calls=[
                            {
                                "name": str(f.get("name")),
                                "args": json.loads(f.get("arguments") or "{}"),
                                "id": str(c.get("id")),
                                "type": "tool_call",
                            }
                            for c, f in zip(item.get("tool_calls") or [], calls, strict=True)
                        ],
                        additional_kwargs={STATE_KEY: state} if state else {},
                    )
                )
        return out

    def __call__(self, body: Mapping[str, Any]) -> FakeReply:
        tools = [dict(t) for t in body.get("tools") or [] if isinstance(t, Mapping)]
        names = {str(t.get("function", {}).get("name")) for t in tools}
        spec = self._agent_for(names)
        if spec is None or spec.planner is None:
            return FakeReply(status=404)
        planner = LocalPlanner(spec=spec.planner, embedder=self._embedder)
        reply = planner.bind_tools(tools).invoke(self._messages(body.get("messages") or []))
        assert isinstance(reply, AIMessage)
        content = _text(reply.content)
        calls = [
            {"name": c["name"], "arguments": dict(c["args"]), "id": c["id"]}
            for c in reply.tool_calls
        ]
        signature = _signature(
            content, [(str(c["name"]), _canonical(c["arguments"])) for c in calls]
        )
        state = reply.additional_kwargs.get(STATE_KEY)
        with self._lock:
            if isinstance(state, dict):
                self._states[signature] = state
            self.served[spec.id] = self.served.get(spec.id, 0) + 1
        return FakeReply(content=content or None, tool_calls=calls)


__all__ = ["PlannerResponder"]
