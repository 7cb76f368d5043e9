"""Builds the LangGraph graph that runs a team of agents from their specs.

One graph per assistant: ``guard → agent ⇄ tools``. The ``guard`` node redacts
the user's message and starts a new thread on the entry agent; a turn with
nothing for it to change goes straight to ``agent``. The ``agent`` node asks
the active agent's model (with only that agent's tools bound); the ``tools``
node enforces policy, pauses for approval with ``interrupt()``, runs tools
exactly once, and performs handoffs (``transfer_to_<agent>``) the spec allows.
Nodes return partial state updates; the thread's state lives in the
checkpointer, so a thread survives a server restart.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, TypedDict

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.runnables import Runnable, RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import interrupt
from sqlalchemy import bindparam, select

from cockpit.audit.log import AuditLog
from cockpit.db.base import utcnow
from cockpit.db.session import Database
from cockpit.errors import (
    CockpitError,
    ModelBehaviorError,
    PermissionDenied,
    PolicyViolation,
    UserError,
)
from cockpit.guardrails.redact import redact_text
from cockpit.models import call_timeout_s
from cockpit.observability.metrics import metrics
from cockpit.runtime.execution import run_ended
from cockpit.runtime.executor import error_result, execute, precheck, validate_args
from cockpit.runtime.policy import RateLimiter, check_allowed, check_call
from cockpit.runtime.records import ApprovalRecord
from cockpit.runtime.streaming import REDACT_KEY
from cockpit.specs.spec import AgentSpec
from cockpit.tenancy import rights
from cockpit.tenancy.models import Tenant
from cockpit.tenancy.principal import Principal, Role
from cockpit.toolkit.registry import ToolContext, ToolRegistry

HANDOFF_PREFIX = "transfer_to_"
STATE_VERSION = 1
_ALLOWLIST = select(Tenant.tool_allowlist).where(Tenant.id == bindparam("tenant"))

ModelFactory = Callable[[AgentSpec, list[dict[str, Any]]], Runnable[Any, Any]]
"""Builds an agent's chat model with the given tool schemas bound."""


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


def check_assistant(principal: Principal, spec: AgentSpec) -> None:
    """Refuse a key whose role the assistant's spec does not admit (403 ``assistant_not_allowed``)."""
    if not rights.permits(principal, spec.roles):
        raise PermissionDenied(
            f"assistant {spec.id!r} is not available to a {principal.role.value} key",
            code="assistant_not_allowed",
            param="assistant_id",
        )


def tool_schema(name: str, description: str, parameters: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {"name": name, "description": description, "parameters": parameters},
    }


def _handoff_schema(target: AgentSpec) -> dict[str, Any]:
    return tool_schema(
        HANDOFF_PREFIX + target.id.replace("-", "_"),
        f"Transfer the conversation to {target.name}: {target.description}",
        {"type": "object", "properties": {"reason": {"type": "string"}}, "required": []},
    )


def bound_schemas(
    spec: AgentSpec, specs: Mapping[str, AgentSpec], registry: ToolRegistry
) -> list[dict[str, Any]]:
    """The tools an agent's model is bound with: its registered tools, then one handoff per
    agent of ``specs`` it may hand to (the runtime, the planner evaluation and tests alike)."""
    tools = [registry.get(t.name) for t in spec.tools if t.name in registry]
    schemas = [tool_schema(tool.name, tool.description, tool.json_schema()) for tool in tools]
    return schemas + [_handoff_schema(specs[h]) for h in spec.handoffs if h in specs]


