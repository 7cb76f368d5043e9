"""Forecasters behind one interface: ``fit(y)`` then ``predict(h, quantiles=...)``.

Every model works on a 1-D float array already in modelling space (log rates, log
volumes); dates, transforms and interval calibration live in :mod:`tools.fx.forecast`
and :mod:`tools.fx.intervals`. The driftless random walk is the benchmark every FX
claim is measured against; seasonal naive is the benchmark for demand series.

The statistical models come from ``statsforecast`` (compiled C++; the first call in a
process pays a one-off lazy load). Foundation models (Chronos, TimesFM, Falcon-TST)
plug in through :func:`tools.fx.catalog.register_model` — nothing here imports or
downloads them. Which model a name means is :mod:`tools.fx.catalog`'s job.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from cockpit.errors import ToolError, UserError, ValidationFailed

FloatArray = NDArray[np.float64]

#: Quantiles every forecast carries unless asked otherwise (10/50/90 and 5/95).
DEFAULT_QUANTILES: tuple[float, ...] = (0.05, 0.1, 0.5, 0.9, 0.95)


@dataclass(frozen=True, slots=True)
class ForecastPath:
    """A model's forecast for steps 1..h in modelling space."""

    model: str
    mean: FloatArray
    """Point forecast per step."""
    quantiles: dict[float, FloatArray] = field(default_factory=dict)
    """Quantile level → values per step (the model's own, before calibration)."""


@runtime_checkable
class Forecaster(Protocol):
    """What every backend implements."""

    name: str
    min_length: int

    def fit(self, y: FloatArray) -> Forecaster:
        """Learn from ``y`` (oldest first); return self."""
        ...

    def predict(self, h: int, *, quantiles: Sequence[float] = DEFAULT_QUANTILES) -> ForecastPath:
        """Forecast steps 1..h with the model's own quantiles."""
        ...


class FastErrors(Protocol):
    """Optional: models whose past h-step errors have a closed form (no refitting)."""

    def horizon_errors(self, y: FloatArray, h: int, origins: NDArray[np.intp]) -> FloatArray:
        """Errors ``y[t+k] - forecast_from_t(k)`` for each origin t (rows) and k=1..h (columns)."""
        ...


class ReusedFitErrors(Protocol):
    """Optional: fitted models that re-run their estimated parameters from past origins.

    Calibrating a model whose parameters are estimated (ETS, Theta, ARIMA) by refitting it
    at every past origin costs one full estimation per origin; re-applying the parameters
    estimated once costs one filter pass each. States are filtered on data up to the origin
    only; the parameters themselves were estimated on the whole fitted window.
    """

    def past_errors(self, y: FloatArray, h: int, origins: NDArray[np.intp]) -> FloatArray | None:
        """Errors from each origin (rows; NaN where not computable), or None if unsupported.

        ``y`` is the series this model was last fitted on.
        """
        ...


def _check_fit_input(y: FloatArray, *, name: str, min_length: int) -> FloatArray:
    arr = np.asarray(y, dtype=np.float64)
    if arr.ndim != 1:
        raise ValidationFailed(
            "series must be one-dimensional", code="invalid_series", param="series"
        )
    if arr.shape[0] < min_length:
        raise ValidationFailed(
            f"model {name!r} needs at least {min_length} observations, got {arr.shape[0]}",
            code="series_too_short",
            param="series",
        )
    if not np.all(np.isfinite(arr)):
        raise ValidationFailed(
            "series contains NaN or infinite values", code="missing_value", param="series"
        )
    return arr


def _gaussian_quantiles(
    mean: FloatArray, sd: FloatArray, quantiles: Sequence[float]
) -> dict[float, FloatArray]:
    from scipy.stats import norm

    return {float(q): mean + float(norm.ppf(q)) * sd for q in quantiles}


class RandomWalk:
    """Driftless random walk: tomorrow equals today (the FX benchmark)."""

    min_length = 3

    def __init__(self, *, vol_window: int = 250) -> None:
        self.name = "rw"
        self.vol_window = vol_window
        self._last = math.nan
        self._sd = math.nan

    def fit(self, y: FloatArray) -> RandomWalk:
        arr = _check_fit_input(y, name=self.name, min_length=self.min_length)
        self._last = float(arr[-1])
        self._sd = float(np.std(np.diff(arr[-self.vol_window - 1 :]), ddof=1))
        return self

    def predict(self, h: int, *, quantiles: Sequence[float] = DEFAULT_QUANTILES) -> ForecastPath:
        mean = np.full(h, self._last)
        sd = self._sd * np.sqrt(np.arange(1, h + 1))
        return ForecastPath(self.name, mean, _gaussian_quantiles(mean, sd, quantiles))

    def horizon_errors(self, y: FloatArray, h: int, origins: NDArray[np.intp]) -> FloatArray:
        return _shifted(y, origins, h) - y[origins][:, None]


