"""``/assistants`` — the LangGraph assistants API over the agent registry.

An assistant is an agent; ``create`` and ``update`` store new immutable versions (validated like
``POST /v1/agents``), ``set_latest`` moves ``live`` through the eval gate, ``delete`` makes a
tenant agent stop resolving (its versions stay for audit). See :mod:`cockpit.specs.assistants`
for what ``config``, ``context`` and ``metadata`` may carry.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from cockpit.api.deps import PartnerCtx, RequestContext, StaffCtx
from cockpit.api.routers._common import services
from cockpit.api.routing import api_router
from cockpit.api.services import Services
from cockpit.errors import Conflict, NotFound, ValidationFailed
from cockpit.runtime.graph import reachable
from cockpit.specs.assistants import (
    AssistantBook,
    build_spec,
    check_metadata,
    describe,
    new_assistant_id,
    overrides,
)
from cockpit.specs.drawing import plain_graph, team_graph
from cockpit.specs.registry import ResolvedAgent
from cockpit.tenancy import rights

router = api_router(prefix="/assistants", tags=["assistants"])

SELECTABLE = (
    "assistant_id",
    "graph_id",
    "name",
    "description",
    "config",
    "context",
    "created_at",
    "updated_at",
    "metadata",
    "version",
)
SortBy = Literal["assistant_id", "graph_id", "name", "created_at", "updated_at"]


class AssistantSearch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    metadata: dict[str, Any] | None = None
    graph_id: str | None = None
    name: str | None = None
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)
    sort_by: SortBy | None = None
    sort_order: Literal["asc", "desc"] | None = None
    select: list[Literal[SELECTABLE]] | None = None  # type: ignore[valid-type]


class AssistantCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    graph_id: str | None = None
    """The agent this assistant starts from (built-in or the tenant's)."""
    assistant_id: str | None = None
    config: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    if_exists: Literal["raise", "do_nothing"] | None = None
    name: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=2000)


class AssistantPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    graph_id: str | None = None
    config: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    name: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=2000)


class VersionsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    metadata: dict[str, Any] | None = None
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)


class SetLatest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1)


def assistant_json(r: ResolvedAgent) -> dict[str, Any]:
    """The ``Assistant`` shape without the assistants API's own fields (``/v1/agents`` uses it)."""
    return describe(r)


def _book(svc: Services) -> AssistantBook:
    return AssistantBook(svc.db, svc.runtime.specs)


def _visible(ctx: RequestContext, resolved: ResolvedAgent) -> ResolvedAgent:
    """An assistant the caller's role may not run does not exist for it (404)."""
    if not rights.permits(ctx.principal, resolved.spec.roles):
        raise NotFound(
            f"no assistant {resolved.spec.id}", code="assistant_not_found", param="assistant_id"
        )
    return resolved


def _resolve(svc: Services, ctx: RequestContext, ref: str) -> ResolvedAgent:
    return _visible(ctx, svc.runtime.specs.resolve(ctx.principal.tenant_id, ref))


def _describe(svc: Services, ctx: RequestContext, ref: str) -> dict[str, Any]:
    r = _resolve(svc, ctx, ref)
    return _book(svc).describe(r, _book(svc).meta(ctx.principal.tenant_id, r.spec.id, r.version))


def _meta_matches(item: dict[str, Any], metadata: dict[str, Any] | None) -> bool:
    return all(item["metadata"].get(k) == v for k, v in (metadata or {}).items())


def _search(svc: Services, ctx: RequestContext, body: AssistantSearch) -> list[dict[str, Any]]:
    tenant = ctx.principal.tenant_id
    book = _book(svc)
    metas = book.metas(tenant)
    items = [
        book.describe(r, metas.get((r.spec.id, r.version)))
        for r in svc.runtime.specs.agents(tenant)
        if rights.permits(ctx.principal, r.spec.roles)
    ]
    if body.graph_id:
        items = [a for a in items if a["graph_id"] == body.graph_id]
    if body.name:
        items = [a for a in items if body.name.lower() in a["name"].lower()]
    items = [a for a in items if _meta_matches(a, body.metadata)]
    if body.sort_by:
        items.sort(key=lambda a: str(a[body.sort_by or ""]), reverse=body.sort_order == "desc")
    elif body.sort_order == "desc":
        items.reverse()
    return items


