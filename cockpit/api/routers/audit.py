"""``/v1/audit`` — the caller's tenant's audit chain: read, verify, export."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from cockpit.api.deps import Ctx
from cockpit.api.routers._common import services
from cockpit.audit.log import verify
from cockpit.errors import PermissionDenied
from cockpit.tenancy.principal import Role

router = APIRouter(prefix="/v1/audit", tags=["audit"])


def _require_tenant_wide(ctx: Ctx) -> None:
    """The chain is the whole tenant's (every merchant's tool calls and decisions): a key bound
    to one merchant may not read it."""
    ctx.require(Role.MERCHANT, Role.PARTNER)
    if ctx.principal.merchant_id is not None:
        raise PermissionDenied(
            "a key bound to one merchant cannot read the tenant's audit chain",
            code="tenant_key_required",
        )


@router.get("", summary="Audit records, oldest first")
async def records(
    request: Request,
    ctx: Ctx,
    kind: str | None = None,
    subject: str | None = None,
    after_seq: int = 0,
    limit: int = 100,
) -> list[dict[str, Any]]:
    _require_tenant_wide(ctx)
    return services(request).audit.records(
        ctx.principal.tenant_id,
        kind=kind,
        subject=subject,
        after_seq=max(0, after_seq),
        limit=max(1, min(limit, 1000)),
    )


@router.get("/verify", summary="Verify the hash chain")
async def verify_chain(ctx: Ctx) -> dict[str, Any]:
    _require_tenant_wide(ctx)
    r = verify(ctx.db, ctx.principal.tenant_id)
    return {"ok": r.ok, "records": r.records, "problem": r.problem, "at_seq": r.at_seq}


@router.get("/export", summary="Export the chain as JSON lines")
async def export(request: Request, ctx: Ctx) -> StreamingResponse:
    _require_tenant_wide(ctx)
    log = services(request).audit

    def lines() -> Iterator[bytes]:
        for rec in log.export(ctx.principal.tenant_id):
            yield (json.dumps(rec) + "\n").encode()

    return StreamingResponse(lines(), media_type="application/x-ndjson")
