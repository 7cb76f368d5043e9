"""The seeded volume simulator behaves like payment demand: deterministic, seasonal, signed."""

from __future__ import annotations

from datetime import date

import numpy as np

from tools.fx import daily_exposure
from tools.fx.simulate import simulate_volumes


def test_deterministic_signed_and_weekly() -> None:
    a = simulate_volumes(days=120, seed=3)
    b = simulate_volumes(days=120, seed=3)
    assert a == b and len(a) == 3 * 120
    series = daily_exposure(a)
    assert np.all(series["USD"].values > 0) and np.all(series["SGD"].values < 0)
    usd = series["USD"]
    weekday = (usd.dates.astype(np.int64) + 3) % 7
    assert (
        usd.values[weekday == 5].mean() > 1.3 * usd.values[weekday == 0].mean()
    )  # Saturdays busier


def test_holidays_lift_volume() -> None:
    hol = date(2023, 3, 15)
    base = simulate_volumes(days=90, seed=1)
    lifted = simulate_volumes(days=90, seed=1, holidays=[hol])
    before = {(v.date, v.currency): v.amount for v in base}
    for v in lifted:
        ratio = v.amount / before[(v.date, v.currency)]
        assert (
            ratio == (1.8 if v.date == hol else 1.0)
            or abs(ratio - (1.8 if v.date == hol else 1.0)) < 1e-9
        )
