"""Gold replay: run a task's gold actions straight through the tool executor.

Same path an agent's call takes after the model — the agent's spec and policy, the user's key,
approvals decided as the task's user would decide them, exactly-once writes, audit — but no
model and no HTTP. The world it leaves is the reference the agent's world must equal.
Also runs fixture changes (as the tenant admin, no policy) before a task starts.
"""

from __future__ import annotations

from typing import Any

from cockpit.errors import CockpitError
from cockpit.runtime.executor import ToolOutcome, execute, precheck, validate_args
from cockpit.runtime.graph import HANDOFF_PREFIX, reachable
from cockpit.runtime.policy import RateLimiter, check_allowed, check_call
from cockpit.specs.spec import AgentSpec
from cockpit.tenancy.principal import Principal, Role
from cockpit.toolkit.registry import ToolContext
from evals.task import Approval, Call
from evals.transcript import ToolCall
from evals.world import TENANT


class ReplayError(CockpitError):
    """A gold action the platform refuses: the task is broken, not the agent."""

    type = "eval_error"
    default_code = "gold_refused"


def next_decision(approvals: list[Approval], used: set[int], tool: str) -> Approval:
    """The user's next unused decision for ``tool`` (none left: a rejection)."""
    for i, decision in enumerate(approvals):
        if i not in used and decision.tool in (None, tool):
            used.add(i)
            return decision
    return Approval(tool=tool, action="reject", reason="the task's user gave no decision")


def _spec_with(services: Any, agent_ref: str, tool: str) -> AgentSpec:
    specs = services.runtime.specs
    entry: AgentSpec = specs.resolve(TENANT, agent_ref).spec
    team = reachable(entry.id, {**specs.specs_for(TENANT), entry.id: entry})
    candidates: list[AgentSpec] = [entry, *team.values()]
    for spec in candidates:
        if spec.policy(tool) is not None:
            return spec
    return entry


def replay_gold(
    services: Any,
    *,
    agent: str,
    key: str,
    calls: list[Call],
    approvals: list[Approval],
) -> list[ToolCall]:
    """Run ``calls`` (placeholders already filled) as the agent would; refusals raise."""
    principal = services.keys.authenticate(key)
    registry = services.runtime.tools
    used: set[int] = set()
    out: list[ToolCall] = []
    for i, call in enumerate(calls):
        if call.tool.startswith(HANDOFF_PREFIX):
            # A handoff changes who answers, not the world: the next call is checked against
            # the team member whose spec lists its tool (below).
            out.append(ToolCall(call.tool, call.args, ok=True))
            continue
        spec = _spec_with(services, agent, call.tool)
        tool = registry.get(call.tool) if call.tool in registry else None
        ctx = ToolContext(
            principal=principal,
            db=services.db,
            thread_id="eval-gold",
            tool_call_id=f"gold_{i}",
            idempotency_key=f"eval-gold:gold_{i}",
            extras=services.runtime.extras,
        )
        try:
            tool = check_allowed(
                spec, tool, call.tool, call.args, principal=principal, tenant_allowlist=None
            )
            args = validate_args(tool, call.args)
            decision = check_call(
                spec,
                tool,
                call.tool,
                args.model_dump(mode="python"),
                tenant_id=TENANT,
                limiter=RateLimiter(),
            )
            if decision.needs_approval:
                # As the runtime does: a call that cannot succeed is refused before anyone
                # is asked to approve it, and no decision is used up.
                refused = precheck(tool, args, ctx, audit=services.audit, agent_id=spec.id)
                if refused is not None:
                    out.append(_outcome_call(call.tool, args.model_dump(mode="json"), refused))
                    continue
                answer = next_decision(approvals, used, call.tool)
                if answer.action == "reject":
                    out.append(ToolCall(call.tool, call.args, ok=False, rejected=True))
                    continue
                if answer.action == "edit":
                    args = validate_args(tool, {**args.model_dump(mode="json"), **answer.args})
        except CockpitError as exc:
            raise ReplayError(
                f"gold action {i} ({call.tool}) is refused: {exc.code}: {exc.message}"
            ) from exc
        outcome = execute(tool, args, ctx, audit=services.audit, agent_id=spec.id)
        out.append(_outcome_call(call.tool, args.model_dump(mode="json"), outcome))
    return out


def _outcome_call(name: str, args: dict[str, Any], outcome: ToolOutcome) -> ToolCall:
    error = outcome.result.get("error") if not outcome.ok else None
    return ToolCall(
        name,
        args,
        ok=outcome.ok,
        error_type=error.get("type") if isinstance(error, dict) else None,
        error_code=error.get("code") if isinstance(error, dict) else None,
    )


def apply_fixtures(services: Any, calls: list[Call]) -> None:
    """Fixture changes, as the tenant's admin, no policy: the world the task starts from."""
    admin = Principal(tenant_id=TENANT, role=Role.ADMIN, key_id="eval-fixture")
    registry = services.runtime.tools
    for i, call in enumerate(calls):
        tool = registry.get(call.tool)
        ctx = ToolContext(
            principal=admin,
            db=services.db,
            thread_id="eval-fixture",
            tool_call_id=f"fixture_{i}",
            idempotency_key=f"eval-fixture:{i}",
            extras=services.runtime.extras,
        )
        outcome = execute(
            tool, validate_args(tool, call.args), ctx, audit=services.audit, agent_id="eval-fixture"
        )
        if not outcome.ok:
            raise ReplayError(f"fixture {i} ({call.tool}) failed: {outcome.result}")


__all__ = ["ReplayError", "apply_fixtures", "next_decision", "replay_gold"]
