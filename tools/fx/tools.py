"""Agent tools for FX (all READ): forecast a pair, forecast exposure, recommend a hedge, convert.

Tenant and merchant come from ``ctx.principal`` only; volumes come from the ledger-backed
:class:`~tools.fx.exposure.ExposureSource` the runtime puts in ``ctx.extras``.
Results are compact so they fit in a model's context.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cockpit.money import ModelMajorAmount
from cockpit.toolkit import ToolContext, ToolKind, register_tool
from tools.fx.handlers import run_exposure, run_forecast, run_hedge
from tools.fx.schemas import ExposureRequest, ForecastRequest, HedgeRequest

if TYPE_CHECKING:  # forecasting loads SciPy: imported where a tool runs (tools.fx.handlers)
    from tools.fx.forecast import Forecast


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ForecastArgs(_Args):
    pair: str = Field(
        description="Currency pair BASE/QUOTE, e.g. USD/PHP (rate = QUOTE per 1 BASE)"
    )
    horizon: int = Field(
        default=22, ge=1, le=260, description="Business days ahead (22 ≈ one month)"
    )
    model: Literal["auto", "rw", "drift", "ets", "theta", "arima", "ensemble"] = Field(
        default="auto",
        description="auto: the random walk unless another model beat it significantly on this "
        "pair's recent history",
    )


class ExposureArgs(_Args):
    currencies: list[str] | None = Field(
        default=None, description="ISO codes to include; all when omitted"
    )
    horizon: int = Field(default=30, ge=1, le=180, description="Days ahead")


class HedgeArgs(_Args):
    home: str = Field(
        min_length=3, max_length=3, description="The merchant's reporting currency, e.g. PHP"
    )
    tenor_days: int = Field(default=30, ge=1, le=365, description="Days until the exposure settles")
    currencies: list[str] | None = Field(default=None, description="Foreign currencies to consider")
    policy: Literal["forecast", "full", "fixed", "none"] = "forecast"


class ConvertArgs(_Args):
    amount: ModelMajorAmount = Field(description='Decimal amount in major units, e.g. "1250.50"')
    source: str = Field(min_length=3, max_length=3, description="ISO code to convert from")
    target: str = Field(min_length=3, max_length=3, description="ISO code to convert to")
    on: date | None = Field(
        default=None, description="Rate date (default: latest ECB business day)"
    )


def _summary(fc: Forecast, *, every: int) -> dict[str, Any]:
    body = fc.to_dict()
    pts = body["points"]
    keep = sorted({*range(every - 1, len(pts), every), len(pts) - 1})
    body["points"] = [pts[i] for i in keep]
    if "selection" in body:
        # The chosen model and its backtest error; the full candidate table stays in the API.
        body["selection"].pop("candidates")
    return body


@register_tool(
    "fx_forecast", kind=ToolKind.READ, args=ForecastArgs, rest=("POST", "/v1/fx/forecast")
)
def fx_forecast(ctx: ToolContext, args: ForecastArgs) -> dict[str, Any]:
    """Forecast an exchange rate from ECB reference rates, with 5/10/50/90/95% quantiles.

    Use for "where will USD/PHP be in a month". By default the model is chosen on the
    pair's own recent history: the random walk, which few models beat on FX, unless one
    beat it significantly; intervals are calibrated on past errors. Returns the last rate,
    the point forecast, intervals at weekly steps and how the model was chosen.
    """
    fc = run_forecast(ForecastRequest(pair=args.pair, horizon=args.horizon, model=args.model))
    return _summary(fc, every=5)


@register_tool(
    "fx_exposure", kind=ToolKind.READ, args=ExposureArgs, rest=("POST", "/v1/fx/exposure")
)
def fx_exposure(ctx: ToolContext, args: ExposureArgs) -> dict[str, Any]:
    """Forecast the merchant's daily net FX demand per currency from its payment volumes.

    Positive = money coming in that currency (receivable), negative = going out (payable).
    Returns per-currency forecasts with intervals at weekly steps.
    """
    p = ctx.principal
    out = run_exposure(
        ExposureRequest(currencies=args.currencies, horizon=args.horizon),
        extras=ctx.extras,
        tenant_id=p.tenant_id,
        merchant_id=p.merchant_id,
    )
    lines = []
    for code, body in out["currencies"].items():
        pts = body["points"]
        body["points"] = [pts[i] for i in sorted({*range(6, len(pts), 7), len(pts) - 1})]
        out["currencies"][code] = body
        total = sum(p["q50"] for p in pts)
        lines.append(
            f"{code} {total:,.0f} over {len(pts)} days "
            f"(daily median {pts[0]['q50']:,.0f}, 80% range {pts[0]['q10']:,.0f} to {pts[0]['q90']:,.0f})"
        )
    # One readable line per currency for answers that cannot iterate (templates).
    out["summary"] = "; ".join(lines) if lines else "no foreign-currency volume"
    return out


@register_tool(
    "fx_hedge_recommendation", kind=ToolKind.READ, args=HedgeArgs, rest=("POST", "/v1/fx/hedge")
)
def fx_hedge_recommendation(ctx: ToolContext, args: HedgeArgs) -> dict[str, Any]:
    """Recommend how much of each foreign-currency exposure to hedge with a forward, and why.

    Nets the merchant's receivables and payables per currency, forecasts the total over
    the tenor, and sizes a forward (amount, ratio, forward rate) under stated cost and
    interest-rate assumptions. It recommends only; it books nothing.
    """
    p = ctx.principal
    return run_hedge(
        HedgeRequest(
            home=args.home,
            tenor_days=args.tenor_days,
            currencies=args.currencies,
            policy=args.policy,
        ),
        extras=ctx.extras,
        tenant_id=p.tenant_id,
        merchant_id=p.merchant_id,
    )


@register_tool("fx_convert", kind=ToolKind.READ, args=ConvertArgs, rest=("GET", "/v1/fx/convert"))
def fx_convert(ctx: ToolContext, args: ConvertArgs) -> dict[str, Any]:
    """Convert an amount between currencies at the ECB reference rate (cross via EUR).

    Uses the rate of the given date or the latest business day before it; rounds to the
    target currency's minor unit. Reference rates are indicative, not a dealing quote.
    """
    from tools.fx.service import convert

    return convert(args.amount, args.source, args.target, on=args.on).to_dict()


__all__ = ["fx_convert", "fx_exposure", "fx_forecast", "fx_hedge_recommendation"]
