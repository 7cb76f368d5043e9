"""Backtest a strategy over a labelled portfolio, optionally against the live champion.

Every row goes through the same compiled strategy the live path uses
(scorecard tables + zen-engine), so a backtest measures exactly what a
deployment would do. Referrals count as not approved for cost (a referral is
not credit granted); the report shows them separately.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from cockpit.errors import ValidationFailed
from cockpit.progress import Progress, quiet
from tools.credit.catalog import Portfolio
from tools.credit.metrics import auc, expected_cost
from tools.credit.strategy import CompiledStrategy

LGD = 0.45
"""Loss given default used for the money view of expected loss (a common unsecured default)."""


@dataclass(frozen=True, slots=True)
class BacktestMetrics:
    """How one strategy did on one portfolio."""

    version_id: str
    n: int
    approved: int
    referred: int
    declined: int
    approval_rate: float
    refer_rate: float
    bad_rate_approved: float
    """Observed bad rate among approvals (0 when nothing is approved)."""
    bads_approved: int
    goods_declined: int
    expected_cost_per_applicant: float
    """Cost-matrix cost per applicant (accept bad = 5, reject good = 1)."""
    profit_per_applicant: float
    """Good approved +reject_good, bad approved −accept_bad, per applicant."""
    exposure: float
    """Sum of approved limits."""
    expected_loss: float
    """Sum over approvals of limit × PD × LGD (model view)."""
    realised_loss: float
    """Sum over approved bads of limit × LGD (label view)."""
    score_auc: float
    """AUC of the scorecard on this portfolio."""
    psi: float
    """Score stability against the card's training population."""


@dataclass(frozen=True, slots=True)
class BacktestReport:
    portfolio: str
    description: str
    strategy: BacktestMetrics
    champion: BacktestMetrics | None
    swap_in: int
    """Applicants this strategy approves that the champion does not."""
    swap_out: int
    """Applicants the champion approves that this strategy does not."""
    reject_all_cost: float
    accept_all_cost: float
    elapsed_ms: float
    decisions_changed: int = 0
    """Applicants whose outcome (approve / refer / decline) differs from the champion's."""

    def to_dict(self) -> dict[str, Any]:
        body = asdict(self)
        if self.champion is not None:
            body["delta"] = {
                k: round(getattr(self.strategy, k) - getattr(self.champion, k), 6)
                for k in (
                    "approval_rate",
                    "bad_rate_approved",
                    "expected_cost_per_applicant",
                    "profit_per_applicant",
                    "expected_loss",
                )
            }
        return body


def _run(
    strategy: CompiledStrategy,
    pf: Portfolio,
    rows: list[dict[str, Any]],
    progress: Callable[[int], None],
) -> tuple[BacktestMetrics, np.ndarray, np.ndarray]:
    outcomes: list[str] = []
    limits = np.zeros(len(rows))
    pds = np.zeros(len(rows))
    scores = np.zeros(len(rows))
    for i, row in enumerate(rows):
        if i % 50 == 0:
            progress(i)
        d = strategy.decide(row)
        outcomes.append(d.outcome)
        limits[i], pds[i], scores[i] = d.limit, d.pd, d.score
    out = np.asarray(outcomes)
    approved = out == "approve"
    y = pf.y
    n = len(y)
    n_app = int(approved.sum())
    bads_app = int((approved & (y == 1)).sum())
    goods_app = n_app - bads_app
    metrics = BacktestMetrics(
        version_id=strategy.version_id,
        n=n,
        approved=n_app,
        referred=int((out == "refer").sum()),
        declined=int((out == "decline").sum()),
        approval_rate=round(n_app / n, 4),
        refer_rate=round(float((out == "refer").mean()), 4),
        bad_rate_approved=round(bads_app / n_app, 4) if n_app else 0.0,
        bads_approved=bads_app,
        goods_declined=int((~approved & (y == 0)).sum()),
        expected_cost_per_applicant=round(expected_cost(y, approved, pf.cost), 4),
        profit_per_applicant=round(
            (goods_app * pf.cost.reject_good - bads_app * pf.cost.accept_bad) / n, 4
        ),
        exposure=round(float(limits[approved].sum()), 2),
        expected_loss=round(float((limits * pds * LGD)[approved].sum()), 2),
        realised_loss=round(float((limits * LGD)[approved & (y == 1)].sum()), 2),
        score_auc=round(auc(y, -scores), 4),
        psi=round(strategy.scorecard.stability(scores), 4),
    )
    return metrics, approved, out


def backtest(
    strategy: CompiledStrategy,
    pf: Portfolio,
    *,
    champion: CompiledStrategy | None = None,
    progress: Progress = quiet,
) -> BacktestReport:
    """Run ``strategy`` (and ``champion``, if given) over ``pf``.

    ``progress(done, total)`` hears the applications decided (both strategies' together).
    """
    missing = [f for f in strategy.scorecard.feature_names if f not in pf.frame.columns]
    if missing:
        raise ValidationFailed(
            f"portfolio {pf.name} lacks fields the scorecard {strategy.scorecard.name} needs: {', '.join(missing[:5])}",
            code="portfolio_mismatch",
            param="portfolio",
        )
    started = time.perf_counter()
    rows = pf.frame.to_dict("records")
    total = len(rows) * (2 if champion is not None else 1)
    mine, approved, outcomes = _run(strategy, pf, rows, lambda i: progress(i, total))
    theirs, swap_in, swap_out, changed = None, 0, 0, 0
    if champion is not None:
        theirs, champ_approved, champ_outcomes = _run(
            champion, pf, rows, lambda i: progress(len(rows) + i, total)
        )
        swap_in = int((approved & ~champ_approved).sum())
        swap_out = int((champ_approved & ~approved).sum())
        changed = int((outcomes != champ_outcomes).sum())
    progress(total, total)
    n_good = int((pf.y == 0).sum())
    n_bad = len(pf.y) - n_good
    return BacktestReport(
        portfolio=pf.name,
        description=pf.description,
        strategy=mine,
        champion=theirs,
        swap_in=swap_in,
        swap_out=swap_out,
        reject_all_cost=round(n_good * pf.cost.reject_good / len(pf.y), 4),
        accept_all_cost=round(n_bad * pf.cost.accept_bad / len(pf.y), 4),
        elapsed_ms=round((time.perf_counter() - started) * 1000, 2),
        decisions_changed=changed,
    )


__all__ = ["LGD", "BacktestMetrics", "BacktestReport", "backtest"]