class Drift:
    """Random walk with the average step of a trailing window added per step."""

    min_length = 3

    def __init__(self, *, window: int = 250) -> None:
        self.name = "drift"
        self.window = window
        self._last = math.nan
        self._slope = 0.0
        self._sd = math.nan

    def fit(self, y: FloatArray) -> Drift:
        arr = _check_fit_input(y, name=self.name, min_length=self.min_length)
        steps = np.diff(arr[-self.window - 1 :])
        self._last = float(arr[-1])
        self._slope = float(steps.mean())
        self._sd = float(steps.std(ddof=1))
        return self

    def predict(self, h: int, *, quantiles: Sequence[float] = DEFAULT_QUANTILES) -> ForecastPath:
        k = np.arange(1, h + 1, dtype=np.float64)
        mean = self._last + self._slope * k
        return ForecastPath(
            self.name, mean, _gaussian_quantiles(mean, self._sd * np.sqrt(k), quantiles)
        )

    def horizon_errors(self, y: FloatArray, h: int, origins: NDArray[np.intp]) -> FloatArray:
        # Slope at origin t = (y[t] - y[t-w]) / w with w = min(window, t): no look-ahead.
        w = np.minimum(self.window, origins).astype(np.float64)
        w[w == 0] = 1.0
        start = origins - w.astype(np.intp)
        slope = (y[origins] - y[start]) / w
        k = np.arange(1, h + 1, dtype=np.float64)
        forecast = y[origins][:, None] + slope[:, None] * k[None, :]
        return _shifted(y, origins, h) - forecast


class SeasonalNaive:
    """Each step repeats the value one season earlier (the demand benchmark)."""

    def __init__(self, season_length: int = 7) -> None:
        if season_length < 1:
            raise ValidationFailed(
                "season_length must be ≥ 1", code="invalid_season", param="season_length"
            )
        self.name = "snaive"
        self.m = season_length
        self.min_length = max(3, season_length + 2)
        self._tail: FloatArray = np.empty(0)
        self._sd = math.nan

    def fit(self, y: FloatArray) -> SeasonalNaive:
        arr = _check_fit_input(y, name=self.name, min_length=self.min_length)
        self._tail = arr[-self.m :].copy()
        diffs = arr[self.m :] - arr[: -self.m]
        self._sd = float(diffs.std(ddof=1)) if diffs.shape[0] > 1 else 0.0
        return self

    def predict(self, h: int, *, quantiles: Sequence[float] = DEFAULT_QUANTILES) -> ForecastPath:
        k = np.arange(h)
        mean = self._tail[k % self.m]
        seasons = np.floor(k / self.m) + 1
        return ForecastPath(
            self.name, mean, _gaussian_quantiles(mean, self._sd * np.sqrt(seasons), quantiles)
        )

    def horizon_errors(self, y: FloatArray, h: int, origins: NDArray[np.intp]) -> FloatArray:
        k = np.arange(h)
        src = origins[:, None] - self.m + 1 + (k[None, :] % self.m)
        src = np.clip(src, 0, y.shape[0] - 1)
        return np.asarray(_shifted(y, origins, h) - y[src], dtype=np.float64)


def _shifted(y: FloatArray, origins: NDArray[np.intp], h: int) -> FloatArray:
    """Matrix of y[t+k] for k=1..h (NaN past the end of ``y``)."""
    idx = origins[:, None] + np.arange(1, h + 1)[None, :]
    out = np.full(idx.shape, np.nan)
    ok = idx < y.shape[0]
    out[ok] = y[idx[ok]]
    return out


