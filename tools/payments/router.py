"""REST API under ``/v1/payments``: payments, captures, refunds, cancels, disputes, balances,
analytics and merchants.

Writes take an ``Idempotency-Key`` header or the gateway request-id field
(``payment_request_id`` / ``capture_request_id`` / ``refund_request_id``);
the same key and body return the first response, another body is 409
``idempotency_key_reused``. Amounts cross the wire as
``{"currency": "USD", "value": "1000"}`` in minor units. Endpoints are sync
``def`` on purpose: every one does blocking database work, so FastAPI runs
them in its thread pool. Ids of another tenant (or another merchant, for a
merchant-bound key) are 404.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Header, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy.orm import Session

from cockpit.api.deps import AnyCtx, MerchantCtx, RequestContext, StaffCtx
from cockpit.api.routing import api_router
from cockpit.db.base import utcnow
from cockpit.errors import NotFound, ValidationFailed
from cockpit.tenancy.principal import Role
from tools.payments import analytics, queries
from tools.payments.disputes import Disputes
from tools.payments.gateway import CaptureRequest, Gateway, PayRequest, RefundRequest
from tools.payments.methods import methods_for
from tools.payments.money import normalize_currency, parse_minor
from tools.payments.startup import GATEWAY_KEY
from tools.payments.tx import read_tx, write_tx
from tools.payments.views import dispute_view

router = api_router(prefix="/v1/payments", tags=["payments"])

IdemKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=64)]
READ_ROLES = (Role.MERCHANT, Role.PARTNER)


class Amount(BaseModel):
    model_config = ConfigDict(extra="forbid")
    currency: str = Field(description="ISO 4217 code")
    value: str | int = Field(description='Integer minor units, e.g. "1000" for 10.00 USD')

    @field_validator("value", mode="before")
    @classmethod
    def _integer_or_digits(cls, value: object) -> object:
        # Lax pydantic would read true as 1 and 1000.0 as 1000; the wire says int or string.
        # Strings are checked in full by minor(), which knows the currency's exponent.
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise PydanticCustomError(
                "amount_not_integer", "must be an integer or a string of ASCII digits"
            )
        return value

    def minor(self, *, method_type: str | None = None) -> tuple[int, str]:
        currency = normalize_currency(self.currency, param="amount.currency")
        return parse_minor(
            self.value, currency, method_type=method_type, param="amount.value"
        ), currency


class PayBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    merchant_id: str | None = None
    payment_request_id: str | None = Field(None, max_length=64)
    amount: Amount
    payment_method_type: str = "CARD"
    card_id: str | None = None
    customer_id: str | None = None
    device_id: str | None = None
    capture_mode: str = "AUTOMATIC"
    three_ds: bool = False
    market: str | None = Field(None, min_length=2, max_length=2)
    # Lengths and counts are checked by the gateway (one rule set, specific error codes).
    description: str | None = Field(None, description="Your note on the payment (≤ 500 chars)")
    metadata: dict[str, str] | None = Field(
        None, description="Your key/value notes: ≤ 20 keys (≤ 40 chars), values ≤ 500 chars"
    )


class CaptureBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    capture_request_id: str | None = Field(None, max_length=64)
    amount: Amount
    is_last_capture: bool = False


class RefundBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    refund_request_id: str | None = Field(None, max_length=64)
    amount: Amount
    reason: str | None = Field(None, max_length=200)


class DisputeResponseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    evidence: dict[str, str]


def _key(field_value: str | None, header: str | None) -> str:
    if field_value and header and field_value != header:
        raise ValidationFailed("Idempotency-Key and the request id differ", code="idempotency_key_mismatch",
                               param="Idempotency-Key")  # fmt: skip
    key = field_value or header
    if not key:
        raise ValidationFailed("send an Idempotency-Key header or the request id field",
                               code="idempotency_key_required", param="Idempotency-Key")  # fmt: skip
    return key


def _scope(ctx: RequestContext, requested: str | None) -> str | None:
    """The merchant a read is confined to: a bound key's own (naming another is 404, as for a
    merchant that does not exist), else the one asked for, or None for the whole tenant."""
    bound = ctx.principal.merchant_id
    if bound and requested and requested != bound:
        raise NotFound(f"no merchant {requested!r}", code="merchant_not_found", param="merchant_id")
    return bound or requested


def _merchant(ctx: RequestContext, requested: str | None) -> str:
    merchant = _scope(ctx, requested)
    if not merchant:
        raise ValidationFailed(
            "merchant_id is required", code="merchant_required", param="merchant_id"
        )
    return merchant


def _window(ctx: RequestContext, days: int, merchant_id: str | None) -> tuple[str | None, Any]:
    """Analytics scope (see :func:`_scope`) and the window's start."""
    return _scope(ctx, merchant_id), utcnow() - timedelta(days=days)


