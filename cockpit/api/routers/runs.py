"""``/threads/{id}/runs`` and stateless ``/runs`` — create, stream (SSE), wait, join, cancel."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import Body, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from cockpit.api.deps import StaffCtx
from cockpit.api.limits import Offset, PageLimit
from cockpit.api.routers._common import last_event_id, services, sse_stream
from cockpit.api.routing import api_router
from cockpit.api.services import Services
from cockpit.errors import ValidationFailed
from cockpit.runtime.runs import RunHandle, RunSpec, check_input, check_stream_modes, run_json
from cockpit.runtime.writer import db_work
from cockpit.tenancy.principal import Principal

router = api_router(tags=["runs"])

_UNSUPPORTED = ("interrupt_before", "interrupt_after")
"""Refused on purpose: pausing the team before or after arbitrary nodes would let a client
step around the policy node; approvals are how a run waits for a human."""


class RunCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")
    assistant_id: str = Field(min_length=1, max_length=200)
    input: Any = None
    command: dict[str, Any] | None = None
    stream_mode: str | list[str] | None = None
    metadata: dict[str, Any] | None = None
    config: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    multitask_strategy: str | None = None
    on_disconnect: Literal["cancel", "continue"] | None = None
    on_completion: Literal["delete", "keep"] | None = None
    if_not_exists: Literal["create", "reject"] | None = None
    interrupt_before: Any = None
    interrupt_after: Any = None
    webhook: str | None = Field(default=None, max_length=2000)
    checkpoint: dict[str, Any] | None = None
    checkpoint_id: str | None = Field(default=None, max_length=64)
    after_seconds: float | None = None


class BatchItem(RunCreate):
    thread_id: str | None = None


class CancelMany(BaseModel):
    model_config = ConfigDict(extra="forbid")
    thread_id: str | None = Field(default=None, max_length=64)
    run_ids: list[str] | None = Field(default=None, max_length=1000)
    status: Literal["pending", "running", "all"] | None = None


def _spec(body: RunCreate) -> RunSpec:
    for name in _UNSUPPORTED:
        if getattr(body, name) not in (None, [], ""):
            raise ValidationFailed(
                f"{name} is not supported by this server", code="unsupported_field", param=name
            )
    has_resume = False
    resume: Any = None
    if body.command:
        other = set(body.command) - {"resume"}
        if other:
            raise ValidationFailed(
                "command may only carry 'resume' (state edits would bypass policy)",
                code="unsupported_command",
                param=f"command.{sorted(other)[0]}",
            )
        if "resume" in body.command:
            has_resume, resume = True, body.command["resume"]
    checkpoint_id = body.checkpoint_id or (body.checkpoint or {}).get("checkpoint_id")
    if checkpoint_id is not None and not isinstance(checkpoint_id, str):
        raise ValidationFailed(
            "checkpoint.checkpoint_id must be a string",
            code="invalid_value",
            param="checkpoint.checkpoint_id",
        )
    return RunSpec(
        assistant_id=body.assistant_id,
        input=None if body.input is None else check_input(body.input),
        resume=resume,
        has_resume=has_resume,
        stream_mode=check_stream_modes(body.stream_mode),
        metadata=body.metadata or {},
        multitask_strategy=body.multitask_strategy or "reject",
        on_disconnect=body.on_disconnect or "cancel",
        webhook=body.webhook,
        after_seconds=body.after_seconds or 0,
        checkpoint_id=checkpoint_id,
        on_completion=body.on_completion or "keep",
    )


async def _start(svc: Services, principal: Principal, thread_id: str, body: RunCreate) -> RunHandle:
    if body.if_not_exists == "create":
        svc.runtime.threads.create(
            principal.tenant_id, thread_id=thread_id, if_exists="do_nothing", owner=principal
        )
    return await svc.runtime.start_run(principal, thread_id, _spec(body))


def _run_path(handle: RunHandle) -> str:
    return f"/threads/{handle.record.thread_id}/runs/{handle.record.run_id}"


def _headers(handle: RunHandle, then: str) -> dict[str, str]:
    """``Location`` is where a client that lost the connection picks the run up again."""
    path = _run_path(handle)
    return {"Content-Location": path, "Location": f"{path}/{then}"}


async def _waited(svc: Services, handle: RunHandle) -> JSONResponse:
    """The final state, or the run's failure in the error shape with its status."""
    body, status = await svc.runtime.runs.finished(handle)
    return JSONResponse(body, status_code=status, headers=_headers(handle, "join"))


