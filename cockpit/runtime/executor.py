"""Runs one tool call: validates arguments, makes WRITEs exactly-once, audits, screens output."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cockpit.audit.log import AuditLog
from cockpit.errors import CockpitError, ModelBehaviorError
from cockpit.guardrails.injection import quarantine
from cockpit.observability.callbacks import observe_tool
from cockpit.runtime.records import ToolExecution
from cockpit.toolkit.registry import ToolContext, ToolDef, ToolKind

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ToolOutcome:
    ok: bool
    result: dict[str, Any]
    replayed: bool = False
    """A WRITE whose idempotency key had run before: its first result, nothing changed."""


def validate_args(tool: ToolDef, raw: dict[str, Any]) -> BaseModel:
    """The model's arguments as the tool's schema, or a readable :class:`ModelBehaviorError`."""
    try:
        return tool.args.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or "args"
        raise ModelBehaviorError(
            f"{tool.name}: argument {loc}: {err['msg']}", code="invalid_tool_arguments", param=loc
        ) from None


def _jsonable(value: Any) -> dict[str, Any]:
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    data = json.loads(json.dumps(value, default=str))
    return data if isinstance(data, dict) else {"result": data}


def error_result(exc: CockpitError) -> dict[str, Any]:
    return {
        "error": {"type": exc.type, "code": exc.code, "message": exc.message, "param": exc.param}
    }


def execute(
    tool: ToolDef,
    args: BaseModel,
    ctx: ToolContext,
    *,
    audit: AuditLog,
    agent_id: str,
    screen: bool = True,
) -> ToolOutcome:
    """Run the tool. A WRITE with a key that already ran returns the stored first result.

    Each call is a ``tool <name>`` span under its graph node and counts in the tool metrics.
    """
    with observe_tool(tool.name, kind=tool.kind.value) as call:
        outcome = _execute(tool, args, ctx, audit=audit, agent_id=agent_id, screen=screen)
        call.outcome = "replayed" if outcome.replayed else "ok" if outcome.ok else "error"
    return outcome


def _execute(
    tool: ToolDef,
    args: BaseModel,
    ctx: ToolContext,
    *,
    audit: AuditLog,
    agent_id: str,
    screen: bool,
) -> ToolOutcome:
    tenant = ctx.principal.tenant_id
    args_json = args.model_dump(mode="json")
    if tool.kind is ToolKind.WRITE:
        if not ctx.idempotency_key:
            raise ModelBehaviorError(
                "a WRITE needs an idempotency key", code="missing_idempotency_key"
            )
        prior = _stored(ctx, tool.name)
        if prior is not None:
            return ToolOutcome(ok="error" not in prior, result=prior, replayed=True)
    try:
        result = _jsonable(tool.fn(ctx, args))
        ok = True
    except CockpitError as exc:
        result, ok = error_result(exc), False
    except Exception:
        log.exception("tool %s crashed", tool.name)
        result, ok = (
            {
                "error": {
                    "type": "tool_error",
                    "code": "tool_crashed",
                    "message": f"{tool.name} failed unexpectedly",
                    "param": None,
                }
            },
            False,
        )
    if tool.kind is ToolKind.WRITE and ok:
        result = _remember(ctx, tool.name, args_json, result)
    audit.record(
        tenant,
        kind="tool_call",
        actor=f"agent:{agent_id}",
        subject=ctx.thread_id or "-",
        payload={
            "tool": tool.name,
            "kind": tool.kind.value,
            "args": args_json,
            "ok": ok,
            "error": result.get("error") if not ok else None,
            "idempotency_key": ctx.idempotency_key if tool.kind is ToolKind.WRITE else None,
            "key_id": ctx.principal.key_id,
        },
    )
    if screen:
        screened = quarantine(result)
        if screened.untrusted or screened.flagged:
            result = screened.value
        if screened.untrusted:
            result["_untrusted"] = screened.untrusted
        if screened.flagged:
            result["_flagged"] = screened.flagged
    return ToolOutcome(ok=ok, result=result)


def precheck(
    tool: ToolDef, args: BaseModel, ctx: ToolContext, *, audit: AuditLog, agent_id: str
) -> ToolOutcome | None:
    """Run the tool's precheck: None when the call may go ahead (or the tool has none), else
    the tool's own error result, audited like a failed call of the tool.

    A precheck that crashes is logged and ignored: it only spares a human a pointless
    approval, and the write path checks the same preconditions again anyway.
    """
    if tool.precheck is None:
        return None
    try:
        tool.precheck(ctx, args)
        return None
    except CockpitError as exc:
        result = error_result(exc)
    except Exception:
        log.exception("precheck of %s crashed; asking for approval anyway", tool.name)
        return None
    audit.record(
        ctx.principal.tenant_id,
        kind="tool_call",
        actor=f"agent:{agent_id}",
        subject=ctx.thread_id or "-",
        payload={
            "tool": tool.name,
            "kind": tool.kind.value,
            "args": args.model_dump(mode="json"),
            "ok": False,
            "error": result["error"],
            "stage": "precheck",
            "key_id": ctx.principal.key_id,
        },
    )
    return ToolOutcome(ok=False, result=result)


def _stored(ctx: ToolContext, tool_name: str) -> dict[str, Any] | None:
    with ctx.db.tenant_session(ctx.principal.tenant_id) as s:
        row = s.scalars(
            select(ToolExecution).where(ToolExecution.idempotency_key == ctx.idempotency_key)
        ).one_or_none()
        return None if row is None else dict(row.result)


def _remember(
    ctx: ToolContext, tool_name: str, args: dict[str, Any], result: dict[str, Any]
) -> dict[str, Any]:
    try:
        with ctx.db.tenant_session(ctx.principal.tenant_id) as s:
            s.add(
                ToolExecution(
                    idempotency_key=ctx.idempotency_key or "",
                    tool=tool_name,
                    thread_id=ctx.thread_id,
                    args=args,
                    result=result,
                )
            )
    except IntegrityError:
        # A concurrent retry stored first; its result is the answer.
        stored = _stored(ctx, tool_name)
        if stored is not None:
            return stored
    return result


__all__ = ["ToolOutcome", "error_result", "execute", "precheck", "validate_args"]
