"""A merchant-financing applicant built from the merchant's own processing activity.

The payments package provides the figures (``tools.payments.activity.LedgerActivitySource``); the
composition root puts it in ``extras`` under :data:`ACTIVITY_SOURCE_KEY`. This module only knows
the small :class:`ActivitySource` protocol, so credit never imports payments.

The applicant is :func:`tools.credit.merchant.application_from_activity` over the last six
30-day months; a merchant with fewer whole months with us, or with no captured payment in them,
gets a readable 422 instead of a decision on too little data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from cockpit.errors import ToolError, ValidationFailed
from tools.credit.merchant import application_from_activity

ACTIVITY_SOURCE_KEY = "credit_activity_source"
"""``ToolContext.extras`` key of the :class:`ActivitySource` (``tools.payments.activity.EXTRAS_KEY``)."""
MIN_MONTHS = 6
"""Whole months of history a merchant-financing application needs."""
EXISTING_FINANCING = ("none", "one", "several")


class MerchantActivity(Protocol):
    """The figures the source returns (oldest month first; money in EUR major units)."""

    @property
    def merchant_id(self) -> str: ...
    @property
    def merchant_name(self) -> str: ...
    @property
    def as_of(self) -> datetime: ...
    @property
    def monthly_volumes(self) -> Sequence[float]: ...
    @property
    def transactions(self) -> int: ...
    @property
    def disputes(self) -> int: ...
    @property
    def refunded_volume(self) -> float: ...
    @property
    def tenure_months(self) -> int: ...
    @property
    def mcc_risk(self) -> str: ...
    @property
    def market(self) -> str: ...
    def to_dict(self) -> Mapping[str, object]: ...


class ActivitySource(Protocol):
    def activity(
        self,
        tenant_id: str,
        merchant_id: str,
        *,
        months: int = MIN_MONTHS,
        as_of: datetime | None = None,
    ) -> MerchantActivity: ...


def activity_source(extras: Mapping[str, Any]) -> ActivitySource:
    """The wired source, or a ToolError saying this deployment has none."""
    source = extras.get(ACTIVITY_SOURCE_KEY)
    if source is None or not callable(getattr(source, "activity", None)):
        raise ToolError(
            "merchant activity is not available in this deployment; pass an applicant instead",
            code="activity_unavailable",
        )
    result: ActivitySource = source
    return result


def _check_history(activity: MerchantActivity) -> None:
    months = len(activity.monthly_volumes)
    who = f"{activity.merchant_name} ({activity.merchant_id})"
    if months < MIN_MONTHS:
        raise ValidationFailed(
            f"{who} has {months} whole month(s) of processing history with us; a financing "
            f"decision needs at least {MIN_MONTHS}",
            code="insufficient_history",
            param="merchant_id",
        )
    if activity.transactions <= 0:
        raise ValidationFailed(
            f"{who} captured no payments in the last {MIN_MONTHS} months; a financing decision "
            "needs processed revenue to lend against",
            code="no_processing_history",
            param="merchant_id",
        )


def default_request(activity: MerchantActivity) -> float:
    """One month of the merchant's mean revenue, in hundreds of EUR (at least 100)."""
    last = list(activity.monthly_volumes)[-MIN_MONTHS:]
    return float(max(round(sum(last) / len(last), -2), 100.0))


def applicant_from_activity(
    activity: MerchantActivity,
    *,
    requested_amount: float | None = None,
    existing_financing: str = "none",
) -> dict[str, float | str]:
    """The merchant-financing application for ``activity`` (see the module docstring)."""
    if existing_financing not in EXISTING_FINANCING:
        raise ValidationFailed(
            f"existing_financing must be one of {', '.join(EXISTING_FINANCING)}",
            code="invalid_existing_financing",
            param="existing_financing",
        )
    _check_history(activity)
    return application_from_activity(
        list(activity.monthly_volumes),
        transactions=activity.transactions,
        disputes=activity.disputes,
        refunded_volume=activity.refunded_volume,
        tenure_months=activity.tenure_months,
        mcc_risk=activity.mcc_risk,
        market=activity.market,
        requested_amount=requested_amount
        if requested_amount is not None
        else default_request(activity),
        existing_financing=existing_financing,
    )


def figures(applicant: Mapping[str, Any], activity: MerchantActivity) -> dict[str, Any]:
    """What the decision was built on, in the units people read (percent, EUR, months)."""
    return {
        "merchant_id": activity.merchant_id,
        "merchant_name": activity.merchant_name,
        "as_of": activity.as_of.isoformat(),
        "months": MIN_MONTHS,
        "monthly_volumes_eur": list(activity.monthly_volumes)[-MIN_MONTHS:],
        "monthly_revenue_eur": applicant["monthly_revenue"],
        "revenue_growth_pct": round(float(applicant["revenue_growth"]) * 100, 2),
        "revenue_volatility": applicant["revenue_volatility"],
        "transactions": activity.transactions,
        "disputes": activity.disputes,
        "dispute_rate_pct": round(float(applicant["dispute_rate"]) * 100, 3),
        "refunded_volume_eur": activity.refunded_volume,
        "refund_rate_pct": round(float(applicant["refund_rate"]) * 100, 2),
        "tenure_months": applicant["tenure_months"],
        "mcc_risk": applicant["mcc_risk"],
        "market": applicant["market"],
        "requested_amount_eur": applicant["requested_amount"],
        "existing_financing": applicant["existing_financing"],
    }


__all__ = [
    "ACTIVITY_SOURCE_KEY",
    "EXISTING_FINANCING",
    "MIN_MONTHS",
    "ActivitySource",
    "MerchantActivity",
    "activity_source",
    "applicant_from_activity",
    "default_request",
    "figures",
]
