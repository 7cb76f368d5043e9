"""A team: the agents one assistant can reach, and what each needs to run.

Which agents a team holds (:func:`reachable` from the entry through handoffs), which keys
may use it (:func:`check_assistant`), and the tools each agent's model is bound with
(:func:`bound_schemas`): its registered tools, then one ``transfer_to_<agent>`` handoff
per agent it may hand to. :class:`Team` resolves a handoff call to its target and reads the
tenant's tool allowlist at every call. The graph that runs a team is
:mod:`cockpit.runtime.graph`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from langchain_core.runnables import Runnable
from sqlalchemy import bindparam, select

from cockpit.audit.log import AuditLog
from cockpit.db.session import Database
from cockpit.errors import PermissionDenied
from cockpit.runtime.policy import RateLimiter
from cockpit.runtime.streaming import REDACT_KEY
from cockpit.specs.spec import AgentSpec
from cockpit.tenancy import rights
from cockpit.tenancy.models import Tenant
from cockpit.tenancy.principal import Principal
from cockpit.toolkit.registry import ToolRegistry

HANDOFF_PREFIX = "transfer_to_"
_ALLOWLIST = select(Tenant.tool_allowlist).where(Tenant.id == bindparam("tenant"))

ModelFactory = Callable[[AgentSpec, list[dict[str, Any]]], Runnable[Any, Any]]
"""Builds an agent's chat model with the given tool schemas bound."""


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


__all__ = [
    "HANDOFF_PREFIX",
    "ModelFactory",
    "Team",
    "bound_schemas",
    "check_assistant",
    "reachable",
    "tool_schema",
]
