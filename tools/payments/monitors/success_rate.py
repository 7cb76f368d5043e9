"""Success-rate drop: the last 24 hours against the trailing baseline before them.

Both windows need a minimum number of final results, so a handful of declines on a quiet day
(noise) never fires. The drop is in percentage points of success rate; at exactly the
threshold it fires. The segment losing most approvals in the last 24 hours (and its lever)
comes from :func:`tools.payments.analytics.top_levers`.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from tools.payments import analytics
from tools.payments.monitors.base import CheckContext, Finding, Monitor, Params, Severity

WINDOW = timedelta(hours=24)


class SuccessRateParams(Params):
    min_attempts: int = Field(30, ge=1, le=100_000, description="Final results needed per window")
    baseline_days: int = Field(7, ge=1, le=90, description="Trailing days before the last 24 h")
    drop_points: float = Field(0.05, gt=0, le=1, description="Warn at this drop (0.05 = 5 pts)")
    critical_points: float = Field(0.15, gt=0, le=1, description="Critical at this drop")


def check(ctx: CheckContext) -> list[Finding]:
    p: SuccessRateParams = ctx.params
    mid, now = ctx.merchant.id, ctx.now
    start = now - WINDOW
    base_start = start - timedelta(days=p.baseline_days)
    current = analytics.success_rate(
        ctx.session, group_by="method_type", start=start, end=now, merchant_id=mid
    )
    baseline = analytics.success_rate(
        ctx.session, group_by="method_type", start=base_start, end=start, merchant_id=mid
    )
    if current["attempts"] < p.min_attempts or baseline["attempts"] < p.min_attempts:
        return []
    rate, base_rate = current["successRate"], baseline["successRate"]
    drop = round(base_rate - rate, 4)
    if drop < round(p.drop_points, 4):
        return []
    severity: Severity = "critical" if drop >= round(p.critical_points, 4) else "warning"
    levers = analytics.top_levers(ctx.session, start=start, end=now, merchant_id=mid, limit=1)
    top = levers[0] if levers else None
    figures = {
        "successRate": rate,
        "baselineSuccessRate": base_rate,
        "dropPoints": drop,
        "attempts": current["attempts"],
        "baselineAttempts": baseline["attempts"],
        "baselineDays": p.baseline_days,
        "threshold": p.drop_points,
        "windowStart": start.isoformat(),
        "windowEnd": now.isoformat(),
        "topSegment": top,
    }
    cause = ""
    if top is not None:
        cause = (
            f" The biggest loss is {top['dimension']} {top['value']} at "
            f"{top['successRate']:.1%} (mostly decline {top['topDeclineCode']}; "
            f"lever: {top['lever']})."
        )
    summary = (
        f"Success rate fell to {rate:.1%} over the last 24 hours on {current['attempts']} "
        f"payments, from {base_rate:.1%} over the previous {p.baseline_days} days "
        f"({drop * 100:.1f} points down).{cause}"
    )
    return [
        ctx.finding(
            MONITOR.name,
            severity=severity,
            title=f"Success rate down {drop * 100:.1f} points",
            summary=summary,
            figures=figures,
            period=f"{now.date().isoformat()}:{severity}",
        )
    ]


MONITOR = Monitor(
    name="success_rate_drop",
    title="Success-rate drop",
    params=SuccessRateParams,
    check=check,
    why=(
        "Every point of success rate is revenue lost at checkout; a sudden drop usually has "
        "one cause (an issuer or method outage, a 3DS or integration change) that can be fixed."
    ),
    actions=(
        "look at the segment losing most approvals and apply its lever",
        "retry soft declines on a schedule and route around a failing issuer or method",
        "check recent integration or 3DS changes",
    ),
    interval_seconds=3600,
)

__all__ = ["MONITOR", "SuccessRateParams"]