class StatsForecastModel:
    """Adapter for a ``statsforecast`` model (AutoETS, Theta, AutoARIMA, MSTL ...)."""

    def __init__(
        self,
        name: str,
        factory: Callable[[int], Any],
        *,
        min_length: int = 20,
        window: int | None = 750,
        reuse_fit: bool = False,
    ) -> None:
        self.name = name
        self.factory = factory
        self.min_length = min_length
        self.window = window
        self.reuse_fit = reuse_fit
        """Whether calibration may re-apply the estimate (``past_errors``) instead of refitting."""
        self._y: FloatArray = np.empty(0)
        self._offset = 0
        """Index in the series given to ``fit`` where the fitted window starts."""
        self._estimated: Any = None
        """The statsforecast model estimated on ``_y`` (lazily, on the first predict)."""

    def fit(self, y: FloatArray) -> StatsForecastModel:
        arr = _check_fit_input(y, name=self.name, min_length=self.min_length)
        self._y = arr[-self.window :] if self.window else arr
        self._offset = arr.shape[0] - self._y.shape[0]
        self._estimated = None
        return self

    def _estimate(self) -> Any:
        if self._y.shape[0] == 0:
            raise ToolError(f"model {self.name!r} was not fitted", code="model_not_fitted")
        if self._estimated is None:
            model = self.factory(self._y.shape[0])
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    model.fit(self._y)
            except Exception as exc:
                raise _model_failed(self.name, exc) from exc
            self._estimated = model
        return self._estimated

    def predict(self, h: int, *, quantiles: Sequence[float] = DEFAULT_QUANTILES) -> ForecastPath:
        levels = sorted({_level(q) for q in quantiles if abs(q - 0.5) > 1e-9})
        model = self._estimate()
        try:
            # Same numbers as the library's one-shot `forecast`; the estimate is kept so
            # calibration can re-apply it from past origins (past_errors) without refitting.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                raw = model.predict(h=h, level=levels or None)
        except Exception as exc:
            raise _model_failed(self.name, exc) from exc
        mean = np.asarray(raw["mean"], dtype=np.float64)
        if not np.all(np.isfinite(mean)):
            raise ToolError(
                f"model {self.name!r} produced no finite forecast",
                code="model_failed",
                param="model",
            )
        out: dict[float, FloatArray] = {}
        for q in quantiles:
            if abs(q - 0.5) <= 1e-9:
                out[float(q)] = mean
                continue
            key = f"{'lo' if q < 0.5 else 'hi'}-{_level(q)}"
            vals = raw.get(key)
            out[float(q)] = np.asarray(vals, dtype=np.float64) if vals is not None else mean
        return ForecastPath(self.name, mean, out)

    def past_errors(self, y: FloatArray, h: int, origins: NDArray[np.intp]) -> FloatArray | None:
        """Errors of the estimated model re-applied (``forward``) to ``y`` up to each origin.

        Every prefix starts where the fitted window starts, so the estimated initial
        states line up; origins too early for ``min_length`` get a NaN row.
        """
        if not self.reuse_fit:
            return None
        arr = np.asarray(y, dtype=np.float64)
        start = self._offset
        if arr.shape[0] != start + self._y.shape[0] or not np.array_equal(arr[start:], self._y):
            return None
        model = self._estimate()
        errors = np.full((origins.shape[0], h), np.nan)
        for row, t in enumerate(origins):
            if int(t) - start + 1 < self.min_length or int(t) >= arr.shape[0] - 1:
                continue
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    raw = model.forward(y=arr[start : int(t) + 1], h=h)
            except Exception:
                # One origin the filter cannot run from leaves fewer errors, not a failure.
                continue
            mean = np.asarray(raw["mean"], dtype=np.float64)
            avail = min(h, arr.shape[0] - 1 - int(t))
            errors[row, :avail] = arr[int(t) + 1 : int(t) + 1 + avail] - mean[:avail]
        return errors


def _model_failed(name: str, exc: Exception) -> ToolError:
    return ToolError(
        f"model {name!r} failed to fit this series: {type(exc).__name__}",
        code="model_failed",
        param="model",
    )


def _level(q: float) -> int:
    return round(100 * abs(1 - 2 * q))


class Ensemble:
    """Equal-weight combination of member forecasts (points and quantiles): their mean at each
    step, or with ``combine="median"`` their median (one member far off does not move it)."""

    def __init__(
        self,
        members: Sequence[Forecaster],
        *,
        name: str = "ensemble",
        combine: Literal["mean", "median"] = "mean",
    ) -> None:
        if not members:
            raise UserError("an ensemble needs at least one member", code="empty_ensemble")
        self.name = name
        self.members = list(members)
        self.min_length = max(m.min_length for m in members)
        self._combine = np.median if combine == "median" else np.mean

    def fit(self, y: FloatArray) -> Ensemble:
        _check_fit_input(y, name=self.name, min_length=self.min_length)
        for m in self.members:
            m.fit(y)
        return self

    def predict(self, h: int, *, quantiles: Sequence[float] = DEFAULT_QUANTILES) -> ForecastPath:
        paths = [m.predict(h, quantiles=quantiles) for m in self.members]
        mean = self._combine([p.mean for p in paths], axis=0)
        qs = {
            float(q): self._combine([p.quantiles[float(q)] for p in paths], axis=0)
            for q in quantiles
        }
        return ForecastPath(self.name, mean, qs)

    def past_errors(self, y: FloatArray, h: int, origins: NDArray[np.intp]) -> FloatArray | None:
        """The combination of the members' re-applied errors, if all have them: ``y - mean(f)``
        is ``mean(y - f)`` and ``y - median(f)`` is ``median(y - f)``, so nothing is refitted."""
        parts: list[FloatArray] = []
        for m in self.members:
            reuse = getattr(m, "past_errors", None)
            part = reuse(y, h, origins) if callable(reuse) else None
            if part is None:
                return None
            parts.append(np.asarray(part, dtype=np.float64))
        return np.asarray(self._combine(np.stack(parts), axis=0), dtype=np.float64)


