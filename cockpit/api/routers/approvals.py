"""``/v1/approvals`` — pending human decisions on writes, and deciding them.

The list is the console's approvals inbox: filters by merchant, agent, amount (minor units in
one currency) and age, pending or decided (history), and for each row whether *this* key may
decide it (and why not). Scoping is the same as every other approval route: a merchant-bound
key sees only its own merchant's approvals.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, TypeVar

from fastapi import Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy import BigInteger, Select, cast, select
from starlette.concurrency import run_in_threadpool

from cockpit.api.deps import RequestContext, StaffCtx
from cockpit.api.limits import PageLimit
from cockpit.api.routers._common import services
from cockpit.api.routing import api_router
from cockpit.clock import utcnow
from cockpit.db.base import iso
from cockpit.errors import CockpitError, Conflict, NotFound, ValidationFailed
from cockpit.money import normalize_currency
from cockpit.runtime.approvals import authorize_decision
from cockpit.runtime.records import ApprovalRecord
from cockpit.runtime.runs import RunSpec
from cockpit.runtime.writer import db_work
from cockpit.tenancy.principal import Principal
from cockpit.toolkit.registry import ToolRegistry

router = api_router(prefix="/v1/approvals", tags=["approvals"])
_Q = TypeVar("_Q", bound=Select[Any])

DECIDED = ("approved", "edited", "rejected")
"""Statuses of a decided approval (history)."""
STATUSES = ("pending", "decided", *DECIDED, "all")
"""What ``status`` may ask for: one status, ``decided`` (any of :data:`DECIDED`) or ``all``."""
MAX_AGE_S = 100 * 366 * 86_400
"""Largest ``older_than_s`` (a century): beyond it the question has no meaning."""


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Literal["approve", "edit", "reject"]
    args: dict[str, Any] | None = None
    reason: str | None = None


def key_prefix(key_id: str | None) -> str | None:
    """The public part of a key (``ck_<id>``), shown instead of its id."""
    return f"ck_{key_id}" if key_id else None


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _blocked(principal: Principal, rec: ApprovalRecord, tools: ToolRegistry) -> dict[str, Any]:
    """Why ``principal`` may not decide ``rec`` as ``{code, message}``; empty when it may."""
    if rec.status != "pending":
        return {"code": "approval_decided", "message": f"already {rec.status}"}
    try:
        authorize_decision(principal, rec, tools)
    except CockpitError as exc:
        return {"code": exc.code, "message": exc.message}
    return {}


def _json(
    r: ApprovalRecord, *, viewer: Principal | None = None, tools: ToolRegistry | None = None
) -> dict[str, Any]:
    req = r.request or {}
    decision = r.decision or {}
    out: dict[str, Any] = {
        "approval_id": r.id,
        "thread_id": r.thread_id,
        "run_id": r.run_id,
        "agent": r.agent_id,
        "tool": r.tool,
        "request": r.request,
        "args": req.get("args", {}),
        "amount": req.get("amount"),
        "currency": req.get("currency"),
        "why": req.get("reason"),
        "merchant_id": r.merchant_id,
        "four_eyes": r.four_eyes,
        "requested_by": r.requester_key_id,
        "requested_by_prefix": key_prefix(r.requester_key_id),
        "status": r.status,
        "decision": r.decision,
        "reason": decision.get("reason"),
        "decided_by": r.decided_by,
        "decided_by_prefix": key_prefix(r.decided_by) if r.decided_by != "system" else None,
        "created_at": iso(r.created_at),
        "decided_at": iso(r.decided_at) if r.decided_at else None,
        "age_s": max(0, int((utcnow() - _aware(r.created_at)).total_seconds())),
    }
    if tools is not None and r.tool in tools:
        # Which arguments hold the amount and its currency: an edit form converts major units.
        tool = tools.get(r.tool)
        out["amount_field"], out["currency_field"] = tool.amount_field, tool.currency_field
    if viewer is not None and tools is not None:
        blocked = _blocked(viewer, r, tools)
        out["may_decide"] = not blocked
        out["blocked"] = blocked or None
    return out


def _get(ctx: RequestContext, approval_id: str) -> ApprovalRecord:
    with ctx.db.tenant_session(ctx.principal.tenant_id) as s:
        rec = s.scalars(
            _owned(select(ApprovalRecord).where(ApprovalRecord.id == approval_id), ctx)
        ).one_or_none()
    if rec is None:
        raise NotFound(f"no approval {approval_id}", code="approval_not_found", param="approval_id")
    return rec


def _decidable(ctx: RequestContext, approval_id: str, tools: ToolRegistry) -> ApprovalRecord:
    """The approval, if this key may decide it (404 / 403 otherwise)."""
    rec = _get(ctx, approval_id)
    authorize_decision(ctx.principal, rec, tools)
    return rec


def _owned(q: _Q, ctx: RequestContext) -> _Q:
    """A merchant-bound key sees only its own merchant's approvals; others are 404."""
    if ctx.principal.merchant_id is not None:
        return q.where(ApprovalRecord.merchant_id == ctx.principal.merchant_id)
    return q


