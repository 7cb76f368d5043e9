"""FX exposure over a limit: net open volume per foreign currency against the merchant's limit.

The exposure is the net of captures and refunds in each currency other than the settlement
currency over the last ``window_days`` (:func:`tools.payments.exposure.daily_totals_in`, the
figures the FX tool hedges), valued in the settlement currency at the gateway's rates. The
limit is the merchant's own setting (``limit``, in major units of its settlement currency,
settable through ``PATCH /v1/monitors/settings``); without one it is the equivalent of
50,000 EUR. Strictly over the limit is a warning, over ``critical_multiple`` × limit critical.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from pydantic import Field

from cockpit.money import exponent, format_amount
from tools.payments.exposure import daily_totals_in
from tools.payments.monitors.base import CheckContext, Finding, Monitor, Params, Severity

DEFAULT_LIMIT_EUR_MINOR = 5_000_000
"""50,000.00 EUR: the limit of a merchant that set none."""


class FxParams(Params):
    limit: int | None = Field(
        None, ge=0, le=10**12, description="Limit per currency, major units of settlement currency"
    )
    window_days: int = Field(30, ge=1, le=365, description="Net volume over this many days")
    critical_multiple: float = Field(1.5, ge=1, le=100, description="Critical over this × limit")


def limit_minor(ctx: CheckContext) -> int:
    """The merchant's limit in minor units of its settlement currency."""
    p: FxParams = ctx.params
    home = ctx.merchant.settlement_currency
    if p.limit is not None:
        return int(p.limit * 10 ** exponent(home))
    return ctx.rates.convert(DEFAULT_LIMIT_EUR_MINOR, "EUR", home).target_minor


def check(ctx: CheckContext) -> list[Finding]:
    p: FxParams = ctx.params
    mid, now, home = ctx.merchant.id, ctx.now, ctx.merchant.settlement_currency
    start = (now - timedelta(days=p.window_days)).date()
    net: dict[str, int] = defaultdict(int)
    totals = daily_totals_in(ctx.session, merchant_id=mid, start=start, end=now.date())
    for (_, currency), minor in totals.items():
        net[currency] += minor
    limit = limit_minor(ctx)
    week = f"{now.isocalendar().year}-W{now.isocalendar().week:02d}"
    findings = []
    for currency, minor in sorted(net.items()):
        valued = ctx.rates.convert(abs(minor), currency, home).target_minor
        if valued <= limit:
            continue
        severity: Severity = "critical" if valued > limit * p.critical_multiple else "warning"
        side = "receivable" if minor >= 0 else "payable"
        figures = {
            "currency": currency,
            "settlementCurrency": home,
            "netExposure": {"currency": currency, "value": str(minor)},
            "netExposureInSettlement": {"currency": home, "value": str(valued)},
            "limit": {"currency": home, "value": str(limit)},
            "limitSource": "merchant" if p.limit is not None else "default",
            "overLimitBy": {"currency": home, "value": str(valued - limit)},
            "windowDays": p.window_days,
            "side": side,
        }
        summary = (
            f"Net open {currency} exposure over the last {p.window_days} days is "
            f"{format_amount(abs(minor), currency, grouping=True)} ({side}), worth "
            f"{format_amount(valued, home, grouping=True)}, over your limit of "
            f"{format_amount(limit, home, grouping=True)} per currency."
        )
        findings.append(
            ctx.finding(
                MONITOR.name,
                severity=severity,
                title=f"{currency} exposure over the limit",
                summary=summary,
                figures=figures,
                period=f"{currency}:{week}:{severity}",
            )
        )
    return findings


MONITOR = Monitor(
    name="fx_exposure_limit",
    title="FX exposure over a limit",
    params=FxParams,
    check=check,
    why=(
        "Volume you will settle in another currency moves with the exchange rate until it is "
        "converted: above your limit, a few percent of rate move costs more than you accept."
    ),
    actions=(
        "hedge part of the exposure (ask for a hedge recommendation)",
        "settle in that currency or convert earlier",
        "raise the limit in the monitor settings if the exposure is intended",
    ),
    interval_seconds=6 * 3600,
)

__all__ = ["DEFAULT_LIMIT_EUR_MINOR", "MONITOR", "FxParams", "limit_minor"]
