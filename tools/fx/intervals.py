"""Quantile intervals calibrated on a model's own past out-of-sample errors.

Model-native intervals (Gaussian, ETS state-space) are rarely calibrated on FX: returns
are fat-tailed and volatility clusters. Here the interval around a point forecast comes
from the errors the same model made from earlier forecast origins:

* ``empirical`` — per-step quantiles of past errors (volatility-filtered when
  ``scale_by_volatility``: errors are divided by the EWMA volatility at their origin
  and rescaled by today's, so a calm year does not set intervals for a stormy one);
* ``conformal`` — split-conformal: a symmetric band from the finite-sample
  ``ceil((n+1)(1-α))/n`` quantile of absolute (scaled) errors, where ``n`` counts forecast
  origins, not errors: the h errors from one origin share its surprises, so pooling steps
  adds scores without adding independent draws (counting errors left the 80/90 % bands of
  the seasonal ``auto`` choice 4 points narrow on 40 real quarterly series);
* ``native`` — whatever the model produced.

With few errors per step (under ``min_per_step``) the steps are pooled after dividing
by ``step**b``, where ``b`` is fitted to how the error RMS grows with the step (≈ 0.5
for random-walk-like rates, ≈ 0 for stationary seasonal demand). The median is always the point forecast so point and interval agree.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray
from scipy.signal import lfilter

from cockpit.errors import ValidationFailed
from tools.fx.models import Forecaster

FloatArray = NDArray[np.float64]

#: RiskMetrics decay for daily volatility.
EWMA_LAMBDA = 0.94


class CalibrationMethod(StrEnum):
    NATIVE = "native"
    EMPIRICAL = "empirical"
    CONFORMAL = "conformal"


@dataclass(frozen=True, slots=True)
class ErrorSample:
    """Past forecast errors: one row per origin, one column per step (NaN = not yet known)."""

    errors: FloatArray
    scales: FloatArray
    """Volatility (or 1.0) at each origin; errors are compared after dividing by it."""
    origins: NDArray[np.intp] | None = None
    """Index of each row's origin in the series, when the sample knows it."""

    @property
    def size(self) -> int:
        return int(np.isfinite(self.errors).sum())


def parse_method(value: str) -> CalibrationMethod:
    try:
        return CalibrationMethod(value.lower())
    except ValueError:
        raise ValidationFailed(
            f"unknown calibration {value!r}; use one of {[m.value for m in CalibrationMethod]}",
            code="invalid_calibration",
            param="calibration",
        ) from None


def check_quantiles(quantiles: Sequence[float]) -> tuple[float, ...]:
    """Sorted unique quantile levels strictly between 0 and 1, always including the median."""
    qs = set()
    for q in quantiles:
        if not (isinstance(q, int | float) and 0.0 < float(q) < 1.0 and math.isfinite(q)):
            raise ValidationFailed(
                f"quantile {q!r} must be strictly between 0 and 1",
                code="invalid_quantile",
                param="quantiles",
            )
        qs.add(round(float(q), 6))
    qs.add(0.5)
    return tuple(sorted(qs))


def ewma_volatility(y: FloatArray, *, lam: float = EWMA_LAMBDA) -> FloatArray:
    """EWMA volatility of first differences known at each index (index 0 copies index 1)."""
    d = np.diff(y)
    if d.shape[0] == 0:
        return np.ones_like(y)
    seed = float(np.mean(d[: min(20, d.shape[0])] ** 2))
    var, _ = lfilter([1.0 - lam], [1.0, -lam], d**2, zi=[lam * seed])
    vol = np.sqrt(np.concatenate([[var[0]], var]))
    floor = max(float(np.median(vol)) * 1e-3, 1e-12)
    return np.asarray(np.maximum(vol, floor), dtype=np.float64)


def rolling_errors(
    build: Callable[[], Forecaster],
    y: FloatArray,
    horizon: int,
    *,
    n_origins: int,
    step: int = 1,
    min_train: int,
    scales: FloatArray | None = None,
    fitted: Forecaster | None = None,
) -> ErrorSample:
    """Errors of forecasts made from the last ``n_origins`` origins inside ``y`` (no look-ahead).

    Closed-form models (``horizon_errors``) need no refit. Otherwise, when ``fitted`` (the
    model already fitted on ``y``) can re-apply its estimated parameters from each origin
    (``past_errors``), that replaces one re-estimation per origin; else the model is refitted.
    """
    n = y.shape[0]
    last = n - 2
    origins = np.arange(last, max(min_train - 2, -1), -step)[:n_origins][::-1].astype(np.intp)
    origins = origins[origins >= min_train - 1]
    sc = scales if scales is not None else np.ones(n)
    if origins.shape[0] == 0:
        return ErrorSample(np.empty((0, horizon)), np.empty(0))
    model = build()
    origins = origins[origins >= model.min_length - 1]
    if origins.shape[0] == 0:
        return ErrorSample(np.empty((0, horizon)), np.empty(0))
    fast = getattr(model, "horizon_errors", None)
    reuse = getattr(fitted, "past_errors", None) if fitted is not None else None
    reused = reuse(y, horizon, origins) if not callable(fast) and callable(reuse) else None
    if callable(fast):
        errors = np.asarray(fast(y, horizon, origins), dtype=np.float64)
    elif reused is not None:
        errors = np.asarray(reused, dtype=np.float64)
        keep = np.isfinite(errors).any(axis=1)
        errors, origins = errors[keep], origins[keep]
    else:
        errors = np.full((origins.shape[0], horizon), np.nan)
        for row, t in enumerate(origins):
            path = build().fit(y[: t + 1]).predict(horizon, quantiles=(0.5,))
            avail = min(horizon, n - 1 - int(t))
            errors[row, :avail] = y[t + 1 : t + 1 + avail] - path.mean[:avail]
    return ErrorSample(errors, sc[origins], origins)