@router.post("/search", summary="Search assistants")
def search(request: Request, ctx: StaffCtx, body: AssistantSearch) -> JSONResponse:
    """``X-Pagination-Next`` carries the next offset when there are more."""
    items = _search(services(request), ctx, body)
    page = items[body.offset : body.offset + body.limit]
    if body.select:
        page = [{k: a[k] for k in body.select} for a in page]
    more = body.offset + body.limit < len(items)
    headers = {"X-Pagination-Next": str(body.offset + body.limit)} if more else {}
    return JSONResponse(page, headers=headers)


@router.post("/count", summary="Count assistants")
def count(request: Request, ctx: StaffCtx, body: AssistantSearch) -> int:
    return len(_search(services(request), ctx, body))


async def _publish(svc: Services, ctx: RequestContext, agent_id: str, version: int) -> None:
    """Point ``live`` at ``version`` through the eval gate (409 with its reasons on failure),
    unless storing it already did (the first version of an ungated agent)."""
    tenant = ctx.principal.tenant_id
    live = await run_in_threadpool(_exists, svc, tenant, agent_id)
    if live is not None and live.source == "tenant" and live.version == version:
        return
    actor = f"key:{ctx.principal.key_id}"
    gate = await svc.evals.publish(
        svc.audit, tenant, agent_id, version, actor=actor, created_by=ctx.principal.key_id
    )
    await run_in_threadpool(_point_live, svc, ctx, agent_id, version, gate)


def _point_live(
    svc: Services, ctx: RequestContext, agent_id: str, version: int, gate: dict[str, Any]
) -> None:
    tenant = ctx.principal.tenant_id
    svc.runtime.specs.set_alias(
        tenant, agent_id, "live", version, by=ctx.principal.key_id, gate=gate
    )
    svc.audit.record(
        tenant,
        kind="agent_alias_moved",
        actor=f"key:{ctx.principal.key_id}",
        subject=agent_id,
        payload={"alias": "live", "version": version, "gate": gate["decision"]},
    )


def _exists(svc: Services, tenant: str, agent_id: str) -> ResolvedAgent | None:
    try:
        return svc.runtime.specs.resolve(tenant, agent_id)
    except NotFound:
        return None


@router.post("", summary="Create an assistant: a new agent based on graph_id")
async def create(request: Request, ctx: PartnerCtx, body: AssistantCreate) -> dict[str, Any]:
    """422 names the request field at fault; 409 ``assistant_exists`` (``if_exists: raise``) or
    ``eval_gate_failed`` (the version is stored but not live)."""
    svc = services(request)
    agent_id, version = await run_in_threadpool(_store_new, svc, ctx, body)
    if version is not None:
        await _publish(svc, ctx, agent_id, version)
    return await run_in_threadpool(_describe, svc, ctx, agent_id)


def _store_new(svc: Services, ctx: RequestContext, body: AssistantCreate) -> tuple[str, int | None]:
    """The new assistant's id and first version (None: it exists and ``if_exists`` is
    ``do_nothing``)."""
    tenant = ctx.principal.tenant_id
    if not body.graph_id:
        raise ValidationFailed("graph_id is required", code="missing_field", param="graph_id")
    try:
        base = _resolve(svc, ctx, body.graph_id)
    except NotFound:
        raise NotFound(
            f"no graph {body.graph_id!r}", code="graph_not_found", param="graph_id"
        ) from None
    agent_id = body.assistant_id or new_assistant_id(base.spec.id)
    existing = _exists(svc, tenant, agent_id)
    if existing is not None:
        if body.if_exists == "do_nothing":
            return agent_id, None
        raise Conflict(
            f"assistant {agent_id} already exists", code="assistant_exists", param="assistant_id"
        )
    fields, origin = overrides(body.config, body.context)
    metadata = check_metadata(body.metadata)
    spec = build_spec(
        svc.runtime.specs,
        tenant,
        base.spec,
        agent_id=agent_id,
        name=body.name,
        description=body.description,
        fields=fields,
        origin=origin,
    )
    write = _book(svc).writer(
        agent_id,
        graph_id=base.spec.id,
        metadata=metadata,
        config=body.config or {},
        context=body.context or {},
    )
    version = svc.runtime.specs.create_version(
        tenant, spec, created_by=ctx.principal.key_id, also=write
    )
    _audit_version(svc, ctx, agent_id, version, spec.content_hash())
    return agent_id, version


