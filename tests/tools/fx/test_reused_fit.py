"""Calibration that re-applies a model's estimate from past origins instead of refitting it.

The estimate is made once (``fit`` then ``predict``); ``past_errors`` runs the same
parameters forward from each origin. The forecast itself must be the library's one-shot
``forecast``, and the past errors must stay close to what refitting at each origin gives.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from tools.fx import make_model, make_series, rolling_errors
from tools.fx.forecast import forecast_series
from tools.fx.models import Ensemble, RandomWalk, StatsForecastModel

H = 10


def _walk(n: int = 320, seed: int = 4) -> np.ndarray:
    """A log rate: a driftless walk (a borderline drift can flip ETS's trend selection)."""
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.normal(0.0, 0.006, n)) + 3.5


def _origins(y: np.ndarray) -> np.ndarray:
    return np.arange(y.shape[0] - 2, y.shape[0] - 40, -4)[::-1].astype(np.intp)


def _library(name: str) -> Callable[[], Any]:
    from statsforecast.models import AutoETS, Theta

    return {"ets": lambda: AutoETS(season_length=1), "theta": lambda: Theta(season_length=1)}[name]


@pytest.mark.parametrize("name", ["ets", "theta"])
def test_prediction_is_the_library_one_shot_forecast(name: str) -> None:
    y = _walk()
    path = make_model(name).fit(y).predict(H, quantiles=(0.05, 0.1, 0.5, 0.9, 0.95))
    raw = _library(name)().forecast(y=y, h=H, level=[80, 90])
    np.testing.assert_array_equal(path.mean, raw["mean"])
    np.testing.assert_array_equal(path.quantiles[0.05], raw["lo-90"])
    np.testing.assert_array_equal(path.quantiles[0.9], raw["hi-80"])


@pytest.mark.parametrize("name", ["ets", "theta"])
def test_reused_estimate_errors_match_refitting(name: str) -> None:
    y = _walk()
    origins = _origins(y)
    fitted = make_model(name).fit(y)
    fitted.predict(H)
    reused = fitted.past_errors(y, H, origins)  # type: ignore[attr-defined]
    assert reused is not None and reused.shape == (origins.shape[0], H)
    for row, t in enumerate(origins):
        path = make_model(name).fit(y[: t + 1]).predict(H, quantiles=(0.5,))
        avail = min(H, y.shape[0] - 1 - int(t))
        refit = y[t + 1 : t + 1 + avail] - path.mean[:avail]
        # Same model family, parameters estimated on a slightly longer window.
        np.testing.assert_allclose(reused[row, :avail], refit, atol=2e-3)
        assert np.all(np.isnan(reused[row, avail:]))


def test_rolling_errors_keep_the_origins_of_refitting() -> None:
    y = _walk()
    fitted = make_model("ets").fit(y)

    def kwargs() -> dict[str, Any]:
        return {"n_origins": 6, "step": 3, "min_train": 200}

    refit = rolling_errors(lambda: make_model("ets"), y, H, **kwargs())
    reused = rolling_errors(lambda: make_model("ets"), y, H, fitted=fitted, **kwargs())
    assert reused.errors.shape == refit.errors.shape
    assert reused.size == refit.size
    np.testing.assert_array_equal(np.isnan(reused.errors), np.isnan(refit.errors))


def test_no_reuse_on_another_series_or_when_not_enabled() -> None:
    y = _walk()
    fitted = make_model("ets").fit(y)
    assert fitted.past_errors(y[:-1], H, _origins(y[:-1])) is None  # type: ignore[attr-defined]
    changed = y.copy()
    changed[-5] += 0.01
    assert fitted.past_errors(changed, H, _origins(y)) is None  # type: ignore[attr-defined]
    plain = StatsForecastModel("ets", lambda n: _library("ets")()).fit(y)
    assert plain.past_errors(y, H, _origins(y)) is None


def test_origins_before_the_fitted_window_get_no_errors() -> None:
    y = _walk(400)
    model = StatsForecastModel("ets", lambda n: _library("ets")(), window=300, reuse_fit=True)
    model.fit(y)
    origins = np.array([50, 110, 390], dtype=np.intp)  # the window starts at 100
    errors = model.past_errors(y, H, origins)
    assert errors is not None
    assert np.all(np.isnan(errors[:2])) and np.all(np.isfinite(errors[2, :9]))


def test_ensemble_reuses_only_when_every_member_can() -> None:
    y = _walk()
    origins = _origins(y)
    ets, theta = make_model("ets"), make_model("theta")
    both = Ensemble([ets, theta]).fit(y)
    errors = both.past_errors(y, H, origins)
    members = [m.past_errors(y, H, origins) for m in (ets, theta)]  # type: ignore[attr-defined]
    assert errors is not None
    np.testing.assert_allclose(errors, (members[0] + members[1]) / 2)
    assert Ensemble([make_model("ets"), RandomWalk()]).fit(y).past_errors(y, H, origins) is None


def test_forecast_calibrates_ets_on_reused_errors() -> None:
    values = np.exp(_walk(600))
    dates = np.arange(np.datetime64("2022-01-03"), np.datetime64("2025-01-01"))
    dates = dates[np.is_busday(dates)][: values.shape[0]]
    series = make_series(list(dates.astype(object)), values, name="walk", freq="B")
    fc = forecast_series(series, horizon=20, model="ets", season_length=1)
    assert fc.calibration == "conformal" and fc.calibration_errors > 100
    lo, hi = fc.interval(0.9)
    assert np.all(lo < fc.mean) and np.all(fc.mean < hi)
