"""Accuracy statistics and the tests behind any "beats the benchmark" claim."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tools.fx import diebold_mariano, directional_accuracy, mase, pesaran_timmermann
from tools.fx.metrics import naive_scale, rmse


def test_dm_identical_losses_give_no_evidence() -> None:
    e = np.random.default_rng(0).normal(size=200)
    res = diebold_mariano(e, e.copy(), lags=4)
    assert res.p_value == 1.0 and res.p_better == 0.5


def test_dm_detects_a_clearly_better_model() -> None:
    rng = np.random.default_rng(1)
    truth_noise = rng.normal(size=400)
    better = truth_noise * 0.5
    worse = truth_noise + rng.normal(size=400)
    res = diebold_mariano(better, worse, lags=0)
    assert res.statistic < 0 and res.p_better < 0.001 and res.p_value < 0.002
    rev = diebold_mariano(worse, better, lags=0)
    assert rev.p_better > 0.999


def test_dm_is_not_fooled_by_noise() -> None:
    rng = np.random.default_rng(2)
    rejections = 0
    for _ in range(200):
        a, b = rng.normal(size=150), rng.normal(size=150)
        if diebold_mariano(a, b, lags=0).p_value < 0.05:
            rejections += 1
    assert rejections / 200 < 0.1  # size close to 5 %


def test_mase_and_scale() -> None:
    y = np.array([0.0, 1, 3, 6, 10])
    assert naive_scale(y, 4, m=1, window=250) == pytest.approx((1 + 2 + 3 + 4) / 4)
    assert mase(np.array([2.5, -5.0]), np.array([2.5, 2.5])) == pytest.approx(1.5)
    assert math.isnan(mase(np.array([1.0]), np.array([0.0])))
    assert rmse(np.array([3.0, -4.0, np.nan])) == pytest.approx(math.sqrt(12.5))


def test_directional_accuracy_and_pt() -> None:
    rng = np.random.default_rng(4)
    actual = rng.normal(size=300)
    good = actual + rng.normal(scale=0.3, size=300)
    da, n = directional_accuracy(good, actual)
    assert n == 300 and da > 0.8
    assert pesaran_timmermann(good, actual) < 0.001
    rnd = rng.normal(size=300)
    assert pesaran_timmermann(rnd, actual) > 0.01
    flat, n0 = directional_accuracy(np.zeros(10), actual[:10])
    assert n0 == 0 and math.isnan(flat)
