"""``GET /metrics``: the Prometheus text exposition, for the platform's operators only.

Metrics span every tenant, so a tenant's admin may not read them: a platform admin key may, and
so may a scraper sending the configured ``COCKPIT_METRICS_TOKEN`` as a bearer (Prometheus holds
a token more easily than an API key it would have to rotate). Without the token setting only
platform admin keys get in.
"""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from cockpit.api.deps import request_context
from cockpit.api.routers.keys import PLATFORM_TENANT
from cockpit.api.routing import api_router
from cockpit.errors import PermissionDenied
from cockpit.observability.metrics import metrics
from cockpit.tenancy import rights

router = api_router(tags=["system"])
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    return auth[7:].strip() if auth.lower().startswith("bearer ") else None


async def metrics_reader(request: Request) -> None:
    """Admit the scraper's token or a platform admin key; 401/403 otherwise."""
    token = request.app.state.services.settings.metrics_token
    offered = _bearer(request)
    secret = token.get_secret_value().encode() if token is not None else None
    if secret and offered and hmac.compare_digest(offered.encode(), secret):
        return
    ctx = await request_context(request)  # 401 for a missing or unknown key
    rights.require(ctx.principal, rights.ADMINS)
    if ctx.principal.tenant_id != PLATFORM_TENANT:
        raise PermissionDenied(
            "metrics span every tenant: only platform admins read them",
            code="platform_admin_only",
        )


metrics_reader.roles = rights.ADMINS  # type: ignore[attr-defined]


@router.get(
    "/metrics",
    summary="Prometheus metrics (platform admins, or the scraper's bearer token)",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE: {"schema": {"type": "string"}}}}},
    dependencies=[Depends(metrics_reader)],
)
async def read_metrics() -> Any:
    # Rendering calls the queue depth source, which may query the database.
    body = await run_in_threadpool(metrics().render)
    return Response(content=body, media_type=CONTENT_TYPE)


__all__ = ["CONTENT_TYPE", "metrics_reader", "router"]
