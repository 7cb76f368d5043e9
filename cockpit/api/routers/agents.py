"""``/v1/agents`` — partners validate and submit agent specs as immutable versions, move aliases
through the eval gate and roll them back."""

from __future__ import annotations

import json
from typing import Any

import yaml
from fastapi import Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from cockpit.api.deps import PartnerCtx, RequestContext, StaffCtx
from cockpit.api.routers._common import services
from cockpit.api.routers.assistants import assistant_json
from cockpit.api.routing import api_router
from cockpit.api.services import Services
from cockpit.errors import PermissionDenied, ValidationFailed
from cockpit.specs.refs import raise_problems
from cockpit.specs.spec import AgentSpec
from cockpit.tenancy.principal import Role

router = api_router(prefix="/v1/agents", tags=["agents"])


class AliasMove(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1)
    force: bool = False
    """Publish to ``live`` without a passing eval run (admins only, with a reason; audited)."""
    reason: str | None = Field(default=None, max_length=500)


class Rollback(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(default=None, max_length=500)
    """Why (kept in the alias history and the audit log)."""


_SPEC_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "An agent spec (see docs/partners/spec-reference.md) as JSON or YAML.",
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "application/yaml": {"schema": {"type": "string"}},
        },
    }
}


async def _spec_body(request: Request) -> Any:
    raw = await request.body()
    ctype = request.headers.get("content-type", "")
    try:
        if "yaml" in ctype:
            return yaml.safe_load(raw.decode("utf-8"))
        return json.loads(raw or b"null")
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ValidationFailed(
            f"body is not valid YAML{where}: {exc.problem}", code="invalid_json"
        ) from None
    except (ValueError, yaml.YAMLError, UnicodeDecodeError):
        raise ValidationFailed("body is not valid JSON/YAML", code="invalid_json") from None


@router.post(
    "/validate",
    summary="Check a spec without storing it: the normalised spec, or every error",
    openapi_extra=_SPEC_BODY,
)
async def validate(request: Request, ctx: PartnerCtx) -> dict[str, Any]:
    """Always 200 for a spec that was read: ``valid`` says whether ``POST /v1/agents`` would
    store it; ``errors`` lists every problem (field, code, message with a "did you mean")."""
    try:
        data = await _spec_body(request)
    except ValidationFailed as exc:  # a YAML editor mid-edit: an answer, not an error
        return {
            "valid": False,
            "errors": [{"param": "spec", "code": exc.code, "message": exc.message}],
        }
    specs = services(request).runtime.specs
    # Checking collections may open the knowledge store (seconds, the first time): off the loop.
    spec, problems = await run_in_threadpool(specs.problems, ctx.principal.tenant_id, data)
    if spec is None:
        return {"valid": False, "errors": [p.to_dict() for p in problems]}
    dumped = spec.model_dump(mode="json")
    return {
        "valid": True,
        "spec": dumped,
        "yaml": yaml.safe_dump(dumped, sort_keys=False, allow_unicode=True),
        "content_hash": spec.content_hash(),
    }


@router.post(
    "",
    status_code=201,
    summary="Create a new version of an agent (JSON or YAML spec)",
    openapi_extra=_SPEC_BODY,
)
async def create_version(request: Request, ctx: PartnerCtx) -> dict[str, Any]:
    """422 names the first bad field (``param``); ``details.errors`` lists them all."""
    svc = services(request)
    data = await _spec_body(request)
    spec, problems = await run_in_threadpool(
        svc.runtime.specs.problems, ctx.principal.tenant_id, data
    )
    raise_problems(problems)
    assert spec is not None
    version = await run_in_threadpool(_store_version, svc, ctx, spec)
    return {"agent_id": spec.id, "version": version}


def _store_version(svc: Services, ctx: RequestContext, spec: AgentSpec) -> int:
    version = svc.runtime.specs.create_version(
        ctx.principal.tenant_id, spec, created_by=ctx.principal.key_id
    )
    svc.audit.record(
        ctx.principal.tenant_id,
        kind="agent_version_created",
        actor=f"key:{ctx.principal.key_id}",
        subject=spec.id,
        payload={"version": version, "hash": spec.content_hash()},
    )
    return version


