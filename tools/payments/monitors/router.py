"""REST API under ``/v1/monitors``: the catalogue, findings, acknowledging, on-demand runs and
per-merchant settings (schedules and thresholds such as the FX limit).

Reads are open to merchants and partners, changes to merchants (and admins). A key bound to a
merchant sees and changes only that merchant's: naming another is 404 ``merchant_not_found``,
another merchant's finding id is 404 ``finding_not_found``, as is another tenant's.
Endpoints are sync ``def``: each does blocking database work in FastAPI's thread pool.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from cockpit.api.deps import MerchantCtx, StaffCtx
from cockpit.api.routing import api_router
from cockpit.db.base import utcnow
from tools.payments.monitors import schedules, store
from tools.payments.monitors.catalogue import MONITORS
from tools.payments.monitors.runner import run_monitors
from tools.payments.router import require_merchant_scope as merchant
from tools.payments.router import scope_merchant as scope
from tools.payments.tx import read_tx, run_tx

router = api_router(prefix="/v1/monitors", tags=["monitors"])


class RunBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    merchant_id: str | None = Field(None, description="Defaults to the key's own merchant")
    monitors: list[str] | None = Field(None, description="Monitor names (default: all)")


@router.get("")
def catalogue(ctx: StaffCtx) -> dict[str, Any]:
    """The built-in monitors: what each watches, why it matters, its default schedule and
    parameters."""
    rows = [
        {
            "monitor": m.name,
            "title": m.title,
            "why": m.why,
            "actions": list(m.actions),
            "interval_seconds": m.interval_seconds,
            "params": m.params().model_dump(),
        }
        for m in MONITORS.values()
    ]
    return {"data": rows}


@router.get("/findings")
def list_findings(
    ctx: StaffCtx,
    merchant_id: str | None = None,
    monitor: str | None = None,
    severity: Annotated[str | None, Query(description="info | warning | critical")] = None,
    status: Annotated[str | None, Query(description="open | acknowledged")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    """Findings, newest first."""
    mid = scope(ctx, merchant_id)
    rows = read_tx(
        ctx.db,
        ctx.principal.tenant_id,
        lambda s: store.list_findings(
            s, merchant_id=mid, monitor=monitor, severity=severity, status=status, limit=limit
        ),
    )
    return {"data": rows, "count": len(rows)}


@router.get("/findings/{finding_id}")
def get_finding(finding_id: str, ctx: StaffCtx) -> dict[str, Any]:
    """One finding with why it matters and what to do about it."""
    mid = ctx.principal.merchant_id
    return read_tx(
        ctx.db, ctx.principal.tenant_id, lambda s: store.explain(s, finding_id, merchant_id=mid)
    )


@router.post("/findings/{finding_id}/acknowledge")
def acknowledge(finding_id: str, ctx: MerchantCtx) -> dict[str, Any]:
    """Mark a finding as seen (it stays listed, with ``status`` acknowledged)."""
    mid, by = ctx.principal.merchant_id, ctx.principal.key_id
    return run_tx(
        ctx.db,
        ctx.principal.tenant_id,
        lambda s: store.acknowledge(s, finding_id, merchant_id=mid, by=by, at=utcnow()),
    )


@router.post("/run")
def run(body: RunBody, ctx: MerchantCtx) -> dict[str, Any]:
    """Run a merchant's monitors now; returns the findings that are new (and notified)."""
    mid = merchant(ctx, body.merchant_id)
    return run_monitors(ctx.db, ctx.principal.tenant_id, mid, monitors=body.monitors)


@router.get("/settings")
def get_settings(ctx: StaffCtx, merchant_id: str | None = None) -> dict[str, Any]:
    """Each monitor's schedule (interval or cron, next run) and parameters for a merchant."""
    mid = merchant(ctx, merchant_id)
    return read_tx(ctx.db, ctx.principal.tenant_id, lambda s: schedules.settings_view(s, mid))


@router.patch("/settings")
def patch_settings(body: schedules.SettingsChange, ctx: MerchantCtx) -> dict[str, Any]:
    """Change schedules and parameters (e.g. ``{"monitors": {"fx_exposure_limit":
    {"params": {"limit": 80000}}}}``); all changes apply together or none does."""
    mid = merchant(ctx, body.merchant_id)
    return run_tx(
        ctx.db,
        ctx.principal.tenant_id,
        lambda s: schedules.update_settings(s, mid, body, now=utcnow()),
    )


__all__ = ["router"]
