"""``/v1/tool-sources`` — a tenant connects its own MCP server or OpenAPI endpoint as a source
of agent tools (partners and admins; the tools then run under the same policies as built-ins)."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from cockpit.api.deps import PartnerCtx, RequestContext
from cockpit.api.routers._common import services
from cockpit.api.routing import api_router
from cockpit.errors import InternalError
from cockpit.toolkit.sources import STORE_KEY, ToolSourceInput, ToolSourceStore

router = api_router(prefix="/v1/tool-sources", tags=["tool-sources"])


def _store(request: Request) -> ToolSourceStore:
    store = services(request).extras.get(STORE_KEY)
    if not isinstance(store, ToolSourceStore):
        raise InternalError("tool sources are not set up", code="tool_sources_unavailable")
    return store


def _audit(request: Request, ctx: RequestContext, kind: str, source: dict[str, Any]) -> None:
    services(request).audit.record(
        ctx.principal.tenant_id,
        kind=kind,
        actor=f"key:{ctx.principal.key_id}",
        subject=str(source["name"]),
        payload={
            "kind": source.get("kind"),
            "url": source.get("url"),
            "header_names": source.get("header_names"),
            "tools": [
                {"name": t["name"], "kind": t["kind"], "roles": t["roles"]}
                for t in source.get("tools", [])
            ],
        },
    )


@router.post(
    "", status_code=201, summary="Register an MCP server or OpenAPI endpoint as a tool source"
)
async def register(request: Request, ctx: PartnerCtx, body: ToolSourceInput) -> dict[str, Any]:
    source = await _store(request).register(
        ctx.principal.tenant_id, body, created_by=ctx.principal.key_id
    )
    await run_in_threadpool(_audit, request, ctx, "tool_source_registered", source)
    return source


@router.get("", summary="This tenant's tool sources")
def list_sources(request: Request, ctx: PartnerCtx) -> list[dict[str, Any]]:
    return _store(request).list(ctx.principal.tenant_id)


@router.get("/{name}", summary="A tool source with its tools and their argument schemas")
def get_source(request: Request, ctx: PartnerCtx, name: str) -> dict[str, Any]:
    return _store(request).get(ctx.principal.tenant_id, name)


@router.post("/{name}/refresh", summary="Discover a source's tools again")
async def refresh(request: Request, ctx: PartnerCtx, name: str) -> dict[str, Any]:
    source = await _store(request).refresh(ctx.principal.tenant_id, name)
    await run_in_threadpool(_audit, request, ctx, "tool_source_refreshed", source)
    return source


@router.delete("/{name}", status_code=204, summary="Remove a tool source (its tools disappear)")
def delete(request: Request, ctx: PartnerCtx, name: str) -> Response:
    store = _store(request)
    source = store.get(ctx.principal.tenant_id, name)
    store.delete(ctx.principal.tenant_id, name)
    _audit(request, ctx, "tool_source_deleted", source)
    return Response(status_code=204)
