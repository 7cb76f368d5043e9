"""Builds the LangGraph graph that runs a team of agents from their specs.

One graph per assistant: ``guard → agent ⇄ tools``. The ``guard`` node redacts
the user's message and starts a new thread on the entry agent; a turn with
nothing for it to change goes straight to ``agent``. The ``agent`` node asks
the active agent's model (with only that agent's tools bound); the ``tools``
node enforces policy, pauses for approval with ``interrupt()``, runs tools
exactly once, and performs handoffs (``transfer_to_<agent>``) the spec allows.
Nodes return partial state updates; the thread's state lives in the
checkpointer, so a thread survives a server restart.

A :class:`Team` (:mod:`cockpit.runtime.team`) holds the agents and what they need to run;
each tool call the ``tools`` node receives goes through policy, approval and the executor
in :mod:`cockpit.runtime.tool_calls`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Annotated, Any, TypedDict

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.graph.state import CompiledStateGraph

from cockpit.errors import ModelBehaviorError, PolicyViolation
from cockpit.guardrails.redact import redact_text
from cockpit.models import call_timeout_s
from cockpit.runtime.team import (
    HANDOFF_PREFIX,
    ModelFactory,
    Team,
    bound_schemas,
    check_assistant,
    reachable,
    tool_schema,
)
from cockpit.runtime.tool_calls import approval_id, audit_refusal, refusal, run_tool
from cockpit.tenancy import rights
from cockpit.tenancy.principal import Principal, Role

STATE_VERSION = 1


class TeamState(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], add_messages]
    active_agent: str
    state_version: int


def _principal(config: RunnableConfig) -> Principal:
    c = config.get("configurable", {})
    return Principal(
        tenant_id=c["tenant_id"],
        role=Role(c.get("role", "merchant")),
        key_id=c.get("key_id", "system"),
        merchant_id=c.get("merchant_id"),
    )


def build_graph(
    team: Team, checkpointer: BaseCheckpointSaver[Any] | None
) -> CompiledStateGraph[Any]:
    """Compile the team's graph with the given checkpointer."""

    # Nodes and routes that touch no database are coroutines: LangGraph runs a plain function
    # in a worker thread, a hop that costs more than the work itself.
    async def guard(state: TeamState) -> dict[str, Any]:
        # Input redaction: a card number typed into the chat never reaches state or the model.
        return _guard_update(state, entry=team.entry)

    async def enter(state: TeamState) -> str:
        # The guard is a step of its own (a checkpoint, a stream update) only when it changes
        # something: most turns carry nothing to redact, and a step costs as much as a tool call.
        return "guard" if _guard_update(state, entry=team.entry) else "agent"

    async def agent(state: TeamState, config: RunnableConfig) -> dict[str, Any]:
        spec = team.spec(state.get("active_agent"))
        steps = _steps_this_turn(state.get("messages", []))
        if steps >= spec.guardrails.max_steps_per_turn:
            # Loop guard in code: a model that keeps calling tools is stopped, not trusted.
            return {
                "messages": [
                    AIMessage(
                        content="I stopped here: this request needed more steps than I am allowed in one "
                        "turn. Please narrow it down.",
                        name=spec.id,
                    )
                ]
            }
        model = team.model(spec)
        limit = call_timeout_s(model)

        async def ask(history: list[AnyMessage]) -> AIMessage:
            prompt: list[AnyMessage] = [SystemMessage(content=spec.instructions), *history]
            try:
                # A hung provider ends the turn with an error instead of holding the thread.
                async with asyncio.timeout(limit):
                    reply = await model.ainvoke(prompt, config)
            except TimeoutError:
                raise ModelBehaviorError(
                    f"the model did not answer within {limit:g} seconds",
                    code="model_timeout",
                    param="model",
                ) from None
            if not isinstance(reply, AIMessage):
                raise ModelBehaviorError("model returned no message", code="model_no_message")
            reply.name = spec.id
            if spec.guardrails.redact_pii and isinstance(reply.content, str):
                reply.content = redact_text(reply.content)
            return reply

        def not_run(reply: AIMessage) -> list[ToolMessage]:
            # Every call of a reply gets an answer (providers reject a thread with dangling
            # calls); the model reads why, as a {type, code, message, param} error.
            out = []
            for i, bad in enumerate(reply.invalid_tool_calls):
                name = bad.get("name") or "tool"
                exc = ModelBehaviorError(
                    f"the call to {name} could not be read ({bad.get('error') or 'invalid'}); "
                    "send it again with its arguments as one JSON object matching the schema",
                    code="invalid_tool_call",
                    param=name,
                )
                out.append(refusal(bad.get("id") or f"invalid_call_{i}", name, exc))
            for call in reply.tool_calls:
                exc = ModelBehaviorError(
                    f"{call['name']} was not run: another call in the same reply could not be "
                    "read; send the calls again",
                    code="tool_call_not_run",
                    param=call["name"],
                )
                out.append(refusal(call.get("id") or call["name"], call["name"], exc))
            return out

        history = list(state.get("messages", []))
        reply = await ask(history)
        if not reply.invalid_tool_calls:
            return {"messages": [reply]}
        # A malformed call is reported back once; a second one ends the turn in plain words.
        errors = not_run(reply)
        retry = await ask([*history, reply, *errors])
        if not retry.invalid_tool_calls:
            return {"messages": [reply, *errors, retry]}
        answer = AIMessage(
            content="I couldn't complete this request: my tool calls came out malformed twice, "
            "so nothing was done. Please try again, perhaps in other words.",
            name=spec.id,
        )
        return {"messages": [reply, *errors, retry, *not_run(retry), answer]}

    async def route(state: TeamState) -> str:
        last = state["messages"][-1]
        return "tools" if isinstance(last, AIMessage) and last.tool_calls else END

    def tools(state: TeamState, config: RunnableConfig) -> dict[str, Any]:
        spec = team.spec(state.get("active_agent"))
        last = state["messages"][-1]
        assert isinstance(last, AIMessage)
        principal = _principal(config)
        conf = config.get("configurable", {})
        thread_id: str = conf.get("public_thread_id") or conf.get("thread_id", "")
        out: list[ToolMessage] = []
        update: dict[str, Any] = {}
        calls = last.tool_calls
        for i, call in enumerate(calls):
            call_id = call.get("id") or f"call_{i}"
            name = call["name"]
            if i >= spec.guardrails.max_tool_calls_per_turn:
                out.append(
                    refusal(
                        call_id,
                        name,
                        PolicyViolation("too many tool calls in one turn", code="tool_call_limit"),
                    )
                )
                continue
            if name.startswith(HANDOFF_PREFIX):
                target = team.handoff_target(spec, name)
                if target is not None and not rights.permits(principal, target.roles):
                    target = None  # the caller may not run that agent: no handoff to it
                if target is None:
                    exc = PolicyViolation(
                        f"{spec.id} may not hand off via {name}",
                        code="handoff_not_allowed",
                        param="tool",
                    )
                    audit_refusal(team, principal, spec, thread_id, name, call["args"], exc)
                    out.append(refusal(call_id, name, exc))
                    continue
                update["active_agent"] = target.id
                team.audit.record(
                    principal.tenant_id,
                    kind="handoff",
                    actor=f"agent:{spec.id}",
                    subject=thread_id,
                    payload={"to": target.id},
                )
                out.append(
                    ToolMessage(
                        content=json.dumps({"transferred_to": target.id}),
                        tool_call_id=call_id,
                        name=name,
                    )
                )
                continue
            out.append(
                run_tool(team, spec, principal, thread_id, conf, call_id, name, call["args"])
            )
        update["messages"] = out
        return update

    graph = StateGraph(TeamState)
    graph.add_node("guard", guard)
    graph.add_node("agent", agent)
    graph.add_node("tools", tools)
    graph.add_conditional_edges(START, enter, ["guard", "agent"])
    graph.add_edge("guard", "agent")
    graph.add_conditional_edges("agent", route, ["tools", END])
    graph.add_edge("tools", "agent")
    return graph.compile(checkpointer=checkpointer)


def _guard_update(state: TeamState, *, entry: str) -> dict[str, Any]:
    """What the guard writes: the last user message redacted, the entry agent on a new thread,
    the state version; empty when the state already has all three."""
    msgs = state.get("messages", [])
    update: dict[str, Any] = {}
    if msgs and isinstance(msgs[-1], HumanMessage) and isinstance(msgs[-1].content, str):
        clean = redact_text(msgs[-1].content)
        if clean != msgs[-1].content:
            update["messages"] = [HumanMessage(content=clean, id=msgs[-1].id)]
    if not state.get("active_agent"):
        update["active_agent"] = entry
    if state.get("state_version") != STATE_VERSION:
        update["state_version"] = STATE_VERSION
    return update


def _steps_this_turn(messages: Sequence[AnyMessage]) -> int:
    """Model replies since the last user message."""
    steps = 0
    for msg in reversed(messages):
        if isinstance(msg, HumanMessage):
            break
        if isinstance(msg, AIMessage):
            steps += 1
    return steps


__all__ = [
    "HANDOFF_PREFIX",
    "ModelFactory",
    "Team",
    "TeamState",
    "approval_id",
    "bound_schemas",
    "build_graph",
    "check_assistant",
    "reachable",
    "tool_schema",
]
