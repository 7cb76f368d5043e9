"""Every forecaster honours the same interface; closed-form errors match refitting."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from cockpit.errors import UserError, ValidationFailed
from tools.fx import (
    ModelSpec,
    PluginForecaster,
    make_model,
    model_names,
    register_model,
    unregister_model,
)
from tools.fx.models import Drift, Ensemble, Forecaster, HolidayAdjusted, RandomWalk, SeasonalNaive

QS = (0.05, 0.1, 0.5, 0.9, 0.95)


def _walk(n: int = 120, seed: int = 3) -> np.ndarray:
    return np.cumsum(np.random.default_rng(seed).normal(0, 0.01, n)) + 4.0


@pytest.mark.parametrize(
    "name",
    [
        "rw",
        "drift",
        "snaive",
        "ets",
        "theta",
        "arima",
        "ets_season",
        "ets_theta",
        "ensemble",
        "ets_damped",
        "dotm",
        "ces",
        "trend_median",
        "ces_median",
    ],
)
def test_every_model_meets_the_interface(name: str) -> None:
    y = _walk()
    model = make_model(name, season_length=1 if name != "snaive" else 5)
    assert isinstance(model, Forecaster)
    path = model.fit(y).predict(7, quantiles=QS)
    assert path.mean.shape == (7,) and np.all(np.isfinite(path.mean))
    assert set(path.quantiles) == set(QS)
    assert np.all(path.quantiles[0.05] <= path.quantiles[0.95] + 1e-12)
    # A near-random-walk series: no model should wander far from the last value in a week.
    assert np.all(np.abs(path.mean - y[-1]) < 0.1)


@pytest.mark.parametrize("model", [RandomWalk(), Drift(window=30), SeasonalNaive(5)])
def test_closed_form_errors_equal_refit_errors(model: RandomWalk | Drift | SeasonalNaive) -> None:
    y = _walk(80)
    origins = np.array([20, 35, 50, 70, 77], dtype=np.intp)
    fast = model.horizon_errors(y, 6, origins)
    for row, t in enumerate(origins):
        path = type(model)(**_kwargs(model)).fit(y[: t + 1]).predict(6, quantiles=(0.5,))
        avail = min(6, y.shape[0] - 1 - t)
        np.testing.assert_allclose(
            fast[row, :avail], y[t + 1 : t + 1 + avail] - path.mean[:avail], atol=1e-12
        )
        assert np.all(np.isnan(fast[row, avail:]))


def _kwargs(model: object) -> dict[str, int]:
    if isinstance(model, Drift):
        return {"window": model.window}
    if isinstance(model, SeasonalNaive):
        return {"season_length": model.m}
    return {}


def test_random_walk_and_seasonal_naive_values() -> None:
    y = np.array([1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    assert np.all(RandomWalk().fit(y).predict(3).mean == 10)
    np.testing.assert_allclose(Drift().fit(y).predict(3).mean, [11, 12, 13])
    np.testing.assert_allclose(SeasonalNaive(3).fit(y).predict(5).mean, [8, 9, 10, 8, 9])


def test_ensemble_is_mean_of_members() -> None:
    y = _walk()
    members: list[Forecaster] = [RandomWalk(), Drift()]
    ens = Ensemble(members).fit(y).predict(4, quantiles=QS)
    expected = (RandomWalk().fit(y).predict(4).mean + Drift().fit(y).predict(4).mean) / 2
    np.testing.assert_allclose(ens.mean, expected)


def test_short_and_nan_inputs_are_refused() -> None:
    with pytest.raises(ValidationFailed) as err:
        make_model("ets").fit(np.ones(5))
    assert err.value.code == "series_too_short"
    with pytest.raises(ValidationFailed) as nerr:
        RandomWalk().fit(np.array([1.0, np.nan, 2.0, 3.0]))
    assert nerr.value.code == "missing_value"


def test_unknown_model_and_foundation_slots() -> None:
    with pytest.raises(ValidationFailed) as err:
        make_model("prophet")
    assert err.value.code == "unknown_model" and err.value.param == "model"
    with pytest.raises(UserError) as ferr:
        make_model("chronos")
    assert ferr.value.code == "model_unavailable"


def test_plugin_model_goes_through_the_same_interface() -> None:
    calls: list[int] = []

    def fake_foundation(context: np.ndarray, h: int, qs: Sequence[float]) -> dict[object, object]:
        calls.append(context.shape[0])
        base = np.full(h, context[-1])
        return {"mean": base, **{q: base + (q - 0.5) for q in qs}}

    register_model(
        ModelSpec("chronos", "test double", lambda m: PluginForecaster("chronos", fake_foundation))
    )
    try:
        assert "chronos" in model_names()
        path = make_model("chronos").fit(_walk(40)).predict(3, quantiles=QS)
        assert calls == [40] and path.quantiles[0.95][0] == pytest.approx(path.mean[0] + 0.45)
        with pytest.raises(UserError):
            register_model(ModelSpec("chronos", "dup", lambda m: RandomWalk()))
    finally:
        unregister_model("chronos")
    assert "chronos" not in model_names()


def test_holiday_effect_is_learned_and_reapplied() -> None:
    n, m = 140, 7
    base = np.log(100 + 10 * (np.arange(n) % m == 5))
    hist_mask = np.zeros(n, dtype=bool)
    hist_mask[[30, 64, 100]] = True
    y = base.copy()
    y[hist_mask] += np.log(3.0)  # holidays triple the volume
    future = np.zeros(10, dtype=bool)
    future[4] = True
    model = HolidayAdjusted(
        SeasonalNaive(m), history_mask=hist_mask, future_mask=future, season_length=m
    )
    path = model.fit(y).predict(10)
    assert model.effect == pytest.approx(np.log(3.0))
    plain = SeasonalNaive(m).fit(base).predict(10).mean
    np.testing.assert_allclose(path.mean[future], plain[future] + np.log(3.0))
    np.testing.assert_allclose(path.mean[~future], plain[~future])


def test_seasonal_models_follow_a_weekly_pattern() -> None:
    pattern = np.log(np.array([100, 100, 100, 105, 120, 150, 135], dtype=float))
    y = np.tile(pattern, 30) + np.random.default_rng(0).normal(0, 0.01, 210)
    for name in ("snaive", "ets_season", "ets_theta", "mstl"):
        path = make_model(name, season_length=7).fit(y).predict(7)
        # Next week starts where the pattern continues (index 210 % 7 == 0).
        np.testing.assert_allclose(path.mean, pattern, atol=0.05, err_msg=name)
