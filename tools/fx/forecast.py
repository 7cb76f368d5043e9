"""Forecast a rate pair or any validated series: transform, fit, calibrate, back-transform.

This is the one entry point the router, CLI, agent tools and benchmarks use. Rates are
modelled in logs with volatility-scaled empirical intervals; demand series in
``log1p`` with seasonal models and (optionally) a holiday effect.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cockpit.errors import ValidationFailed
from tools.fx.catalog import model_spec
from tools.fx.ecb import GapPolicy, Pair, RateTable, load_ecb, parse_pair
from tools.fx.intervals import (
    CalibrationMethod,
    ErrorSample,
    calibrate,
    check_quantiles,
    ewma_volatility,
    parse_method,
    rolling_errors,
)
from tools.fx.models import DEFAULT_QUANTILES, Forecaster, HolidayAdjusted
from tools.fx.periods import period_label
from tools.fx.selection import (
    AUTO,
    JOIN,
    Selection,
    build_choice,
    policy_for,
    select_model,
)
from tools.fx.series import TimeSeries, season_length_for

FloatArray = NDArray[np.float64]

#: Longest horizon accepted, in steps of the series (a year of business days / daily data).
MAX_HORIZON = 370
#: Steps forecast when the caller names none: about a month of daily data, a quarter of weeks,
#: a year of months, two years of quarters.
DEFAULT_HORIZONS = {"B": 22, "D": 28, "W": 13, "M": 12, "Q": 8}
#: Trailing observations used to fit a rate model (older history adds little and costs time).
RATE_HISTORY = 1500
#: Origins used to calibrate intervals: cheap models (closed-form errors) / refitted models.
CALIB_ORIGINS_CHEAP = 500
CALIB_ORIGINS_REFIT = 8


class Transform(StrEnum):
    LOG = "log"
    LOG1P = "log1p"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Forecast:
    """A forecast in the series' own units, with calibrated quantiles and the recent history."""

    name: str
    model: str
    freq: str
    dates: NDArray[np.datetime64]
    mean: FloatArray
    quantiles: dict[float, FloatArray]
    calibration: str
    calibration_errors: int
    """How many past errors the intervals were calibrated on (0 = model-native)."""
    history_dates: NDArray[np.datetime64]
    history_values: FloatArray
    notes: tuple[str, ...] = field(default=())
    selection: Selection | None = None
    """How ``auto`` chose the model (None when the caller named it)."""

    @property
    def horizon(self) -> int:
        return int(self.mean.shape[0])

    def interval(self, level: float) -> tuple[FloatArray, FloatArray]:
        """Lower and upper path of the central ``level`` interval (e.g. 0.8)."""
        lo, hi = round((1 - level) / 2, 6), round(1 - (1 - level) / 2, 6)
        if lo not in self.quantiles or hi not in self.quantiles:
            raise ValidationFailed(
                f"no {level:.0%} interval: quantiles {lo} and {hi} were not requested",
                code="interval_unavailable",
                param="quantiles",
            )
        return self.quantiles[lo], self.quantiles[hi]

    def to_dict(self, *, history: int = 0) -> dict[str, Any]:
        """JSON-ready shape (dates ISO, floats rounded to 8 significant digits)."""
        body: dict[str, Any] = {
            "series": self.name,
            "model": self.model,
            "freq": self.freq,
            "horizon": self.horizon,
            "calibration": self.calibration,
            "calibration_errors": self.calibration_errors,
            "last_date": _iso(self.history_dates[-1]),
            "last_value": _round(float(self.history_values[-1])),
            "points": [
                {
                    "date": _iso(d),
                    **self._period(d),
                    "mean": _round(float(self.mean[i])),
                    **{f"q{_qlabel(q)}": _round(float(v[i])) for q, v in self.quantiles.items()},
                }
                for i, d in enumerate(self.dates)
            ],
            "notes": list(self.notes),
        }
        if self.selection is not None:
            body["selection"] = self.selection.to_dict()
        if history:
            body["history"] = [
                {"date": _iso(d), **self._period(d), "value": _round(float(v))}
                for d, v in zip(
                    self.history_dates[-history:], self.history_values[-history:], strict=True
                )
            ]
        return body

    def _period(self, d: np.datetime64) -> dict[str, str]:
        """Quarterly and monthly points also carry their period label (``1981 Q1``)."""
        if self.freq not in ("Q", "M"):
            return {}
        return {"period": period_label(d.astype("datetime64[D]").astype(date), self.freq)}


