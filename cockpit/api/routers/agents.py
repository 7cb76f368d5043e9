"""``/v1/agents`` — partners submit agent specs as immutable versions and move aliases."""

from __future__ import annotations

from typing import Any

import yaml
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from cockpit.api.deps import PartnerCtx, StaffCtx
from cockpit.api.routers._common import services
from cockpit.api.routers.assistants import assistant_json
from cockpit.errors import PermissionDenied, ValidationFailed
from cockpit.specs.spec import parse_spec
from cockpit.tenancy.principal import Role

router = APIRouter(prefix="/v1/agents", tags=["agents"])


class AliasMove(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1)
    force: bool = False
    """Publish to ``live`` without a passing eval run (admins only, with a reason; audited)."""
    reason: str | None = Field(default=None, max_length=500)


async def _spec_body(request: Request) -> Any:
    raw = await request.body()
    ctype = request.headers.get("content-type", "")
    try:
        if "yaml" in ctype:
            return yaml.safe_load(raw.decode("utf-8"))
        import json

        return json.loads(raw or b"null")
    except (ValueError, yaml.YAMLError, UnicodeDecodeError):
        raise ValidationFailed("body is not valid JSON/YAML", code="invalid_json") from None


@router.post("", status_code=201, summary="Create a new version of an agent (JSON or YAML spec)")
async def create_version(request: Request, ctx: PartnerCtx) -> dict[str, Any]:
    spec = parse_spec(await _spec_body(request))
    svc = services(request)
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
    return {"agent_id": spec.id, "version": version}


@router.get("", summary="Agents this tenant can use")
async def list_agents(request: Request, ctx: StaffCtx) -> list[dict[str, Any]]:
    return [
        assistant_json(r) for r in services(request).runtime.specs.agents(ctx.principal.tenant_id)
    ]


@router.get("/{agent_id}", summary="The spec an agent reference resolves to (id, id@alias, id@vN)")
async def get_agent(request: Request, ctx: StaffCtx, agent_id: str) -> dict[str, Any]:
    r = services(request).runtime.specs.resolve(ctx.principal.tenant_id, agent_id)
    return {**assistant_json(r), "spec": r.spec.model_dump(mode="json")}


@router.get("/{agent_id}/versions", summary="Versions of a tenant agent")
async def versions(request: Request, ctx: StaffCtx, agent_id: str) -> list[dict[str, Any]]:
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
    svc.runtime.specs.set_alias(tenant, agent_id, alias, body.version)
    svc.audit.record(
        tenant,
        kind="agent_alias_moved",
        actor=f"key:{ctx.principal.key_id}",
        subject=agent_id,
        payload={"alias": alias, "version": body.version, "gate": gate and gate["decision"]},
    )
    return {"agent_id": agent_id, "alias": alias, "version": body.version, "gate": gate}
