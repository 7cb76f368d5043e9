"""``auto`` chooses the model per series by cross-validation, and says what it chose and why."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from tools.fx import make_series
from tools.fx.forecast import forecast_series
from tools.fx.selection import RATES, SEASONAL, select_model


def _quarters(n: int, start: int = 1990) -> list[str]:
    return [f"{start + i // 4} Q{i % 4 + 1}" for i in range(n)]


def _seasonal_with_trend(
    n: int, seed: int, *, growth: float = 0.02, noise: float = 0.03
) -> np.ndarray:
    """Quarterly demand growing ``growth`` a quarter, with a strong season and noise."""
    gen = np.random.default_rng(seed)
    t = np.arange(n)
    level = 1000 * np.exp(growth * t)
    season = np.array([1.35, 0.8, 0.85, 1.0])[t % 4]
    return np.asarray(level * season * np.exp(gen.normal(0, noise, n)), dtype=np.float64)


def test_a_seasonal_series_keeps_the_seasonal_prior_unless_it_is_beaten() -> None:
    """No trend, noisy: another candidate scores a little lower, which is not evidence."""
    values = _seasonal_with_trend(80, seed=0, growth=0.0, noise=0.08)
    fc = forecast_series(make_series(_quarters(80), values), horizon=8, transform="log1p")
    selection = fc.selection
    assert selection is not None and fc.model == selection.model
    assert selection.baseline == "snaive" and selection.model == SEASONAL.prior
    assert min(selection.scores, key=selection.scores.__getitem__) != SEASONAL.prior
    # Smoothing the season beats repeating last year's noisy quarter.
    assert selection.relative(selection.model) < 1.0


def test_a_clear_winner_replaces_the_prior() -> None:
    """Steep growth, little noise: a trendless prior lags every quarter and is replaced."""
    y = np.log1p(_seasonal_with_trend(160, seed=4, growth=0.06, noise=0.005))
    rule = replace(SEASONAL, prior="ets_season")
    selection, fitted = select_model(y, horizon=8, season_length=4, policy=rule)
    assert selection.model != rule.prior
    assert selection.scores[selection.model] == min(selection.scores.values())
    assert selection.scores[selection.model] < 0.7 * selection.scores[rule.prior]
    assert fitted.name == selection.model


def test_the_seasonal_prior_is_the_median_of_three_trend_views_scored_from_its_members() -> None:
    """Its members are refitted once each; the median's errors are their median, not a refit."""
    y = np.log1p(_seasonal_with_trend(160, seed=4, growth=0.06, noise=0.005))
    selection, fitted = select_model(y, horizon=8, season_length=4)
    assert SEASONAL.prior == "trend_median"
    # Steep growth: the trended members carry the median, so the prior holds its ground.
    assert selection.model == SEASONAL.prior and fitted.name == "trend_median"
    assert selection.scores["trend_median"] < 0.6 * selection.scores["ets_season"]
    # Members that are not candidates themselves were scored only to build the median.
    assert "ets_damped" not in selection.scores and "dotm" not in selection.scores


def test_a_random_walk_keeps_the_random_walk_unless_beaten_significantly() -> None:
    gen = np.random.default_rng(5)
    values = 50 * np.exp(np.cumsum(gen.normal(0, 0.005, 900)))
    dates = np.busday_offset("2020-01-01", np.arange(900), roll="forward")
    series = make_series(list(dates), values, name="AAA/BBB", freq="B")
    y = np.log(series.values)
    selection, _ = select_model(y, horizon=22, season_length=1)
    assert set(selection.scores) >= set(RATES.candidates)
    assert selection.model == "rw"
    # Some challenger scored within noise of it; without significance it is not taken.
    assert min(selection.relative(n) for n in selection.scores if n != "rw") < 1.05


def test_the_choice_and_its_backtest_error_come_with_the_forecast() -> None:
    series = make_series(_quarters(60), _seasonal_with_trend(60, seed=9), name="takings")
    body = forecast_series(series, horizon=4, transform="log1p").to_dict()
    chosen = body["selection"]
    assert chosen["chosen"] == body["model"]
    assert chosen["baseline"] == "snaive" and chosen["horizon"] == 4 and chosen["origins"] >= 16
    assert chosen["candidates"][body["model"]]["error"] == chosen["backtest_error"]
    errors = [c["error"] for c in chosen["candidates"].values()]
    assert errors == sorted(errors) and chosen["candidates"]["snaive"]["relative_to_baseline"] == 1
    assert [p["period"] for p in body["points"]] == ["2005 Q1", "2005 Q2", "2005 Q3", "2005 Q4"]


def test_intervals_of_the_chosen_model_are_calibrated_on_the_errors_it_was_chosen_by() -> None:
    series = make_series(_quarters(60), _seasonal_with_trend(60, seed=9), name="takings")
    fc = forecast_series(series, horizon=4, transform="log1p")
    assert fc.selection is not None
    if fc.selection.model != "snaive":
        assert fc.calibration_errors == fc.selection.sample.size
    assert fc.calibration == "conformal"
    lo, hi = fc.interval(0.9)
    assert np.all(lo < fc.mean) and np.all(fc.mean < hi)


def test_a_named_model_is_used_as_named_and_carries_no_selection() -> None:
    series = make_series(_quarters(60), _seasonal_with_trend(60, seed=9), name="takings")
    fc = forecast_series(series, horizon=4, model="snaive", transform="log1p")
    assert fc.model == "snaive" and fc.selection is None
    assert "selection" not in fc.to_dict()


def test_a_history_too_short_to_compare_models_gets_the_benchmark_and_a_note() -> None:
    series = make_series(_quarters(12), _seasonal_with_trend(12, seed=1), name="new shop")
    fc = forecast_series(series, horizon=2, transform="log1p")
    assert fc.model == "snaive" and fc.selection is None
    assert any("too short to compare models" in note for note in fc.notes)
