"""``/v1/tools`` — the tools an agent spec may list, as the caller's key may have them run.

A key sees exactly the tools it could have run for it (a tool's roles, admins always), each
with its argument schema and the policy fields a spec may set on it (``approval`` only on a
WRITE, ``max_amount`` only where the tool moves money).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from cockpit.api.deps import StaffCtx
from cockpit.api.routers._common import services
from cockpit.tenancy import rights
from cockpit.toolkit.registry import ToolDef, ToolKind

router = APIRouter(prefix="/v1/tools", tags=["tools"])


def policy_fields(tool: ToolDef) -> list[str]:
    """The :class:`~cockpit.specs.spec.ToolPolicy` fields that apply to ``tool``."""
    fields = []
    if tool.amount_field is not None:
        fields.append("max_amount")
    if tool.kind is ToolKind.WRITE:
        fields.append("approval")
    return [*fields, "rate_limit"]


def tool_json(tool: ToolDef) -> dict[str, Any]:
    return {
        "name": tool.name,
        "kind": tool.kind.value.upper(),
        "description": tool.description,
        "roles": sorted(r.value for r in tool.roles),
        "amount_field": tool.amount_field,
        "parameters": tool.json_schema(),
        "policy_fields": policy_fields(tool),
    }


@router.get("", summary="Tools this key may have run, with their schemas and policy fields")
async def list_tools(request: Request, ctx: StaffCtx) -> list[dict[str, Any]]:
    # the shared tools and this tenant's own tool sources (``/v1/tool-sources``)
    registry = services(request).runtime.tools.for_tenant(ctx.principal.tenant_id)
    tools = (registry.get(name) for name in registry.names())
    return [tool_json(t) for t in tools if rights.permits(ctx.principal, t.roles)]


__all__ = ["policy_fields", "router", "tool_json"]
