"""Agent platforms and the merchant's side of orders: ``/v1/commerce/...``.

* ``/v1/commerce/platforms``: an admin or merchant key registers the agent platform behind a
  shopper key of its tenant (name, ES256 public JWK its requests are signed with, webhook URL
  order events go to), lists, updates and disables it. The webhook secret is shown once, at
  registration or on ``rotate_secret``. A merchant-bound key sees only platforms of shopper
  keys bound to its merchant.
* ``/v1/commerce/orders``: the merchant's orders (ACP ``Order`` JSON) and its actions on them:
  fulfilments (partial or whole, with tracking), fulfilment progress, refunds (real money
  through the gateway) and cancellation. Each action queues an ``order_update`` event. POSTs
  need an ``Idempotency-Key``: the same key and body answer the first response, another body
  409. A merchant-bound key sees only its merchant's orders; other ids are 404.
* ``/v1/commerce/order_events``: the events of an order with their delivery log, and (admins)
  ``POST /v1/commerce/order_events/deliver`` to run due deliveries now.

Endpoints are sync ``def``: each does blocking database (and, for delivery, HTTP) work.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from fastapi import Header, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from cockpit.api.deps import AdminCtx, MerchantCtx, RequestContext
from cockpit.api.routers._common import services
from cockpit.api.routing import api_router
from cockpit.clock import utcnow
from cockpit.errors import Conflict, NotFound, ValidationFailed
from cockpit.tenancy.principal import Role
from tools.commerce.acp.models import OrderRow
from tools.commerce.events.delivery import DeliveryWorker, url_allowed
from tools.commerce.events.emitter import EXTRAS_KEY, OrderEvents
from tools.commerce.events.lifecycle import LineQty, OrderActions, Shipment
from tools.commerce.events.models import EventDelivery, OrderEvent
from tools.commerce.events.signing import new_secret
from tools.commerce.events.wiring import WORKER_KEY, configured_hosts
from tools.commerce.platforms import Platform
from tools.payments.gateway import Gateway
from tools.payments.requests import new_id
from tools.payments.startup import GATEWAY_KEY
from tools.payments.tx import idempotent, read_tx, run_tx

router = api_router(prefix="/v1/commerce", tags=["commerce"])

IdemKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)]


# ----- platforms ---------------------------------------------------------------------------
class PlatformCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key_id: str = Field(min_length=1, max_length=64, description="The shopper key's id")
    name: str = Field(min_length=1, max_length=200)
    signing_jwk: dict[str, Any] | None = Field(
        None, description="Public EC P-256 JWK; when set, the key's ACP requests must be signed"
    )
    webhook_url: str | None = Field(
        None, max_length=500, description="Base URL; events go to …/agentic_checkout/webhooks/…"
    )


class PlatformUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=200)
    signing_jwk: dict[str, Any] | None = None
    """null clears it (requests are then unsigned)."""
    webhook_url: str | None = Field(None, max_length=500)
    """null clears it (no more events)."""
    disabled: bool | None = None
    rotate_secret: bool = False


def check_jwk(jwk: dict[str, Any]) -> dict[str, Any]:
    """The public part of an EC P-256 signing JWK, or 422 saying what is wrong with it."""
    from jwcrypto.jwk import JWK

    def bad(message: str) -> ValidationFailed:
        return ValidationFailed(message, code="invalid_signing_jwk", param="signing_jwk")

    if "d" in jwk:
        raise bad("signing_jwk must be a public key: never send the private part ('d')")
    if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise bad("signing_jwk must be an EC key on P-256 (kty 'EC', crv 'P-256')")
    if jwk.get("alg", "ES256") != "ES256" or jwk.get("use", "sig") != "sig":
        raise bad("signing_jwk is for ES256 signatures (alg 'ES256', use 'sig')")
    x, y = jwk.get("x"), jwk.get("y")
    if not isinstance(x, str) or not isinstance(y, str) or len(x) != 43 or len(y) != 43:
        raise bad("signing_jwk needs x and y: 43 base64url characters each")
    public = {"kty": "EC", "crv": "P-256", "x": x, "y": y}
    try:
        JWK(**public).get_op_key("verify")
    except Exception:
        raise bad("signing_jwk is not a point on P-256") from None
    for name in ("kid", "alg", "use"):
        if isinstance(jwk.get(name), str):
            public[name] = jwk[name]
    return public


def check_webhook_url(url: str, worker: DeliveryWorker | None) -> str:
    """An http(s) URL Cockpit may call (loopback or an operator-configured host), or 422."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationFailed(
            "webhook_url must be an http(s) URL with a host",
            code="invalid_webhook_url",
            param="webhook_url",
        )
    if parts.username or parts.password or parts.fragment:
        raise ValidationFailed(
            "webhook_url must carry no credentials and no fragment",
            code="invalid_webhook_url",
            param="webhook_url",
        )
    hosts = worker.allowed_hosts if worker is not None else configured_hosts()
    if not url_allowed(url, hosts):
        raise ValidationFailed(
            f"webhook host {parts.hostname!r} is not allowed: webhooks go to loopback hosts or "
            "hosts the operator lists in COCKPIT_COMMERCE_WEBHOOK_HOSTS",
            code="webhook_host_not_allowed",
            param="webhook_url",
        )
    return url


