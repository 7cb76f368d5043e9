"""``/v1/keys`` and ``/v1/tenants`` — key management (admins) and tenant creation (platform admins)."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from pydantic import BaseModel, ConfigDict, Field

from cockpit.api.deps import AdminCtx, AnyCtx, RequestContext
from cockpit.api.limits import ID_PATTERN
from cockpit.api.routers._common import services
from cockpit.api.routing import api_router
from cockpit.errors import PermissionDenied, ValidationFailed
from cockpit.tenancy.principal import Role

PLATFORM_TENANT = "platform"
router = api_router(tags=["keys"])


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Role
    name: str = Field(default="", max_length=200)
    tenant_id: str | None = Field(default=None, pattern=ID_PATTERN)
    merchant_id: str | None = Field(default=None, pattern=ID_PATTERN)


class TenantCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tenant_id: str = Field(min_length=2, max_length=63, pattern=ID_PATTERN)
    name: str | None = Field(default=None, max_length=200)


def _target_tenant(ctx: RequestContext, requested: str | None) -> str:
    if requested and requested != ctx.principal.tenant_id:
        if ctx.principal.tenant_id != PLATFORM_TENANT:
            raise PermissionDenied(
                "only platform admins manage other tenants", code="platform_admin_only"
            )
        return requested
    return ctx.principal.tenant_id


@router.post("/v1/keys", status_code=201, summary="Create an API key (its secret is shown once)")
def create_key(request: Request, ctx: AdminCtx, body: KeyCreate) -> dict[str, Any]:
    tenant = _target_tenant(ctx, body.tenant_id)
    issued = services(request).keys.create_key(
        tenant, body.role, name=body.name, merchant_id=body.merchant_id, issuer=ctx.principal
    )
    services(request).audit.record(
        tenant,
        kind="key_created",
        actor=f"key:{ctx.principal.key_id}",
        subject=issued.id,
        payload={"role": issued.role.value},
    )
    return {
        "id": issued.id,
        "tenant_id": tenant,
        "role": issued.role.value,
        "name": issued.name,
        "key": issued.secret,
    }


@router.get("/v1/keys", summary="List this tenant's API keys (no secrets)")
def list_keys(request: Request, ctx: AdminCtx) -> list[dict[str, Any]]:
    return [
        {
            "id": k.id,
            "role": k.role.value,
            "name": k.name,
            "merchant_id": k.merchant_id,
            "created_at": k.created_at.isoformat(),
            "revoked": k.revoked,
        }
        for k in services(request).keys.list_keys(ctx.principal.tenant_id)
    ]


@router.delete("/v1/keys/{key_id}", status_code=204, summary="Revoke an API key")
def revoke_key(request: Request, ctx: AdminCtx, key_id: str) -> Response:
    tenant = None if ctx.principal.tenant_id == PLATFORM_TENANT else ctx.principal.tenant_id
    services(request).keys.revoke(key_id, tenant_id=tenant)
    services(request).audit.record(
        ctx.principal.tenant_id,
        kind="key_revoked",
        actor=f"key:{ctx.principal.key_id}",
        subject=key_id,
    )
    return Response(status_code=204)


@router.post("/v1/tenants", status_code=201, summary="Create a tenant (platform admins)")
def create_tenant(request: Request, ctx: AdminCtx, body: TenantCreate) -> dict[str, Any]:
    if ctx.principal.tenant_id != PLATFORM_TENANT:
        raise PermissionDenied("only platform admins create tenants", code="platform_admin_only")
    services(request).keys.ensure_tenant(body.tenant_id, name=body.name)
    return {"tenant_id": body.tenant_id, "name": body.name or body.tenant_id}


class ToolAllowlist(BaseModel):
    model_config = ConfigDict(extra="forbid")
    allowlist: list[str] | None
    """Tools this tenant's agents may call; null lifts the restriction."""


@router.get("/v1/tenant", summary="The caller's tenant and its settings")
def get_tenant(request: Request, ctx: AnyCtx) -> dict[str, Any]:
    return services(request).keys.tenant_settings(ctx.principal.tenant_id)


@router.put("/v1/tenant/tools", summary="Restrict which tools this tenant's agents may call")
def set_tools(request: Request, ctx: AdminCtx, body: ToolAllowlist) -> dict[str, Any]:
    svc = services(request)
    tools = svc.runtime.tools.for_tenant(ctx.principal.tenant_id)
    for i, name in enumerate(body.allowlist or []):
        if name not in tools:
            raise ValidationFailed(
                f"allowlist.{i}: unknown tool {name!r}", code="unknown_tool", param=f"allowlist.{i}"
            )
    svc.keys.set_tool_allowlist(ctx.principal.tenant_id, body.allowlist)
    svc.audit.record(
        ctx.principal.tenant_id,
        kind="tenant_tools_set",
        actor=f"key:{ctx.principal.key_id}",
        subject=ctx.principal.tenant_id,
        payload={"allowlist": body.allowlist},
    )
    return svc.keys.tenant_settings(ctx.principal.tenant_id)