def _qlabel(q: float) -> str:
    text = f"{q * 100:.6g}"
    return text.replace(".", "_")


def _iso(d: np.datetime64) -> str:
    return str(np.datetime_as_string(d, unit="D"))


def _round(x: float) -> float:
    return float(f"{x:.8g}") if math.isfinite(x) else x


def check_horizon(horizon: int, *, n_obs: int | None = None, max_horizon: int = MAX_HORIZON) -> int:
    """A positive horizon no longer than ``max_horizon`` (and than the history, if given)."""
    if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer):
        raise ValidationFailed(
            "horizon must be a whole number of steps", code="invalid_horizon", param="horizon"
        )
    if horizon <= 0:
        raise ValidationFailed(
            f"horizon must be ≥ 1, got {horizon}", code="invalid_horizon", param="horizon"
        )
    if horizon > max_horizon:
        raise ValidationFailed(
            f"horizon {horizon} is longer than the {max_horizon} steps we forecast",
            code="horizon_too_long",
            param="horizon",
        )
    if n_obs is not None and horizon > n_obs:
        raise ValidationFailed(
            f"horizon {horizon} is longer than the {n_obs} observations of history",
            code="horizon_too_long",
            param="horizon",
        )
    return int(horizon)


def _forward(values: FloatArray, transform: Transform, *, param: str) -> FloatArray:
    if transform is Transform.LOG:
        if np.any(values <= 0):
            raise ValidationFailed(
                "log transform needs positive values", code="non_positive_value", param=param
            )
        return np.log(values)
    if transform is Transform.LOG1P:
        if np.any(values < 0):
            raise ValidationFailed(
                "log1p transform needs non-negative values (net exposures: use transform=none)",
                code="negative_value",
                param=param,
            )
        return np.log1p(values)
    return values.astype(np.float64)


def _inverse(values: FloatArray, transform: Transform) -> FloatArray:
    if transform is Transform.LOG:
        return np.exp(values)
    if transform is Transform.LOG1P:
        return np.expm1(values)
    return values


