"""Hedging: the arithmetic on a synthetic exposure, recommendations, and the policy backtest."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from cockpit.errors import ValidationFailed
from tools.fx import (
    CarryAssumption,
    HedgeCosts,
    evaluate_policy,
    forward_points,
    hedging_backtest,
    make_series,
    pair_series,
    recommend_hedge,
)

E = np.array([100.0, 200.0, 50.0])
H = np.array([80.0, 200.0, 100.0])
S0 = np.array([50.0, 50.0, 50.0])
S1 = np.array([52.0, 48.0, 50.0])
F = np.array([50.5, 50.5, 50.5])
COSTS = HedgeCosts(forward_bps=10, spot_bps=30, unwind_bps=20)


def test_policy_arithmetic_by_hand() -> None:
    out, per_period = evaluate_policy(
        "x", exposure=E, hedge=H, spot_start=S0, spot_end=S1, forward=F, costs=COSTS
    )
    # P&L = E(S1-S0) + H(F-S1): 200-120, -400+500, 0+50
    # cost = S0(10|H| + 30|E-H| + 20 max(|H|-|E|,0))/1e4: 7, 10, 17.5
    np.testing.assert_allclose(per_period, [73.0, 90.0, 32.5])
    assert out.total_cost == pytest.approx(34.5)
    assert out.total_carry == pytest.approx(190.0)
    assert out.total_pnl == pytest.approx(195.5)
    assert out.pnl_std == pytest.approx(np.std([73.0, 90.0, 32.5], ddof=1))
    assert out.worst_period == pytest.approx(32.5)
    assert out.mean_hedge_ratio == pytest.approx((0.8 + 1.0 + 2.0) / 3)


def test_payable_is_the_mirror_image() -> None:
    rec, r = evaluate_policy(
        "r", exposure=E, hedge=H, spot_start=S0, spot_end=S1, forward=F, costs=COSTS
    )
    pay, p = evaluate_policy(
        "p", exposure=-E, hedge=-H, spot_start=S0, spot_end=S1, forward=F, costs=COSTS
    )
    # FX P&L flips sign, costs are the same.
    np.testing.assert_allclose(p + COSTS.tx_cost(-E, -H, S0), -(r + COSTS.tx_cost(E, H, S0)))
    assert pay.total_cost == pytest.approx(rec.total_cost)
    with pytest.raises(ValidationFailed):
        evaluate_policy(
            "bad", exposure=E, hedge=-H, spot_start=S0, spot_end=S1, forward=F, costs=COSTS
        )


def test_no_hedge_and_perfect_hedge_extremes() -> None:
    none, res_none = evaluate_policy(
        "none", exposure=E, hedge=np.zeros(3), spot_start=S0, spot_end=S1, forward=S0, costs=COSTS
    )
    assert none.total_cost == pytest.approx(50 * 30 * 350 / 1e4)
    np.testing.assert_allclose(res_none + COSTS.tx_cost(E, np.zeros(3), S0), E * (S1 - S0))
    full, res_full = evaluate_policy(
        "full", exposure=E, hedge=E, spot_start=S0, spot_end=S1, forward=S0, costs=COSTS
    )
    # A perfect hedge at forward = spot removes all FX P&L: only the forward spread remains.
    np.testing.assert_allclose(res_full, -S0 * 10 * E / 1e4)
    assert full.pnl_std < none.pnl_std


def test_forward_pricing_and_points() -> None:
    carry = CarryAssumption(rates={"USD": 0.05, "PHP": 0.06})
    fwd = carry.forward(56.0, base="USD", quote="PHP", days=365)
    assert fwd == pytest.approx(56.0 * 1.06 / 1.05)
    assert forward_points(56.0, float(fwd), quote="PHP") == pytest.approx((fwd - 56.0) * 1e4)
    assert forward_points(150.0, 149.5, quote="JPY") == pytest.approx(-50.0)
    assert "equal interest rates" in CarryAssumption().source
    assert CarryAssumption().forward(56.0, base="USD", quote="PHP", days=90) == 56.0


def test_newsvendor_quantile() -> None:
    assert COSTS.newsvendor_quantile == pytest.approx(0.25)
    assert HedgeCosts(forward_bps=40, spot_bps=30).newsvendor_quantile == 0.0
    with pytest.raises(ValidationFailed):
        HedgeCosts(forward_bps=-1)


def test_recommendation_receivable_and_payable() -> None:
    qs = {0.05: 60_000.0, 0.1: 70_000.0, 0.5: 100_000.0, 0.9: 130_000.0, 0.95: 140_000.0}
    rec = recommend_hedge(
        "USD",
        home="PHP",
        net_quantiles=qs,
        spot=56.0,
        spot_date=date(2026, 10, 30),
        tenor_days=30,
        costs=COSTS,
    )
    assert rec.direction == "receivable"
    # τ* = 0.25 → interpolate between q10 (70k) and q50 (100k): 70k + (0.15/0.4)·30k.
    assert rec.hedge_amount == pytest.approx(81_250.0)
    assert rec.hedge_ratio == pytest.approx(0.8125)
    assert rec.forward_rate == 56.0 and rec.home_equivalent == pytest.approx(81_250 * 56.0)
    assert rec.expected_cost_saving > 0
    neg = {0.05: -140_000.0, 0.1: -130_000.0, 0.5: -100_000.0, 0.9: -70_000.0, 0.95: -60_000.0}
    pay = recommend_hedge(
        "USD",
        home="PHP",
        net_quantiles=neg,
        spot=56.0,
        spot_date=date(2026, 10, 30),
        tenor_days=30,
        costs=COSTS,
    )
    assert pay.direction == "payable" and pay.hedge_amount == pytest.approx(81_250.0)
    fixed = recommend_hedge(
        "USD",
        home="PHP",
        net_quantiles=qs,
        spot=56.0,
        spot_date=date(2026, 10, 30),
        tenor_days=30,
        policy="fixed",
        ratio=0.6,
    )
    assert fixed.hedge_amount == pytest.approx(60_000.0)
    with pytest.raises(ValidationFailed) as err:
        recommend_hedge(
            "USD",
            home="PHP",
            net_quantiles={0.1: 1.0},
            spot=56.0,
            spot_date=date(2026, 1, 1),
            tenor_days=30,
        )
    assert err.value.code == "invalid_quantile"
    with pytest.raises(ValidationFailed):
        recommend_hedge(
            "USD", home="PHP", net_quantiles=qs, spot=56.0, spot_date=date(2026, 1, 1), tenor_days=0
        )


def _monthly(values: np.ndarray, start: str = "2018-01-31") -> object:
    dates = pd.date_range(start, periods=values.shape[0], freq="ME")
    return make_series(list(dates.date), values, name="USD receivables", freq="M")


def test_hedging_backtest_reports_every_policy() -> None:
    rng = np.random.default_rng(3)
    k = np.arange(84)
    e = 1e6 * (1 + 0.3 * np.sin(2 * np.pi * k / 12)) * np.exp(rng.normal(0, 0.05, 84))
    rates, _ = pair_series("USD/PHP")
    bt = hedging_backtest(_monthly(e), rates, pair=("USD", "PHP"), model="theta", costs=COSTS)  # type: ignore[arg-type]
    names = [o.policy for o in bt.outcomes]
    assert names == ["none", "full", "fixed", "snaive", "forecast"]
    none = bt.outcome("none")
    assert none.periods == 84 - 26
    # No hedge pays spot slippage on every unit at the decision spot.
    s0 = np.array([rates.values[rates.dates <= d][-1] for d in _monthly(e).dates[25:-1]])  # type: ignore[attr-defined]
    assert none.total_cost == pytest.approx(float((bt.exposure * s0).sum() * 30 / 1e4), rel=1e-9)
    assert bt.outcome("full").pnl_std < none.pnl_std
    assert bt.outcome("fixed").mean_hedge_ratio == pytest.approx(0.5, abs=0.1)
    body = bt.to_dict()
    assert body["assumptions"]["forward"].startswith("assumption")
    assert body["cost_reduction_forecast_vs_none"] > 0


def test_perfectly_forecastable_exposure_is_fully_hedged() -> None:
    e = np.full(60, 500_000.0)
    rates, _ = pair_series("USD/PHP")
    bt = hedging_backtest(_monthly(e), rates, pair=("USD", "PHP"), model="rw", costs=COSTS)  # type: ignore[arg-type]
    np.testing.assert_allclose(bt.hedges["forecast"], 500_000.0, rtol=1e-9)
    # Only the forward spread is paid when the hedge matches the exposure exactly.
    assert bt.cost_reduction("forecast", versus="none") == pytest.approx(1 - 10 / 30)


def test_hedging_backtest_bad_input() -> None:
    rates, _ = pair_series("USD/PHP")
    with pytest.raises(ValidationFailed) as err:
        hedging_backtest(_monthly(np.full(20, 1.0)), rates, pair=("USD", "PHP"))  # type: ignore[arg-type]
    assert err.value.code == "series_too_short"
    with pytest.raises(ValidationFailed):
        hedging_backtest(_monthly(np.full(60, -1.0)), rates, pair=("USD", "PHP"))  # type: ignore[arg-type]
