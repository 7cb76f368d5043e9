"""Rolling-origin backtests: every model refit at each origin on data up to that origin only.

Intervals in the backtest are calibrated the way production does it — on the model's
own errors from *earlier* origins whose outcomes were already known (rolling
calibration); a burn-in of origins before the evaluation window only feeds that
calibration. Metrics per model and horizon: MAE, RMSE, MASE, RMSE/MAE ratio to the
benchmark (random walk for rates, seasonal naive for demand), directional accuracy with
Pesaran–Timmermann, 80/90% coverage, and Diebold–Mariano against the benchmark.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cockpit.errors import ValidationFailed
from tools.fx.intervals import (
    CalibrationMethod,
    ErrorSample,
    calibrate,
    ewma_volatility,
    parse_method,
)
from tools.fx.metrics import (
    diebold_mariano,
    directional_accuracy,
    mae,
    mase,
    naive_scale,
    pesaran_timmermann,
    rmse,
)
from tools.fx.models import Forecaster

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class BacktestConfig:
    """How a rolling-origin backtest is laid out."""

    horizons: tuple[int, ...] = (1, 5, 22)
    """Steps ahead to score (business days for rates)."""
    eval_origins: int = 156
    """Origins scored (156 × step 5 ≈ the last three years of business days)."""
    step: int = 5
    """Business days between origins."""
    burn_in: int = 52
    """Earlier origins used only to calibrate intervals."""
    window: int = 750
    """Trailing observations each refit sees."""
    baseline: str = "rw"
    """Model every other is compared with (must be among the models)."""
    season_length: int = 1
    """Seasonal lag of the MASE scale (1 for rates)."""
    scale_window: int = 250
    """Trailing observations in the MASE scale."""
    calibration: str = "conformal"
    scale_by_volatility: bool = True
    levels: tuple[float, ...] = (0.8, 0.9)
    calib_max: int = 250
    """Most recent resolved origins used for each calibration."""
    min_per_step: int = 60
    significance: float = 0.05


@dataclass(frozen=True, slots=True)
class MetricRow:
    """One model at one horizon."""

    series: str
    model: str
    horizon: int
    n: int
    mae: float
    rmse: float
    mase: float
    rmse_ratio: float
    """RMSE / benchmark RMSE at the same horizon (Theil's U2); < 1 is better."""
    mae_ratio: float
    directional_accuracy: float | None
    pt_p_value: float | None
    coverage: dict[str, float]
    """Nominal level (\"80\", \"90\") → share of outcomes inside the interval."""
    dm_stat: float | None
    dm_p_value: float | None
    dm_p_better: float | None
    beats_baseline: bool
    """True only when RMSE ratio < 1 and the one-sided DM p-value < the significance level."""

    def to_dict(self) -> dict[str, Any]:
        return {k: _clean(v) for k, v in asdict(self).items()}


def _clean(v: Any) -> Any:
    if isinstance(v, float):
        return None if not math.isfinite(v) else round(v, 6)
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    return v


@dataclass(frozen=True, slots=True)
class BacktestResult:
    series: str
    config: BacktestConfig
    rows: list[MetricRow]
    origins: NDArray[np.intp]
    """Indices of the scored origins in the series."""
    errors: dict[str, FloatArray] = field(repr=False)
    """Model → (scored origins × max horizon) errors in modelling space."""
    hits: dict[str, dict[str, NDArray[np.bool_]]] = field(repr=False)
    """Model → level → (scored origins × max horizon) inside-interval flags."""

    def row(self, model: str, horizon: int) -> MetricRow:
        for r in self.rows:
            if r.model == model and r.horizon == horizon:
                return r
        raise KeyError((model, horizon))

    def to_dict(self) -> dict[str, Any]:
        return {"series": self.series, "rows": [r.to_dict() for r in self.rows]}


def origins_for(n: int, config: BacktestConfig, *, min_train: int) -> NDArray[np.intp]:
    """Origin indices (burn-in first), the last one leaving room for the longest horizon."""
    h_max = max(config.horizons)
    total = config.burn_in + config.eval_origins
    last = n - 1 - h_max
    origins = last - config.step * np.arange(total)[::-1]
    origins = origins[origins >= min_train - 1]
    if origins.shape[0] < config.burn_in + 10:
        raise ValidationFailed(
            f"series of {n} observations is too short for this backtest "
            f"({total} origins every {config.step} steps, horizon {h_max}, {min_train} to train)",
            code="series_too_short",
            param="series",
        )
    return origins.astype(np.intp)


def rolling_backtest(
    y: FloatArray,
    models: Mapping[str, Callable[[], Forecaster]],
    *,
    config: BacktestConfig | None = None,
    name: str = "series",
    min_train: int | None = None,
    combos: Mapping[str, Sequence[str]] | None = None,
) -> BacktestResult:
    """Refit each model at every origin and score it (``y`` already in modelling space).

    ``combos`` names equal-weight averages of other models (e.g. an ensemble), scored too.
    """
    cfg = config or BacktestConfig()
    if cfg.baseline not in models:
        raise ValidationFailed(
            f"baseline {cfg.baseline!r} is not among the models",
            code="invalid_baseline",
            param="baseline",
        )
    if any(h < 1 for h in cfg.horizons):
        raise ValidationFailed("horizons must be ≥ 1", code="invalid_horizon", param="horizons")
    method = parse_method(cfg.calibration)
    y = np.asarray(y, dtype=np.float64)
    if not np.all(np.isfinite(y)):
        raise ValidationFailed(
            "series contains NaN or infinite values", code="missing_value", param="series"
        )
    h_max = max(cfg.horizons)
    train_min = min_train or max(30, 2 * cfg.season_length + 2)
    origins = origins_for(y.shape[0], cfg, min_train=train_min)
    vol = ewma_volatility(y) if cfg.scale_by_volatility else np.ones_like(y)
    actual = y[origins[:, None] + np.arange(1, h_max + 1)[None, :]]
    level_now = y[origins]
    n_eval = origins.shape[0] - cfg.burn_in if origins.shape[0] > cfg.burn_in else 0
    scored = np.arange(origins.shape[0] - n_eval, origins.shape[0])
    scales = np.array(
        [
            naive_scale(y, int(t), m=cfg.season_length, window=cfg.scale_window)
            for t in origins[scored]
        ]
    )
    quantiles = sorted(
        {round((1 - lv) / 2, 6) for lv in cfg.levels}
        | {round(1 - (1 - lv) / 2, 6) for lv in cfg.levels}
    )
    errors: dict[str, FloatArray] = {}
    hits: dict[str, dict[str, NDArray[np.bool_]]] = {}
    points: dict[str, FloatArray] = {}
    preds: dict[str, FloatArray] = {}
    for mname, build in models.items():
        pred = np.empty((origins.shape[0], h_max))
        for i, t in enumerate(origins):
            lo = max(0, int(t) + 1 - cfg.window)
            pred[i] = build().fit(y[lo : int(t) + 1]).predict(h_max, quantiles=(0.5,)).mean
        preds[mname] = pred
    for cname, members in (combos or {}).items():
        missing = [m for m in members if m not in preds]
        if missing or not members:
            raise ValidationFailed(
                f"combination {cname!r} needs models {missing or members}",
                code="invalid_combo",
                param="combos",
            )
        # Same numbers as refitting an Ensemble, without fitting the members twice.
        preds[cname] = np.mean([preds[m] for m in members], axis=0)
    for mname, pred in preds.items():
        err = actual - pred
        errors[mname] = err[scored]
        points[mname] = pred[scored]
        hits[mname] = _interval_hits(
            pred, err, actual, origins, vol, scored, quantiles, cfg, method
        )
    rows: list[MetricRow] = []
    base_err = errors[cfg.baseline]
    for mname in preds:
        e_all = errors[mname]
        for h in cfg.horizons:
            e = e_all[:, h - 1]
            eb = base_err[:, h - 1]
            pred_change = points[mname][:, h - 1] - level_now[scored]
            act_change = actual[scored, h - 1] - level_now[scored]
            da, n_da = directional_accuracy(pred_change, act_change)
            pt = pesaran_timmermann(pred_change, act_change) if n_da else math.nan
            is_base = mname == cfg.baseline
            dm = (
                None
                if is_base
                else diebold_mariano(e, eb, lags=max(0, math.ceil(h / cfg.step) - 1))
            )
            ratio = rmse(e) / rmse(eb) if rmse(eb) > 0 else math.nan
            cov = {
                f"{lv * 100:.0f}": float(hits[mname][f"{lv * 100:.0f}"][:, h - 1].mean())
                for lv in cfg.levels
            }
            rows.append(
                MetricRow(
                    series=name,
                    model=mname,
                    horizon=h,
                    n=int(np.isfinite(e).sum()),
                    mae=mae(e),
                    rmse=rmse(e),
                    mase=mase(e, scales),
                    rmse_ratio=ratio,
                    mae_ratio=mae(e) / mae(eb) if mae(eb) > 0 else math.nan,
                    directional_accuracy=None if not n_da else da,
                    pt_p_value=None if not n_da else pt,
                    coverage=cov,
                    dm_stat=None if dm is None else dm.statistic,
                    dm_p_value=None if dm is None else dm.p_value,
                    dm_p_better=None if dm is None else dm.p_better,
                    beats_baseline=bool(
                        dm is not None
                        and ratio < 1.0
                        and math.isfinite(dm.p_better)
                        and dm.p_better < cfg.significance
                    ),
                )
            )
    return BacktestResult(
        series=name, config=cfg, rows=rows, origins=origins[scored], errors=errors, hits=hits
    )


def _interval_hits(
    pred: FloatArray,
    err: FloatArray,
    actual: FloatArray,
    origins: NDArray[np.intp],
    vol: FloatArray,
    scored: NDArray[np.intp],
    quantiles: Sequence[float],
    cfg: BacktestConfig,
    method: CalibrationMethod,
) -> dict[str, NDArray[np.bool_]]:
    h_max = pred.shape[1]
    out = {f"{lv * 100:.0f}": np.zeros((scored.shape[0], h_max), dtype=bool) for lv in cfg.levels}
    for row, i in enumerate(scored):
        t = origins[i]
        # Only origins whose whole path was realised by t: no look-ahead.
        known = np.flatnonzero(origins[:i] + h_max <= t)[-cfg.calib_max :]
        sample = ErrorSample(err[known], vol[origins[known]])
        qp = calibrate(
            pred[i],
            sample,
            quantiles,
            method=method,
            scale_now=float(vol[t]),
            min_per_step=cfg.min_per_step,
        )
        for lv in cfg.levels:
            lo_q, hi_q = round((1 - lv) / 2, 6), round(1 - (1 - lv) / 2, 6)
            a = actual[i]
            out[f"{lv * 100:.0f}"][row] = (a >= qp[lo_q]) & (a <= qp[hi_q])
    return out


__all__ = ["BacktestConfig", "BacktestResult", "MetricRow", "origins_for", "rolling_backtest"]
