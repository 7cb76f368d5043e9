"""Agent tools for credit decisioning.

READ: ``credit_decide_preview``, ``credit_explain``, ``credit_backtest``.
WRITE: ``credit_deploy_strategy``, ``credit_final_decision`` — both idempotent
on ``ctx.idempotency_key``; the final decision names its limit in
``amount``/``currency`` so policy can require a human approval above a threshold.
The tenant is always ``ctx.principal.tenant_id``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cockpit.errors import PermissionDenied, ToolError
from cockpit.tenancy.principal import Role
from cockpit.toolkit import ToolContext, ToolKind, register_tool
from tools.credit.service import service_for


class PreviewArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    strategy: str = Field(
        default="consumer-default",
        description="Strategy slot, e.g. consumer-default or merchant-default",
    )
    applicant: dict[str, Any] = Field(description="Applicant fields the strategy's scorecard needs")
    application_id: str | None = Field(default=None, description="Application reference, if known")


class ExplainArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision_id: str = Field(description="Id of a stored credit decision (cdec_…)")


class BacktestArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version_id: str = Field(description="Strategy version to backtest (cstr_…)")
    portfolio: str | None = Field(
        default=None, description="german_credit, german_credit_holdout or merchant_financing"
    )


class DeployArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version_id: str = Field(description="Strategy version to make live (cstr_…)")
    challenger_version_id: str | None = Field(
        default=None, description="Optional challenger version of the same strategy"
    )
    challenger_share: float = Field(
        default=0.0, ge=0.0, le=0.5, description="Share of applicants the challenger decides"
    )


class FinalDecisionArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    strategy: str = Field(default="consumer-default", description="Strategy slot to decide on")
    application_id: str = Field(description="Application reference")
    applicant: dict[str, Any] = Field(description="Applicant fields")
    amount: int = Field(
        ge=0, description="Credit limit to grant, in minor units; at most the strategy's limit"
    )
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="Currency of the limit, e.g. EUR")


def _require_analyst(ctx: ToolContext, what: str) -> None:
    """Strategy work is for credit analysts (admin or partner keys), as on the HTTP API."""
    if not ctx.principal.has_role(Role.ADMIN, Role.PARTNER):
        raise PermissionDenied(f"only admin or partner keys may {what}", code="role_required")


@register_tool("credit_decide_preview", kind=ToolKind.READ, args=PreviewArgs)
def credit_decide_preview(ctx: ToolContext, args: PreviewArgs) -> dict[str, Any]:
    """Preview a credit decision on the live strategy without recording it: approve/decline/refer,
    limit, APR, score, the reasons that lowered the score, and which rules fired."""
    arm, decision = service_for(ctx.db).preview(
        ctx.principal.tenant_id, args.strategy, args.applicant, application_id=args.application_id
    )
    return {**decision.to_dict(), "arm": arm, "trace": decision.trace}


@register_tool("credit_explain", kind=ToolKind.READ, args=ExplainArgs)
def credit_explain(ctx: ToolContext, args: ExplainArgs) -> dict[str, Any]:
    """Explain a stored credit decision: points per characteristic, the factors that cost the most
    points (adverse-action reasons), the rules that fired, and the strategy version used."""
    return service_for(ctx.db).explain(ctx.principal.tenant_id, args.decision_id)


@register_tool("credit_backtest", kind=ToolKind.READ, args=BacktestArgs)
def credit_backtest(ctx: ToolContext, args: BacktestArgs) -> dict[str, Any]:
    """Backtest a strategy version on a labelled portfolio: approval rate, bad rate, expected cost and
    profit under the 5:1 cost matrix, expected loss, and the comparison with the live champion."""
    _require_analyst(ctx, "backtest strategies")
    return (
        service_for(ctx.db)
        .backtest_version(ctx.principal.tenant_id, args.version_id, portfolio_name=args.portfolio)
        .to_dict()
    )


@register_tool("credit_deploy_strategy", kind=ToolKind.WRITE, args=DeployArgs)
def credit_deploy_strategy(ctx: ToolContext, args: DeployArgs) -> dict[str, Any]:
    """Deploy a strategy version live (optionally with a challenger share). Refused when any of its
    embedded tests fail. Takes effect at once, without a restart; roll back through the API or CLI."""
    _require_analyst(ctx, "deploy strategies")
    if not ctx.idempotency_key:
        raise ToolError(
            "credit_deploy_strategy needs an idempotency key", code="missing_idempotency_key"
        )
    return service_for(ctx.db).deploy(
        ctx.principal.tenant_id,
        args.version_id,
        created_by=ctx.principal.key_id,
        challenger_version_id=args.challenger_version_id,
        challenger_share=args.challenger_share,
        idempotency_key=f"tool:{ctx.idempotency_key}",
    )


@register_tool(
    "credit_final_decision",
    kind=ToolKind.WRITE,
    args=FinalDecisionArgs,
    amount_field="amount",
    currency_field="currency",
)
def credit_final_decision(ctx: ToolContext, args: FinalDecisionArgs) -> dict[str, Any]:
    """Record the final credit decision for an application on the live strategy, granting `amount`
    (minor units, at most the strategy's limit; preview first). A strategy decline is recorded as a
    decline. Repeating the same call returns the first decision."""
    if not ctx.idempotency_key:
        raise ToolError(
            "credit_final_decision needs an idempotency key", code="missing_idempotency_key"
        )
    return service_for(ctx.db).decide(
        ctx.principal.tenant_id,
        args.strategy,
        args.applicant,
        created_by=ctx.principal.key_id,
        application_id=args.application_id,
        idempotency_key=f"tool:{ctx.idempotency_key}",
        kind="final",
        grant_minor=args.amount,
        grant_currency=args.currency,
    )


__all__ = [
    "credit_backtest",
    "credit_decide_preview",
    "credit_deploy_strategy",
    "credit_explain",
    "credit_final_decision",
]
