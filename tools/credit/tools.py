"""Agent tools for credit decisioning.

READ: ``credit_decide_preview``, ``credit_explain``, ``credit_backtest``, ``credit_what_if``
(a draft of the live strategy backtested without storing it: merchants may ask "what if").
WRITE: ``credit_propose_strategy`` (stores a new, not-live strategy version: it changes no
decision, so it needs no approval, but it is a persistent, audited record and runs exactly once),
``credit_deploy_strategy`` and ``credit_final_decision`` — idempotent on ``ctx.idempotency_key``;
the final decision names its limit in ``amount``/``currency`` so policy can require a human
approval above a threshold. The tenant is always ``ctx.principal.tenant_id``.

Merchant financing is decided on the merchant's own processing activity (the payments
activity source in ``ctx.extras``, see :mod:`tools.credit.activity`) unless an ``applicant`` is
given: a key bound to a merchant always uses its own merchant, an admin or partner key names one.
A stored decision records the merchant it is for, and a key bound to a merchant explains only
its own merchant's decisions (another merchant's is "not found", like an unknown id).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cockpit.errors import NotFound, PermissionDenied, ToolError, ValidationFailed
from cockpit.money import CurrencyCode, ModelMajorAmount, ModelMinorAmount
from cockpit.tenancy.rights import PARTNERS, STAFF
from cockpit.toolkit import ToolContext, ToolKind, register_tool
from cockpit.toolkit.ids import check_id
from tools.credit.activity import (
    MerchantActivity,
    activity_source,
    applicant_from_activity,
    figures,
)
from tools.credit.catalog import builtin_scorecard
from tools.credit.proposal import derive
from tools.credit.records import major_units
from tools.credit.strategy import CompiledStrategy, parse_spec

if TYPE_CHECKING:
    from cockpit.db.session import Database
    from tools.credit.service import CreditService

MERCHANT_STRATEGY = "merchant-default"
"""Slot merchants are decided on when the applicant is built from their activity."""
APPLICANT_STRATEGY = "consumer-default"
"""Default slot when the caller supplies an applicant (the original default of these tools)."""

_MERCHANT_ID = Field(
    default=None,
    description="Merchant to decide for (mer_…); only admin/partner keys name one, a merchant key "
    "always uses its own merchant",
)
Financing = Literal["none", "one", "several"]
Portfolio = Literal["german_credit", "german_credit_holdout", "merchant_financing"]
"""``catalog.PORTFOLIOS``, as a type the model's schema shows as ``enum``."""
_EXISTING_HELP = "Other merchant financing outstanding: none, one or several"


class PreviewArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    strategy: str | None = Field(
        default=None,
        description="Strategy slot; default merchant-default (consumer-default when an "
        "applicant is given)",
    )
    merchant_id: str | None = _MERCHANT_ID
    requested_amount: ModelMajorAmount | None = Field(
        default=None,
        gt=0,
        description="Financing asked for, EUR (major units); default one month of revenue",
    )
    existing_financing: Financing = Field(default="none", description=_EXISTING_HELP)
    applicant: dict[str, Any] | None = Field(
        default=None,
        description="Applicant fields the strategy's scorecard needs; leave out to build a "
        "merchant-financing application from the merchant's processing activity",
    )
    application_id: str | None = Field(default=None, description="Application reference, if known")


class ExplainArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision_id: str = Field(description="Id of a stored credit decision (cdec_…)")


class BacktestArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version_id: str = Field(description="Strategy version to backtest (cstr_…)")
    portfolio: Portfolio | None = Field(
        default=None,
        description="Labelled applications to replay; default: the held-out "
        "portfolio of the strategy's scorecard",
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
    strategy: str | None = Field(
        default=None,
        description="Strategy slot to decide on; default as for the preview",
    )
    application_id: str = Field(description="Application reference")
    merchant_id: str | None = _MERCHANT_ID
    amount: ModelMinorAmount = Field(
        ge=0, description="Credit limit to grant, in minor units; at most the strategy's limit"
    )
    currency: CurrencyCode = Field(description="Currency of the limit, e.g. EUR")
    requested_amount: ModelMajorAmount | None = Field(
        default=None,
        gt=0,
        description="Financing asked for, EUR (major units); default the granted amount",
    )
    existing_financing: Financing = Field(default="none", description=_EXISTING_HELP)
    applicant: dict[str, Any] | None = Field(
        default=None,
        description="Applicant fields; leave out to build the application from the merchant's "
        "processing activity (merchant keys always do)",
    )


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _number_in(value: Any) -> Any:
    """A number, or the last number of a short phrase ("approval cut-off to 560" → "560").

    The local planner fills these settings with the words it matched around the number; a
    model passes the number itself.
    """
    if isinstance(value, str):
        found = _NUMBER.findall(value.replace(",", ""))
        if not found:
            raise ValueError(f"no number in {value!r}")
        return found[-1]
    return value


class ProposeArgs(BaseModel):
    """Named changes to the live version of a strategy slot (everything not named is kept)."""

    model_config = ConfigDict(extra="forbid")
    strategy: str = Field(default=MERCHANT_STRATEGY, description="Strategy slot to change")
    prime_cutoff: int | None = Field(
        default=None, ge=0, le=1000, description="Lowest score of the prime tier"
    )
    refer_floor: int | None = Field(
        default=None, ge=0, le=1000, description="Lowest score referred to a human"
    )
    approve_cutoff: int | None = Field(
        default=None, ge=0, le=1000, description="Lowest score approved (standard tier)"
    )
    max_dispute_rate_pct: float | None = Field(
        default=None,
        gt=0,
        lt=100,
        description="Dispute-rate knock-out in percent: merchants above it are declined (1 = 1%)",
    )
    min_tenure_months: int | None = Field(
        default=None, ge=0, le=600, description="Months of processing history required"
    )
    prime_limit_multiple: float | None = Field(
        default=None, gt=0, le=12, description="Prime limit as a multiple of monthly revenue"
    )
    standard_limit_multiple: float | None = Field(
        default=None, gt=0, le=12, description="Standard limit as a multiple of monthly revenue"
    )
    prime_apr: float | None = Field(default=None, ge=0, le=100, description="Prime APR in %")
    standard_apr: float | None = Field(default=None, ge=0, le=100, description="Standard APR in %")

    _numbers = field_validator(
        "prime_cutoff",
        "refer_floor",
        "approve_cutoff",
        "max_dispute_rate_pct",
        "min_tenure_months",
        "prime_limit_multiple",
        "standard_limit_multiple",
        "prime_apr",
        "standard_apr",
        mode="before",
    )(_number_in)

    def changes(self) -> dict[str, float]:
        named = self.model_dump(exclude={"strategy"}, exclude_none=True)
        out = {k: float(v) for k, v in named.items() if k != "max_dispute_rate_pct"}
        if self.max_dispute_rate_pct is not None:
            out["max_dispute_rate"] = round(self.max_dispute_rate_pct / 100, 10)
        return out


# ----- helpers --------------------------------------------------------------------------------


def _merchant(ctx: ToolContext, named: str | None) -> str:
    """The merchant a call is about: a bound key's own; otherwise the one named."""
    if named:
        check_id(named, "merchant", param="merchant_id")
    bound = ctx.principal.merchant_id
    if bound:
        if named and named != bound:
            raise NotFound(f"no merchant {named!r}", code="merchant_not_found", param="merchant_id")
        return bound
    if not named:
        raise ValidationFailed(
            "name the merchant to decide for (merchant_id, mer_…): this key is not bound to one",
            code="merchant_required",
            param="merchant_id",
        )
    return named


def _service(db: Database) -> CreditService:
    # Imported here, not at the top: the service's backtests bring SciPy (~0.8 s of CPU), which
    # registering these tools (every CLI command, every server start) should not cost.
    from tools.credit.service import service_for

    return service_for(db)


def _activity(ctx: ToolContext, merchant_id: str | None) -> MerchantActivity:
    merchant = _merchant(ctx, merchant_id)  # the caller's argument is checked first
    return activity_source(ctx.extras).activity(ctx.principal.tenant_id, merchant)


def _build(
    ctx: ToolContext,
    *,
    applicant: dict[str, Any] | None,
    merchant_id: str | None,
    requested_amount: Decimal | float | None,
    existing_financing: str,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(applicant, figures used) — figures only when built from the merchant's activity."""
    if applicant is not None:
        return applicant, None
    activity = _activity(ctx, merchant_id)
    requested = None if requested_amount is None else float(requested_amount)  # a score input
    built = applicant_from_activity(
        activity, requested_amount=requested, existing_financing=existing_financing
    )
    return dict(built), figures(built, activity)


def _decided_for(
    ctx: ToolContext, named: str | None, figures_used: dict[str, Any] | None
) -> str | None:
    """The merchant a stored decision is for: the one whose activity built it, else the key's
    own or the one named; ``None`` for an admin's tenant-level applicant."""
    if figures_used is not None:
        return str(figures_used["merchant_id"])
    if named or ctx.principal.merchant_id:
        return _merchant(ctx, named)
    return None


def _strategy(named: str | None, figures_used: dict[str, Any] | None) -> str:
    if named:
        return named
    return MERCHANT_STRATEGY if figures_used is not None else APPLICANT_STRATEGY


# ----- decisions ------------------------------------------------------------------------------


@register_tool(
    "credit_decide_preview",
    kind=ToolKind.READ,
    args=PreviewArgs,
    rest=("POST", "/v1/credit/applications/preview"),
)
def credit_decide_preview(ctx: ToolContext, args: PreviewArgs) -> dict[str, Any]:
    """Preview a credit decision on the live strategy without recording it: approve/decline/refer,
    limit, APR, score, the reasons that lowered the score, which rules fired, and the figures the
    merchant's application was built from (its last six months of processing)."""
    applicant, used = _build(
        ctx,
        applicant=args.applicant,
        merchant_id=args.merchant_id,
        requested_amount=args.requested_amount,
        existing_financing=args.existing_financing,
    )
    arm, decision = _service(ctx.db).preview(
        ctx.principal.tenant_id,
        _strategy(args.strategy, used),
        applicant,
        application_id=args.application_id,
    )
    out = {**decision.to_dict(), "arm": arm, "trace": decision.trace, "applicant": applicant}
    if used is not None:
        out["figures"] = used
    return out


@register_tool(
    "credit_explain",
    kind=ToolKind.READ,
    args=ExplainArgs,
    rest=("GET", "/v1/credit/decisions/{decision_id}/explain"),
)
def credit_explain(ctx: ToolContext, args: ExplainArgs) -> dict[str, Any]:
    """Explain a stored credit decision: points per characteristic, the factors that cost the most
    points (adverse-action reasons), the rules that fired, and the strategy version used."""
    decision_id = check_id(args.decision_id, "credit decision", param="decision_id")
    return _service(ctx.db).explain(
        ctx.principal.tenant_id, decision_id, merchant_id=ctx.principal.merchant_id
    )


@register_tool(
    "credit_final_decision",
    kind=ToolKind.WRITE,
    args=FinalDecisionArgs,
    amount_field="amount",
    currency_field="currency",
    rest=("POST", "/v1/credit/applications"),
    roles=STAFF,
)
def credit_final_decision(ctx: ToolContext, args: FinalDecisionArgs) -> dict[str, Any]:
    """Record the final credit decision for an application on the live strategy, granting `amount`
    (minor units, at most the strategy's limit; preview first). A strategy decline is recorded as a
    decline. Repeating the same call returns the first decision."""
    if not ctx.idempotency_key:
        raise ToolError(
            "credit_final_decision needs an idempotency key", code="missing_idempotency_key"
        )
    if args.applicant is not None and ctx.principal.merchant_id:
        raise PermissionDenied(
            "a merchant key's final decision is built from its own processing activity; an "
            "applicant cannot be supplied",
            code="applicant_not_allowed",
            param="applicant",
        )
    requested: Decimal | float | None = args.requested_amount
    if requested is None and args.applicant is None:
        requested = max(major_units(args.amount, args.currency), 100.0)
    applicant, used = _build(
        ctx,
        applicant=args.applicant,
        merchant_id=args.merchant_id,
        requested_amount=requested,
        existing_financing=args.existing_financing,
    )
    record = _service(ctx.db).decide(
        ctx.principal.tenant_id,
        _strategy(args.strategy, used),
        applicant,
        created_by=ctx.principal.key_id,
        merchant_id=_decided_for(ctx, args.merchant_id, used),
        application_id=args.application_id,
        idempotency_key=f"tool:{ctx.idempotency_key}",
        kind="final",
        grant_minor=args.amount,
        grant_currency=args.currency,
    )
    return {**record, "figures": used} if used is not None else record


# ----- strategies -----------------------------------------------------------------------------


@register_tool(
    "credit_backtest",
    kind=ToolKind.READ,
    args=BacktestArgs,
    rest=("POST", "/v1/credit/strategies/{version_id}/backtest"),
    roles=PARTNERS,
)
def credit_backtest(ctx: ToolContext, args: BacktestArgs) -> dict[str, Any]:
    """Backtest a strategy version on a labelled portfolio: approval rate, bad rate, expected cost and
    profit under the 5:1 cost matrix, expected loss, and the comparison with the live champion."""
    version_id = check_id(args.version_id, "strategy version", param="version_id")
    return (
        _service(ctx.db)
        .backtest_version(ctx.principal.tenant_id, version_id, portfolio_name=args.portfolio)
        .to_dict()
    )


class WhatIfArgs(ProposeArgs):
    """Named changes to try on the live version of a strategy slot (nothing is stored)."""

    min_score: int | None = Field(
        default=None,
        ge=0,
        le=1000,
        description='The minimum score to approve at all ("what if the minimum score were '
        '600?"): sets the approval cut-off and keeps the other cut-offs in order',
    )
    portfolio: Portfolio | None = Field(
        default=None,
        description="Labelled applications to replay; default: the held-out portfolio of the "
        "live strategy's scorecard",
    )

    _min_number = field_validator("min_score", mode="before")(_number_in)

    def changes(self) -> dict[str, float]:
        named = self.model_dump(exclude={"portfolio", "min_score"})
        return ProposeArgs.model_validate(named).changes()


@register_tool(
    "credit_what_if",
    kind=ToolKind.READ,
    args=WhatIfArgs,
    rest=("POST", "/v1/credit/what-if"),
    roles=STAFF,
)
def credit_what_if(ctx: ToolContext, args: WhatIfArgs) -> dict[str, Any]:
    """What would change if a setting of the live credit strategy were different ("what if the
    minimum score were 600?" → min_score=600; also approval / prime cut-off, refer floor, dispute-rate
    knock-out in %, minimum tenure, limit multiples, APRs). Backtests a draft of the live
    champion with the named changes against the champion itself on held-out applications and
    returns before/after approval rate, bad rate, expected loss, and how many decisions change
    (newly approved, no longer approved). Read-only: nothing is proposed or deployed."""
    return _service(ctx.db).what_if(
        ctx.principal.tenant_id,
        args.strategy,
        args.changes(),
        min_score=args.min_score,
        portfolio_name=args.portfolio,
    )


def _same_document(svc: CreditService, tenant: str, body: dict[str, Any]) -> dict[str, Any] | None:
    """An existing version of the slot with exactly this document (a repeated proposal)."""
    for summary in svc.list_versions(tenant, name=body["name"]):
        if summary["description"] != body["description"]:
            continue
        full = svc.get_version(tenant, summary["id"])
        if (
            full["decision_model"] == body["decision_model"]
            and full["scorecard"] == body["scorecard"]
        ):
            return full
    return None


@register_tool(
    "credit_propose_strategy",
    kind=ToolKind.WRITE,
    args=ProposeArgs,
    rest=("POST", "/v1/credit/strategies"),
    roles=PARTNERS,
)
def credit_propose_strategy(ctx: ToolContext, args: ProposeArgs) -> dict[str, Any]:
    """Create a new version of a strategy slot from its live version with the named changes
    (approval / prime cut-off, refer floor, dispute-rate knock-out in %, minimum tenure, limit
    multiples of monthly revenue, APRs). Its embedded tests are regenerated for the new boundaries.
    The version is NOT live: backtest it, then deploy it (with approval). Returns the version id
    and what changed."""
    tenant = ctx.principal.tenant_id
    svc = _service(ctx.db)
    live = svc.deployment(tenant, args.strategy)
    base = svc.get_version(tenant, live["champion_version_id"])
    derived = derive(base, args.changes(), base_label=f"live version v{base['version']}")
    spec = parse_spec(derived.body)
    report = CompiledStrategy("proposal", spec, builtin_scorecard(spec.scorecard)).run_tests()
    if not report.passed:  # derive() writes the tests for its own edits: a bug if this fires
        failing = next(r for r in report.results if not r.passed)
        raise ToolError(
            f"the derived strategy fails its regenerated test {failing.name!r}: {failing.message}",
            code="proposal_tests_failed",
        )
    created = _same_document(svc, tenant, derived.body)
    existing = created is not None
    if created is None:
        created = svc.create_version(tenant, derived.body, created_by=ctx.principal.key_id)
    return {
        "version_id": created["id"],
        "name": created["name"],
        "version": created["version"],
        "live": False,
        "existing": existing,
        "derived_from": {"version": base["version"], "version_id": base["id"]},
        "changes": derived.changes,
        "rules_changed": derived.cells,
        "tests": {
            "passed": created["tests_passed"],
            "total": report.total,
            "names": [r.name for r in report.results],
        },
        "description": created["description"],
    }


@register_tool(
    "credit_deploy_strategy",
    kind=ToolKind.WRITE,
    args=DeployArgs,
    rest=("POST", "/v1/credit/strategies/{version_id}/deploy"),
    roles=PARTNERS,
)
def credit_deploy_strategy(ctx: ToolContext, args: DeployArgs) -> dict[str, Any]:
    """Deploy a strategy version live (optionally with a challenger share). Refused when any of its
    embedded tests fail. Takes effect at once, without a restart; roll back through the API or CLI."""
    if not ctx.idempotency_key:
        raise ToolError(
            "credit_deploy_strategy needs an idempotency key", code="missing_idempotency_key"
        )
    check_id(args.version_id, "strategy version", param="version_id")
    if args.challenger_version_id is not None:
        check_id(args.challenger_version_id, "strategy version", param="challenger_version_id")
    return _service(ctx.db).deploy(
        ctx.principal.tenant_id,
        args.version_id,
        created_by=ctx.principal.key_id,
        challenger_version_id=args.challenger_version_id,
        challenger_share=args.challenger_share,
        idempotency_key=f"tool:{ctx.idempotency_key}",
    )


__all__ = [
    "WhatIfArgs",
    "credit_backtest",
    "credit_decide_preview",
    "credit_deploy_strategy",
    "credit_explain",
    "credit_final_decision",
    "credit_propose_strategy",
    "credit_what_if",
]
