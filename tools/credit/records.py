"""Wire shapes of stored credit rows, and money in minor units.

The service returns these plain dicts; the router validates them against
``tools.credit.schemas`` and the agent tools hand them to the model as-is.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any

from cockpit import money
from cockpit.errors import ToolError
from tools.credit.models import DecisionRow, DeploymentRow, StrategyVersionRow

if TYPE_CHECKING:
    from tools.credit.scorecard import Scorecard
    from tools.credit.strategy import Decision


def minor_units(amount: float, currency: str) -> int:
    """Major → minor units, half-even (exponent from :mod:`cockpit.money`; scores are floats)."""
    return money.to_minor(Decimal(str(float(amount))), currency, rounding=ROUND_HALF_EVEN)


def major_units(amount_minor: int, currency: str) -> float:
    return float(money.to_major(amount_minor, currency))


def granted_minor(
    decision: Decision, strategy: str, grant_minor: int | None, grant_currency: str | None
) -> int:
    """The limit ``decision`` grants, in minor units: the strategy's, or ``grant_minor`` when a
    final decision asks for less. Asking for more, or in another currency, is the caller's
    error; a decline stays a decline whatever was asked."""
    limit_minor = minor_units(decision.limit, decision.currency)
    if grant_minor is None:
        return limit_minor
    if grant_currency is not None and grant_currency != decision.currency:
        raise ToolError(
            f"strategy {strategy} lends in {decision.currency}, not {grant_currency}",
            code="currency_mismatch",
        )
    if decision.outcome != "approve":
        return limit_minor
    if grant_minor > limit_minor:
        raise ToolError(
            f"requested limit {grant_minor} exceeds the approved limit {limit_minor} "
            f"{decision.currency} (minor units)",
            code="amount_above_limit",
        )
    return grant_minor


def version_summary(row: StrategyVersionRow, *, full: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": row.id,
        "name": row.name,
        "version": row.version,
        "description": row.description,
        "scorecard": row.scorecard_name,
        "currency": row.currency,
        "content_hash": row.content_hash,
        "tests_passed": row.tests_passed,
        "test_report": row.test_report,
        "created_by": row.created_by,
        "created_at": row.created_at.isoformat(),
    }
    if full:
        body["decision_model"] = row.spec["decision_model"]
    return body


def deployment_summary(row: DeploymentRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "champion_version_id": row.champion_id,
        "challenger_version_id": row.challenger_id,
        "challenger_share": row.challenger_share,
        "created_by": row.created_by,
        "created_at": row.created_at.isoformat(),
        "rolled_back_at": row.rolled_back_at.isoformat() if row.rolled_back_at else None,
    }


def decision_record(row: DecisionRow, *, replayed: bool = False) -> dict[str, Any]:
    return {
        "id": row.id,
        "application_id": row.application_id,
        "merchant_id": row.merchant_id,
        "strategy": row.strategy,
        "version_id": row.version_id,
        "deployment_id": row.deployment_id,
        "arm": row.arm,
        "kind": row.kind,
        "decision": row.outcome,
        "limit": major_units(row.limit_minor, row.currency),
        "limit_minor": row.limit_minor,
        "currency": row.currency,
        "price": row.price_apr,
        "score": row.score,
        "pd": row.pd,
        "reasons": row.reasons,
        "created_at": row.created_at.isoformat(),
        "replayed": replayed,
    }


__all__ = [
    "decision_record",
    "deployment_summary",
    "explanation",
    "granted_minor",
    "major_units",
    "minor_units",
    "version_summary",
]


def explanation(row: DecisionRow, card: Scorecard) -> dict[str, Any]:
    """A stored decision with its points beside each field's best, score factors, node trace
    and inputs; ``card`` is the scorecard of the version that decided."""
    pts = [int(row.points.get(f, 0)) for f in card.feature_names]
    factors = [r.to_dict() for r in card.reasons(pts, limit=len(pts))]
    best = {f.name: f.max_points for f in card.features}
    return {
        **decision_record(row),
        "points": [
            {
                "feature": f,
                "points": row.points.get(f),
                "best": best[f],
                "value": row.applicant.get(f),
            }
            for f in card.feature_names
        ],
        "score_factors": factors,
        "trace": row.trace,
        "shadow": row.shadow,
        "applicant": row.applicant,
        "scaling": {
            "base_points": card.scaling.base_points,
            "base_odds": card.scaling.base_odds,
            "pdo": card.scaling.pdo,
        },
    }
