"""Rolling-origin backtests: no look-ahead, honest comparisons, calibrated coverage."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import pytest

from cockpit.errors import ValidationFailed
from tools.fx import BacktestConfig, make_model, rolling_backtest
from tools.fx.models import DEFAULT_QUANTILES, ForecastPath, RandomWalk

CFG = BacktestConfig(horizons=(1, 5), eval_origins=60, step=5, burn_in=40, window=300)


def _walk(n: int = 900, seed: int = 9) -> np.ndarray:
    return np.cumsum(np.random.default_rng(seed).normal(0, 0.01, n))


class _Spy(RandomWalk):
    """A random walk that records how much history it was given."""

    seen: ClassVar[list[int]] = []

    def fit(self, y: np.ndarray) -> _Spy:
        _Spy.seen.append(int(y.shape[0]))
        super().fit(y)
        return self

    def predict(self, h: int, *, quantiles: Sequence[float] = DEFAULT_QUANTILES) -> ForecastPath:
        return super().predict(h, quantiles=quantiles)


def test_rw_is_its_own_baseline_and_coverage_is_near_nominal() -> None:
    res = rolling_backtest(
        _walk(), {"rw": lambda: make_model("rw"), "drift": lambda: make_model("drift")}, config=CFG
    )
    rw1 = res.row("rw", 1)
    assert rw1.rmse_ratio == 1.0 and rw1.dm_p_value is None and not rw1.beats_baseline
    assert rw1.n == 60
    for h in (1, 5):
        cov = res.row("rw", h).coverage
        assert cov["80"] == pytest.approx(0.8, abs=0.12)
        assert cov["90"] == pytest.approx(0.9, abs=0.1)
    drift = res.row("drift", 5)
    assert drift.dm_p_value is not None and 0 <= drift.dm_p_value <= 1
    # Data is a pure random walk: drift cannot significantly beat it.
    assert not drift.beats_baseline
    assert res.to_dict()["rows"][0]["model"] == "rw"


def test_no_look_ahead() -> None:
    y = _walk(700)
    _Spy.seen = []
    cfg = BacktestConfig(horizons=(1, 3), eval_origins=20, step=7, burn_in=12, window=10_000)
    res = rolling_backtest(y, {"rw": _Spy}, config=cfg)
    origins_all = np.array(sorted(set(_Spy.seen))) - 1
    assert len(_Spy.seen) == 32
    # Each fit saw data up to its origin only, and the last origin leaves room for h=3.
    assert origins_all.max() + 3 <= y.shape[0] - 1
    np.testing.assert_array_equal(res.origins, origins_all[-20:])


def test_combination_equals_mean_of_members() -> None:
    y = _walk(800)
    models = {"rw": lambda: make_model("rw"), "drift": lambda: make_model("drift")}
    res = rolling_backtest(y, models, config=CFG, combos={"avg": ["rw", "drift"]})
    np.testing.assert_allclose(res.errors["avg"], (res.errors["rw"] + res.errors["drift"]) / 2)
    with pytest.raises(ValidationFailed):
        rolling_backtest(y, models, config=CFG, combos={"bad": ["ets"]})


def test_a_model_that_knows_the_trend_beats_rw_with_significance() -> None:
    y = np.arange(900) * 0.01 + np.random.default_rng(1).normal(0, 0.002, 900)
    res = rolling_backtest(
        y, {"rw": lambda: make_model("rw"), "drift": lambda: make_model("drift")}, config=CFG
    )
    row = res.row("drift", 5)
    assert row.rmse_ratio < 0.5 and row.dm_p_better is not None and row.dm_p_better < 0.05
    assert row.beats_baseline
    assert row.directional_accuracy == 1.0


def test_backtest_bad_input() -> None:
    with pytest.raises(ValidationFailed) as err:
        rolling_backtest(_walk(100), {"rw": lambda: make_model("rw")}, config=CFG)
    assert err.value.code == "series_too_short"
    y = _walk()
    y[500] = np.nan
    with pytest.raises(ValidationFailed) as nerr:
        rolling_backtest(y, {"rw": lambda: make_model("rw")}, config=CFG)
    assert nerr.value.code == "missing_value"
    with pytest.raises(ValidationFailed):
        rolling_backtest(_walk(), {"drift": lambda: make_model("drift")}, config=CFG)