def _audit_version(
    svc: Services, ctx: RequestContext, agent_id: str, version: int, spec_hash: str
) -> None:
    svc.audit.record(
        ctx.principal.tenant_id,
        kind="agent_version_created",
        actor=f"key:{ctx.principal.key_id}",
        subject=agent_id,
        payload={"version": version, "hash": spec_hash, "via": "assistants"},
    )


@router.get("/{assistant_id}", summary="Get an assistant")
def get(request: Request, ctx: StaffCtx, assistant_id: str) -> dict[str, Any]:
    return _describe(services(request), ctx, assistant_id)


@router.patch("/{assistant_id}", summary="Update an assistant: a new version, made live")
async def update(
    request: Request, ctx: PartnerCtx, assistant_id: str, body: AssistantPatch
) -> dict[str, Any]:
    """Like LangGraph, an update is a new version that becomes the latest — through the eval
    gate here: 409 ``eval_gate_failed`` leaves it stored, not live (``set_latest`` later)."""
    svc = services(request)
    agent_id, version = await run_in_threadpool(_store_update, svc, ctx, assistant_id, body)
    await _publish(svc, ctx, agent_id, version)
    return await run_in_threadpool(_describe, svc, ctx, agent_id)


def _store_update(
    svc: Services, ctx: RequestContext, assistant_id: str, body: AssistantPatch
) -> tuple[str, int]:
    tenant = ctx.principal.tenant_id
    current = _resolve(svc, ctx, assistant_id)
    book = _book(svc)
    prev = book.meta(tenant, current.spec.id, current.version)
    graph_id = prev.graph_id if prev is not None else current.spec.id
    if body.graph_id and body.graph_id != graph_id:
        raise ValidationFailed(
            f"an assistant keeps its graph ({graph_id}); create a new one from {body.graph_id}",
            code="graph_id_immutable",
            param="graph_id",
        )
    fields, origin = overrides(body.config, body.context)
    metadata = {**(prev.meta if prev else {}), **check_metadata(body.metadata)}
    spec = build_spec(
        svc.runtime.specs,
        tenant,
        current.spec,
        agent_id=current.spec.id,
        name=body.name,
        description=body.description,
        fields=fields,
        origin=origin,
    )
    write = book.writer(
        current.spec.id,
        graph_id=graph_id,
        metadata=metadata,
        config=body.config if body.config is not None else (prev.config if prev else {}),
        context={**(prev.context if prev else {}), **(body.context or {})},
    )
    version = svc.runtime.specs.create_version(
        tenant, spec, created_by=ctx.principal.key_id, also=write
    )
    _audit_version(svc, ctx, current.spec.id, version, spec.content_hash())
    return current.spec.id, version


@router.delete("/{assistant_id}", status_code=204, summary="Delete a tenant's assistant")
async def delete(
    request: Request, ctx: PartnerCtx, assistant_id: str, delete_threads: bool = False
) -> Response:
    """Built-ins are 409 ``builtin_assistant``. With ``delete_threads`` the threads whose last
    run used it go too (409 ``thread_busy`` before anything is deleted if one is running)."""
    svc = services(request)
    doomed = await run_in_threadpool(_delete, svc, ctx, assistant_id, delete_threads)
    for thread_id in doomed:
        await svc.runtime.threads.delete(ctx.principal.tenant_id, thread_id, ctx.principal)
    return Response(status_code=204)


