"""Validation metrics for scorecards and strategies: AUC, KS, PSI, calibration, cost.

Plain numpy so they run anywhere; ``y`` is always 1 = bad, 0 = good and
``risk`` is any number that grows with the chance of going bad (a PD, or a
negated score).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import rankdata

from tools.credit.data import CostMatrix


def _arrays(y: ArrayLike, risk: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    ya = np.asarray(y, dtype=np.int64)
    ra = np.asarray(risk, dtype=float)
    if ya.shape != ra.shape or ya.ndim != 1 or len(ya) == 0:
        raise ValueError("y and risk must be equal-length, non-empty 1-D arrays")
    return ya, ra


def auc(y: ArrayLike, risk: ArrayLike) -> float:
    """Area under the ROC curve (ties count half), by the rank-sum formula."""
    ya, ra = _arrays(y, risk)
    n_bad = int(ya.sum())
    n_good = len(ya) - n_bad
    if n_bad == 0 or n_good == 0:
        raise ValueError("AUC needs both classes")
    ranks = rankdata(ra)
    return float((ranks[ya == 1].sum() - n_bad * (n_bad + 1) / 2.0) / (n_bad * n_good))


def ks(y: ArrayLike, risk: ArrayLike) -> float:
    """Kolmogorov–Smirnov statistic: max gap between the bad and good cumulative distributions."""
    ya, ra = _arrays(y, risk)
    thresholds = np.unique(ra)
    bad = np.sort(ra[ya == 1])
    good = np.sort(ra[ya == 0])
    cdf_bad = np.searchsorted(bad, thresholds, side="right") / max(len(bad), 1)
    cdf_good = np.searchsorted(good, thresholds, side="right") / max(len(good), 1)
    return float(np.max(np.abs(cdf_good - cdf_bad)))


def psi(
    expected: ArrayLike, actual: ArrayLike, *, edges: ArrayLike | None = None, bands: int = 10
) -> float:
    """Population stability index of ``actual`` against ``expected`` on shared bands.

    Bands default to deciles of ``expected``; empty bands get a small floor so
    the log stays finite. < 0.1 stable, 0.1–0.25 watch, > 0.25 shifted.
    """
    e = np.asarray(expected, dtype=float)
    a = np.asarray(actual, dtype=float)
    if edges is None:
        cuts = np.unique(np.quantile(e, np.linspace(0, 1, bands + 1)[1:-1]))
    else:
        cuts = np.asarray(edges, dtype=float)
    e_share = np.bincount(np.searchsorted(cuts, e, side="right"), minlength=len(cuts) + 1) / len(e)
    a_share = np.bincount(np.searchsorted(cuts, a, side="right"), minlength=len(cuts) + 1) / len(a)
    e_share = np.maximum(e_share, 1e-4)
    a_share = np.maximum(a_share, 1e-4)
    return float(np.sum((a_share - e_share) * np.log(a_share / e_share)))


@dataclass(frozen=True, slots=True)
class CalibrationBand:
    """Predicted against observed bad rate in one band of predictions."""

    count: int
    mean_pd: float
    observed_bad_rate: float


def calibration(
    y: ArrayLike, pd_: ArrayLike, *, bands: int = 5
) -> tuple[list[CalibrationBand], float, float]:
    """Bands of equal size by PD: (bands, Brier score, expected calibration error)."""
    ya, pa = _arrays(y, pd_)
    order = np.argsort(pa, kind="mergesort")
    out: list[CalibrationBand] = []
    ece = 0.0
    for chunk in np.array_split(order, bands):
        if len(chunk) == 0:
            continue
        mean_pd = float(pa[chunk].mean())
        observed = float(ya[chunk].mean())
        out.append(CalibrationBand(len(chunk), round(mean_pd, 4), round(observed, 4)))
        ece += len(chunk) / len(ya) * abs(mean_pd - observed)
    brier = float(np.mean((pa - ya) ** 2))
    return out, brier, ece


def expected_cost(y: ArrayLike, approved: ArrayLike, cost: CostMatrix) -> float:
    """Mean cost per applicant of approve/decline calls under ``cost``."""
    ya = np.asarray(y, dtype=np.int64)
    ap = np.asarray(approved, dtype=bool)
    total = cost.accept_bad * np.sum(ap & (ya == 1)) + cost.reject_good * np.sum(~ap & (ya == 0))
    return float(total / len(ya))


__all__ = ["CalibrationBand", "auc", "calibration", "expected_cost", "ks", "psi"]
