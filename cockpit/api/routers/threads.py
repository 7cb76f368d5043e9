"""``/threads`` — conversations and their checkpointed state.

Clients read state (now, at a checkpoint, its history), copy and prune threads, and follow a
thread's active run. They never write state: ``POST /threads/{id}/state`` (``update_state``)
and ``supersteps`` on create are refused with 403 ``state_edit_refused`` — an edited state
would skip the policy checks, approvals and audit that every agent step goes through.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from cockpit.api.deps import RequestContext, StaffCtx
from cockpit.api.limits import MAX_PAGE, PageLimit
from cockpit.api.routers._common import last_event_id, services, sse_stream
from cockpit.api.routing import api_router
from cockpit.errors import CockpitError, PolicyViolation, UserError, ValidationFailed
from cockpit.runtime.records import RunRecord
from cockpit.runtime.runs import RunHandle
from cockpit.runtime.serialize import to_json
from cockpit.runtime.threads import snapshot_json
from cockpit.runtime.writer import db_work

router = api_router(prefix="/threads", tags=["threads"])

ThreadSort = Literal["thread_id", "status", "created_at", "updated_at", "state_updated_at"]
THREAD_FIELDS = ("thread_id", "created_at", "updated_at", "metadata", "status", "values")
THREAD_FIELDS_ALL = (*THREAD_FIELDS, "interrupts", "config", "context")
STATE_FIELDS = (
    "values",
    "next",
    "tasks",
    "checkpoint",
    "metadata",
    "created_at",
    "parent_checkpoint",
    "interrupts",
)


def _refuse_state_edit(param: str) -> PolicyViolation:
    return PolicyViolation(
        "clients cannot write thread state (it would bypass policy, approvals and audit); "
        "send a user message or resume an interrupt with a run",
        code="state_edit_refused",
        param=param,
    )


def _refuse(param: str, why: str) -> ValidationFailed:
    return ValidationFailed(
        f"{param} is not supported: {why}", code="unsupported_field", param=param
    )


class ThreadCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    thread_id: str | None = None
    metadata: dict[str, Any] | None = None
    if_exists: str | None = None
    supersteps: list[Any] | None = None
    """Refused: pre-written state (403 ``state_edit_refused``)."""
    ttl: Any = None
    """Refused: threads live until deleted or pruned (422 ``unsupported_field``)."""


class ThreadPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    metadata: dict[str, Any]
    ttl: Any = None


class ThreadSearch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    metadata: dict[str, Any] | None = None
    values: dict[str, Any] | None = None
    """Equality on top-level state values (``active_agent``, …)."""
    ids: list[str] | None = Field(default=None, max_length=MAX_PAGE)
    status: str | None = None
    limit: int = Field(default=10, ge=1, le=MAX_PAGE)
    offset: int = Field(default=0, ge=0)
    sort_by: ThreadSort | None = None
    sort_order: Literal["asc", "desc"] | None = None
    select: list[Literal[THREAD_FIELDS_ALL]] | None = None  # type: ignore[valid-type]
    extract: dict[str, str] | None = None
    """Refused (422): select the values instead."""


class CheckpointRef(BaseModel):
    model_config = ConfigDict(extra="ignore")
    checkpoint_id: str | None = Field(default=None, max_length=64)
    checkpoint_ns: str | None = None
    thread_id: str | None = None


class StateAt(BaseModel):
    model_config = ConfigDict(extra="forbid")
    checkpoint: CheckpointRef
    subgraphs: bool = False
    select: list[Literal[STATE_FIELDS]] | None = None  # type: ignore[valid-type]


class HistoryQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(default=10, ge=1, le=MAX_PAGE)
    before: str | CheckpointRef | None = None
    metadata: dict[str, Any] | None = None
    checkpoint: CheckpointRef | None = None
    select: list[Literal[STATE_FIELDS]] | None = None  # type: ignore[valid-type]


class StateWrite(BaseModel):
    model_config = ConfigDict(extra="allow")


class Prune(BaseModel):
    model_config = ConfigDict(extra="forbid")
    thread_ids: list[str] = Field(min_length=1, max_length=MAX_PAGE)
    strategy: Literal["delete", "keep_latest"] = "delete"


def _pick(doc: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
    return doc if not fields else {k: doc.get(k) for k in fields}


@router.post("", summary="Create a thread")
async def create(request: Request, ctx: StaffCtx, body: ThreadCreate) -> dict[str, Any]:
    if body.supersteps:
        raise _refuse_state_edit("supersteps")
    if body.ttl is not None:
        raise _refuse("ttl", "threads live until deleted or pruned")
    svc = services(request)
    store = svc.runtime.threads
    rec = await db_work(
        svc.db,
        store.create,
        ctx.principal.tenant_id,
        thread_id=body.thread_id,
        metadata=body.metadata,
        if_exists=body.if_exists or "raise",
        owner=ctx.principal,
    )
    return await store.to_json(ctx.principal.tenant_id, rec, with_values=False)


async def _found(request: Request, ctx: RequestContext, body: ThreadSearch) -> list[Any]:
    if body.extract:
        raise _refuse("extract", "use select with values")
    svc = services(request)
    store = svc.runtime.threads
    tenant = ctx.principal.tenant_id
    rows = await db_work(
        svc.db,
        store.search,
        tenant,
        metadata=body.metadata,
        status=body.status,
        limit=10**9,
        offset=0,
        viewer=ctx.principal,
        ids=body.ids,
        sort_by=body.sort_by or "created_at",
        sort_order=body.sort_order or "desc",
    )
    if not body.values:
        return rows
    wanted = body.values
    out = []
    for rec in rows:
        values = (await store.state(tenant, rec.thread_id)).values
        if all(to_json(values.get(k)) == v for k, v in wanted.items()):
            out.append(rec)
    return out


@router.post("/search", summary="Search threads")
async def search(request: Request, ctx: StaffCtx, body: ThreadSearch) -> list[dict[str, Any]]:
    store = services(request).runtime.threads
    rows = (await _found(request, ctx, body))[body.offset : body.offset + body.limit]
    return [_pick(await store.to_json(ctx.principal.tenant_id, r), body.select) for r in rows]


@router.post("/count", summary="Count threads")
async def count(request: Request, ctx: StaffCtx, body: ThreadSearch) -> int:
    return len(await _found(request, ctx, body))


@router.post("/prune", summary="Delete threads, or keep only their latest checkpoint")
async def prune(request: Request, ctx: StaffCtx, body: Prune) -> dict[str, Any]:
    """All or nothing: 404 for a thread the caller cannot see, 409 for a busy one."""
    pruned = await services(request).runtime.threads.prune(
        ctx.principal.tenant_id, body.thread_ids, strategy=body.strategy, viewer=ctx.principal
    )
    return {"pruned_count": pruned}


@router.get("/{thread_id}", summary="Get a thread")
async def get(
    request: Request, ctx: StaffCtx, thread_id: str, include: str | None = None
) -> dict[str, Any]:
    store = services(request).runtime.threads
    rec = await store.record(ctx.principal.tenant_id, thread_id, ctx.principal)
    return await store.to_json(ctx.principal.tenant_id, rec)


@router.patch("/{thread_id}", summary="Update a thread's metadata")
async def patch(
    request: Request, ctx: StaffCtx, thread_id: str, body: ThreadPatch
) -> dict[str, Any]:
    if body.ttl is not None:
        raise _refuse("ttl", "threads live until deleted or pruned")
    svc = services(request)
    store = svc.runtime.threads
    rec = await db_work(
        svc.db, store.patch, ctx.principal.tenant_id, thread_id, body.metadata, ctx.principal
    )
    return await store.to_json(ctx.principal.tenant_id, rec)


@router.delete("/{thread_id}", status_code=204, summary="Delete a thread and its checkpoints")
async def delete(request: Request, ctx: StaffCtx, thread_id: str) -> Response:
    await services(request).runtime.threads.delete(
        ctx.principal.tenant_id, thread_id, ctx.principal
    )
    return Response(status_code=204)


@router.post("/{thread_id}/copy", summary="Copy a thread with all its checkpoints")
async def copy(request: Request, ctx: StaffCtx, thread_id: str) -> dict[str, Any]:
    """The copy belongs to the caller (its merchant, for a merchant-bound key)."""
    store = services(request).runtime.threads
    rec = await store.copy(ctx.principal.tenant_id, thread_id, owner=ctx.principal)
    return await store.to_json(ctx.principal.tenant_id, rec)


async def _state(
    request: Request, ctx: RequestContext, thread_id: str, checkpoint_id: str | None
) -> dict[str, Any]:
    snap = await services(request).runtime.threads.state(
        ctx.principal.tenant_id, thread_id, ctx.principal, checkpoint_id=checkpoint_id
    )
    return snapshot_json(snap)


StateSelect = list[Literal[STATE_FIELDS]] | None  # type: ignore[valid-type]


@router.get("/{thread_id}/state", summary="Current state of a thread")
async def state(
    request: Request,
    ctx: StaffCtx,
    thread_id: str,
    subgraphs: bool = False,
    select: StateSelect = Query(None),
) -> dict[str, Any]:
    """``subgraphs`` changes nothing: a team graph has none."""
    return _pick(await _state(request, ctx, thread_id, None), select)


@router.post("/{thread_id}/state", summary="Refused: clients cannot write thread state")
async def update_state(
    request: Request, ctx: StaffCtx, thread_id: str, body: StateWrite
) -> dict[str, Any]:
    """Always 403 ``state_edit_refused`` (404 first for a thread the caller cannot see)."""
    await services(request).runtime.threads.record(
        ctx.principal.tenant_id, thread_id, ctx.principal
    )
    raise _refuse_state_edit("values")


@router.post("/{thread_id}/state/checkpoint", summary="State of a thread at a checkpoint")
async def state_at(
    request: Request, ctx: StaffCtx, thread_id: str, body: StateAt
) -> dict[str, Any]:
    cid = body.checkpoint.checkpoint_id
    return _pick(await _state(request, ctx, thread_id, cid), body.select)


@router.get("/{thread_id}/state/{checkpoint_id}", summary="State of a thread at a checkpoint")
async def state_at_id(
    request: Request,
    ctx: StaffCtx,
    thread_id: str,
    checkpoint_id: str,
    subgraphs: bool = False,
    select: StateSelect = Query(None),
) -> dict[str, Any]:
    return _pick(await _state(request, ctx, thread_id, checkpoint_id), select)


@router.post("/{thread_id}/history", summary="Past states of a thread, newest first")
async def history(
    request: Request, ctx: StaffCtx, thread_id: str, body: HistoryQuery
) -> list[dict[str, Any]]:
    """``before``/``checkpoint`` name checkpoints of this thread (404 otherwise); ``metadata``
    filters on the public checkpoint metadata (``source``, ``step``, ``parents``, ``run_id``)."""
    before = body.before.checkpoint_id if isinstance(body.before, CheckpointRef) else body.before
    rows = await services(request).runtime.threads.history(
        ctx.principal.tenant_id,
        thread_id,
        limit=body.limit,
        viewer=ctx.principal,
        before=before,
        checkpoint_id=body.checkpoint.checkpoint_id if body.checkpoint else None,
        metadata=body.metadata,
    )
    return [_pick(r, body.select) for r in rows]


@router.get("/{thread_id}/history", summary="Past states of a thread, newest first")
async def history_get(
    request: Request, ctx: StaffCtx, thread_id: str, limit: PageLimit = 10
) -> list[dict[str, Any]]:
    return await services(request).runtime.threads.history(
        ctx.principal.tenant_id, thread_id, limit=limit, viewer=ctx.principal
    )


async def _nothing() -> AsyncIterator[bytes]:
    for _ in ():
        yield b""


@router.get("/{thread_id}/stream", summary="Follow the thread's active run, if it has one")
async def join_stream(
    request: Request,
    ctx: StaffCtx,
    thread_id: str,
    stream_mode: list[str] = Query(["run_modes"]),
) -> StreamingResponse:
    """The events of the run in progress on the thread (in the modes it was started with),
    until it ends; with no run in progress the stream ends at once. Only ``run_modes``."""
    if any(m != "run_modes" for m in stream_mode):
        raise ValidationFailed(
            "only stream_mode run_modes is served (the run's own modes)",
            code="invalid_stream_mode",
            param="stream_mode",
        )
    after = last_event_id(request)
    runs = services(request).runtime.runs

    def in_progress() -> list[RunRecord]:
        return [
            rec
            for status in ("running", "pending")
            for rec in runs.list(ctx.principal, thread_id, limit=1, offset=0, status=status)
        ]

    active = await run_in_threadpool(in_progress)
    headers = {"Cache-Control": "no-store"}
    if not active:
        return StreamingResponse(_nothing(), media_type="text/event-stream", headers=headers)
    handle = runs.handle(active[0].run_id) or RunHandle(active[0], ctx.principal, [])
    events = runs.events(handle, after=after, cancel_on_disconnect=False)
    return StreamingResponse(sse_stream(events), media_type="text/event-stream", headers=headers)


class StreamProtocolUnsupported(UserError):
    """The v3 thread-centric protocol (``threads.stream()``) is not served."""


def _v3_refused() -> CockpitError:
    return StreamProtocolUnsupported(
        "the v3 thread stream protocol (commands, stream/events) is not served; use "
        "runs.stream, runs.join_stream or threads.join_stream",
        code="stream_protocol_unsupported",
        param="transport",
    )


@router.post("/{thread_id}/commands", summary="Refused: the v3 thread stream protocol")
async def commands(request: Request, ctx: StaffCtx, thread_id: str) -> dict[str, Any]:
    """Always 400 ``stream_protocol_unsupported`` (404 first for an unseen thread)."""
    await services(request).runtime.threads.record(
        ctx.principal.tenant_id, thread_id, ctx.principal
    )
    raise _v3_refused()


@router.post("/{thread_id}/stream/events", summary="Refused: the v3 thread stream protocol")
async def stream_events(request: Request, ctx: StaffCtx, thread_id: str) -> dict[str, Any]:
    """Always 400 ``stream_protocol_unsupported`` (404 first for an unseen thread)."""
    await services(request).runtime.threads.record(
        ctx.principal.tenant_id, thread_id, ctx.principal
    )
    raise _v3_refused()
