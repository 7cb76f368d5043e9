"""``/assistants`` — the Agent-Protocol view of the agent registry (read-only here)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from cockpit.api.deps import RequestContext, StaffCtx
from cockpit.api.routers._common import services
from cockpit.errors import NotFound
from cockpit.specs.registry import ResolvedAgent
from cockpit.tenancy import rights

router = APIRouter(prefix="/assistants", tags=["assistants"])


class AssistantSearch(BaseModel):
    model_config = ConfigDict(extra="ignore")
    metadata: dict[str, Any] | None = None
    graph_id: str | None = None
    name: str | None = None
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)


def assistant_json(r: ResolvedAgent) -> dict[str, Any]:
    created = r.created_at.isoformat()
    return {
        "assistant_id": r.spec.id,
        "graph_id": r.spec.id,
        "name": r.spec.name,
        "description": r.spec.description,
        "config": {},
        "context": {},
        "metadata": {
            "source": r.source,
            "model": r.spec.model,
            "aliases": list(r.aliases),
            "tools": [t.name for t in r.spec.tools],
            "handoffs": r.spec.handoffs,
        },
        "version": r.version,
        "created_at": created,
        "updated_at": created,
    }


def _visible(ctx: RequestContext, resolved: ResolvedAgent) -> ResolvedAgent:
    """An assistant the caller's role may not run does not exist for it (404)."""
    if not rights.permits(ctx.principal, resolved.spec.roles):
        raise NotFound(
            f"no assistant {resolved.spec.id}", code="assistant_not_found", param="assistant_id"
        )
    return resolved


def _search(request: Request, ctx: RequestContext, body: AssistantSearch) -> list[dict[str, Any]]:
    items = [
        assistant_json(r)
        for r in services(request).runtime.specs.agents(ctx.principal.tenant_id)
        if rights.permits(ctx.principal, r.spec.roles)
    ]
    if body.graph_id:
        items = [a for a in items if a["graph_id"] == body.graph_id]
    if body.name:
        items = [a for a in items if body.name.lower() in a["name"].lower()]
    if body.metadata:
        items = [
            a for a in items if all(a["metadata"].get(k) == v for k, v in body.metadata.items())
        ]
    return items


@router.post("/search", summary="Search assistants")
async def search(request: Request, ctx: StaffCtx, body: AssistantSearch) -> list[dict[str, Any]]:
    return _search(request, ctx, body)[body.offset : body.offset + body.limit]


@router.post("/count", summary="Count assistants")
async def count(request: Request, ctx: StaffCtx, body: AssistantSearch) -> int:
    return len(_search(request, ctx, body))


@router.get("/{assistant_id}", summary="Get an assistant")
async def get(request: Request, ctx: StaffCtx, assistant_id: str) -> dict[str, Any]:
    return assistant_json(
        _visible(
            ctx, services(request).runtime.specs.resolve(ctx.principal.tenant_id, assistant_id)
        )
    )


@router.get("/{assistant_id}/schemas", summary="Input, state and config schemas")
async def schemas(request: Request, ctx: StaffCtx, assistant_id: str) -> dict[str, Any]:
    r = _visible(
        ctx, services(request).runtime.specs.resolve(ctx.principal.tenant_id, assistant_id)
    )
    message = {
        "type": "object",
        "properties": {"role": {"enum": ["user"]}, "content": {"type": "string"}},
    }
    return {
        "graph_id": r.spec.id,
        "input_schema": {
            "type": "object",
            "properties": {"messages": {"type": "array", "items": message}},
        },
        "output_schema": None,
        "state_schema": {
            "type": "object",
            "properties": {"messages": {"type": "array"}, "active_agent": {"type": "string"}},
        },
        "config_schema": None,
        "context_schema": None,
    }
