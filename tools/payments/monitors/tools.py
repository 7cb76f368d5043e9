"""Copilot tools over the monitors' findings (READ only): what the monitors found, and one
finding explained — what was detected, the figures, why it matters and what to do.

Registered when :mod:`tools.payments.tools` (the payments entry point) is imported. A
principal bound to a merchant only sees that merchant's findings; naming another merchant
or another merchant's finding reads as not found.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from cockpit.errors import NotFound, ToolError
from cockpit.tenancy.principal import Principal
from cockpit.toolkit import ToolContext, ToolKind, register_tool
from cockpit.toolkit.ids import check_id, register_id_kind
from tools.payments.monitors import store
from tools.payments.monitors.models import MonitorFinding
from tools.payments.monitors.runner import run_monitors
from tools.payments.tx import read_tx

register_id_kind("monitor finding", ("mf_",), strict=True)

MonitorName = Literal[
    "success_rate_drop",
    "scheme_program_proximity",
    "dispute_deadline",
    "kyb_missing_documents",
    "fx_exposure_limit",
]


def _scope(principal: Principal, requested: str | None) -> str | None:
    bound = principal.merchant_id
    if bound and requested and requested != bound:
        raise NotFound(f"no merchant {requested!r}", code="merchant_not_found", param="merchant_id")
    return bound or requested


class FindingsArgs(BaseModel):
    merchant_id: str | None = Field(
        None, description="Merchant id (defaults to the caller's merchant, else every merchant)"
    )
    monitor: MonitorName | None = Field(None, description="Only this monitor's findings")
    severity: Literal["info", "warning", "critical"] | None = None
    status: Literal["open", "acknowledged"] | None = Field(
        None, description="open (not yet acknowledged) or acknowledged; default both"
    )
    limit: int = Field(10, ge=1, le=50)


def _headline(f: dict[str, Any]) -> str:
    return f"{f['id']}: {f['title']} ({f['severity']}, {f['status']})"


@register_tool(
    "list_monitor_findings",
    kind=ToolKind.READ,
    args=FindingsArgs,
    rest=("GET", "/v1/monitors/findings"),
)
def list_monitor_findings(ctx: ToolContext, args: FindingsArgs) -> dict[str, Any]:
    """What the proactive monitors found, newest first: success-rate drops, Visa VAMP /
    Mastercard ECM proximity, disputes nearing their deadline, missing KYB documents, FX
    exposure over the limit. Each finding has an id (mf_…), severity, a one-line summary
    with the figures and whether it was acknowledged."""
    scope = _scope(ctx.principal, args.merchant_id)
    rows = read_tx(
        ctx.db,
        ctx.principal.tenant_id,
        lambda s: store.list_findings(
            s,
            merchant_id=scope,
            monitor=args.monitor,
            severity=args.severity,
            status=args.status,
            limit=args.limit,
        ),
    )
    return {
        "outcome": "ok" if rows else "empty",
        "count": len(rows),
        "open": sum(f["status"] == "open" for f in rows),
        "critical": sum(f["severity"] == "critical" for f in rows),
        "headlines": [_headline(f) for f in rows],
        "findings": rows,
    }


class FindingArgs(BaseModel):
    finding_id: str | None = Field(
        None, description="Finding id, e.g. mf_3f2a…; default: the latest finding"
    )
    monitor: MonitorName | None = Field(
        None, description="Without an id: the latest finding of this monitor"
    )


def _latest(session: Session, scope: str | None, monitor: str | None) -> str | None:
    """The id of the newest finding in scope (of ``monitor``), open ones first."""
    stmt = select(MonitorFinding.id).order_by(
        (MonitorFinding.status == "open").desc(),
        MonitorFinding.detected_at.desc(),
        MonitorFinding.id.desc(),
    )
    if scope is not None:
        stmt = stmt.where(MonitorFinding.merchant_id == scope)
    if monitor is not None:
        stmt = stmt.where(MonitorFinding.monitor == monitor)
    return session.scalar(stmt.limit(1))


@register_tool(
    "explain_monitor_finding",
    kind=ToolKind.READ,
    args=FindingArgs,
    rest=("GET", "/v1/monitors/findings/{finding_id}"),
)
def explain_monitor_finding(ctx: ToolContext, args: FindingArgs) -> dict[str, Any]:
    """Explain one monitor finding: what was detected and when, the figures behind it, why it
    matters and what to do about it (e.g. VAMP proximity: the levers that cut disputes;
    a dispute deadline: submit the evidence in time). Without an id: the latest finding (of
    the monitor named, if any)."""
    if args.finding_id:
        check_id(args.finding_id, "monitor finding", param="finding_id")
    scope = _scope(ctx.principal, None)

    def fn(session: Session) -> dict[str, Any]:
        fid = args.finding_id or _latest(session, scope, args.monitor)
        if fid is None:  # nothing of that kind was found: say so, it is not an error
            return {"outcome": "empty", "monitor": args.monitor}
        view = store.explain(session, fid, merchant_id=scope)
        view["next_steps"] = "; ".join(view["actions"])
        return view

    return read_tx(ctx.db, ctx.principal.tenant_id, fn)


class RunArgs(BaseModel):
    merchant_id: str | None = Field(None, description="Merchant id (defaults to the caller's)")
    monitors: list[MonitorName] | None = Field(None, description="Monitors to run (default all)")


@register_tool(
    "run_monitors",
    kind=ToolKind.WRITE,
    args=RunArgs,
    rest=("POST", "/v1/monitors/run"),
)
def run_monitors_now(ctx: ToolContext, args: RunArgs) -> dict[str, Any]:
    """Run the merchant's proactive monitors now instead of waiting for their schedule, and
    return the findings that are new (each is also sent to the merchant's webhooks). Safe to
    repeat: a condition already reported in the same period is not reported again."""
    merchant = _scope(ctx.principal, args.merchant_id)
    if not merchant:
        raise ToolError("say which merchant", code="merchant_required")
    return run_monitors(ctx.db, ctx.principal.tenant_id, merchant, monitors=args.monitors)


__all__ = ["explain_monitor_finding", "list_monitor_findings", "run_monitors_now"]
