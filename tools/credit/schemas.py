"""Pydantic shapes of what the credit API returns (the HTTP trust boundary).

The service returns plain dicts; these models validate and document them in
the OpenAPI schema. Bigger nested reports (backtest, explain) keep their
inner objects as dicts.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ReasonOut(BaseModel):
    code: str = Field(description="Adverse-action code, e.g. CR01; CR99 for a policy knock-out")
    feature: str = Field(description="Characteristic, or 'policy' for a knock-out rule")
    text: str
    points_lost: int = Field(
        description="Best attainable points minus points obtained (0 for policy)"
    )


class DecisionOut(BaseModel):
    id: str
    application_id: str | None
    merchant_id: str | None = Field(
        default=None, description="Merchant the decision is for (null: tenant-level decision)"
    )
    strategy: str
    version_id: str
    deployment_id: str | None
    arm: str = Field(description="champion or challenger")
    kind: str = Field(description="decision (API) or final (agent tool)")
    decision: str = Field(description="approve, decline or refer")
    limit: float = Field(description="Credit limit in major units (0 unless approved)")
    limit_minor: int
    currency: str
    price: float | None = Field(description="APR in percent (approvals only)")
    score: int
    pd: float = Field(description="Probability of going bad implied by the score")
    reasons: list[ReasonOut]
    created_at: str
    replayed: bool = Field(
        description="True when an earlier request with the same idempotency key answered"
    )


class TestResultOut(BaseModel):
    name: str
    passed: bool
    message: str
    actual: dict[str, Any] | None = None


class TestReportOut(BaseModel):
    passed: bool
    total: int
    failed: int
    results: list[TestResultOut]


class VersionOut(BaseModel):
    id: str
    name: str
    version: int
    description: str
    scorecard: str
    currency: str
    content_hash: str
    tests_passed: bool
    test_report: TestReportOut
    created_by: str
    created_at: str
    decision_model: dict[str, Any] | None = None


class VersionList(BaseModel):
    data: list[VersionOut]


class DeploymentOut(BaseModel):
    id: str
    name: str
    champion_version_id: str
    challenger_version_id: str | None
    challenger_share: float
    created_by: str
    created_at: str
    rolled_back_at: str | None
    previous_champion_version_id: str | None = None
    deploy_ms: float | None = None
    replayed: bool = False


class RollbackOut(BaseModel):
    rolled_back: DeploymentOut
    live: DeploymentOut
    by: str


__all__ = [
    "DecisionOut",
    "DeploymentOut",
    "ReasonOut",
    "RollbackOut",
    "TestReportOut",
    "VersionList",
    "VersionOut",
]