def _shopper_keys(request: Request, ctx: RequestContext) -> dict[str, str | None]:
    """Live shopper keys this caller may register platforms for: key id → merchant binding."""
    bound = ctx.principal.merchant_id
    return {
        k.id: k.merchant_id
        for k in services(request).keys.list_keys(ctx.principal.tenant_id)
        if k.role is Role.SHOPPER and not k.revoked and (bound is None or k.merchant_id == bound)
    }


def platform_view(p: Platform, *, secret: bool = False) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": p.id,
        "key_id": p.key_id,
        "name": p.name,
        "signing_jwk": p.signing_jwk,
        "webhook_url": p.webhook_url,
        "disabled": p.disabled,
        "created_at": p.created_at.isoformat(),
    }
    if secret:
        view["webhook_secret"] = p.webhook_secret
    return view


def _worker(ctx: RequestContext) -> DeliveryWorker:
    worker = ctx.extras.get(WORKER_KEY)
    if not isinstance(worker, DeliveryWorker):
        worker = DeliveryWorker(ctx.db, allowed_hosts=configured_hosts())
        ctx.extras[WORKER_KEY] = worker
    return worker


def _platform(session: Session, platform_id: str, visible: dict[str, str | None]) -> Platform:
    p = session.scalar(select(Platform).where(Platform.id == platform_id))
    if p is None or p.key_id not in visible:
        raise NotFound(
            f"no platform {platform_id!r}", code="platform_not_found", param="platform_id"
        )
    return p


@router.post("/platforms", status_code=201)
def register_platform(request: Request, ctx: MerchantCtx, body: PlatformCreate) -> dict[str, Any]:
    """Register the agent platform behind a shopper key; the answer holds its webhook secret
    (shown only now)."""
    keys = _shopper_keys(request, ctx)
    if body.key_id not in keys:
        raise NotFound(f"no shopper key {body.key_id!r}", code="key_not_found", param="key_id")
    jwk = check_jwk(body.signing_jwk) if body.signing_jwk is not None else None
    url = check_webhook_url(body.webhook_url, _worker(ctx)) if body.webhook_url else None

    def create(session: Session) -> dict[str, Any]:
        if session.scalar(select(Platform).where(Platform.key_id == body.key_id)) is not None:
            raise Conflict(
                f"shopper key {body.key_id!r} already has a platform",
                code="platform_exists",
                param="key_id",
            )
        p = Platform(
            id=new_id("plat"),
            key_id=body.key_id,
            name=body.name,
            signing_jwk=jwk,
            webhook_url=url,
            webhook_secret=new_secret(),
            disabled=False,
            created_at=utcnow(),
        )
        session.add(p)
        session.flush()
        return platform_view(p, secret=True)

    return run_tx(ctx.db, ctx.principal.tenant_id, create)