def _gateway(ctx: RequestContext) -> Gateway:
    gw = ctx.extras.get(GATEWAY_KEY)
    return gw if isinstance(gw, Gateway) else Gateway(ctx.db)


def _payment_merchant(ctx: RequestContext, payment_id: str) -> tuple[str, str]:
    view = read_tx(ctx.db, ctx.principal.tenant_id,
                  lambda s: queries.get_payment(s, payment_id, merchant_id=ctx.principal.merchant_id))  # fmt: skip
    return str(view["merchantId"]), str(view["paymentAmount"]["currency"])


# ----- payments ------------------------------------------------------------------------


def _answer(view: dict[str, Any]) -> Response:
    """A write's JSON answer, rendered in the worker thread that made it.

    A sync route's returned dict is validated against ``dict[str, Any]`` in a second trip
    through the thread pool (FastAPI's ``serialize_response``), which cost a payment
    about a third of its server time; the view is already plain JSON, so it is sent as is.
    The routes keep ``response_model`` for the schema.
    """
    return JSONResponse(view)


@router.post("/payments", response_model=dict[str, Any])
async def create_payment(
    body: PayBody, ctx: MerchantCtx, idempotency_key: IdemKey = None
) -> Response:
    amount, currency = body.amount.minor(method_type=body.payment_method_type.upper())
    req = PayRequest(
        merchant_id=_merchant(ctx, body.merchant_id), request_id=_key(body.payment_request_id, idempotency_key),
        amount=amount, currency=currency, method_type=body.payment_method_type, card_id=body.card_id,
        customer_id=body.customer_id, device_id=body.device_id, capture_mode=body.capture_mode,
        three_ds=body.three_ds, market=body.market, description=body.description, metadata=body.metadata,
    )  # fmt: skip
    # ``Gateway.pay``, run by the database's writer (tx.write_tx): validated here, on the loop.
    gateway = _gateway(ctx)
    view = await write_tx(
        gateway.db, ctx.principal.tenant_id, lambda s: gateway.pay_in(s, req, at=utcnow())
    )
    return _answer(view)


