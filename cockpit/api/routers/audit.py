"""``/v1/audit`` — the caller's tenant's audit chain: read, verify, export, signed head."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from fastapi import Request
from fastapi.responses import StreamingResponse

from cockpit.api.deps import RequestContext, StaffCtx
from cockpit.api.limits import Offset, PageLimit
from cockpit.api.routers._common import services
from cockpit.api.routing import api_router
from cockpit.audit import SignedHead, VerifyResult
from cockpit.errors import PermissionDenied

router = api_router(prefix="/v1/audit", tags=["audit"])


def _require_tenant_wide(ctx: RequestContext) -> None:
    """The chain is the whole tenant's (every merchant's tool calls and decisions): a key bound
    to one merchant may not read it."""
    if ctx.principal.merchant_id is not None:
        raise PermissionDenied(
            "a key bound to one merchant cannot read the tenant's audit chain",
            code="tenant_key_required",
        )


@router.get("", summary="Audit records, oldest first")
def records(
    request: Request,
    ctx: StaffCtx,
    kind: str | None = None,
    subject: str | None = None,
    after_seq: Offset = 0,
    limit: PageLimit = 100,
) -> list[dict[str, Any]]:
    _require_tenant_wide(ctx)
    return services(request).audit.records(
        ctx.principal.tenant_id,
        kind=kind,
        subject=subject,
        after_seq=after_seq,
        limit=limit,
    )


@router.get("/verify", summary="Verify the keyed hash chain")
def verify_chain(request: Request, ctx: StaffCtx) -> dict[str, Any]:
    _require_tenant_wide(ctx)
    return _verified(services(request).audit.verify(ctx.principal.tenant_id))


@router.post("/verify", summary="Verify the chain and that it still holds an exported head")
def verify_anchored(request: Request, ctx: StaffCtx, anchor: SignedHead) -> dict[str, Any]:
    _require_tenant_wide(ctx)
    return _verified(services(request).audit.verify(ctx.principal.tenant_id, anchor=anchor))


def _verified(r: VerifyResult) -> dict[str, Any]:
    return {"ok": r.ok, "records": r.records, "problem": r.problem, "at_seq": r.at_seq}


@router.get("/head", summary="The chain's newest record, signed: keep it elsewhere as an anchor")
def head(request: Request, ctx: StaffCtx) -> SignedHead:
    _require_tenant_wide(ctx)
    return services(request).audit.head(ctx.principal.tenant_id)


@router.get("/export", summary="Export the chain as JSON lines")
async def export(request: Request, ctx: StaffCtx) -> StreamingResponse:
    _require_tenant_wide(ctx)
    log = services(request).audit

    def lines() -> Iterator[bytes]:
        for rec in log.export(ctx.principal.tenant_id):
            yield (json.dumps(rec) + "\n").encode()

    return StreamingResponse(lines(), media_type="application/x-ndjson")