@router.get("/platforms")
def list_platforms(request: Request, ctx: MerchantCtx) -> dict[str, Any]:
    keys = _shopper_keys(request, ctx)

    def read(session: Session) -> dict[str, Any]:
        rows = session.scalars(select(Platform).order_by(Platform.created_at, Platform.id))
        return {"data": [platform_view(p) for p in rows if p.key_id in keys]}

    return read_tx(ctx.db, ctx.principal.tenant_id, read)


@router.get("/platforms/{platform_id}")
def get_platform(request: Request, ctx: MerchantCtx, platform_id: str) -> dict[str, Any]:
    keys = _shopper_keys(request, ctx)
    return read_tx(
        ctx.db,
        ctx.principal.tenant_id,
        lambda s: platform_view(_platform(s, platform_id, keys)),
    )


@router.patch("/platforms/{platform_id}")
def update_platform(
    request: Request, ctx: MerchantCtx, platform_id: str, body: PlatformUpdate
) -> dict[str, Any]:
    """Change a platform; ``null`` clears ``signing_jwk`` / ``webhook_url``; ``rotate_secret``
    answers the new secret (once)."""
    keys = _shopper_keys(request, ctx)
    given = body.model_fields_set
    jwk = check_jwk(body.signing_jwk) if body.signing_jwk is not None else None
    url = check_webhook_url(body.webhook_url, _worker(ctx)) if body.webhook_url else None

    def update(session: Session) -> dict[str, Any]:
        p = _platform(session, platform_id, keys)
        if body.name is not None:
            p.name = body.name
        if "signing_jwk" in given:
            p.signing_jwk = jwk
        if "webhook_url" in given:
            p.webhook_url = url
        if body.disabled is not None:
            p.disabled = body.disabled
        if body.rotate_secret:
            p.webhook_secret = new_secret()
        return platform_view(p, secret=body.rotate_secret)

    return run_tx(ctx.db, ctx.principal.tenant_id, update)


@router.delete("/platforms/{platform_id}")
def disable_platform(request: Request, ctx: MerchantCtx, platform_id: str) -> dict[str, Any]:
    """Disable a platform: its key's signed requests are refused and no events are queued."""
    keys = _shopper_keys(request, ctx)

    def disable(session: Session) -> dict[str, Any]:
        p = _platform(session, platform_id, keys)
        p.disabled = True
        return platform_view(p)

    return run_tx(ctx.db, ctx.principal.tenant_id, disable)


# ----- orders ------------------------------------------------------------------------------
class LineRef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=128)
    quantity: int = Field(ge=1, le=1_000_000)


class FulfilBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    line_items: list[LineRef] | None = Field(
        None, description="What this fulfilment carries; omit for everything not yet fulfilled"
    )
    type: Literal["shipping", "pickup", "digital"] = "shipping"
    carrier: str | None = Field(None, max_length=100)
    tracking_number: str | None = Field(None, max_length=100)
    tracking_url: str | None = Field(None, max_length=500)
    description: str | None = Field(None, max_length=500)
    digital_delivery: dict[str, str] | None = None
    status: str | None = Field(None, max_length=32)


class TrackBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: str = Field(max_length=32)
    description: str | None = Field(None, max_length=500)
    location: str | None = Field(None, max_length=200)


class RefundBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: int | None = Field(
        None,
        ge=1,
        description="Minor units; default: the items' price "
        "with their tax share, or everything still refundable",
    )
    line_items: list[LineRef] | None = None
    reason: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=500)


class CancelBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(None, max_length=200)


def _actions(ctx: RequestContext) -> OrderActions:
    gateway = ctx.extras.get(GATEWAY_KEY)
    if not isinstance(gateway, Gateway):
        gateway = Gateway(ctx.db)
    events = ctx.extras.get(EXTRAS_KEY)
    return OrderActions(gateway, events if isinstance(events, OrderEvents) else None)


