"""``/v1/tools`` — the catalogue of tools an agent spec may list.

Each tool comes with its argument schema, the roles whose keys may have it run, whether the
caller's key may (``may_run``), and the policy fields a spec may set on it (``approval`` only
on a WRITE, ``max_amount`` only where the tool moves money). A partner designs agents that
merchants run, so the catalogue shows merchant tools too; reading it runs nothing, and a run
still refuses a tool its key may not call. ``?runnable=true`` keeps only the key's own.
"""

from __future__ import annotations

from typing import Any

from fastapi import Query, Request

from cockpit.api.deps import StaffCtx
from cockpit.api.routers._common import services
from cockpit.api.routing import api_router
from cockpit.tenancy import rights
from cockpit.toolkit.registry import ToolDef, ToolKind

router = api_router(prefix="/v1/tools", tags=["tools"])


def policy_fields(tool: ToolDef) -> list[str]:
    """The :class:`~cockpit.specs.spec.ToolPolicy` fields that apply to ``tool``."""
    fields = []
    if tool.amount_field is not None:
        fields.append("max_amount")
    if tool.kind is ToolKind.WRITE:
        fields.append("approval")
    return [*fields, "rate_limit"]


def tool_json(tool: ToolDef, *, may_run: bool | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": tool.name,
        "kind": tool.kind.value.upper(),
        "description": tool.description,
        "roles": sorted(r.value for r in tool.roles),
        "amount_field": tool.amount_field,
        "parameters": tool.json_schema(),
        "policy_fields": policy_fields(tool),
    }
    if may_run is not None:
        out["may_run"] = may_run
    return out


@router.get("", summary="The tools a spec may list: schemas, roles, policy fields, may_run")
def list_tools(
    request: Request,
    ctx: StaffCtx,
    runnable: bool = Query(False, description="Only the tools this key may have run."),
) -> list[dict[str, Any]]:
    # the shared tools and this tenant's own tool sources (``/v1/tool-sources``)
    registry = services(request).runtime.tools.for_tenant(ctx.principal.tenant_id)
    out = []
    for tool in (registry.get(name) for name in registry.names()):
        may_run = rights.permits(ctx.principal, tool.roles)
        if may_run or not runnable:
            out.append(tool_json(tool, may_run=may_run))
    return out


__all__ = ["policy_fields", "router", "tool_json"]
