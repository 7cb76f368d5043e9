"""HTTP API under ``/v1/fx``: rates, conversion, forecasts (JSON or chart), exposure, hedge.

Forecasting is CPU work, so those endpoints are plain ``def`` (FastAPI runs them in its
thread pool) while the cheap cached reads are ``async``. Charts are returned when the
body asks for one (``"chart": "png" | "svg"``) or the client sends ``Accept: image/png``
or ``image/svg+xml``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import Query, Request, Response

from cockpit.api.deps import RequestContext, StaffCtx
from cockpit.api.routing import api_router
from cockpit.errors import NotFound
from tools.fx.handlers import run_exposure, run_forecast, run_hedge
from tools.fx.schemas import ExposureRequest, ForecastRequest, HedgeRequest

router = api_router(prefix="/v1/fx", tags=["fx"])


@router.get("/rates")
async def get_rates(
    ctx: StaffCtx,
    pair: str = Query(description="BASE/QUOTE, e.g. USD/PHP"),
    start: date | None = None,
    end: date | None = None,
    gaps: str = Query(default="drop", description="drop | ffill | error"),
) -> dict[str, Any]:
    """ECB reference cross rates for a pair (units of QUOTE per BASE)."""
    # The service loads pandas and SciPy: on the first FX request, not when the app is built.
    from tools.fx.service import rates

    return rates(pair, start=start, end=end, gaps=gaps)


@router.get("/convert")
async def get_convert(
    ctx: StaffCtx,
    amount: str,
    source: str = Query(alias="from", min_length=3, max_length=3),
    target: str = Query(alias="to", min_length=3, max_length=3),
    on: date | None = None,
) -> dict[str, Any]:
    """Convert an amount at the ECB reference rate of a day (latest business day on or before)."""
    from tools.fx.service import convert

    return convert(amount, source, target, on=on).to_dict()


def _wanted_chart(body: ForecastRequest, request: Request) -> str | None:
    if body.chart:
        return body.chart
    accept = request.headers.get("accept", "")
    if "image/svg+xml" in accept:
        return "svg"
    if "image/png" in accept:
        return "png"
    return None


@router.post("/forecast", response_model=None)
def post_forecast(
    body: ForecastRequest, request: Request, ctx: StaffCtx
) -> dict[str, Any] | Response:
    """Forecast an ECB pair or a supplied series with calibrated quantiles; optionally as a chart."""
    fc = run_forecast(body)
    fmt = _wanted_chart(body, request)
    if fmt:
        from tools.fx.charts import media_type, render_forecast  # matplotlib: on first chart

        image = render_forecast(fc, fmt=fmt, history=max(body.history, 1))
        return Response(content=image, media_type=media_type(fmt))
    return fc.to_dict(history=body.history)


def _merchant_scope(ctx: RequestContext, requested: str | None) -> str | None:
    """A bound key's own merchant (naming another is 404, as for one that does not exist),
    else the one asked for, or None for the whole tenant — as the payments analytics do."""
    bound = ctx.principal.merchant_id
    if bound and requested and requested != bound:
        raise NotFound(f"no merchant {requested!r}", code="merchant_not_found", param="merchant_id")
    return bound or requested


@router.post("/exposure")
def post_exposure(body: ExposureRequest, ctx: StaffCtx) -> dict[str, Any]:
    """Forecast daily FX demand per currency from volume records or the tenant's ledger."""
    p = ctx.principal
    merchant = _merchant_scope(ctx, body.merchant_id)
    return run_exposure(body, extras=ctx.extras, tenant_id=p.tenant_id, merchant_id=merchant)


@router.post("/hedge")
def post_hedge(body: HedgeRequest, ctx: StaffCtx) -> dict[str, Any]:
    """Recommend hedge ratios and forward amounts per currency."""
    p = ctx.principal
    return run_hedge(body, extras=ctx.extras, tenant_id=p.tenant_id, merchant_id=p.merchant_id)


__all__ = ["router"]
