"""One model tool call under policy: refused, paused for approval, or run exactly once.

:func:`run_tool` checks a call in a fixed order before anything runs: the agent's spec,
the tenant's allowlist, the caller's role and no identity in the arguments
(:func:`~cockpit.runtime.policy.check_allowed`); then the arguments, validated and coerced;
then policy on exactly those arguments (:func:`~cockpit.runtime.policy.check_call`). A
refusal is audited and answered as a ``{type, code, message, param}`` error the model
reads. A call that needs approval is first prechecked (one that cannot succeed is refused,
not put to a human), recorded as pending, and pauses the graph with ``interrupt()``; an
edited call passes the same checks again. The executor (:mod:`cockpit.runtime.executor`)
then runs it once, for the key whose request caused it. Handoffs are not run here: the
graph's ``tools`` node (:mod:`cockpit.runtime.graph`) performs them.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from langchain_core.messages import ToolMessage
from langgraph.types import interrupt
from sqlalchemy import select

from cockpit.db.base import utcnow
from cockpit.errors import CockpitError, UserError
from cockpit.observability.metrics import metrics
from cockpit.runtime.execution import run_ended
from cockpit.runtime.executor import error_result, execute, precheck, validate_args
from cockpit.runtime.policy import RateLimiter, check_allowed, check_call
from cockpit.runtime.records import ApprovalRecord
from cockpit.runtime.team import Team
from cockpit.specs.spec import AgentSpec
from cockpit.tenancy.principal import Principal, Role
from cockpit.toolkit.registry import ToolContext


def refusal(call_id: str, name: str, exc: CockpitError) -> ToolMessage:
    return ToolMessage(
        content=json.dumps(error_result(exc)), tool_call_id=call_id, name=name, status="error"
    )


def audit_refusal(
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


def run_tool(
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
        audit_refusal(team, principal, spec, thread_id, name, raw_args, exc)
        return refusal(call_id, name, exc)

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
                audit_refusal(team, principal, spec, thread_id, name, merged, exc)
                return refusal(call_id, name, exc)

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


__all__ = ["approval_id", "audit_refusal", "refusal", "run_tool"]