def _delete(
    svc: Services, ctx: RequestContext, assistant_id: str, delete_threads: bool
) -> list[str]:
    """Delete the assistant; the threads that go with it, for the caller to delete."""
    tenant = ctx.principal.tenant_id
    agent_id = _resolve(svc, ctx, assistant_id).spec.id
    doomed = []
    if delete_threads:
        threads = svc.runtime.threads.search(
            tenant, metadata=None, status=None, limit=10**9, offset=0, viewer=ctx.principal
        )
        doomed = [
            t for t in threads if t.assistant_id and t.assistant_id.split("@", 1)[0] == agent_id
        ]
        if any(t.status == "busy" for t in doomed):
            raise Conflict(
                "a thread of this assistant has a run in progress",
                code="thread_busy",
                param="delete_threads",
            )
    _book(svc).delete(tenant, agent_id, by=ctx.principal.key_id)
    svc.audit.record(
        tenant,
        kind="assistant_deleted",
        actor=f"key:{ctx.principal.key_id}",
        subject=agent_id,
        payload={"threads": [t.thread_id for t in doomed]},
    )
    return [t.thread_id for t in doomed]


@router.post("/{assistant_id}/versions", summary="Versions of an assistant, newest first")
def versions(
    request: Request, ctx: StaffCtx, assistant_id: str, body: VersionsQuery
) -> list[dict[str, Any]]:
    svc = services(request)
    tenant = ctx.principal.tenant_id
    current = _resolve(svc, ctx, assistant_id)
    book = _book(svc)
    if current.source == "builtin":
        rows = [book.describe(current, None)]
    else:
        metas = book.metas(tenant)
        rows = [
            book.describe(r, metas.get((r.spec.id, r.version)))
            for r in book.versions(tenant, current.spec.id)
        ]
    rows = [a for a in rows if _meta_matches(a, body.metadata)]
    return rows[body.offset : body.offset + body.limit]


@router.post("/{assistant_id}/latest", summary="Make a version the latest (live, gated)")
async def set_latest(
    request: Request, ctx: PartnerCtx, assistant_id: str, body: SetLatest
) -> dict[str, Any]:
    """The same rule as ``PUT /v1/agents/{id}/aliases/live``: 409 ``eval_gate_failed``."""
    svc = services(request)
    agent_id = await run_in_threadpool(_tenants_own, svc, ctx, assistant_id)
    await _publish(svc, ctx, agent_id, body.version)
    return await run_in_threadpool(_describe, svc, ctx, agent_id)


def _tenants_own(svc: Services, ctx: RequestContext, assistant_id: str) -> str:
    """The id of the tenant's own assistant ``assistant_id`` (404 for a built-in)."""
    agent_id = _resolve(svc, ctx, assistant_id).spec.id
    svc.runtime.specs.versions(ctx.principal.tenant_id, agent_id)
    return agent_id


def _xray(value: str) -> int:
    low = value.lower()
    if low in ("true", "false"):
        return int(low == "true")
    if low.isdigit():
        return int(low)
    raise ValidationFailed("xray must be a boolean or a depth", code="invalid_value", param="xray")


@router.get("/{assistant_id}/graph", summary="The assistant's graph as drawable JSON")
def graph(
    request: Request, ctx: StaffCtx, assistant_id: str, xray: str = "false"
) -> dict[str, Any]:
    """Plain: the compiled graph (guard, agent, tools). ``xray``: the team of agents and tools."""
    svc = services(request)
    tenant = ctx.principal.tenant_id
    depth = _xray(xray)
    resolved, compiled = svc.runtime.graph_for(tenant, assistant_id, ctx.principal)
    if not depth:
        return plain_graph(compiled.get_graph().to_json())
    team = reachable(
        resolved.spec.id, {**svc.runtime.specs.specs_for(tenant), resolved.spec.id: resolved.spec}
    )
    return team_graph(resolved.spec.id, team)


@router.get("/{assistant_id}/subgraphs", summary="Subgraphs (a team graph has none)")
def subgraphs(
    request: Request, ctx: StaffCtx, assistant_id: str, recurse: bool = False
) -> dict[str, Any]:
    _resolve(services(request), ctx, assistant_id)
    return {}


@router.get("/{assistant_id}/subgraphs/{namespace}", summary="Subgraphs under a namespace")
def subgraphs_in(
    request: Request, ctx: StaffCtx, assistant_id: str, namespace: str, recurse: bool = False
) -> dict[str, Any]:
    _resolve(services(request), ctx, assistant_id)
    return {}


@router.get("/{assistant_id}/schemas", summary="Input, state and config schemas")
def schemas(request: Request, ctx: StaffCtx, assistant_id: str) -> dict[str, Any]:
    r = _resolve(services(request), ctx, assistant_id)
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
