"""``/threads`` — conversations and their checkpointed state."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from cockpit.api.deps import StaffCtx
from cockpit.api.limits import PageLimit
from cockpit.api.routers._common import services
from cockpit.runtime.threads import snapshot_json

router = APIRouter(prefix="/threads", tags=["threads"])


class ThreadCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")
    thread_id: str | None = None
    metadata: dict[str, Any] | None = None
    if_exists: str | None = None


class ThreadPatch(BaseModel):
    model_config = ConfigDict(extra="ignore")
    metadata: dict[str, Any]


class ThreadSearch(BaseModel):
    model_config = ConfigDict(extra="ignore")
    metadata: dict[str, Any] | None = None
    status: str | None = None
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)


class HistoryQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    limit: int = Field(default=10, ge=1, le=1000)


@router.post("", summary="Create a thread")
async def create(request: Request, ctx: StaffCtx, body: ThreadCreate) -> dict[str, Any]:
    store = services(request).runtime.threads
    rec = store.create(
        ctx.principal.tenant_id,
        thread_id=body.thread_id,
        metadata=body.metadata,
        if_exists=body.if_exists or "raise",
        owner=ctx.principal,
    )
    return await store.to_json(ctx.principal.tenant_id, rec, with_values=False)


@router.post("/search", summary="Search threads")
async def search(request: Request, ctx: StaffCtx, body: ThreadSearch) -> list[dict[str, Any]]:
    store = services(request).runtime.threads
    rows = store.search(
        ctx.principal.tenant_id,
        metadata=body.metadata,
        status=body.status,
        limit=body.limit,
        offset=body.offset,
        viewer=ctx.principal,
    )
    return [await store.to_json(ctx.principal.tenant_id, r) for r in rows]


@router.post("/count", summary="Count threads")
async def count(request: Request, ctx: StaffCtx, body: ThreadSearch) -> int:
    store = services(request).runtime.threads
    return len(
        store.search(
            ctx.principal.tenant_id,
            metadata=body.metadata,
            status=body.status,
            limit=1_000_000,
            offset=0,
            viewer=ctx.principal,
        )
    )


@router.get("/{thread_id}", summary="Get a thread")
async def get(request: Request, ctx: StaffCtx, thread_id: str) -> dict[str, Any]:
    store = services(request).runtime.threads
    rec = store.get_record(ctx.principal.tenant_id, thread_id, ctx.principal)
    return await store.to_json(ctx.principal.tenant_id, rec)


@router.patch("/{thread_id}", summary="Update a thread's metadata")
async def patch(
    request: Request, ctx: StaffCtx, thread_id: str, body: ThreadPatch
) -> dict[str, Any]:
    store = services(request).runtime.threads
    rec = store.patch(ctx.principal.tenant_id, thread_id, body.metadata, ctx.principal)
    return await store.to_json(ctx.principal.tenant_id, rec)


@router.delete("/{thread_id}", status_code=204, summary="Delete a thread and its checkpoints")
async def delete(request: Request, ctx: StaffCtx, thread_id: str) -> Response:
    await services(request).runtime.threads.delete(
        ctx.principal.tenant_id, thread_id, ctx.principal
    )
    return Response(status_code=204)


@router.get("/{thread_id}/state", summary="Current state of a thread")
async def state(request: Request, ctx: StaffCtx, thread_id: str) -> dict[str, Any]:
    snap = await services(request).runtime.threads.state(
        ctx.principal.tenant_id, thread_id, ctx.principal
    )
    return snapshot_json(snap)


@router.post("/{thread_id}/history", summary="Past states of a thread, newest first")
async def history(
    request: Request, ctx: StaffCtx, thread_id: str, body: HistoryQuery
) -> list[dict[str, Any]]:
    return await services(request).runtime.threads.history(
        ctx.principal.tenant_id, thread_id, limit=body.limit, viewer=ctx.principal
    )


@router.get("/{thread_id}/history", summary="Past states of a thread, newest first")
async def history_get(
    request: Request, ctx: StaffCtx, thread_id: str, limit: PageLimit = 10
) -> list[dict[str, Any]]:
    body = HistoryQuery(limit=limit)
    return await services(request).runtime.threads.history(
        ctx.principal.tenant_id, thread_id, limit=body.limit, viewer=ctx.principal
    )