def forecast_series(
    series: TimeSeries,
    *,
    horizon: int,
    model: str = AUTO,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    calibration: str = "conformal",
    transform: str = "log",
    season_length: int | None = None,
    scale_by_volatility: bool | None = None,
    holidays: Iterable[date] | None = None,
    max_history: int | None = None,
) -> Forecast:
    """Fit ``model`` on ``series`` and forecast ``horizon`` steps with calibrated quantiles."""
    try:
        tf = Transform(transform)
    except ValueError:
        raise ValidationFailed(
            f"unknown transform {transform!r}; use log, log1p or none",
            code="invalid_transform",
            param="transform",
        ) from None
    method = parse_method(calibration)
    qs = check_quantiles(quantiles)
    if model != AUTO:
        model_spec(model)  # an unknown name fails before any work
    m = season_length if season_length is not None else season_length_for(series.freq)
    values = series.values[-max_history:] if max_history else series.values
    dates = series.dates[-max_history:] if max_history else series.dates
    y = _forward(values, tf, param="series.values")
    h = check_horizon(horizon, n_obs=y.shape[0])
    future = series.future_dates(h)
    hol = {np.datetime64(d, "D") for d in holidays} if holidays is not None else None
    scaled = scale_by_volatility if scale_by_volatility is not None else tf is Transform.LOG
    vol = ewma_volatility(y) if scaled else np.ones_like(y)
    notes: list[str] = []
    selection: Selection | None = None
    chosen: Forecaster | None = None
    name = model
    if model == AUTO:
        selection, chosen, name, note = _select(y, horizon=h, season_length=m, scales=vol)
        notes.extend(note)

    def build_base() -> Forecaster:
        return build_choice(name, m)

    def build() -> Forecaster:
        base = build_base()
        if hol:
            return HolidayAdjusted(
                base,
                history_mask=np.isin(dates, list(hol)),
                future_mask=np.isin(future, list(hol)),
                season_length=m,
            )
        return base

    fitted = chosen if chosen is not None and not hol else build().fit(y)
    path = fitted.predict(h, quantiles=qs)
    cheap = all(model_spec(member).cheap for member in name.split(JOIN))
    sample_size = 0
    if method is CalibrationMethod.NATIVE:
        qpaths = calibrate(path.mean, _empty(h), qs, method=method, native=path.quantiles)
    else:
        if selection is not None and not hol and not cheap:
            # The errors auto scored this model on are the refits calibration would run again.
            sample = selection.sample
        else:
            # Holiday masks are aligned to the full history; refit-based errors would
            # need re-aligned masks per origin, so calibrate the base model's errors.
            sample = rolling_errors(
                build_base if hol else build,
                y,
                h,
                n_origins=CALIB_ORIGINS_CHEAP if cheap else CALIB_ORIGINS_REFIT,
                step=1 if cheap else max(1, h // 4),
                min_train=max(fitted.min_length, min(y.shape[0] // 2, 250)),
                scales=vol,
                fitted=None if hol else fitted,
            )
        sample_size = sample.size
        if sample_size == 0:
            notes.append("history too short to calibrate intervals; model-native quantiles used")
        qpaths = calibrate(
            path.mean, sample, qs, method=method, scale_now=float(vol[-1]), native=path.quantiles
        )
    return Forecast(
        name=series.name,
        model=path.model,
        freq=series.freq,
        dates=future,
        mean=_inverse(path.mean, tf),
        quantiles={q: _inverse(v, tf) for q, v in qpaths.items()},
        calibration=method.value if sample_size else CalibrationMethod.NATIVE.value,
        calibration_errors=sample_size,
        history_dates=dates,
        history_values=values,
        notes=tuple(notes),
        selection=selection,
    )


def _select(
    y: FloatArray, *, horizon: int, season_length: int, scales: FloatArray
) -> tuple[Selection | None, Forecaster | None, str, list[str]]:
    """``auto``'s choice; a history too short to compare models gets the benchmark, said so."""
    try:
        selection, fitted = select_model(
            y, horizon=horizon, season_length=season_length, scales=scales
        )
    except ValidationFailed as exc:
        if exc.code != "series_too_short":
            raise
        baseline = policy_for(season_length).baseline
        return None, None, baseline, [f"history too short to compare models; {baseline} used"]
    return selection, fitted, selection.model, []


def _empty(h: int) -> ErrorSample:
    return ErrorSample(np.empty((0, h)), np.empty(0))


def pair_series(
    pair: Pair | str,
    *,
    table: RateTable | None = None,
    as_of: date | None = None,
    start: date | None = None,
    gaps: GapPolicy | str = GapPolicy.DROP,
) -> tuple[TimeSeries, tuple[str, ...]]:
    """The pair's ECB history as a business-day :class:`TimeSeries` (and gap notes)."""
    tbl = table or load_ecb()
    p = parse_pair(pair) if isinstance(pair, str) else pair
    rs = tbl.cross(p, start=start, end=as_of, gaps=gaps)
    notes = list(rs.notes)
    if as_of is None and tbl.is_discontinued(p):
        raise ValidationFailed(
            f"{p} is no longer quoted by the ECB (last quote {rs.last_date}); pass as_of to study its history",
            code="currency_discontinued",
            param="pair",
        )
    return TimeSeries(name=str(p), dates=rs.dates, values=rs.values, freq="B"), tuple(notes)


def forecast_pair(
    pair: Pair | str,
    *,
    horizon: int,
    model: str = AUTO,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    calibration: str = "conformal",
    as_of: date | None = None,
    table: RateTable | None = None,
) -> Forecast:
    """Forecast an ECB cross rate ``horizon`` business days ahead (log space, calibrated)."""
    series, notes = pair_series(pair, table=table, as_of=as_of)
    fc = forecast_series(
        series,
        horizon=horizon,
        model=model,
        quantiles=quantiles,
        calibration=calibration,
        transform="log",
        season_length=1,
        max_history=RATE_HISTORY,
    )
    if not notes:
        return fc
    return replace(fc, notes=notes + fc.notes)


__all__ = [
    "DEFAULT_HORIZONS",
    "MAX_HORIZON",
    "RATE_HISTORY",
    "Forecast",
    "Transform",
    "check_horizon",
    "forecast_pair",
    "forecast_series",
    "pair_series",
]
