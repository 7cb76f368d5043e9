"""Interval calibration: empirical and conformal quantiles from past errors."""

from __future__ import annotations

import numpy as np
import pytest

from cockpit.errors import ValidationFailed
from tools.fx import CalibrationMethod, calibrate, coverage, make_model, rolling_errors
from tools.fx.intervals import ErrorSample, check_quantiles, ewma_volatility


def test_check_quantiles() -> None:
    assert check_quantiles([0.9, 0.1]) == (0.1, 0.5, 0.9)
    for bad in ([0.0], [1.0], [1.5], [float("nan")]):
        with pytest.raises(ValidationFailed) as err:
            check_quantiles(bad)
        assert err.value.code == "invalid_quantile"


def test_empirical_quantiles_match_error_distribution() -> None:
    rng = np.random.default_rng(0)
    errors = rng.normal(0, 1, (4000, 1))
    sample = ErrorSample(errors, np.ones(4000))
    out = calibrate(np.zeros(1), sample, (0.05, 0.5, 0.95), method=CalibrationMethod.EMPIRICAL)
    assert out[0.05][0] == pytest.approx(-1.645, abs=0.08)
    assert out[0.95][0] == pytest.approx(1.645, abs=0.08)
    assert out[0.5][0] == 0.0


def test_conformal_uses_finite_sample_quantile() -> None:
    # 19 scores 1..19: the 90% conformal radius is the ceil(20*0.9)=18th smallest = 18.
    errors = np.arange(1, 20, dtype=float)[:, None]
    sample = ErrorSample(errors, np.ones(19))
    out = calibrate(
        np.zeros(1), sample, (0.05, 0.95), method=CalibrationMethod.CONFORMAL, min_per_step=1
    )
    assert out[0.95][0] == 18.0 and out[0.05][0] == -18.0


def test_pooled_conformal_counts_origins_not_errors() -> None:
    # 10 origins x 8 steps, every step the same scores 1..10 (so no step widening): 80
    # pooled errors, but only 10 independent draws. The 75 % radius is the
    # ceil(11 * 0.75) = 9th of 10 origin scores; counting 80 errors would give the 61st
    # smallest error, 8.
    errors = np.repeat(np.arange(1, 11, dtype=float)[:, None], 8, axis=1)
    sample = ErrorSample(errors, np.ones(10))
    out = calibrate(np.zeros(8), sample, (0.125, 0.875), method=CalibrationMethod.CONFORMAL)
    np.testing.assert_allclose(out[0.875], 9.0)
    np.testing.assert_allclose(out[0.125], -9.0)


def test_volatility_scaling_widens_in_storms() -> None:
    errors = np.random.default_rng(1).normal(0, 1, (500, 2))
    sample = ErrorSample(errors, np.ones(500))
    calm = calibrate(
        np.zeros(2), sample, (0.1, 0.9), method=CalibrationMethod.EMPIRICAL, scale_now=1.0
    )
    storm = calibrate(
        np.zeros(2), sample, (0.1, 0.9), method=CalibrationMethod.EMPIRICAL, scale_now=3.0
    )
    np.testing.assert_allclose(storm[0.9], 3 * calm[0.9])


def test_quantiles_are_monotone_and_median_is_point() -> None:
    errors = np.random.default_rng(2).standard_t(3, (30, 5))
    out = calibrate(
        np.arange(5.0),
        ErrorSample(errors, np.ones(30)),
        (0.05, 0.1, 0.9, 0.95),
        method=CalibrationMethod.EMPIRICAL,
    )
    stacked = np.vstack([out[q] for q in sorted(out)])
    assert np.all(np.diff(stacked, axis=0) >= 0)
    np.testing.assert_array_equal(out[0.5], np.arange(5.0))


def test_rolling_errors_calibrate_a_random_walk_out_of_sample() -> None:
    rng = np.random.default_rng(5)
    y = np.cumsum(rng.normal(0, 1, 3000))
    train, test_start = y[:2000], 2000
    sample = rolling_errors(lambda: make_model("rw"), train, 5, n_origins=1500, min_train=50)
    assert sample.errors.shape == (1500, 5)
    hits80, hits90 = [], []
    for t in range(test_start, 2990, 5):
        q = calibrate(
            np.full(5, y[t]), sample, (0.05, 0.1, 0.9, 0.95), method=CalibrationMethod.CONFORMAL
        )
        actual = y[t + 1 : t + 6]
        hits80.append(coverage(actual, q[0.1], q[0.9]))
        hits90.append(coverage(actual, q[0.05], q[0.95]))
    assert np.mean(hits80) == pytest.approx(0.8, abs=0.04)
    assert np.mean(hits90) == pytest.approx(0.9, abs=0.03)


def test_ewma_volatility_tracks_regime() -> None:
    rng = np.random.default_rng(3)
    steps = np.concatenate([rng.normal(0, 0.01, 300), rng.normal(0, 0.05, 300)])
    vol = ewma_volatility(np.cumsum(steps))
    assert vol[290] == pytest.approx(0.01, rel=0.5)
    assert vol[-1] == pytest.approx(0.05, rel=0.5)
