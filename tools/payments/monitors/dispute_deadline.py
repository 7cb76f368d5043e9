"""Disputes nearing their response deadline and not yet answered.

A dispute waiting for the merchant (``NEEDS_RESPONSE``) whose gateway deadline is within
``days`` (at exactly ``days`` too) is a warning, within ``critical_days`` critical; one per
dispute and stage, so a pre-arbitration is a new finding. A deadline already passed is not
reported: nothing can be submitted any more. The evidence still missing comes from the
dispute's checklist (:func:`tools.payments.queries.dispute_evidence`).
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field
from sqlalchemy import select

from cockpit.money import format_amount
from tools.payments import queries
from tools.payments.models import Dispute
from tools.payments.monitors.base import CheckContext, Finding, Monitor, Params, Severity


class DeadlineParams(Params):
    days: int = Field(5, ge=1, le=45, description="Warn when the deadline is this close")
    critical_days: int = Field(2, ge=0, le=45, description="Critical when this close")


def check(ctx: CheckContext) -> list[Finding]:
    p: DeadlineParams = ctx.params
    mid, now = ctx.merchant.id, ctx.now
    due = ctx.session.scalars(
        select(Dispute)
        .where(
            Dispute.merchant_id == mid,
            Dispute.status == "NEEDS_RESPONSE",
            Dispute.defense_due_at > now,
            Dispute.defense_due_at <= now + timedelta(days=p.days),
        )
        .order_by(Dispute.defense_due_at, Dispute.id)
    ).all()
    findings = []
    for d in due:
        left = d.defense_due_at - now
        severity: Severity = "critical" if left <= timedelta(days=p.critical_days) else "warning"
        evidence = queries.dispute_evidence(ctx.session, d.id)
        missing = [e["evidenceTag"] for e in evidence if not e["obtained"]]
        hours = int(left.total_seconds() // 3600)
        amount = format_amount(d.amount, d.currency, grouping=True)
        figures = {
            "disputeId": d.id,
            "paymentId": d.payment_id,
            "network": d.network,
            "reasonCode": d.reason_code,
            "reason": d.reason_msg,
            "stage": d.stage,
            "amount": {"currency": d.currency, "value": str(d.amount)},
            "defenseDueTime": d.defense_due_at.isoformat(),
            "hoursLeft": hours,
            "daysLeft": round(left.total_seconds() / 86400, 1),
            "missingEvidence": missing,
        }
        missing_text = f" Evidence still missing: {', '.join(missing)}." if missing else ""
        summary = (
            f"Dispute {d.id} ({d.network.title()} {d.reason_code}, {d.reason_msg}) over {amount} "
            f"must be answered by {d.defense_due_at:%d %b %Y %H:%M} UTC, in {hours} hours."
            f"{missing_text}"
        )
        findings.append(
            ctx.finding(
                MONITOR.name,
                severity=severity,
                title=f"Dispute {d.id} due in {hours} hours",
                summary=summary,
                figures=figures,
                period=f"{d.id}:{d.stage}:{severity}",
            )
        )
    return findings


MONITOR = Monitor(
    name="dispute_deadline",
    title="Dispute deadlines",
    params=DeadlineParams,
    check=check,
    why=(
        "A dispute not answered by its deadline is lost by default: the disputed amount and "
        "the scheme fee are debited and the case counts against your dispute ratio."
    ),
    actions=(
        "submit the evidence for the dispute's reason code before the deadline",
        "accept it instead if the win likelihood is low and the amount is small",
    ),
    interval_seconds=3600,
)

__all__ = ["MONITOR", "DeadlineParams"]