def _by_status(q: _Q, status: str | None) -> _Q:
    if status in (None, "", "all"):
        return q
    if status not in STATUSES:
        raise ValidationFailed(
            f"status must be one of {', '.join(STATUSES)}", code="invalid_value", param="status"
        )
    if status == "decided":
        return q.where(ApprovalRecord.status.in_(DECIDED))
    return q.where(ApprovalRecord.status == status)


def _by_amount(q: _Q, currency: str | None, low: int | None, high: int | None) -> _Q:
    """Amounts are compared in minor units of one currency: a range needs its currency."""
    if currency is None:
        if low is not None or high is not None:
            raise ValidationFailed(
                "min_amount and max_amount are minor units of one currency: give currency too",
                code="currency_required",
                param="currency",
            )
        return q
    if low is not None and high is not None and low > high:
        raise ValidationFailed(
            "min_amount is larger than max_amount", code="invalid_range", param="min_amount"
        )
    q = q.where(ApprovalRecord.request["currency"].as_string() == normalize_currency(currency))
    # BIGINT: minor amounts pass 2**31 (21 million dollars in cents).
    amount = cast(ApprovalRecord.request["amount"].as_string(), BigInteger)
    if low is not None:
        q = q.where(amount >= low)
    if high is not None:
        q = q.where(amount <= high)
    return q


MinorQuery = Annotated[
    int | None, Query(ge=0, le=10**18 - 1, description="Amount in minor units of `currency`")
]


@router.get("", summary="List approvals (the inbox: pending by default, filters, history)")
def list_approvals(
    request: Request,
    ctx: StaffCtx,
    status: Annotated[
        str | None,
        Query(description="pending (default), decided, approved, edited, rejected or all"),
    ] = "pending",
    thread_id: str | None = None,
    merchant_id: str | None = None,
    agent: Annotated[str | None, Query(description="Id of the agent that asked")] = None,
    currency: Annotated[str | None, Query(description="ISO 4217 code of the amounts")] = None,
    min_amount: MinorQuery = None,
    max_amount: MinorQuery = None,
    older_than_s: Annotated[
        int | None, Query(ge=0, le=MAX_AGE_S, description="Asked at least this many seconds ago")
    ] = None,
    limit: PageLimit = 50,
) -> list[dict[str, Any]]:
    # This route and the next are plain functions: FastAPI runs them in a worker thread, so
    # their database reads never hold up the event loop.
    q = _by_amount(_owned(select(ApprovalRecord), ctx), currency, min_amount, max_amount)
    q = _by_status(q, status)
    if thread_id:
        q = q.where(ApprovalRecord.thread_id == thread_id)
    if merchant_id:
        q = q.where(ApprovalRecord.merchant_id == merchant_id)
    if agent:
        q = q.where(ApprovalRecord.agent_id == agent)
    if older_than_s is not None:
        q = q.where(ApprovalRecord.created_at <= utcnow() - timedelta(seconds=older_than_s))
    # History reads newest decision first; the pending list newest request first.
    order: list[Any] = [ApprovalRecord.created_at.desc()]
    if status == "decided" or status in DECIDED:
        order.insert(0, ApprovalRecord.decided_at.desc())
    tools = services(request).runtime.tools.for_tenant(ctx.principal.tenant_id)
    with ctx.db.tenant_session(ctx.principal.tenant_id) as s:
        rows = s.scalars(q.order_by(*order).limit(limit))
        return [_json(r, viewer=ctx.principal, tools=tools) for r in rows]


@router.get("/{approval_id}", summary="Get an approval")
def get(request: Request, ctx: StaffCtx, approval_id: str) -> dict[str, Any]:
    tools = services(request).runtime.tools.for_tenant(ctx.principal.tenant_id)
    return _json(_get(ctx, approval_id), viewer=ctx.principal, tools=tools)


@router.post(
    "/{approval_id}/decision",
    summary="Approve, edit or reject; resumes the thread",
    response_model=None,
)
async def decide(
    request: Request, ctx: StaffCtx, approval_id: str, body: Decision
) -> dict[str, Any] | JSONResponse:
    svc = services(request)
    rec = await run_in_threadpool(_decidable, ctx, approval_id, svc.runtime.tools)
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
    thread = await svc.runtime.threads.record(ctx.principal.tenant_id, rec.thread_id)
    assistant = thread.assistant_id or rec.agent_id
    _resolved, graph = await db_work(
        svc.db, svc.runtime.graph_for, ctx.principal.tenant_id, assistant, ctx.principal
    )
    value = body.model_dump(exclude_none=True)
    spec = RunSpec(assistant_id=assistant, resume={target[0].id: value}, has_resume=True)
    handle = await svc.runtime.runs.start(ctx.principal, rec.thread_id, spec, graph)
    values, status = await svc.runtime.runs.finished(handle)
    if status != 200:
        return JSONResponse(values, status_code=status)
    run = await run_in_threadpool(
        svc.runtime.runs.get, ctx.principal, rec.thread_id, handle.record.run_id
    )
    return {
        "approval": _json(await run_in_threadpool(_get, ctx, approval_id)),
        "run_id": run.run_id,
        "status": run.status,
        "values": values,
    }
