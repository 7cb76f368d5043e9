"""The time-ordered inner folds of a ULB training period, on which the recipe's settings are chosen.

Every setting of :mod:`tools.fraud.ulb` (rounds, linear strength and weight, stacking) was chosen
by the mean average precision of the recipe's blend on these folds: fit on the first 50%, 70%
and 85% of the training period, score the next 20%, 15% and 15%. Each fold's model sees only
rows before the slice it scores, as the deployed model sees only the past.

Callers pass the training period alone: this module must never be given the test rows, or the
choice it informs is made on them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from cockpit.errors import UserError
from tools.fraud.metrics import classification_report
from tools.fraud.ulb import FEATURES, UlbParams, fit_blend

INNER_FOLDS: tuple[tuple[float, float], ...] = ((0.5, 0.7), (0.7, 0.85), (0.85, 1.0))
"""Per fold, the share of the training period fitted on and where the scored slice ends."""
SEEDS = (7, 8, 9)
"""The tree seeds each fold is fitted with: a choice must hold across seeds, not for one."""


@dataclass(frozen=True, slots=True)
class FoldScore:
    """How the blend fitted on one fold's past ranked its next slice."""

    fold: int
    """Index into the fold bounds."""
    seed: int
    """The trees' seed."""
    fit_rows: int
    scored_rows: int
    scored_frauds: int
    pr_auc: float
    """Average precision on the scored slice (the figure settings are chosen on)."""
    roc_auc: float


def fold_slices(
    n_rows: int, bounds: Sequence[tuple[float, float]] = INNER_FOLDS
) -> list[tuple[slice, slice]]:
    """Per fold, the rows fitted on (from the first row) and the rows scored right after them."""
    out = []
    for fit_end, score_end in bounds:
        if not 0.0 < fit_end < score_end <= 1.0:
            raise UserError(
                f"fold bounds must satisfy 0 < fit end < score end <= 1, got {fit_end, score_end}",
                code="ulb_fold_bounds",
                param="bounds",
            )
        cut, end = int(n_rows * fit_end), int(n_rows * score_end)
        out.append((slice(0, cut), slice(cut, end)))
    return out


def score_folds(
    features: pd.DataFrame,
    y: np.ndarray,
    *,
    params: UlbParams | None = None,
    seeds: Sequence[int] = SEEDS,
    bounds: Sequence[tuple[float, float]] = INNER_FOLDS,
) -> list[FoldScore]:
    """Fit the recipe's blend on each fold's past with each seed and score the fold's next slice.

    ``features`` and ``y`` are a time-ordered training period (never the test rows).
    """
    p = params or UlbParams()
    x = features[list(FEATURES)].to_numpy(dtype=np.float64)
    y = np.asarray(y).astype(int)
    slices = fold_slices(len(y), bounds)
    for k, (fit, scored) in enumerate(slices):
        if y[fit].sum() < 2 or y[scored].sum() < 1:
            raise UserError(
                f"inner fold {k} needs fraud among the rows it fits and the rows it scores",
                code="insufficient_training_data",
            )
    out = []
    for seed in seeds:
        seeded = replace(p, trees=replace(p.trees, seed=seed))
        for k, (fit, scored) in enumerate(slices):
            model = fit_blend(x[fit], y[fit], seeded)
            report = classification_report(y[scored], model.margin(x[scored]))
            out.append(
                FoldScore(
                    fold=k,
                    seed=seed,
                    fit_rows=fit.stop,
                    scored_rows=scored.stop - scored.start,
                    scored_frauds=int(y[scored].sum()),
                    pr_auc=report["pr_auc"],
                    roc_auc=report["roc_auc"],
                )
            )
    return out


@dataclass(frozen=True, slots=True)
class FoldSummary:
    """The figures a setting is chosen by, over every fold and seed."""

    pr_auc: float
    """Mean average precision over every fit."""
    roc_auc: float
    pr_auc_by_seed: tuple[float, ...]
    """Per seed (ascending), its mean over the folds: a gain should hold for each."""
    pr_auc_by_fold: tuple[float, ...]
    scored_frauds: int
    """Frauds in all scored slices (once, not per seed)."""


def summarise(scores: Sequence[FoldScore]) -> FoldSummary:
    """Mean PR-AUC and ROC-AUC over every fit, and the mean PR-AUC per seed and per fold."""

    def mean_ap(rows: Sequence[FoldScore]) -> float:
        return round(float(np.mean([s.pr_auc for s in rows])), 4)

    seeds = sorted({s.seed for s in scores})
    folds = sorted({s.fold for s in scores})
    return FoldSummary(
        pr_auc=mean_ap(scores),
        roc_auc=round(float(np.mean([s.roc_auc for s in scores])), 4),
        pr_auc_by_seed=tuple(mean_ap([s for s in scores if s.seed == seed]) for seed in seeds),
        pr_auc_by_fold=tuple(mean_ap([s for s in scores if s.fold == k]) for k in folds),
        scored_frauds=sum(s.scored_frauds for s in scores if s.seed == seeds[0]),
    )


__all__ = [
    "INNER_FOLDS",
    "SEEDS",
    "FoldScore",
    "FoldSummary",
    "fold_slices",
    "score_folds",
    "summarise",
]