@dataclass
class Team:
    """The agents one assistant can reach, and what they need to run."""

    entry: str
    """Agent that takes the first turn."""
    specs: dict[str, AgentSpec]
    """Every agent reachable from the entry through handoffs."""
    registry: ToolRegistry
    db: Database
    audit: AuditLog
    model_factory: ModelFactory
    extras: dict[str, Any] = field(default_factory=dict)
    limiter: RateLimiter = field(default_factory=RateLimiter)
    _models: dict[str, Runnable[Any, Any]] = field(default_factory=dict)

    def spec(self, agent_id: str | None) -> AgentSpec:
        return self.specs[agent_id or self.entry]

    def handoff_target(self, spec: AgentSpec, tool_name: str) -> AgentSpec | None:
        wanted = tool_name.removeprefix(HANDOFF_PREFIX)
        for target in spec.handoffs:
            if target.replace("-", "_") == wanted and target in self.specs:
                return self.specs[target]
        return None

    def model(self, spec: AgentSpec) -> Runnable[Any, Any]:
        bound = self._models.get(spec.id)
        if bound is None:
            schemas = bound_schemas(spec, self.specs, self.registry)
            # The agent id rides in the call metadata so usage is attributed per agent; the
            # redaction flag, so streamed tokens are redacted like the reply they make up.
            bound = self.model_factory(spec, schemas).with_config(
                metadata={
                    "cockpit_agent_id": spec.id,
                    REDACT_KEY: spec.guardrails.redact_pii,
                }
            )
            self._models[spec.id] = bound
        return bound

    def tenant_allowlist(self, tenant_id: str) -> list[str] | None:
        """The tools the tenant enabled (None: all), read at every call so a change holds at once."""
        with self.db.engine.connect() as conn:
            found: list[str] | None = conn.execute(_ALLOWLIST, {"tenant": tenant_id}).scalar()
        return found


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
                out.append(_refusal(bad.get("id") or f"invalid_call_{i}", name, exc))
            for call in reply.tool_calls:
                exc = ModelBehaviorError(
                    f"{call['name']} was not run: another call in the same reply could not be "
                    "read; send the calls again",
                    code="tool_call_not_run",
                    param=call["name"],
                )
                out.append(_refusal(call.get("id") or call["name"], call["name"], exc))
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
                    _refusal(
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
                    _audit_refusal(team, principal, spec, thread_id, name, call["args"], exc)
                    out.append(_refusal(call_id, name, exc))
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
                _run_tool(team, spec, principal, thread_id, conf, call_id, name, call["args"])
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


def _refusal(call_id: str, name: str, exc: CockpitError) -> ToolMessage:
    return ToolMessage(
        content=json.dumps(error_result(exc)), tool_call_id=call_id, name=name, status="error"
    )


def _audit_refusal(
    team: Team,
    principal: Principal,
    spec: AgentSpec,
    thread_id: str,
    name: str,
    args: dict[str, Any],
    exc: CockpitError,
) -> None:
    team.audit.record(
        principal.tenant_id,
        kind="policy_refusal",
        actor=f"agent:{spec.id}",
        subject=thread_id,
        payload={"tool": name, "args": args, "code": exc.code, "message": exc.message},
    )


def approval_id(thread_id: str, call_id: str) -> str:
    return "apr_" + hashlib.sha256(f"{thread_id}:{call_id}".encode()).hexdigest()[:24]


def _run_tool(
    team: Team,
    spec: AgentSpec,
    principal: Principal,
    thread_id: str,
    conf: dict[str, Any],
    call_id: str,
    name: str,
    raw_args: dict[str, Any],
) -> ToolMessage:
    tool = team.registry.get(name) if name in team.registry else None
    allowlist = team.tenant_allowlist(principal.tenant_id)
    try:
        tool = check_allowed(
            spec, tool, name, raw_args, principal=principal, tenant_allowlist=allowlist
        )
        # Policy reads the validated, coerced arguments: exactly what the tool will receive.
        args = validate_args(tool, raw_args)
        decision = check_call(
            spec,
            tool,
            name,
            args.model_dump(mode="python"),
            tenant_id=principal.tenant_id,
            limiter=team.limiter,
        )
    except CockpitError as exc:
        _audit_refusal(team, principal, spec, thread_id, name, raw_args, exc)
        return _refusal(call_id, name, exc)

    if decision.needs_approval:
        apr = approval_id(thread_id, call_id)
        if not _approval_recorded(team, principal, apr):
            # Before a human is asked: a call that cannot succeed is refused with its reason.
            # (On a resume the approval is on record and the write path checks again.)
            refused = precheck(
                tool,
                args,
                _tool_context(team, principal, thread_id, call_id),
                audit=team.audit,
                agent_id=spec.id,
            )
            if refused is not None:
                return ToolMessage(
                    content=json.dumps(refused.result, default=str),
                    tool_call_id=call_id,
                    name=name,
                    status="error",
                )
        request = {
            "type": "approval_request",
            "approval_id": apr,
            "thread_id": thread_id,
            "agent": spec.id,
            "tool": name,
            "args": args.model_dump(mode="json"),
            "amount": decision.amount,
            "currency": decision.currency,
            "reason": decision.reason,
            "requested_by": principal.key_id,
        }
        requester = _open_approval(
            team, principal, spec, thread_id, conf.get("run_id"), apr, name, request
        )
        answer = interrupt(request)
        action, edited, note = _parse_decision(answer)
        resumer = conf.get("key_id", "system")
        _close_approval(team, principal, apr, action, edited, note, resumer)
        # The write runs for the key whose request caused it, whoever approved it: an
        # approver's wider rights never widen what the requester's call may touch.
        principal = requester
        if action == "reject":
            return ToolMessage(
                content=json.dumps({"rejected": True, "approval_id": apr, "reason": note or ""}),
                tool_call_id=call_id,
                name=name,
                status="error",
            )
        if action == "edit":
            merged = {**args.model_dump(mode="json"), **(edited or {})}
            try:
                check_allowed(
                    spec, tool, name, merged, principal=principal, tenant_allowlist=allowlist
                )
                args = validate_args(tool, merged)
                check_call(
                    spec,
                    tool,
                    name,
                    args.model_dump(mode="python"),
                    tenant_id=principal.tenant_id,
                    limiter=RateLimiter(),
                )
            except CockpitError as exc:
                _audit_refusal(team, principal, spec, thread_id, name, merged, exc)
                return _refusal(call_id, name, exc)

    ctx = _tool_context(team, principal, thread_id, call_id)
    outcome = execute(
        tool, args, ctx, audit=team.audit, agent_id=spec.id, screen=spec.guardrails.injection_screen
    )
    # A human may have edited the arguments: the message says what actually ran.
    executed = args.model_dump(mode="json")
    return ToolMessage(
        content=json.dumps(outcome.result, default=str),
        tool_call_id=call_id,
        name=name,
        status="success" if outcome.ok else "error",
        additional_kwargs={"executed_args": executed} if executed != raw_args else {},
    )


def _tool_context(team: Team, principal: Principal, thread_id: str, call_id: str) -> ToolContext:
    return ToolContext(
        principal=principal,
        db=team.db,
        thread_id=thread_id,
        tool_call_id=call_id,
        idempotency_key=f"{thread_id}:{call_id}",
        extras=team.extras,
        cancelled=run_ended(),
    )


def _approval_recorded(team: Team, principal: Principal, apr: str) -> bool:
    with team.db.tenant_session(principal.tenant_id) as s:
        found = s.scalars(select(ApprovalRecord.id).where(ApprovalRecord.id == apr)).first()
    return found is not None


def _parse_decision(answer: Any) -> tuple[str, dict[str, Any] | None, str | None]:
    if answer is True or answer == "approve":
        return "approve", None, None
    if answer is False or answer == "reject":
        return "reject", None, None
    if isinstance(answer, dict):
        action = str(answer.get("action", "")).lower()
        if action in {"approve", "edit", "reject"}:
            edited = answer.get("args")
            return action, edited if isinstance(edited, dict) else None, answer.get("reason")
    raise UserError(
        "resume with {'action': 'approve'|'edit'|'reject', 'args': {...}}",
        code="invalid_resume",
        param="command.resume",
    )


def _open_approval(
    team: Team,
    principal: Principal,
    spec: AgentSpec,
    thread_id: str,
    run_id: str | None,
    apr: str,
    tool: str,
    request: dict[str, Any],
) -> Principal:
    """Record the pending approval once; returns the principal whose request caused it."""
    with team.db.tenant_session(principal.tenant_id) as s:
        existing = s.scalars(select(ApprovalRecord).where(ApprovalRecord.id == apr)).one_or_none()
        if existing is not None:
            # A resume re-runs this node under the approver's key: the requester is on record.
            return Principal(
                tenant_id=principal.tenant_id,
                role=Role(existing.requester_role or principal.role.value),
                key_id=existing.requester_key_id or principal.key_id,
                merchant_id=existing.merchant_id,
            )
        s.add(
            ApprovalRecord(
                id=apr,
                thread_id=thread_id,
                run_id=run_id,
                agent_id=spec.id,
                tool=tool,
                request=request,
                status="pending",
                merchant_id=principal.merchant_id,
                requester_key_id=principal.key_id,
                requester_role=principal.role.value,
                four_eyes=bool(
                    (policy := spec.policy(tool)) and policy.approval and policy.approval.four_eyes
                ),
            )
        )
    metrics().approval_requested(tool)
    team.audit.record(
        principal.tenant_id,
        kind="approval_requested",
        actor=f"agent:{spec.id}",
        subject=thread_id,
        payload=request,
    )
    return principal


def _close_approval(
    team: Team,
    principal: Principal,
    apr: str,
    action: str,
    edited: dict[str, Any] | None,
    note: str | None,
    resumer: str,
) -> None:
    with team.db.tenant_session(principal.tenant_id) as s:
        rec = s.scalars(select(ApprovalRecord).where(ApprovalRecord.id == apr)).one_or_none()
        if rec is None or rec.status != "pending":
            return
        outcome = {"approve": "approved", "edit": "edited", "reject": "rejected"}[action]
        rec.status = outcome
        rec.decision = {"action": action, "args": edited, "reason": note}
        rec.decided_by = resumer
        rec.decided_at = utcnow()
        tool = rec.tool
    metrics().approval_decided(tool, outcome)
    team.audit.record(
        principal.tenant_id,
        kind="approval_decided",
        actor=f"key:{resumer}",
        subject=apr,
        payload={"action": action, "args": edited, "reason": note},
    )


def reachable(entry: str, specs: dict[str, AgentSpec]) -> dict[str, AgentSpec]:
    """The entry agent and every agent it can reach through handoffs."""
    seen: dict[str, AgentSpec] = {}
    todo: list[str] = [entry]
    while todo:
        cur = todo.pop()
        if cur in seen or cur not in specs:
            continue
        seen[cur] = specs[cur]
        todo.extend(specs[cur].handoffs)
    return seen


def messages_of(values: dict[str, Any]) -> Sequence[AnyMessage]:
    msgs = values.get("messages", [])
    return msgs if isinstance(msgs, list) else []


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