def _streaming(
    svc: Services, handle: RunHandle, *, after: int | None, on_disconnect: str | None
) -> StreamingResponse:
    events = svc.runtime.runs.events(
        handle, after=after, cancel_on_disconnect=(on_disconnect or "cancel") == "cancel"
    )
    return StreamingResponse(
        sse_stream(events),
        media_type="text/event-stream",
        headers={**_headers(handle, "stream"), "Cache-Control": "no-store"},
    )


@router.post("/threads/{thread_id}/runs/stream", summary="Run and stream events over SSE")
async def stream(
    request: Request, ctx: StaffCtx, thread_id: str, body: RunCreate
) -> StreamingResponse:
    svc = services(request)
    handle = await _start(svc, ctx.principal, thread_id, body)
    return _streaming(svc, handle, after=None, on_disconnect=body.on_disconnect)


@router.post("/threads/{thread_id}/runs/wait", summary="Run and wait for the final state")
async def wait(request: Request, ctx: StaffCtx, thread_id: str, body: RunCreate) -> JSONResponse:
    svc = services(request)
    handle = await _start(svc, ctx.principal, thread_id, body)
    return await _waited(svc, handle)


@router.post("/threads/{thread_id}/runs", summary="Start a background run")
async def create(request: Request, ctx: StaffCtx, thread_id: str, body: RunCreate) -> JSONResponse:
    svc = services(request)
    handle = await _start(svc, ctx.principal, thread_id, body)
    return JSONResponse(run_json(handle.record), headers=_headers(handle, "join"))


@router.get("/threads/{thread_id}/runs", summary="List a thread's runs")
def list_runs(
    request: Request,
    ctx: StaffCtx,
    thread_id: str,
    limit: PageLimit = 10,
    offset: Offset = 0,
    status: str | None = None,
) -> list[dict[str, Any]]:
    rows = services(request).runtime.runs.list(
        ctx.principal, thread_id, limit=limit, offset=offset, status=status
    )
    return [run_json(r) for r in rows]


@router.get("/threads/{thread_id}/runs/{run_id}", summary="Get a run")
def get_run(request: Request, ctx: StaffCtx, thread_id: str, run_id: str) -> dict[str, Any]:
    return run_json(services(request).runtime.runs.get(ctx.principal, thread_id, run_id))


@router.delete("/threads/{thread_id}/runs/{run_id}", status_code=204, summary="Delete a run")
async def delete_run(request: Request, ctx: StaffCtx, thread_id: str, run_id: str) -> Response:
    svc = services(request)
    await db_work(svc.db, svc.runtime.runs.delete, ctx.principal, thread_id, run_id)
    return Response(status_code=204)


def _action(action: str) -> str:
    if action not in ("interrupt", "rollback"):
        raise ValidationFailed(
            "action must be interrupt or rollback", code="invalid_value", param="action"
        )
    return action


@router.post("/threads/{thread_id}/runs/{run_id}/cancel", summary="Cancel a run")
async def cancel(
    request: Request,
    ctx: StaffCtx,
    thread_id: str,
    run_id: str,
    wait: int = 0,
    action: str = "interrupt",
) -> Response:
    await services(request).runtime.runs.cancel(
        ctx.principal, thread_id, run_id, wait=bool(wait), action=_action(action)
    )
    return Response(status_code=202 if not wait else 200)


