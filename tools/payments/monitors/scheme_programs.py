"""Card-scheme monitoring programmes: Visa VAMP and Mastercard ECM / HECM, this calendar month.

The counts and ratios come from :func:`tools.payments.analytics.dispute_monitoring` (DOMAIN.md
§5.6: VAMP flags a merchant when disputes exceed 1,500 *and* the ratio exceeds 1.5%; ECM at
≥ 100 and ≥ 1.5%, HECM at ≥ 300 and ≥ 3%). A programme that already flags the merchant is
critical; one where *both* measures have reached ``proximity`` of their thresholds (flagging
needs both) is a warning, at exactly that fraction too.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from tools.payments import analytics
from tools.payments.monitors.base import CheckContext, Finding, Monitor, Params, Severity


class SchemeParams(Params):
    proximity: float = Field(
        0.8, gt=0, le=1, description="Warn when count and ratio reach this share of a threshold"
    )


def _near(row: dict[str, Any], proximity: float) -> bool:
    count_near = row["disputes"] >= proximity * row["countThreshold"]
    ratio_near = round(row["ratio"], 6) >= round(proximity * row["ratioThreshold"], 6)
    return bool(count_near and ratio_near)


def check(ctx: CheckContext) -> list[Finding]:
    p: SchemeParams = ctx.params
    mid, now = ctx.merchant.id, ctx.now
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    report = analytics.dispute_monitoring(ctx.session, merchant_id=mid, start=month_start, end=now)
    month = f"{now:%Y-%m}"
    findings = []
    for row in report["programmes"]:
        if row["flagged"]:
            severity: Severity = "critical"
            state = "is over"
        elif _near(row, p.proximity):
            severity, state = "warning", "is close to"
        else:
            continue
        programme, network = row["programme"], row["network"]
        figures = {
            **{k: row[k] for k in ("network", "programme", "disputes", "sales", "ratio")},
            "countThreshold": row["countThreshold"],
            "ratioThreshold": row["ratioThreshold"],
            "countShare": round(row["disputes"] / row["countThreshold"], 4),
            "ratioShare": round(row["ratio"] / row["ratioThreshold"], 4),
            "proximity": p.proximity,
            "flagged": row["flagged"],
            "month": month,
        }
        summary = (
            f"This month {row['disputes']} {network.title()} disputes on {row['sales']} "
            f"captured sales ({row['ratio']:.2%}) {state} the {programme} thresholds of "
            f"{row['countThreshold']:,} disputes and {row['ratioThreshold']:.1%}."
        )
        findings.append(
            ctx.finding(
                MONITOR.name,
                severity=severity,
                title=f"{programme} {'threshold reached' if row['flagged'] else 'proximity'}",
                summary=summary,
                figures=figures,
                period=f"{programme}:{month}:{severity}",
            )
        )
    return findings


MONITOR = Monitor(
    name="scheme_program_proximity",
    title="Visa VAMP / Mastercard ECM proximity",
    params=SchemeParams,
    check=check,
    why=(
        "A merchant in a scheme monitoring programme pays fines per dispute, may be put on a "
        "remediation plan and, if it persists, loses card acceptance (MATCH listing)."
    ),
    actions=(
        "defend winnable disputes with the evidence that wins their reason code",
        "refund or cancel before a chargeback when a customer complains (RDR, Ethoca alerts)",
        "authenticate risky card-not-present traffic with 3DS to shift fraud liability",
        "use a clear billing descriptor and cancellation flow to cut friendly fraud",
    ),
    interval_seconds=6 * 3600,
)

__all__ = ["MONITOR", "SchemeParams"]
