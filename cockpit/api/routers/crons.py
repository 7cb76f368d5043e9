"""``/runs/crons`` and ``/threads/{id}/runs/crons`` — LangGraph's cron API, per tenant.

Whoever may start a run on the assistant (and see the thread) may set a cron for it; the cron
then runs as that key. ``interrupt_before``/``after`` are refused as for runs (they would let a
client step around the policy node); a ``webhook`` must be one of the tenant's registered
endpoints; delivery knobs that change nothing here (``durability``, ``stream_subgraphs``...)
are accepted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import Request, Response
from pydantic import BaseModel, ConfigDict, Field

from cockpit.api.deps import StaffCtx
from cockpit.api.routers._common import services
from cockpit.api.routing import api_router
from cockpit.crons import SELECT_FIELDS, CronFilter, CronRequest, CronService, cron_json
from cockpit.errors import ValidationFailed

router = api_router(tags=["crons"])

_UNSUPPORTED = ("interrupt_before", "interrupt_after")
_FIELDS = (
    "assistant_id",
    "schedule",
    "input",
    "metadata",
    "config",
    "context",
    "multitask_strategy",
    "stream_mode",
    "on_run_completed",
    "end_time",
    "enabled",
    "timezone",
    "webhook",
)


class CronChange(BaseModel):
    """A cron's fields as a client sends them; what is absent is left alone on update."""

    model_config = ConfigDict(extra="ignore")
    schedule: str | None = Field(default=None, max_length=120)
    input: Any = None
    metadata: dict[str, Any] | None = None
    config: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    multitask_strategy: str | None = None
    stream_mode: str | list[str] | None = None
    on_run_completed: str | None = None
    end_time: datetime | None = None
    enabled: bool | None = None
    timezone: str | None = Field(default=None, max_length=64)
    interrupt_before: Any = None
    interrupt_after: Any = None
    webhook: str | None = Field(default=None, max_length=2000)


class CronCreate(CronChange):
    assistant_id: str = Field(min_length=1, max_length=200)
    schedule: str = Field(min_length=1, max_length=120)  # type: ignore[assignment]


class CronSearch(BaseModel):
    model_config = ConfigDict(extra="ignore")
    assistant_id: str | None = None
    thread_id: str | None = None
    enabled: bool | None = None
    metadata: dict[str, Any] | None = None
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)
    sort_by: str | None = None
    sort_order: str | None = None
    select: list[str] | None = None


class CronCount(BaseModel):
    model_config = ConfigDict(extra="ignore")
    assistant_id: str | None = None
    thread_id: str | None = None
    metadata: dict[str, Any] | None = None


def _service(request: Request) -> CronService:
    svc = services(request)
    return CronService(svc.db, svc.runtime)


def _request(body: CronChange) -> CronRequest:
    for name in _UNSUPPORTED:
        if getattr(body, name) not in (None, [], ""):
            raise ValidationFailed(
                f"{name} is not supported by this server", code="unsupported_field", param=name
            )
    given = {name: getattr(body, name) for name in _FIELDS if name in body.model_fields_set}
    return CronRequest(**given)


def _filter(body: CronSearch | CronCount, enabled: bool | None = None) -> CronFilter:
    return CronFilter(
        assistant_id=body.assistant_id,
        thread_id=body.thread_id,
        enabled=enabled,
        metadata=body.metadata or {},
    )


@router.post("/threads/{thread_id}/runs/crons", summary="Schedule runs on a thread")
def create_for_thread(
    request: Request, ctx: StaffCtx, thread_id: str, body: CronCreate
) -> dict[str, Any]:
    rec = _service(request).create(ctx.principal, _request(body), thread_id=thread_id)
    return cron_json(rec)


@router.post("/runs/crons", summary="Schedule runs, each on a new thread")
def create(request: Request, ctx: StaffCtx, body: CronCreate) -> dict[str, Any]:
    return cron_json(_service(request).create(ctx.principal, _request(body)))


@router.patch("/runs/crons/{cron_id}", summary="Change a cron (it then runs as this key)")
def update(request: Request, ctx: StaffCtx, cron_id: str, body: CronChange) -> dict[str, Any]:
    return cron_json(_service(request).update(ctx.principal, cron_id, _request(body)))


@router.delete("/runs/crons/{cron_id}", status_code=204, summary="Delete a cron")
def delete(request: Request, ctx: StaffCtx, cron_id: str) -> Response:
    _service(request).delete(ctx.principal, cron_id)
    return Response(status_code=204)


@router.post("/runs/crons/search", summary="Search crons")
def search(request: Request, ctx: StaffCtx, body: CronSearch) -> list[dict[str, Any]]:
    chosen = body.select or list(SELECT_FIELDS)
    unknown = sorted(set(chosen) - set(SELECT_FIELDS))
    if unknown:
        raise ValidationFailed(
            f"select may name only {list(SELECT_FIELDS)} (got {unknown})",
            code="invalid_value",
            param="select",
        )
    rows = _service(request).search(
        ctx.principal,
        _filter(body, body.enabled),
        limit=body.limit,
        offset=body.offset,
        sort_by=body.sort_by or "created_at",
        sort_order=body.sort_order or "desc",
    )
    out = []
    for rec in rows:
        full = cron_json(rec)
        out.append(full if body.select is None else {k: full[k] for k in chosen})
    return out


@router.post("/runs/crons/count", summary="Count crons")
def count(request: Request, ctx: StaffCtx, body: CronCount) -> int:
    return _service(request).count(ctx.principal, _filter(body))
