"""End-to-end forecasts of ECB pairs and user series, and the bad-input contract."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from cockpit.errors import CockpitError, NotFound, ValidationFailed
from tools.fx import forecast_pair, forecast_series, make_series


def test_a_pair_forecast_chooses_its_model_against_the_random_walk() -> None:
    fc = forecast_pair("EUR/USD", horizon=10)
    assert fc.selection is not None and fc.model == fc.selection.model
    assert fc.selection.baseline == "rw" and fc.selection.origins >= 30
    body = fc.to_dict()["selection"]
    assert body["chosen"] == fc.model and "rw" in body["candidates"]


def test_pair_forecast_shape_and_calibration() -> None:
    fc = forecast_pair("USD/PHP", horizon=30, model="rw")
    assert fc.model == "rw" and fc.horizon == 30 and fc.freq == "B"
    assert fc.calibration == "conformal" and fc.calibration_errors > 1000
    assert np.all(
        fc.dates.astype("datetime64[D]").astype(np.int64) > fc.history_dates[-1].astype(np.int64)
    )
    assert np.all(np.is_busday(fc.dates))
    assert np.allclose(fc.mean, fc.history_values[-1])
    lo90, hi90 = fc.interval(0.9)
    lo80, hi80 = fc.interval(0.8)
    assert (
        np.all(lo90 <= lo80)
        and np.all(lo80 < fc.mean)
        and np.all(fc.mean < hi80)
        and np.all(hi80 <= hi90)
    )
    # Uncertainty grows with the horizon.
    assert (hi90[-1] - lo90[-1]) > 2 * (hi90[0] - lo90[0])
    body = fc.to_dict(history=5)
    assert len(body["points"]) == 30 and set(body["points"][0]) >= {
        "date",
        "mean",
        "q5",
        "q10",
        "q50",
        "q90",
        "q95",
    }
    assert len(body["history"]) == 5


def test_as_of_forecasts_from_the_past() -> None:
    fc = forecast_pair("EUR/USD", horizon=5, model="drift", as_of=date(2020, 6, 30))
    assert str(fc.history_dates[-1]) == "2020-06-30"
    assert str(fc.dates[0]) == "2020-07-01"


@pytest.mark.parametrize(
    ("kwargs", "code", "param"),
    [
        ({"pair": "USD/PHP", "horizon": 0}, "invalid_horizon", "horizon"),
        ({"pair": "USD/PHP", "horizon": -3}, "invalid_horizon", "horizon"),
        ({"pair": "USD/PHP", "horizon": 100_000}, "horizon_too_long", "horizon"),
        ({"pair": "USD/XYZ", "horizon": 5}, "unknown_currency", "pair"),
        ({"pair": "EUR/RUB", "horizon": 5}, "currency_discontinued", "pair"),
        ({"pair": "USD/PHP", "horizon": 5, "model": "nope"}, "unknown_model", "model"),
        (
            {"pair": "USD/PHP", "horizon": 5, "quantiles": [0.1, 1.2]},
            "invalid_quantile",
            "quantiles",
        ),
        (
            {"pair": "USD/PHP", "horizon": 5, "calibration": "magic"},
            "invalid_calibration",
            "calibration",
        ),
    ],
)
def test_bad_input_gets_clear_errors(kwargs: dict[str, object], code: str, param: str) -> None:
    with pytest.raises(CockpitError) as err:
        forecast_pair(**kwargs)  # type: ignore[arg-type]
    assert err.value.code == code and err.value.param == param


def test_horizon_longer_than_history_is_refused() -> None:
    s = make_series([str(np.datetime64("2026-01-01") + i) for i in range(20)], np.arange(1.0, 21.0))
    with pytest.raises(ValidationFailed) as err:
        forecast_series(s, horizon=25)
    assert err.value.code == "horizon_too_long"
    with pytest.raises(ValidationFailed) as terr:
        forecast_series(
            make_series(
                [str(np.datetime64("2026-01-01") + i) for i in range(20)], np.arange(-5.0, 15.0)
            ),
            horizon=3,
        )
    assert terr.value.code == "non_positive_value"


def test_unknown_pair_is_not_found() -> None:
    with pytest.raises(NotFound):
        forecast_pair("ABC/USD", horizon=3)


def test_seasonal_demand_series_with_holidays() -> None:
    start = date(2025, 1, 1)
    days = [start + timedelta(days=i) for i in range(300)]
    rng = np.random.default_rng(4)
    values = np.array([1000 * (1.5 if d.weekday() >= 5 else 1.0) for d in days]) * np.exp(
        rng.normal(0, 0.02, 300)
    )
    holidays = [date(2025, 3, 5), date(2025, 6, 4), date(2025, 9, 3), date(2025, 11, 5)]
    for h in holidays[:3]:
        values[(h - start).days] *= 2.0
    s = make_series(days, values, name="demand")
    fc = forecast_series(
        s, horizon=14, model="snaive", transform="log1p", season_length=7, holidays=holidays
    )
    assert fc.model == "snaive+holidays"
    hol_idx = [i for i, d in enumerate(fc.dates) if d == np.datetime64(holidays[3])]
    assert hol_idx, "the future holiday falls inside the horizon"
    i = hol_idx[0]
    # The holiday doubles demand; a non-holiday day a week earlier does not.
    assert fc.mean[i] / fc.mean[i - 7] == pytest.approx(2.0, rel=0.1)
    weekend = [j for j, d in enumerate(fc.dates) if d.astype(object).weekday() >= 5 and j != i]
    weekday = [j for j, d in enumerate(fc.dates) if d.astype(object).weekday() < 5 and j != i]
    assert np.mean(fc.mean[weekend]) > 1.3 * np.mean(fc.mean[weekday])


def test_net_exposure_with_sign_changes_uses_no_transform() -> None:
    days = [str(np.datetime64("2026-01-01") + i) for i in range(60)]
    values = np.sin(np.arange(60)) * 100
    fc = forecast_series(
        make_series(days, values), horizon=7, model="snaive", transform="none", season_length=7
    )
    assert np.any(fc.mean < 0) and np.all(np.isfinite(fc.quantiles[0.05]))