def _need_key(key: str | None) -> str:
    if not key:
        raise ValidationFailed(
            "send an Idempotency-Key header",
            code="idempotency_key_required",
            param="Idempotency-Key",
        )
    return key


def _order_row(session: Session, ctx: RequestContext, order_id: str) -> OrderRow:
    row = session.scalar(select(OrderRow).where(OrderRow.id == order_id))
    bound = ctx.principal.merchant_id
    if row is None or (bound is not None and row.merchant_id != bound):
        raise NotFound(f"no order {order_id!r}", code="order_not_found", param="order_id")
    return row


def _lines(refs: list[LineRef] | None) -> list[LineQty] | None:
    return None if refs is None else [LineQty(r.id, r.quantity) for r in refs]


def _keyed(
    ctx: RequestContext, action: str, order_id: str, key: str | None, body: BaseModel, fn: Any
) -> dict[str, Any]:
    scope = f"commerce.{action}:{order_id}:{ctx.principal.key_id}"
    return idempotent(
        ctx.db,
        ctx.principal.tenant_id,
        scope=scope,
        key=_need_key(key),
        body=body.model_dump(mode="json"),
        fn=fn,
    )


@router.get("/orders")
def list_orders(
    ctx: MerchantCtx,
    merchant_id: str | None = Query(None, max_length=64),
    status: str | None = Query(None, max_length=32),
    limit: int = Query(50, ge=1, le=200),
) -> dict[str, Any]:
    """The newest orders first (ACP ``Order`` JSON), of the caller's merchant when bound."""
    bound = ctx.principal.merchant_id
    if bound and merchant_id and merchant_id != bound:
        return {"data": []}
    scope = bound or merchant_id

    def read(session: Session) -> dict[str, Any]:
        stmt = select(OrderRow).order_by(OrderRow.created_at.desc(), OrderRow.id).limit(limit)
        if scope:
            stmt = stmt.where(OrderRow.merchant_id == scope)
        if status:
            stmt = stmt.where(OrderRow.status == status)
        return {"data": [dict(r.body) for r in session.scalars(stmt)]}

    return read_tx(ctx.db, ctx.principal.tenant_id, read)


@router.get("/orders/{order_id}")
def get_order(ctx: MerchantCtx, order_id: str) -> dict[str, Any]:
    return read_tx(
        ctx.db, ctx.principal.tenant_id, lambda s: dict(_order_row(s, ctx, order_id).body)
    )


@router.post("/orders/{order_id}/fulfillments", status_code=201)
def fulfil_order(
    ctx: MerchantCtx, order_id: str, body: FulfilBody, idempotency_key: IdemKey = None
) -> dict[str, Any]:
    """Dispatch some or all line items as one fulfilment (``shipped`` with tracking, digital
    ``delivered``); answers the updated order."""
    actions, at = _actions(ctx), utcnow()
    shipment = Shipment(
        type=body.type,
        carrier=body.carrier,
        tracking_number=body.tracking_number,
        tracking_url=body.tracking_url,
        description=body.description,
        digital_delivery=body.digital_delivery,
        status=body.status,
    )
    return _keyed(
        ctx,
        "fulfil",
        order_id,
        idempotency_key,
        body,
        lambda s: actions.fulfil(
            s,
            order_id,
            merchant_id=ctx.principal.merchant_id,
            items=_lines(body.line_items),
            shipment=shipment,
            at=at,
        ),
    )


@router.post("/orders/{order_id}/fulfillments/{fulfillment_id}/events", status_code=201)
def track_fulfillment(
    ctx: MerchantCtx,
    order_id: str,
    fulfillment_id: str,
    body: TrackBody,
    idempotency_key: IdemKey = None,
) -> dict[str, Any]:
    """Record a fulfilment's progress (``in_transit``, ``delivered``, …)."""
    actions, at = _actions(ctx), utcnow()
    return _keyed(
        ctx,
        "track",
        order_id,
        idempotency_key,
        body,
        lambda s: actions.track(
            s,
            order_id,
            fulfillment_id,
            merchant_id=ctx.principal.merchant_id,
            status=body.status,
            description=body.description,
            location=body.location,
            at=at,
        ),
    )