@router.post("/runs/cancel", status_code=204, summary="Cancel runs by thread, ids or status")
async def cancel_many(
    request: Request, ctx: StaffCtx, body: CancelMany, action: str = "interrupt"
) -> Response:
    if body.thread_id is None and not body.run_ids and body.status is None:
        raise ValidationFailed(
            "name a thread_id, run_ids or a status", code="invalid_value", param="status"
        )
    await services(request).runtime.runs.cancel_many(
        ctx.principal,
        thread_id=body.thread_id,
        run_ids=body.run_ids,
        status=body.status or "all",
        action=_action(action),
    )
    return Response(status_code=204)


@router.get(
    "/threads/{thread_id}/runs/{run_id}/join", summary="Wait for a run and return the final state"
)
async def join(request: Request, ctx: StaffCtx, thread_id: str, run_id: str) -> JSONResponse:
    body, status = await services(request).runtime.runs.join(ctx.principal, thread_id, run_id)
    return JSONResponse(body, status_code=status)


@router.get("/threads/{thread_id}/runs/{run_id}/stream", summary="Follow or resume a run's stream")
async def join_stream(request: Request, ctx: StaffCtx, thread_id: str, run_id: str) -> Response:
    svc = services(request)
    after = last_event_id(request)
    rec = await run_in_threadpool(svc.runtime.runs.get, ctx.principal, thread_id, run_id)
    handle = svc.runtime.runs.handle(rec.run_id) or RunHandle(rec, ctx.principal, [])
    return _streaming(svc, handle, after=after, on_disconnect="continue")


async def _stateless_thread(svc: Services, principal: Principal, body: RunCreate) -> str:
    return await db_work(svc.db, _new_thread, svc, principal, body)


def _new_thread(svc: Services, principal: Principal, body: RunCreate) -> str:
    # Validate everything first so a bad request leaves no orphan thread behind.
    spec = _spec(body)
    svc.runtime.graph_for(principal.tenant_id, spec.assistant_id, principal)
    return svc.runtime.threads.create(
        principal.tenant_id, metadata={"stateless": True}, owner=principal
    ).thread_id


@router.post("/runs/stream", summary="Run on a new thread and stream events")
async def stateless_stream(request: Request, ctx: StaffCtx, body: RunCreate) -> StreamingResponse:
    svc = services(request)
    tid = await _stateless_thread(svc, ctx.principal, body)
    handle = await _start(svc, ctx.principal, tid, body)
    return _streaming(svc, handle, after=None, on_disconnect=body.on_disconnect)


@router.post("/runs/wait", summary="Run on a new thread and wait")
async def stateless_wait(request: Request, ctx: StaffCtx, body: RunCreate) -> JSONResponse:
    svc = services(request)
    tid = await _stateless_thread(svc, ctx.principal, body)
    handle = await _start(svc, ctx.principal, tid, body)
    return await _waited(svc, handle)


@router.post("/runs", summary="Start a background run on a new thread")
async def stateless_create(request: Request, ctx: StaffCtx, body: RunCreate) -> JSONResponse:
    svc = services(request)
    tid = await _stateless_thread(svc, ctx.principal, body)
    handle = await _start(svc, ctx.principal, tid, body)
    return JSONResponse(run_json(handle.record), headers=_headers(handle, "join"))


@router.post("/runs/batch", summary="Start several background runs, each on its own new thread")
async def batch(
    request: Request, ctx: StaffCtx, body: list[BatchItem] = Body(max_length=100)
) -> list[dict[str, Any]]:
    svc = services(request)
    if not body:
        raise ValidationFailed("send at least one run", code="invalid_value", param="body")
    for i, item in enumerate(body):
        # Every item is checked before any starts: a bad item starts nothing.
        try:
            _spec(item)
            await db_work(
                svc.db,
                svc.runtime.graph_for,
                ctx.principal.tenant_id,
                item.assistant_id,
                ctx.principal,
            )
        except ValidationFailed as exc:
            raise ValidationFailed(exc.message, code=exc.code, param=f"{i}.{exc.param}") from exc
    started = []
    for item in body:
        tid = item.thread_id or await _stateless_thread(svc, ctx.principal, item)
        started.append(run_json((await _start(svc, ctx.principal, tid, item)).record))
    return started
