"""``/v1/approvals`` — pending human decisions on writes, and deciding them."""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Select, select

from cockpit.api.deps import RequestContext, StaffCtx
from cockpit.api.limits import PageLimit
from cockpit.api.routers._common import services
from cockpit.db.base import iso
from cockpit.errors import Conflict, NotFound
from cockpit.runtime.approvals import authorize_decision
from cockpit.runtime.records import ApprovalRecord
from cockpit.runtime.runs import RunSpec

router = APIRouter(prefix="/v1/approvals", tags=["approvals"])
_Q = TypeVar("_Q", bound=Select[Any])


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Literal["approve", "edit", "reject"]
    args: dict[str, Any] | None = None
    reason: str | None = None


def _json(r: ApprovalRecord) -> dict[str, Any]:
    return {
        "approval_id": r.id,
        "thread_id": r.thread_id,
        "run_id": r.run_id,
        "agent": r.agent_id,
        "tool": r.tool,
        "request": r.request,
        "status": r.status,
        "decision": r.decision,
        "decided_by": r.decided_by,
        "created_at": iso(r.created_at),
        "decided_at": iso(r.decided_at) if r.decided_at else None,
    }


def _get(ctx: RequestContext, approval_id: str) -> ApprovalRecord:
    with ctx.db.tenant_session(ctx.principal.tenant_id) as s:
        rec = s.scalars(
            _owned(select(ApprovalRecord).where(ApprovalRecord.id == approval_id), ctx)
        ).one_or_none()
    if rec is None:
        raise NotFound(f"no approval {approval_id}", code="approval_not_found", param="approval_id")
    return rec


def _owned(q: _Q, ctx: RequestContext) -> _Q:
    """A merchant-bound key sees only its own merchant's approvals; others are 404."""
    if ctx.principal.merchant_id is not None:
        return q.where(ApprovalRecord.merchant_id == ctx.principal.merchant_id)
    return q


@router.get("", summary="List approvals (pending first)")
async def list_approvals(
    ctx: StaffCtx,
    status: str | None = "pending",
    thread_id: str | None = None,
    limit: PageLimit = 50,
) -> list[dict[str, Any]]:
    with ctx.db.tenant_session(ctx.principal.tenant_id) as s:
        q = _owned(select(ApprovalRecord), ctx)
        if status:
            q = q.where(ApprovalRecord.status == status)
        if thread_id:
            q = q.where(ApprovalRecord.thread_id == thread_id)
        rows = s.scalars(q.order_by(ApprovalRecord.created_at.desc()).limit(limit))
        return [_json(r) for r in rows]


@router.get("/{approval_id}", summary="Get an approval")
async def get(ctx: StaffCtx, approval_id: str) -> dict[str, Any]:
    return _json(_get(ctx, approval_id))


@router.post(
    "/{approval_id}/decision",
    summary="Approve, edit or reject; resumes the thread",
    response_model=None,
)
async def decide(
    request: Request, ctx: StaffCtx, approval_id: str, body: Decision
) -> dict[str, Any] | JSONResponse:
    rec = _get(ctx, approval_id)
    svc = services(request)
    authorize_decision(ctx.principal, rec, svc.runtime.tools)
    if rec.status != "pending":
        raise Conflict(
            f"approval {approval_id} is already {rec.status}",
            code="approval_decided",
            param="approval_id",
        )
    snap = await svc.runtime.threads.state(ctx.principal.tenant_id, rec.thread_id, ctx.principal)
    target = [
        i
        for i in snap.interrupts
        if isinstance(i.value, dict) and i.value.get("approval_id") == approval_id
    ]
    if not target:
        raise Conflict(
            "the thread is no longer waiting for this approval",
            code="approval_stale",
            param="approval_id",
        )
    thread = svc.runtime.threads.get_record(ctx.principal.tenant_id, rec.thread_id)
    assistant = thread.assistant_id or rec.agent_id
    _resolved, graph = svc.runtime.graph_for(ctx.principal.tenant_id, assistant, ctx.principal)
    value = body.model_dump(exclude_none=True)
    spec = RunSpec(assistant_id=assistant, resume={target[0].id: value}, has_resume=True)
    handle = await svc.runtime.runs.start(ctx.principal, rec.thread_id, spec, graph)
    await handle.done.wait()
    if handle.error is not None:
        return JSONResponse(handle.error, status_code=handle.error_status)
    run = svc.runtime.runs.get(ctx.principal, rec.thread_id, handle.record.run_id)
    return {
        "approval": _json(_get(ctx, approval_id)),
        "run_id": run.run_id,
        "status": run.status,
        "values": handle.final,
    }
