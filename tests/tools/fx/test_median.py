"""The median combination: its forecast, and its past errors without refitting it."""

from __future__ import annotations

import numpy as np
import pytest

from cockpit.errors import UserError
from tools.fx import make_model, rolling_errors
from tools.fx.models import Drift, Ensemble, RandomWalk, SeasonalNaive, median_errors
from tools.fx.selection import SEASONAL, choose, combined_errors

QS = (0.1, 0.5, 0.9)


def _seasonal(n: int = 64, seed: int = 2) -> np.ndarray:
    gen = np.random.default_rng(seed)
    t = np.arange(n)
    return 7.0 + 0.01 * t + np.array([0.3, -0.2, -0.1, 0.0])[t % 4] + gen.normal(0, 0.03, n)


def test_each_step_is_the_median_of_the_members() -> None:
    y = _seasonal()
    members = [RandomWalk(), Drift(), SeasonalNaive(4)]
    paths = [m.fit(y).predict(6, quantiles=QS) for m in members]
    median = Ensemble([RandomWalk(), Drift(), SeasonalNaive(4)], combine="median")
    med = median.fit(y).predict(6, quantiles=QS)
    np.testing.assert_allclose(med.mean, np.median([p.mean for p in paths], axis=0))
    np.testing.assert_allclose(
        med.quantiles[0.9], np.median([p.quantiles[0.9] for p in paths], axis=0)
    )
    # Not the mean: one member far off does not move it.
    assert not np.allclose(med.mean, np.mean([p.mean for p in paths], axis=0))


def test_an_empty_median_is_refused() -> None:
    with pytest.raises(UserError):
        Ensemble([], combine="median")


def test_median_errors_are_the_errors_of_the_refitted_median() -> None:
    """``y - median(f) = median(y - f)``: scoring the median needs no refit of it."""
    y = _seasonal()
    origins = 24

    def errors(build):  # type: ignore[no-untyped-def]
        return rolling_errors(build, y, 8, n_origins=origins, min_train=30).errors

    refit = errors(lambda: make_model("trend_median", season_length=4))
    parts = [
        errors(lambda n=n: make_model(n, season_length=4))
        for n in ("ets_season", "ets_damped", "dotm")
    ]
    np.testing.assert_allclose(median_errors(parts), refit, equal_nan=True)
    named = {"ets_season": parts[0], "ets_damped": parts[1], "dotm": parts[2]}
    np.testing.assert_allclose(combined_errors("trend_median", named), refit, equal_nan=True)


def test_only_candidates_and_the_prior_can_be_chosen() -> None:
    """A median member that scores best is not chosen: it was scored only to build the median."""
    gen = np.random.default_rng(0)
    base = np.abs(gen.normal(0, 1, (40, 8)))
    errors = {
        "snaive": base * 2.0,
        "ets_season": base * 1.5,
        "theta": base * 1.6,
        "drift": base * 3.0,
        "ets_damped": base * 0.1,
        "dotm": base * 1.2,
    }
    chosen, scores, combined = choose(errors, SEASONAL, horizon=8)
    assert chosen == "trend_median" and "ets_damped" not in scores
    np.testing.assert_allclose(combined["trend_median"], base * 1.2)
