"""``/v1/webhooks`` — endpoints that hear a tenant's events, and the delivery log.

Who: staff keys (merchants and partners) and tenant admins. Webhooks are how a merchant
hears of its monitors' findings and how a partner's back office hears that a run ended, so
both register endpoints; shoppers, who only reach the commerce surfaces, do not. A key bound
to a merchant registers and sees only that merchant's endpoints and deliveries (another
merchant's are 404, as another tenant's are); a key bound to no merchant manages the
tenant's. Every change to where events go is written to the audit log.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request, Response

from cockpit.api.deps import RequestContext, StaffCtx
from cockpit.api.routers._common import services
from cockpit.api.routing import api_router
from cockpit.webhooks.deliveries import DeliveryLog, Status
from cockpit.webhooks.destinations import DestinationPolicy
from cockpit.webhooks.dispatcher import Dispatcher
from cockpit.webhooks.endpoints import EndpointCreate, EndpointPatch, EndpointService, RotateSecret
from cockpit.webhooks.events import event_types

router = api_router(prefix="/v1/webhooks", tags=["webhooks"])
DISPATCHER_KEY = "webhooks"
"""``runtime.extras`` key of this worker's :class:`Dispatcher` (woken when events queue)."""


def _endpoints(request: Request, ctx: RequestContext) -> EndpointService:
    return EndpointService(
        ctx.db,
        DestinationPolicy.from_settings(ctx.settings),
        merchant_exists=services(request).keys.merchant_exists,
    )


def _wake(ctx: RequestContext) -> None:
    dispatcher = ctx.extras.get(DISPATCHER_KEY)
    if isinstance(dispatcher, Dispatcher):
        dispatcher.wake()


def _audit(request: Request, ctx: RequestContext, kind: str, endpoint: dict[str, Any]) -> None:
    services(request).audit.record(
        ctx.principal.tenant_id,
        kind=kind,
        actor=f"key:{ctx.principal.key_id}",
        subject=str(endpoint["id"]),
        payload={
            "url": endpoint["url"],
            "event_types": endpoint["event_types"],
            "enabled": endpoint["enabled"],
            "merchant_id": endpoint["merchant_id"],
        },
    )


@router.get("/event-types", summary="Event types an endpoint may subscribe to")
async def list_event_types(ctx: StaffCtx) -> list[dict[str, str]]:
    return [{"name": e.name, "description": e.description} for e in event_types()]


@router.post(
    "/endpoints", status_code=201, summary="Register an endpoint (the answer holds its secret)"
)
def create_endpoint(request: Request, ctx: StaffCtx, body: EndpointCreate) -> dict[str, Any]:
    # A plain function, so FastAPI runs it in a worker thread: the destination check resolves
    # the host name, and the endpoint and its audit record are written, off the event loop.
    created = _endpoints(request, ctx).create(ctx.principal, body)
    _audit(request, ctx, "webhook_endpoint_created", created)
    return created


@router.get("/endpoints", summary="This caller's webhook endpoints")
def list_endpoints(request: Request, ctx: StaffCtx) -> list[dict[str, Any]]:
    return _endpoints(request, ctx).list_all(ctx.principal)


@router.get("/endpoints/{endpoint_id}", summary="A webhook endpoint")
def get_endpoint(request: Request, ctx: StaffCtx, endpoint_id: str) -> dict[str, Any]:
    return _endpoints(request, ctx).get(ctx.principal, endpoint_id)


@router.patch("/endpoints/{endpoint_id}", summary="Change url, event types, enabled, description")
def update_endpoint(
    request: Request, ctx: StaffCtx, endpoint_id: str, body: EndpointPatch
) -> dict[str, Any]:
    changed = _endpoints(request, ctx).update(ctx.principal, endpoint_id, body)
    _audit(request, ctx, "webhook_endpoint_updated", changed)
    return changed


@router.delete(
    "/endpoints/{endpoint_id}", status_code=204, summary="Remove an endpoint (unsent events end)"
)
def delete_endpoint(request: Request, ctx: StaffCtx, endpoint_id: str) -> Response:
    removed = _endpoints(request, ctx).delete(ctx.principal, endpoint_id)
    _audit(request, ctx, "webhook_endpoint_deleted", removed)
    return Response(status_code=204)


@router.post(
    "/endpoints/{endpoint_id}/rotate-secret",
    summary="A new signing secret; the current one keeps signing for a grace period",
)
def rotate_secret(
    request: Request, ctx: StaffCtx, endpoint_id: str, body: RotateSecret | None = None
) -> dict[str, Any]:
    rotated = _endpoints(request, ctx).rotate(ctx.principal, endpoint_id, body or RotateSecret())
    _audit(request, ctx, "webhook_secret_rotated", rotated)
    return rotated


@router.post(
    "/endpoints/{endpoint_id}/test",
    status_code=202,
    summary="Send a webhook.test event to this endpoint",
)
def send_test(request: Request, ctx: StaffCtx, endpoint_id: str) -> dict[str, Any]:
    delivery_id = _endpoints(request, ctx).send_test(ctx.principal, endpoint_id)
    _wake(ctx)
    return DeliveryLog(ctx.db).get(ctx.principal, delivery_id)


@router.get("/deliveries", summary="The delivery log, newest first")
def list_deliveries(
    ctx: StaffCtx,
    endpoint_id: Annotated[str | None, Query(max_length=64)] = None,
    status: Status | None = None,
    event_type: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[dict[str, Any]]:
    return DeliveryLog(ctx.db).list_all(
        ctx.principal,
        endpoint_id=endpoint_id,
        status=status,
        event_type=event_type,
        limit=limit,
        offset=offset,
    )


@router.get("/deliveries/{delivery_id}", summary="A delivery with its payload and attempt log")
def get_delivery(ctx: StaffCtx, delivery_id: str) -> dict[str, Any]:
    return DeliveryLog(ctx.db).get(ctx.principal, delivery_id)


@router.post(
    "/deliveries/{delivery_id}/replay",
    status_code=202,
    summary="Send a delivery again (same webhook-id, retry schedule reset)",
)
def replay_delivery(ctx: StaffCtx, delivery_id: str) -> dict[str, Any]:
    replayed = DeliveryLog(ctx.db).replay(ctx.principal, delivery_id)
    _wake(ctx)
    return replayed


__all__ = ["DISPATCHER_KEY", "router"]
