"""Control agents that keep suites honest, run through the same API as any agent.

- ``oracle``: a model that makes exactly the task's gold calls, one per step, then answers with
  the facts the task wants communicated. A task it fails is broken (a gold call the policy
  refuses, an assertion the gold world does not satisfy).
- ``do-nothing``: a model that answers politely and never calls a tool. Every task that needs a
  write must fail with it; one that passes grades nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage

from cockpit.runtime.graph import ModelFactory
from cockpit.specs.spec import AgentSpec
from cockpit.testing import ScriptedChatModel
from evals.task import Call

ORACLE = "oracle"
DO_NOTHING = "do-nothing"
CONTROLS = (ORACLE, DO_NOTHING)
DO_NOTHING_ANSWER = "I'm sorry, I can't help with that right now."


def do_nothing_factory() -> ModelFactory:
    def factory(spec: AgentSpec, schemas: list[dict[str, Any]]) -> Any:
        model = ScriptedChatModel(script=[DO_NOTHING_ANSWER], script_name=DO_NOTHING, loop=True)
        return model.bind_tools(schemas)

    return factory


def oracle_factory(calls: list[Call], facts: list[str]) -> ModelFactory:
    """``calls`` and ``facts`` with placeholders already filled."""

    def step(history: Sequence[BaseMessage]) -> AIMessage:
        made = sum(len(m.tool_calls) for m in history if isinstance(m, AIMessage) and m.tool_calls)
        if made < len(calls):
            call = calls[made]
            return AIMessage(
                content="",
                tool_calls=[{"name": call.tool, "args": dict(call.args), "id": f"oracle_{made}"}],
            )
        return AIMessage(content=". ".join(facts) if facts else "Done.")

    def factory(spec: AgentSpec, schemas: list[dict[str, Any]]) -> Any:
        model = ScriptedChatModel(script=[step], script_name=ORACLE, loop=True)
        return model.bind_tools(schemas)

    return factory


__all__ = [
    "CONTROLS",
    "DO_NOTHING",
    "DO_NOTHING_ANSWER",
    "ORACLE",
    "do_nothing_factory",
    "oracle_factory",
]