@router.post("/orders/{order_id}/refunds", status_code=201)
def refund_order(
    ctx: MerchantCtx, order_id: str, body: RefundBody, idempotency_key: IdemKey = None
) -> dict[str, Any]:
    """Refund money on the order's payment (an ``adjustments[]`` entry, ``amount_refunded``)."""
    actions, at = _actions(ctx), utcnow()
    key = _need_key(idempotency_key)
    return _keyed(
        ctx,
        "refund",
        order_id,
        key,
        body,
        lambda s: actions.refund(
            s,
            order_id,
            merchant_id=ctx.principal.merchant_id,
            key=key,
            amount=body.amount,
            items=_lines(body.line_items),
            reason=body.reason,
            description=body.description,
            at=at,
        ),
    )


@router.post("/orders/{order_id}/cancel")
def cancel_order(
    ctx: MerchantCtx, order_id: str, body: CancelBody | None = None, idempotency_key: IdemKey = None
) -> dict[str, Any]:
    """Cancel an order nothing of which was dispatched; its money goes back to the buyer."""
    actions, at = _actions(ctx), utcnow()
    key = _need_key(idempotency_key)
    payload = body or CancelBody()
    return _keyed(
        ctx,
        "cancel",
        order_id,
        key,
        payload,
        lambda s: actions.cancel(
            s,
            order_id,
            merchant_id=ctx.principal.merchant_id,
            key=key,
            reason=payload.reason,
            at=at,
        ),
    )


# ----- events ------------------------------------------------------------------------------
def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def event_view(e: OrderEvent, deliveries: list[EventDelivery]) -> dict[str, Any]:
    return {
        "id": e.id,
        "order_id": e.order_id,
        "platform_id": e.platform_id,
        "type": e.event_type,
        "status": e.status,
        "attempts": e.attempts,
        "next_attempt_at": _iso(e.next_attempt_at),
        "last_status_code": e.last_status_code,
        "last_error": e.last_error,
        "created_at": _iso(e.created_at),
        "delivered_at": _iso(e.delivered_at),
        "deliveries": [
            {
                "attempt": d.attempt,
                "at": _iso(d.attempted_at),
                "url": d.url,
                "status_code": d.status_code,
                "error": d.error,
                "duration_ms": d.duration_ms,
                "outcome": d.outcome,
            }
            for d in deliveries
        ],
    }


@router.get("/orders/{order_id}/events")
def order_events(ctx: MerchantCtx, order_id: str) -> dict[str, Any]:
    """The order's events to its agent platform, each with its delivery log."""

    def read(session: Session) -> dict[str, Any]:
        _order_row(session, ctx, order_id)
        events = list(
            session.scalars(
                select(OrderEvent)
                .where(OrderEvent.order_id == order_id)
                .order_by(OrderEvent.created_at, OrderEvent.id)
            )
        )
        logs: dict[str, list[EventDelivery]] = {e.id: [] for e in events}
        if events:
            for d in session.scalars(
                select(EventDelivery)
                .where(EventDelivery.event_id.in_(list(logs)))
                .order_by(EventDelivery.attempt)
            ):
                logs[d.event_id].append(d)
        return {"data": [event_view(e, logs[e.id]) for e in events]}

    return read_tx(ctx.db, ctx.principal.tenant_id, read)


@router.post("/order_events/deliver")
def deliver_now(ctx: AdminCtx) -> dict[str, Any]:
    """Run one delivery pass now (every tenant's due events; the background loop does the
    same every few seconds)."""
    report = _worker(ctx).run_due(at=utcnow())
    return {"delivered": report.delivered, "retrying": report.retrying, "dead": report.dead}


__all__ = ["check_jwk", "check_webhook_url", "router"]