@router.get("/payments")
def search_payments(
    ctx: StaffCtx, merchant_id: str | None = None, state: str | None = None, method_type: str | None = None,
    decline_code: str | None = None, days: Annotated[int, Query(ge=1, le=365)] = 30,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:  # fmt: skip
    scope = _scope(ctx, merchant_id)
    rows = read_tx(ctx.db, ctx.principal.tenant_id, lambda s: queries.search_payments(
        s, merchant_id=scope, state=state, method_type=method_type, decline_code=decline_code,
        start=utcnow() - timedelta(days=days), limit=limit))  # fmt: skip
    return {"data": rows, "count": len(rows)}


@router.get("/payments/{payment_id}")
def get_payment(payment_id: str, ctx: StaffCtx) -> dict[str, Any]:
    return read_tx(ctx.db, ctx.principal.tenant_id,
                  lambda s: queries.get_payment(s, payment_id, merchant_id=ctx.principal.merchant_id))  # fmt: skip


@router.get("/payments/{payment_id}/decline")
def explain_decline(payment_id: str, ctx: StaffCtx) -> dict[str, Any]:
    return read_tx(ctx.db, ctx.principal.tenant_id,
                  lambda s: queries.explain_decline(s, payment_id, merchant_id=ctx.principal.merchant_id))  # fmt: skip


@router.post("/payments/{payment_id}/inquiry")
def inquire(payment_id: str, ctx: MerchantCtx) -> dict[str, Any]:
    """Current state; resolves a payment whose result was U."""
    _payment_merchant(ctx, payment_id)
    return _gateway(ctx).inquire(ctx.principal.tenant_id, payment_id)


@router.post("/payments/{payment_id}/captures", response_model=dict[str, Any])
def capture(
    payment_id: str, body: CaptureBody, ctx: MerchantCtx, idempotency_key: IdemKey = None
) -> Response:
    merchant, currency = _payment_merchant(ctx, payment_id)
    amount, ccy = body.amount.minor()
    if ccy != currency:
        raise ValidationFailed(
            f"payment is in {currency}", code="currency_mismatch", param="amount.currency"
        )
    req = CaptureRequest(merchant, payment_id, _key(body.capture_request_id, idempotency_key), amount,
                         body.is_last_capture)  # fmt: skip
    return _answer(_gateway(ctx).capture(ctx.principal.tenant_id, req))


@router.post("/payments/{payment_id}/refunds", response_model=dict[str, Any])
def refund(
    payment_id: str, body: RefundBody, ctx: MerchantCtx, idempotency_key: IdemKey = None
) -> Response:
    merchant, currency = _payment_merchant(ctx, payment_id)
    amount, ccy = body.amount.minor()
    if ccy != currency:
        raise ValidationFailed(
            f"payment is in {currency}", code="currency_mismatch", param="amount.currency"
        )
    req = RefundRequest(
        merchant, payment_id, _key(body.refund_request_id, idempotency_key), amount, body.reason
    )
    return _answer(_gateway(ctx).refund(ctx.principal.tenant_id, req))


@router.post("/payments/{payment_id}/cancel")
def cancel(payment_id: str, ctx: MerchantCtx) -> dict[str, Any]:
    """Idempotent by payment: a repeat returns the first cancel."""
    merchant, _ = _payment_merchant(ctx, payment_id)
    return _gateway(ctx).cancel(ctx.principal.tenant_id, merchant, payment_id)


# ----- disputes ------------------------------------------------------------------------


@router.get("/disputes")
def list_disputes(
    ctx: StaffCtx, status: str | None = None, merchant_id: str | None = None
) -> dict[str, Any]:
    scope = _scope(ctx, merchant_id)
    rows = read_tx(
        ctx.db,
        ctx.principal.tenant_id,
        lambda s: queries.list_disputes(s, merchant_id=scope, status=status),
    )
    return {"data": rows, "count": len(rows)}


@router.get("/disputes/{dispute_id}")
def get_dispute(dispute_id: str, ctx: StaffCtx) -> dict[str, Any]:
    disputes = Disputes(_gateway(ctx))

    def fn(s: Any) -> dict[str, Any]:
        d = queries.scoped_dispute(s, dispute_id, ctx.principal.merchant_id)
        return {"dispute": dispute_view(d), "checklist": disputes.checklist_in(s, d, at=utcnow()),
                "evidence": queries.dispute_evidence(s, d.id)}  # fmt: skip

    return read_tx(ctx.db, ctx.principal.tenant_id, fn)


@router.post("/disputes/{dispute_id}/response")
def submit_dispute_response(
    dispute_id: str, body: DisputeResponseBody, ctx: MerchantCtx
) -> dict[str, Any]:
    """Defence for the current stage; immutable once submitted (a repeat is 409)."""
    return Disputes(_gateway(ctx)).submit(ctx.principal.tenant_id, dispute_id, body.evidence,
                                          merchant_id=ctx.principal.merchant_id)  # fmt: skip


@router.post("/disputes/{dispute_id}/accept")
def accept_dispute(dispute_id: str, ctx: MerchantCtx) -> dict[str, Any]:
    return Disputes(_gateway(ctx)).accept(
        ctx.principal.tenant_id, dispute_id, merchant_id=ctx.principal.merchant_id
    )


# ----- balances, merchants, analytics --------------------------------------------------


@router.get("/balances/{merchant_id}")
def balances(merchant_id: str, ctx: StaffCtx) -> dict[str, Any]:
    merchant = _merchant(ctx, merchant_id)

    def read(s: Session) -> dict[str, Any]:
        queries.require_merchant(s, merchant)
        return queries.balances(s, merchant)

    return read_tx(ctx.db, ctx.principal.tenant_id, read)


@router.get("/methods")
def consult_methods(ctx: AnyCtx, market: str, currency: str) -> dict[str, Any]:
    """Methods available for a market and currency (the gateway's ``consult``)."""
    ccy = normalize_currency(currency)
    rows = [
        {"paymentMethodType": m.code, "paymentMethodCategory": m.category, "minAmount": m.min_minor,
         "maxAmount": m.max_minor, "refundWindowDays": m.refund_window_days, "cancelRule": m.cancel_rule.value,
         "cardChargebacks": m.chargeback}
        for m in methods_for(market.upper(), ccy)
    ]  # fmt: skip
    return {"market": market.upper(), "currency": ccy, "data": rows}


@router.get("/merchants")
def list_merchants(ctx: StaffCtx) -> dict[str, Any]:
    if ctx.principal.merchant_id:
        merchant = ctx.principal.merchant_id
        return {
            "data": [
                read_tx(
                    ctx.db, ctx.principal.tenant_id, lambda s: queries.merchant_kyb(s, merchant)
                )
            ]
        }
    return {"data": read_tx(ctx.db, ctx.principal.tenant_id, queries.list_merchants)}


@router.get("/merchants/{merchant_id}")
def get_merchant(merchant_id: str, ctx: StaffCtx) -> dict[str, Any]:
    merchant = _merchant(ctx, merchant_id)
    return read_tx(ctx.db, ctx.principal.tenant_id, lambda s: queries.merchant_kyb(s, merchant))


@router.get("/analytics/success-rate")
def success_rate(
    ctx: StaffCtx, group_by: str = "method_type", days: Annotated[int, Query(ge=1, le=365)] = 30,
    merchant_id: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    scope, start = _window(ctx, days, merchant_id)
    return read_tx(ctx.db, ctx.principal.tenant_id,
                  lambda s: analytics.success_rate(s, group_by=group_by, start=start, merchant_id=scope))  # fmt: skip


@router.get("/analytics/success-rate/series")
def success_rate_series(
    ctx: StaffCtx,
    days: Annotated[int, Query(ge=1, le=365)] = 30,
    bucket: Annotated[str, Query(description="day | week (weeks start on Monday)")] = "day",
    merchant_id: str | None = None,
) -> dict[str, Any]:
    """Success rate per UTC day (or week) over the last ``days``, with approved volume."""
    scope, start = _window(ctx, days, merchant_id)
    end = utcnow()
    return read_tx(
        ctx.db,
        ctx.principal.tenant_id,
        lambda s: analytics.success_series(
            s, start=start, end=end, bucket=bucket, merchant_id=scope
        ),
    )


def _windowed_rows(
    ctx: RequestContext, days: int, merchant_id: str | None, fn: Callable[..., list[dict[str, Any]]]
) -> dict[str, Any]:
    """An analytics list over the last ``days`` in the caller's merchant scope."""
    scope, start = _window(ctx, days, merchant_id)
    rows = read_tx(ctx.db, ctx.principal.tenant_id, lambda s: fn(s, start=start, merchant_id=scope))
    return {"data": rows}


@router.get("/analytics/declines")
def declines(
    ctx: StaffCtx, days: Annotated[int, Query(ge=1, le=365)] = 30, merchant_id: str | None = None
) -> dict[str, Any]:
    return _windowed_rows(ctx, days, merchant_id, analytics.decline_breakdown)


@router.get("/analytics/levers")
def levers(
    ctx: StaffCtx, days: Annotated[int, Query(ge=1, le=365)] = 30, merchant_id: str | None = None
) -> dict[str, Any]:
    return _windowed_rows(ctx, days, merchant_id, analytics.top_levers)


@router.get("/analytics/dispute-monitoring/{merchant_id}")
def dispute_monitoring(
    merchant_id: str, ctx: StaffCtx, days: Annotated[int, Query(ge=1, le=92)] = 30
) -> dict[str, Any]:
    merchant, end = _merchant(ctx, merchant_id), utcnow()

    def read(s: Session) -> dict[str, Any]:
        queries.require_merchant(s, merchant)
        return analytics.dispute_monitoring(
            s, merchant_id=merchant, start=end - timedelta(days=days), end=end
        )

    return read_tx(ctx.db, ctx.principal.tenant_id, read)


# The merchant scoping rules, shared with the monitors' router (same 404s, same codes).
scope_merchant = _scope
require_merchant_scope = _merchant

__all__ = ["require_merchant_scope", "router", "scope_merchant"]
