"""``/v1/evals`` — a partner runs eval suites on a version of its agent and reads the reports."""

from __future__ import annotations

import re
from typing import Any, Literal

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from cockpit.api.deps import PartnerCtx, RequestContext
from cockpit.api.routers._common import services
from cockpit.api.routing import api_router
from cockpit.api.services import Services
from cockpit.specs.evalruns import MAX_TRIALS, run_json
from cockpit.specs.gate import EvalJob
from cockpit.specs.models import EvalRun
from cockpit.specs.registry import ResolvedAgent, SpecRegistry

router = api_router(prefix="/v1/evals", tags=["evals"])


class EvalRunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    agent: str = Field(min_length=2, max_length=140)
    """``my-agent`` (its ``live``), ``my-agent@3`` / ``@v3`` (a version), ``my-agent@canary``."""
    suites: list[str] = Field(default_factory=list, max_length=20)
    """Suite names (default: the spec's ``evals``): the tenant's own, else built-in."""
    suite_yaml: list[str] = Field(default_factory=list, max_length=20)
    """Suite files (``cockpit.eval/v1``) stored as the tenant's suites, then run."""
    trials: int | None = Field(default=None, ge=1, le=MAX_TRIALS)
    """Trials per task (default: the largest ``k`` of the suites' gates)."""
    split: Literal["dev", "heldout", "all"] = "all"


def resolve_ref(specs: SpecRegistry, tenant_id: str, ref: str) -> ResolvedAgent:
    """``id@3`` is accepted for ``id@v3``."""
    return specs.resolve(tenant_id, re.sub(r"@(\d+)$", r"@v\1", ref))


@router.post("/runs", status_code=202, summary="Run eval suites on a version of an agent")
async def create_run(request: Request, ctx: PartnerCtx, body: EvalRunRequest) -> dict[str, Any]:
    svc = services(request)
    row, job = await run_in_threadpool(_create_run, svc, ctx, body)
    svc.evals.start(ctx.principal.tenant_id, row, job)  # on the loop: the run is its task
    return run_json(row)


def _create_run(
    svc: Services, ctx: RequestContext, body: EvalRunRequest
) -> tuple[EvalRun, EvalJob]:
    tenant = ctx.principal.tenant_id
    agent = resolve_ref(svc.runtime.specs, tenant, body.agent)
    uploaded = svc.evals.store_suites(tenant, body.suite_yaml)
    return svc.evals.create(
        tenant,
        agent,
        suites=list(dict.fromkeys([*body.suites, *uploaded])),
        trials=body.trials,
        split=body.split,
        created_by=ctx.principal.key_id,
    )


@router.get("/runs", summary="This tenant's eval runs, newest first")
def list_runs(
    request: Request, ctx: PartnerCtx, agent_id: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    rows = services(request).evals.list(
        ctx.principal.tenant_id, agent_id=agent_id, limit=max(1, min(limit, 200))
    )
    return [run_json(r) for r in rows]


@router.get("/runs/{run_id}", summary="An eval run with its report")
def get_run(request: Request, ctx: PartnerCtx, run_id: str) -> dict[str, Any]:
    return run_json(services(request).evals.get(ctx.principal.tenant_id, run_id), report=True)
