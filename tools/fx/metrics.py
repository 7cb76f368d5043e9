"""Forecast accuracy statistics: MASE, RMSE ratio, directional accuracy, and the tests behind claims.

Diebold–Mariano compares two loss series with a HAC (Newey–West) variance and the
Harvey–Leybourne–Newbold small-sample correction; Pesaran–Timmermann tests whether
direction calls beat independent guessing. A model "beats" the benchmark only when its
loss is lower *and* the one-sided DM p-value is below the chosen level.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class DMResult:
    """Diebold–Mariano test of equal predictive accuracy (loss = squared error)."""

    statistic: float
    """HLN-corrected DM statistic; negative means the model's loss is lower."""
    p_value: float
    """Two-sided p-value (Student t with n-1 degrees of freedom)."""
    p_better: float
    """One-sided p-value for "the model's loss is lower than the benchmark's"."""
    n: int


def rmse(errors: FloatArray) -> float:
    e = errors[np.isfinite(errors)]
    return float(np.sqrt(np.mean(e**2))) if e.size else math.nan


def mae(errors: FloatArray) -> float:
    e = errors[np.isfinite(errors)]
    return float(np.mean(np.abs(e))) if e.size else math.nan


def mase(errors: FloatArray, scales: FloatArray) -> float:
    """Mean of |error| / in-sample naive MAE at each origin (scales > 0)."""
    ok = np.isfinite(errors) & np.isfinite(scales) & (scales > 0)
    return float(np.mean(np.abs(errors[ok]) / scales[ok])) if ok.any() else math.nan


def naive_scale(y: FloatArray, t: int, *, m: int = 1, window: int = 250) -> float:
    """In-sample mean |y_s - y_{s-m}| over the ``window`` observations up to origin ``t``."""
    lo = max(m, t + 1 - window)
    seg = y[lo : t + 1] - y[lo - m : t + 1 - m]
    return float(np.mean(np.abs(seg))) if seg.size else math.nan


def diebold_mariano(e_model: FloatArray, e_bench: FloatArray, *, lags: int = 0) -> DMResult:
    """DM test on squared-error differentials with ``lags`` Newey–West lags (h-1 for h-step)."""
    ok = np.isfinite(e_model) & np.isfinite(e_bench)
    d = e_model[ok] ** 2 - e_bench[ok] ** 2
    n = int(d.shape[0])
    if n < 5:
        return DMResult(math.nan, math.nan, math.nan, n)
    dbar = float(d.mean())
    dc = d - dbar
    var = float(np.dot(dc, dc) / n)
    for lag in range(1, min(lags, n - 1) + 1):
        w = 1.0 - lag / (lags + 1.0)
        var += 2.0 * w * float(np.dot(dc[lag:], dc[:-lag]) / n)
    if var <= 0 or not math.isfinite(var):
        # Identical losses (e.g. the benchmark against itself): no evidence either way.
        return DMResult(0.0, 1.0, 0.5, n)
    stat = dbar / math.sqrt(var / n)
    h = lags + 1
    hln = math.sqrt(max((n + 1 - 2 * h + h * (h - 1) / n) / n, 1e-12))
    stat *= hln
    p_two = float(2 * stats.t.sf(abs(stat), df=n - 1))
    p_better = float(stats.t.cdf(stat, df=n - 1))
    return DMResult(float(stat), p_two, p_better, n)


def directional_accuracy(
    predicted_change: FloatArray, actual_change: FloatArray
) -> tuple[float, int]:
    """Share of correct up/down calls, ignoring flat predictions or outcomes (and how many counted)."""
    ok = np.isfinite(predicted_change) & np.isfinite(actual_change)
    ok &= (predicted_change != 0) & (actual_change != 0)
    n = int(ok.sum())
    if n == 0:
        return math.nan, 0
    hits = np.sign(predicted_change[ok]) == np.sign(actual_change[ok])
    return float(hits.mean()), n


def pesaran_timmermann(predicted_change: FloatArray, actual_change: FloatArray) -> float:
    """One-sided p-value that direction calls beat chance (ignores overlap between origins)."""
    ok = np.isfinite(predicted_change) & np.isfinite(actual_change)
    ok &= (predicted_change != 0) & (actual_change != 0)
    n = int(ok.sum())
    if n < 10:
        return math.nan
    x = predicted_change[ok] > 0
    y = actual_change[ok] > 0
    p = float(np.mean(x == y))
    px, py = float(x.mean()), float(y.mean())
    pstar = py * px + (1 - py) * (1 - px)
    v_p = pstar * (1 - pstar) / n
    v_pstar = (
        (2 * py - 1) ** 2 * px * (1 - px) / n
        + (2 * px - 1) ** 2 * py * (1 - py) / n
        + 4 * py * px * (1 - py) * (1 - px) / n**2
    )
    denom = v_p - v_pstar
    if denom <= 0:
        return math.nan
    return float(stats.norm.sf((p - pstar) / math.sqrt(denom)))


__all__ = [
    "DMResult",
    "diebold_mariano",
    "directional_accuracy",
    "mae",
    "mase",
    "naive_scale",
    "pesaran_timmermann",
    "rmse",
]
