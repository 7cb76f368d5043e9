"""``/threads/{id}/runs`` and stateless ``/runs`` — create, stream (SSE), wait, join, cancel."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from cockpit.api.deps import StaffCtx
from cockpit.api.limits import Offset, PageLimit
from cockpit.api.routers._common import services, sse_stream
from cockpit.api.services import Services
from cockpit.errors import ValidationFailed
from cockpit.runtime.runs import RunHandle, RunSpec, check_input, check_stream_modes, run_json
from cockpit.tenancy.principal import Principal

router = APIRouter(tags=["runs"])

_UNSUPPORTED = (
    "interrupt_before",
    "interrupt_after",
    "webhook",
    "checkpoint",
    "checkpoint_id",
    "after_seconds",
)


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
    interrupt_before: Any = None
    interrupt_after: Any = None
    webhook: str | None = None
    checkpoint: dict[str, Any] | None = None
    checkpoint_id: str | None = None
    after_seconds: int | None = None


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
    return RunSpec(
        assistant_id=body.assistant_id,
        input=None if body.input is None else check_input(body.input),
        resume=resume,
        has_resume=has_resume,
        stream_mode=check_stream_modes(body.stream_mode),
        metadata=body.metadata or {},
        multitask_strategy=body.multitask_strategy or "reject",
        on_disconnect=body.on_disconnect or "cancel",
    )


async def _start(svc: Services, principal: Principal, thread_id: str, body: RunCreate) -> RunHandle:
    return await svc.runtime.start_run(principal, thread_id, _spec(body))


def _location(handle: RunHandle) -> dict[str, str]:
    return {"Content-Location": f"/threads/{handle.record.thread_id}/runs/{handle.record.run_id}"}


async def _waited(handle: RunHandle) -> JSONResponse:
    """The final state, or the run's failure in the error shape with its status."""
    await handle.done.wait()
    if handle.error is not None:
        return JSONResponse(
            handle.error, status_code=handle.error_status, headers=_location(handle)
        )
    return JSONResponse(handle.final, headers=_location(handle))


def _streaming(svc: Services, handle: RunHandle, on_disconnect: str | None) -> StreamingResponse:
    events = svc.runtime.runs.events(
        handle, cancel_on_disconnect=(on_disconnect or "cancel") == "cancel"
    )
    return StreamingResponse(
        sse_stream(events),
        media_type="text/event-stream",
        headers={**_location(handle), "Cache-Control": "no-store"},
    )


@router.post("/threads/{thread_id}/runs/stream", summary="Run and stream events over SSE")
async def stream(
    request: Request, ctx: StaffCtx, thread_id: str, body: RunCreate
) -> StreamingResponse:
    svc = services(request)
    handle = await _start(svc, ctx.principal, thread_id, body)
    return _streaming(svc, handle, body.on_disconnect)


@router.post("/threads/{thread_id}/runs/wait", summary="Run and wait for the final state")
async def wait(request: Request, ctx: StaffCtx, thread_id: str, body: RunCreate) -> JSONResponse:
    svc = services(request)
    handle = await _start(svc, ctx.principal, thread_id, body)
    return await _waited(handle)


@router.post("/threads/{thread_id}/runs", summary="Start a background run")
async def create(request: Request, ctx: StaffCtx, thread_id: str, body: RunCreate) -> JSONResponse:
    svc = services(request)
    handle = await _start(svc, ctx.principal, thread_id, body)
    return JSONResponse(run_json(handle.record), headers=_location(handle))


@router.get("/threads/{thread_id}/runs", summary="List a thread's runs")
async def list_runs(
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
async def get_run(request: Request, ctx: StaffCtx, thread_id: str, run_id: str) -> dict[str, Any]:
    return run_json(services(request).runtime.runs.get(ctx.principal, thread_id, run_id))


@router.post("/threads/{thread_id}/runs/{run_id}/cancel", summary="Cancel a run")
async def cancel(
    request: Request,
    ctx: StaffCtx,
    thread_id: str,
    run_id: str,
    wait: int = 0,
    action: str = "interrupt",
) -> Response:
    if action not in ("interrupt", "rollback"):
        raise ValidationFailed(
            "action must be interrupt or rollback", code="invalid_value", param="action"
        )
    await services(request).runtime.runs.cancel(ctx.principal, thread_id, run_id, wait=bool(wait))
    return Response(status_code=202 if not wait else 200)


@router.get(
    "/threads/{thread_id}/runs/{run_id}/join", summary="Wait for a run and return the final state"
)
async def join(request: Request, ctx: StaffCtx, thread_id: str, run_id: str) -> dict[str, Any]:
    svc = services(request)
    snap = await svc.runtime.threads.state(ctx.principal.tenant_id, thread_id, ctx.principal)
    from cockpit.runtime.serialize import to_json

    return await svc.runtime.runs.join(ctx.principal, thread_id, run_id, to_json(snap.values))


@router.get("/threads/{thread_id}/runs/{run_id}/stream", summary="Stream a run in progress")
async def join_stream(request: Request, ctx: StaffCtx, thread_id: str, run_id: str) -> Response:
    svc = services(request)
    rec = svc.runtime.runs.get(ctx.principal, thread_id, run_id)
    handle = svc.runtime.runs.handle(rec.run_id)
    if handle is None:

        async def ended() -> Any:
            yield f'event: end\ndata: {{"run_id": "{rec.run_id}", "status": "{rec.status}"}}\n\n'.encode()

        return StreamingResponse(ended(), media_type="text/event-stream")
    return _streaming(svc, handle, "continue")


async def _stateless_thread(svc: Services, principal: Principal, body: RunCreate) -> str:
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
    return _streaming(svc, handle, body.on_disconnect)


@router.post("/runs/wait", summary="Run on a new thread and wait")
async def stateless_wait(request: Request, ctx: StaffCtx, body: RunCreate) -> JSONResponse:
    svc = services(request)
    tid = await _stateless_thread(svc, ctx.principal, body)
    handle = await _start(svc, ctx.principal, tid, body)
    return await _waited(handle)