@router.get("", summary="Agents this tenant can use")
def list_agents(
    request: Request,
    ctx: StaffCtx,
    unpublished: bool = Query(
        False, description="Also the newest version of agents not yet live (metadata.live false)."
    ),
) -> list[dict[str, Any]]:
    specs = services(request).runtime.specs
    tenant = ctx.principal.tenant_id
    out = [{**assistant_json(r), "live": True} for r in specs.agents(tenant)]
    if unpublished:
        out += [{**assistant_json(r), "live": False} for r in specs.unpublished(tenant)]
    return out


@router.get("/{agent_id}", summary="The spec an agent reference resolves to (id, id@alias, id@vN)")
def get_agent(request: Request, ctx: StaffCtx, agent_id: str) -> dict[str, Any]:
    r = services(request).runtime.specs.resolve(ctx.principal.tenant_id, agent_id)
    return {**assistant_json(r), "spec": r.spec.model_dump(mode="json")}


@router.get("/{agent_id}/versions", summary="Versions of a tenant agent")
def versions(request: Request, ctx: StaffCtx, agent_id: str) -> list[dict[str, Any]]:
    rows = services(request).runtime.specs.versions(ctx.principal.tenant_id, agent_id)
    return [{"version": v, "hash": h, "created_at": c.isoformat()} for v, h, c in rows]


@router.put(
    "/{agent_id}/aliases/{alias}", summary="Point an alias at a version (publish / roll back)"
)
async def move_alias(
    request: Request, ctx: PartnerCtx, agent_id: str, alias: str, body: AliasMove
) -> dict[str, Any]:
    """``live`` moves only through the eval gate: a passing run of that exact spec hash."""
    svc = services(request)
    tenant = ctx.principal.tenant_id
    gate: dict[str, Any] | None = None
    if body.force and ctx.principal.role is not Role.ADMIN:
        raise PermissionDenied(
            "only an admin key may force a publish past the eval gate", code="force_needs_admin"
        )
    if alias == "live":
        gate = await svc.evals.publish(
            svc.audit,
            tenant,
            agent_id,
            body.version,
            actor=f"key:{ctx.principal.key_id}",
            created_by=ctx.principal.key_id,
            force=body.force,
            reason=body.reason,
        )
    await run_in_threadpool(_point_alias, svc, ctx, agent_id, alias, body, gate)
    return {"agent_id": agent_id, "alias": alias, "version": body.version, "gate": gate}


def _point_alias(
    svc: Services,
    ctx: RequestContext,
    agent_id: str,
    alias: str,
    body: AliasMove,
    gate: dict[str, Any] | None,
) -> None:
    tenant = ctx.principal.tenant_id
    svc.runtime.specs.set_alias(
        tenant,
        agent_id,
        alias,
        body.version,
        by=ctx.principal.key_id,
        gate=gate,
        reason=body.reason,
    )
    svc.audit.record(
        tenant,
        kind="agent_alias_moved",
        actor=f"key:{ctx.principal.key_id}",
        subject=agent_id,
        payload={"alias": alias, "version": body.version, "gate": gate and gate["decision"]},
    )


@router.get("/{agent_id}/aliases", summary="Where each alias points, with its history")
def aliases(request: Request, ctx: StaffCtx, agent_id: str) -> dict[str, Any]:
    """``{"live": {"version", "history": [...newest first]}, "canary": {...}}``."""
    return services(request).runtime.specs.aliases(ctx.principal.tenant_id, agent_id)


@router.post(
    "/{agent_id}/aliases/{alias}/rollback",
    summary="Move an alias back to the version it pointed at before its last move",
)
def rollback(
    request: Request,
    ctx: PartnerCtx,
    agent_id: str,
    alias: str,
    body: Rollback | None = None,
) -> dict[str, Any]:
    """No gate runs (the version was live before); 409 ``nothing_to_roll_back`` without one."""
    svc = services(request)
    tenant = ctx.principal.tenant_id
    reason = body.reason if body is not None else None
    version, gate = svc.runtime.specs.rollback(
        tenant, agent_id, alias, by=ctx.principal.key_id, reason=reason
    )
    svc.audit.record(
        tenant,
        kind="agent_alias_rolled_back",
        actor=f"key:{ctx.principal.key_id}",
        subject=agent_id,
        payload={
            "alias": alias,
            "version": version,
            "from": gate and gate["rolled_back_from"],
            "reason": reason,
        },
    )
    return {"agent_id": agent_id, "alias": alias, "version": version, "gate": gate}
