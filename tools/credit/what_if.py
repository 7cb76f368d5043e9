"""What if the live champion's settings changed? A backtest of the draft that stores nothing.

The draft is derived exactly as a proposal would be (:func:`tools.credit.proposal.derive`),
keeps the champion's scorecard and runs on the scorecard's held-out portfolio by default:
no version is created and nothing is deployed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tools.credit.backtest import BacktestMetrics, backtest
from tools.credit.catalog import DEFAULT_PORTFOLIO, portfolio
from tools.credit.proposal import derive, read_settings
from tools.credit.strategy import CompiledStrategy, parse_spec


def min_score_changes(base: Mapping[str, Any], min_score: int) -> dict[str, float]:
    """The cut-off changes that make ``min_score`` the lowest approved score, keeping
    refer floor ≤ approval ≤ prime."""
    current = read_settings(base["decision_model"])
    out: dict[str, float] = {"approve_cutoff": float(min_score)}
    if current["prime_cutoff"] < min_score:
        out["prime_cutoff"] = float(min_score)
    if current["refer_floor"] > min_score:
        out["refer_floor"] = float(min_score)
    return out


def _view(m: BacktestMetrics) -> dict[str, Any]:
    return {
        "approval_rate": m.approval_rate,
        "refer_rate": m.refer_rate,
        "bad_rate": m.bad_rate_approved,
        "expected_loss": m.expected_loss,
        "expected_cost_per_applicant": m.expected_cost_per_applicant,
        "approved": m.approved,
        "referred": m.referred,
        "declined": m.declined,
    }


def what_if(
    champion: CompiledStrategy,
    base: Mapping[str, Any],
    changes: Mapping[str, float],
    *,
    min_score: int | None = None,
    portfolio_name: str | None = None,
) -> dict[str, Any]:
    """Backtest ``champion`` with ``changes`` against itself; ``base`` is its stored version.

    ``min_score`` is "the lowest score approved at all": the approval cut-off, with the prime
    cut-off raised to it (or the refer floor lowered to it) when it would otherwise leave the
    cut-offs out of order; ``changes`` in the answer lists every setting that moved.
    """
    if min_score is not None:
        changes = {**min_score_changes(base, min_score), **changes}
    draft = derive(base, changes, base_label=f"live version v{base['version']}")
    candidate = CompiledStrategy("draft", parse_spec(draft.body), champion.scorecard)
    card_name = champion.scorecard.name
    pf = portfolio(portfolio_name or DEFAULT_PORTFOLIO.get(card_name, card_name))
    report = backtest(candidate, pf, champion=champion)
    assert report.champion is not None
    before, after = _view(report.champion), _view(report.strategy)
    return {
        "strategy": champion.name,
        "live_version": {"version_id": base["id"], "version": base["version"]},
        "changes": draft.changes,
        "portfolio": report.portfolio,
        "applicants": report.strategy.n,
        "before": before,
        "after": after,
        "delta": {k: round(after[k] - before[k], 6) for k in before},
        "decisions_changed": report.decisions_changed,
        "newly_approved": report.swap_in,
        "no_longer_approved": report.swap_out,
        "loss_currency": champion.spec.currency,
        "proposed": False,
        "deployed": False,
    }