def calibrate(
    point: FloatArray,
    sample: ErrorSample,
    quantiles: Sequence[float],
    *,
    method: CalibrationMethod,
    scale_now: float = 1.0,
    native: dict[float, FloatArray] | None = None,
    min_per_step: int = 60,
) -> dict[float, FloatArray]:
    """Quantile paths around ``point`` (length h) from past errors."""
    h = point.shape[0]
    qs = check_quantiles(quantiles)
    if method is CalibrationMethod.NATIVE or sample.size == 0:
        if native is None:
            return {q: point.copy() for q in qs}
        out = {q: native.get(q, point).copy() for q in qs}
        out[0.5] = point.copy()
        return _monotone(out, qs)
    err = sample.errors[:, :h] / sample.scales[:, None]
    width = _step_widths(err, h)
    z = err / width[None, : err.shape[1]]
    pooled = z[np.isfinite(z)]
    # Independent draws behind the pooled scores: one per origin with any known error.
    draws = int(np.isfinite(z).any(axis=1).sum())
    result: dict[float, FloatArray] = {}
    for q in qs:
        if q == 0.5:
            result[q] = point.copy()
            continue
        offsets = np.empty(h)
        for j in range(h):
            col = z[:, j] if j < z.shape[1] else np.empty(0)
            col = col[np.isfinite(col)]
            if col.shape[0] >= min_per_step:
                offsets[j] = _offset(col, q, method, draws=col.shape[0])
            else:
                offsets[j] = _offset(pooled, q, method, draws=draws)
        result[q] = point + offsets * scale_now * width
    return _monotone(result, qs)


def _step_widths(err: FloatArray, h: int) -> FloatArray:
    """Relative error size per step, ``k**b`` with ``b`` fitted to the per-step RMS.

    Random-walk-like series grow like sqrt(k) (b ≈ 0.5); stationary seasonal demand
    barely grows (b ≈ 0). Fitting b lets thin per-step samples be pooled either way.
    """
    k = np.arange(1, h + 1, dtype=np.float64)
    counts = np.isfinite(err).sum(axis=0)
    ok = np.flatnonzero(counts >= 3)
    if ok.shape[0] < 2:
        return np.ones(h) if ok.shape[0] else np.sqrt(k)
    rms = np.sqrt(np.nanmean(err[:, ok] ** 2, axis=0))
    good = rms > 0
    if good.sum() < 2:
        return np.ones(h)
    slope = float(np.polyfit(np.log(k[ok][good]), np.log(rms[good]), 1)[0])
    return np.asarray(k ** min(max(slope, 0.0), 1.0), dtype=np.float64)


def _offset(z: FloatArray, q: float, method: CalibrationMethod, *, draws: int) -> float:
    """The ``q`` offset from scores ``z`` that come from ``draws`` independent origins."""
    if z.shape[0] == 0:
        return 0.0
    if method is CalibrationMethod.EMPIRICAL:
        return float(np.quantile(z, q))
    # Split conformal: symmetric band at coverage 1 - 2·min(q, 1-q), at the finite-sample
    # level ceil((n+1)(1-α))/n for n draws, read off all scores. Too few draws for the level
    # (ceil((n+1)(1-α)) ≥ n) would put every such band at the largest score; those keep
    # counting errors, as a handful of refitted origins always has.
    alpha = 2.0 * min(q, 1.0 - q)
    n = max(1, min(draws, z.shape[0]))
    if math.ceil((n + 1) * (1.0 - alpha)) >= n:
        n = z.shape[0]
    level = min(1.0, math.ceil((n + 1) * (1.0 - alpha)) / n)
    k = min(z.shape[0], max(1, math.ceil(level * z.shape[0] - 1e-9)))
    radius = float(np.partition(np.abs(z), k - 1)[k - 1])
    return -radius if q < 0.5 else radius


def _monotone(paths: dict[float, FloatArray], qs: Sequence[float]) -> dict[float, FloatArray]:
    stacked = np.sort(np.vstack([paths[q] for q in qs]), axis=0)
    return {q: stacked[i] for i, q in enumerate(qs)}


def coverage(actual: FloatArray, lower: FloatArray, upper: FloatArray) -> float:
    """Share of finite ``actual`` values inside ``[lower, upper]``."""
    ok = np.isfinite(actual) & np.isfinite(lower) & np.isfinite(upper)
    if not ok.any():
        return math.nan
    inside = (actual[ok] >= lower[ok]) & (actual[ok] <= upper[ok])
    return float(inside.mean())


__all__ = [
    "EWMA_LAMBDA",
    "CalibrationMethod",
    "ErrorSample",
    "calibrate",
    "check_quantiles",
    "coverage",
    "ewma_volatility",
    "parse_method",
    "rolling_errors",
]
