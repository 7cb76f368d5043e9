"""``/v1/usage`` — tokens and cost of model calls, per tenant, agent and run."""

from __future__ import annotations

from typing import Any

from cockpit.api.deps import StaffCtx
from cockpit.api.routing import api_router
from cockpit.models import usage_summary

router = api_router(prefix="/v1/usage", tags=["usage"])


@router.get("", summary="Token and cost totals for the caller's tenant")
def usage(ctx: StaffCtx, agent_id: str | None = None, run_id: str | None = None) -> dict[str, Any]:
    summary = usage_summary(ctx.db, ctx.principal.tenant_id, agent_id=agent_id, run_id=run_id)
    return {"agent_id": agent_id, "run_id": run_id, **summary.to_dict()}
