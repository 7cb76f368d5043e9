"""HTTP API under ``/v1/credit``: decide applications, manage strategy versions and deployments.

Endpoints that touch the database or run a backtest are plain ``def`` (FastAPI
runs them in its thread pool, keeping the event loop free); the rest are
``async``. The tenant always comes from the API key, and another tenant's ids
are simply not found (404). A key bound to a merchant decides only for its own
merchant and reads only its own merchant's decisions: another merchant's
decision is 404 exactly like an unknown id.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import Header, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from cockpit.api.deps import Ctx, PartnerCtx, RequestContext, StaffCtx
from cockpit.api.routing import api_router
from cockpit.errors import NotFound
from cockpit.tenancy.principal import Role
from tools.credit.catalog import SCORECARDS, builtin_scorecard
from tools.credit.schemas import (
    DecisionOut,
    DeploymentOut,
    RollbackOut,
    TestReportOut,
    VersionList,
    VersionOut,
)
from tools.credit.strategy import StrategySpec
from tools.credit.tools import WhatIfArgs

if TYPE_CHECKING:
    from tools.credit.service import CreditService

router = api_router(prefix="/v1/credit", tags=["credit"])

_DECIDERS = (Role.ADMIN, Role.PARTNER, Role.MERCHANT)
_ANALYSTS = (Role.ADMIN, Role.PARTNER)


class ApplicationRequest(BaseModel):
    """An application to decide on a deployed strategy."""

    model_config = ConfigDict(extra="forbid")
    strategy: str = Field(default="consumer-default", description="Strategy slot to decide on")
    application_id: str | None = Field(
        default=None,
        max_length=128,
        description="Caller's id; also the stable key for champion/challenger routing",
    )
    merchant_id: str | None = Field(
        default=None,
        max_length=64,
        description="Merchant the application is for (mer_…); a merchant key always decides "
        "for its own merchant, an admin or partner key may name one or none (tenant-level)",
    )
    applicant: dict[str, Any] = Field(
        description="Applicant fields, as the strategy's scorecard defines them"
    )


class BacktestRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    portfolio: str | None = Field(
        default=None, description="Labelled portfolio; default: the scorecard's holdout"
    )


class DeployRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    challenger_version_id: str | None = Field(
        default=None, description="A second version of the same slot"
    )
    challenger_share: float = Field(
        default=0.0, ge=0.0, le=0.5, description="Share of applicants routed to the challenger"
    )


def _svc(ctx: Ctx) -> CreditService:
    from tools.credit.service import service_for

    return service_for(ctx.db)


def _merchant(ctx: RequestContext, named: str | None) -> str | None:
    """The merchant a decision is for: a bound key's own (naming another is 404), else the one
    named, if any."""
    bound = ctx.principal.merchant_id
    if bound and named and named != bound:
        raise NotFound(f"no merchant {named!r}", code="merchant_not_found", param="merchant_id")
    return bound or named


@router.post("/applications", status_code=201, response_model=DecisionOut)
def decide_application(
    body: ApplicationRequest,
    ctx: StaffCtx,
    response: Response,
    idempotency_key: str | None = Header(default=None, max_length=200),
) -> dict[str, Any]:
    """Decide an application on the live strategy and store the decision (idempotent on the header)."""
    record = _svc(ctx).decide(
        ctx.principal.tenant_id,
        body.strategy,
        body.applicant,
        created_by=ctx.principal.key_id,
        merchant_id=_merchant(ctx, body.merchant_id),
        application_id=body.application_id,
        idempotency_key=idempotency_key,
    )
    if record["replayed"]:
        response.status_code = 200
    return record


@router.post("/applications/preview")
def preview_application(body: ApplicationRequest, ctx: StaffCtx) -> dict[str, Any]:
    """Decide without storing anything (what-if)."""
    _merchant(ctx, body.merchant_id)
    arm, decision = _svc(ctx).preview(
        ctx.principal.tenant_id, body.strategy, body.applicant, application_id=body.application_id
    )
    return {**decision.to_dict(), "arm": arm, "trace": decision.trace}


@router.get("/decisions/{decision_id}", response_model=DecisionOut)
def get_decision(decision_id: str, ctx: StaffCtx) -> dict[str, Any]:
    """A stored decision (a merchant key: only its own merchant's)."""
    return _svc(ctx).get_decision(
        ctx.principal.tenant_id, decision_id, merchant_id=ctx.principal.merchant_id
    )


@router.get("/decisions/{decision_id}/explain")
def explain_decision(decision_id: str, ctx: StaffCtx) -> dict[str, Any]:
    """Points per characteristic, score factors, the rules that fired and the inputs."""
    return _svc(ctx).explain(
        ctx.principal.tenant_id, decision_id, merchant_id=ctx.principal.merchant_id
    )


@router.post("/strategies", status_code=201, response_model=VersionOut)
def create_strategy(body: StrategySpec, ctx: PartnerCtx) -> dict[str, Any]:
    """Store a new immutable version of a strategy; its embedded tests run at once."""
    return _svc(ctx).create_version(
        ctx.principal.tenant_id, body.model_dump(mode="json"), created_by=ctx.principal.key_id
    )


@router.get("/strategies", response_model=VersionList)
def list_strategies(ctx: StaffCtx, name: str | None = Query(default=None)) -> dict[str, Any]:
    return {"data": _svc(ctx).list_versions(ctx.principal.tenant_id, name=name)}


@router.get("/strategies/{version_id}", response_model=VersionOut)
def get_strategy(version_id: str, ctx: StaffCtx) -> dict[str, Any]:
    return _svc(ctx).get_version(ctx.principal.tenant_id, version_id)


@router.post("/strategies/{version_id}/test", response_model=TestReportOut)
def test_strategy(version_id: str, ctx: PartnerCtx) -> dict[str, Any]:
    """Re-run the version's embedded tests."""
    return _svc(ctx).test_version(ctx.principal.tenant_id, version_id).to_dict()


@router.post("/strategies/{version_id}/backtest")
def backtest_strategy(
    version_id: str, ctx: PartnerCtx, body: BacktestRequest | None = None
) -> dict[str, Any]:
    """Backtest over a labelled portfolio, compared with the live champion when there is one."""
    report = _svc(ctx).backtest_version(
        ctx.principal.tenant_id, version_id, portfolio_name=body.portfolio if body else None
    )
    return report.to_dict()


@router.post("/what-if")
def what_if(body: WhatIfArgs, ctx: StaffCtx) -> dict[str, Any]:
    """Backtest a draft of the live strategy with the named setting changes against the live
    champion (before/after approval rate, bad rate, expected loss, decisions changed). Stores
    nothing, so merchants may ask it too (the ``credit_what_if`` tool's twin)."""
    return _svc(ctx).what_if(
        ctx.principal.tenant_id,
        body.strategy,
        body.changes(),
        min_score=body.min_score,
        portfolio_name=body.portfolio,
    )


@router.post("/strategies/{version_id}/deploy", response_model=DeploymentOut)
def deploy_strategy(
    version_id: str,
    ctx: PartnerCtx,
    body: DeployRequest | None = None,
    idempotency_key: str | None = Header(default=None, max_length=200),
) -> dict[str, Any]:
    """Swap the version in as its slot's live champion (refused if its tests fail); no restart."""
    req = body or DeployRequest()
    return _svc(ctx).deploy(
        ctx.principal.tenant_id,
        version_id,
        created_by=ctx.principal.key_id,
        challenger_version_id=req.challenger_version_id,
        challenger_share=req.challenger_share,
        idempotency_key=idempotency_key,
    )


@router.post("/strategies/{name}/rollback", response_model=RollbackOut)
def rollback_strategy(name: str, ctx: PartnerCtx) -> dict[str, Any]:
    """Retire the slot's live deployment and restore the previous one."""
    return _svc(ctx).rollback(ctx.principal.tenant_id, name, created_by=ctx.principal.key_id)


@router.get("/deployments/{name}", response_model=DeploymentOut)
def get_deployment(name: str, ctx: StaffCtx) -> dict[str, Any]:
    return _svc(ctx).deployment(ctx.principal.tenant_id, name)


@router.get("/scorecards")
async def list_scorecards(ctx: StaffCtx) -> dict[str, Any]:
    return {"data": list(SCORECARDS)}


@router.get("/scorecards/{name}")
def get_scorecard(name: str, ctx: StaffCtx) -> dict[str, Any]:
    """A built-in scorecard's points table, IVs and dropped features."""
    return builtin_scorecard(name).to_dict()


__all__ = ["router"]
