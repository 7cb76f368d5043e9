"""Health and server info."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from cockpit import __version__
from cockpit.api.deps import AnyCtx
from cockpit.api.routers._common import services
from cockpit.api.routing import api_router

router = api_router(tags=["system"])


@router.get("/ok", summary="Liveness and database check")
def ok(request: Request) -> dict[str, Any]:
    # A plain function, so FastAPI runs it in a worker thread: a slow database answers this
    # probe late instead of stalling the event loop every other request shares.
    svc = services(request)
    from sqlalchemy import text

    with svc.db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return {"ok": True}


@router.get("/info", summary="Server version and capabilities")
async def info() -> dict[str, Any]:
    return {
        "version": __version__,
        "flags": {"assistants": True, "crons": False, "langsmith": False, "strict_resume": True},
        "stream_modes": ["values", "updates", "messages", "messages-tuple", "custom", "debug"],
    }


@router.get("/v1/me", summary="Who this key is: tenant, role, and the merchant it is bound to")
async def me(ctx: AnyCtx) -> dict[str, Any]:
    p = ctx.principal
    return {
        "tenant_id": p.tenant_id,
        "role": str(p.role),
        "merchant_id": p.merchant_id,
        "key_id": p.key_id,
    }