def median_errors(parts: Sequence[FloatArray]) -> FloatArray:
    """A median combination's errors from its members' errors on the same origins."""
    return np.asarray(np.median(np.stack(parts), axis=0), dtype=np.float64)


class HolidayAdjusted:
    """Wraps a seasonal model: learns an additive holiday effect and re-applies it to future holidays.

    In log space the effect is multiplicative on volumes. Holiday observations are
    replaced by the value one season earlier before the base model sees them, so a
    one-off spike does not leak into the level or the seasonal pattern.
    """

    def __init__(
        self,
        base: Forecaster,
        *,
        history_mask: NDArray[np.bool_],
        future_mask: NDArray[np.bool_],
        season_length: int,
    ) -> None:
        self.base = base
        self.name = f"{base.name}+holidays"
        self.min_length = base.min_length
        self.history_mask = np.asarray(history_mask, dtype=bool)
        self.future_mask = np.asarray(future_mask, dtype=bool)
        self.m = max(1, season_length)
        self.effect = 0.0

    def fit(self, y: FloatArray) -> HolidayAdjusted:
        arr = _check_fit_input(y, name=self.name, min_length=self.min_length)
        mask = (
            self.history_mask[-arr.shape[0] :]
            if self.history_mask.shape[0] >= arr.shape[0]
            else None
        )
        if mask is None:
            raise ValidationFailed(
                "holiday mask shorter than the series", code="invalid_holidays", param="holidays"
            )
        cleaned = arr.copy()
        diffs: list[float] = []
        for i in np.flatnonzero(mask):
            j = i - self.m
            while j >= 0 and mask[j]:
                j -= self.m
            if j < 0:
                continue
            diffs.append(float(arr[i] - arr[j]))
            cleaned[i] = arr[j]
        self.effect = float(np.median(diffs)) if diffs else 0.0
        self.base.fit(cleaned)
        return self

    def predict(self, h: int, *, quantiles: Sequence[float] = DEFAULT_QUANTILES) -> ForecastPath:
        path = self.base.predict(h, quantiles=quantiles)
        if self.future_mask.shape[0] < h:
            raise ValidationFailed(
                "holiday mask shorter than the horizon", code="invalid_holidays", param="holidays"
            )
        bump = np.where(self.future_mask[:h], self.effect, 0.0)
        return ForecastPath(
            self.name, path.mean + bump, {q: v + bump for q, v in path.quantiles.items()}
        )


class PluginForecaster:
    """Adapter for an external (e.g. foundation) model given as a predict function.

    ``predict_fn(context, h, quantiles)`` returns ``{"mean": [...], quantile: [...], ...}``;
    the plug-in is responsible for loading its own weights from local files.
    """

    def __init__(
        self,
        name: str,
        predict_fn: Callable[[FloatArray, int, Sequence[float]], dict[Any, Any]],
        *,
        min_length: int = 16,
        context_length: int = 512,
    ) -> None:
        self.name = name
        self.predict_fn = predict_fn
        self.min_length = min_length
        self.context_length = context_length
        self._y: FloatArray = np.empty(0)

    def fit(self, y: FloatArray) -> PluginForecaster:
        arr = _check_fit_input(y, name=self.name, min_length=self.min_length)
        self._y = arr[-self.context_length :]
        return self

    def predict(self, h: int, *, quantiles: Sequence[float] = DEFAULT_QUANTILES) -> ForecastPath:
        try:
            raw = self.predict_fn(self._y, h, tuple(quantiles))
            mean = np.asarray(raw["mean"], dtype=np.float64)
            qs = {
                float(q): np.asarray(raw.get(q, raw.get(float(q), mean)), dtype=np.float64)
                for q in quantiles
            }
        except Exception as exc:
            raise ToolError(
                f"plug-in model {self.name!r} failed: {type(exc).__name__}",
                code="model_failed",
                param="model",
            ) from exc
        if mean.shape != (h,) or any(v.shape != (h,) for v in qs.values()):
            raise ToolError(
                f"plug-in model {self.name!r} returned the wrong shape",
                code="model_failed",
                param="model",
            )
        return ForecastPath(self.name, mean, qs)


__all__ = [
    "DEFAULT_QUANTILES",
    "Drift",
    "Ensemble",
    "ForecastPath",
    "Forecaster",
    "HolidayAdjusted",
    "PluginForecaster",
    "RandomWalk",
    "ReusedFitErrors",
    "SeasonalNaive",
    "StatsForecastModel",
    "median_errors",
]
