"""Hedge recommendations from forecast exposures, and a backtest of hedging policies on history.

Conventions. A merchant reports in a *home* currency and has a net exposure ``E`` in a
foreign currency X for a future period: positive = receivable (it will sell X), negative
= payable (it will buy X). The rate is the ECB cross X/home (home units per one X).
At the decision date the spot is ``S0`` (also the budget rate); a forward for the
period's end is ``F = S0 (1 + r_home τ) / (1 + r_X τ)`` (covered interest parity, τ =
days/365). No interest rates ship offline, so the differential is a *stated assumption*
(:class:`CarryAssumption`, default 0: forward = spot) that callers should set.

Per period, with hedge ``H`` (same sign as the exposure) and settlement spot ``S1``:

* FX P&L versus budget = ``E·(S1 − S0) + H·(F − S1)`` (the hedged part is locked at F,
  the rest — or the over-hedged excess, bought back — trades at S1);
* transaction cost = ``S0·(f·|H| + s·|E − H| + u·max(|H| − |E|, 0)) / 10⁴`` with forward
  spread ``f``, spot slippage ``s`` and unwind spread ``u`` in bps;
* realised result = P&L − cost; the policies are compared on total cost and on the
  variance (standard deviation) of the realised result.

The forecast-driven policy hedges the quantile ``τ* = (s − f) / (2s + u)`` of the
exposure forecast — the newsvendor solution that minimises expected transaction cost
(under-hedging pays spot slippage, over-hedging pays slippage plus unwind).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cockpit.errors import ValidationFailed
from tools.fx.catalog import make_model, model_spec
from tools.fx.series import TimeSeries, season_length_for

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class HedgeCosts:
    """Dealing costs in basis points of notional (assumptions: set your bank's numbers)."""

    forward_bps: float = 10.0
    spot_bps: float = 30.0
    unwind_bps: float = 20.0

    def __post_init__(self) -> None:
        for name in ("forward_bps", "spot_bps", "unwind_bps"):
            v = getattr(self, name)
            if not (math.isfinite(v) and 0 <= v <= 1000):
                raise ValidationFailed(
                    f"{name} must be between 0 and 1000 bps", code="invalid_cost", param=name
                )

    def tx_cost(self, exposure: FloatArray, hedge: FloatArray, spot: FloatArray) -> FloatArray:
        """Transaction cost in home currency per period."""
        over = np.maximum(np.abs(hedge) - np.abs(exposure), 0.0)
        bps = (
            self.forward_bps * np.abs(hedge)
            + self.spot_bps * np.abs(exposure - hedge)
            + self.unwind_bps * over
        )
        return np.asarray(spot * bps / 1e4, dtype=np.float64)

    @property
    def newsvendor_quantile(self) -> float:
        """Share of the exposure distribution below the cost-minimising hedge (0 = don't hedge)."""
        denom = 2 * self.spot_bps + self.unwind_bps
        if denom <= 0:
            return 0.5
        return float(min(1.0, max(0.0, (self.spot_bps - self.forward_bps) / denom)))


@dataclass(frozen=True, slots=True)
class CarryAssumption:
    """Annual simple interest rates per currency for forward pricing (an explicit assumption)."""

    rates: Mapping[str, float] = field(default_factory=dict)
    default_rate: float = 0.0
    """Rate for currencies not in ``rates`` (0 with no rates at all → forward = spot)."""

    def rate(self, currency: str) -> float:
        return float(self.rates.get(currency.upper(), self.default_rate))

    def forward(
        self, spot: float | FloatArray, *, base: str, quote: str, days: float | FloatArray
    ) -> Any:
        """Forward of ``base/quote`` (quote units per base) by covered interest parity."""
        tau = np.asarray(days, dtype=np.float64) / 365.0
        return spot * (1 + self.rate(quote) * tau) / (1 + self.rate(base) * tau)

    @property
    def source(self) -> str:
        if not self.rates and self.default_rate == 0.0:
            return "assumption: equal interest rates (forward = spot)"
        return "assumption: caller-supplied annual rates, covered interest parity"


def forward_points(spot: float, forward: float, *, quote: str) -> float:
    """(F − S) × 10⁴, or × 10² for JPY-quoted pairs (market convention; stated, not verified)."""
    return (forward - spot) * (1e2 if quote.upper() == "JPY" else 1e4)


@dataclass(frozen=True, slots=True)
class PolicyOutcome:
    """One policy over the whole backtest."""

    policy: str
    periods: int
    total_cost: float
    """Sum of transaction costs (home currency)."""
    total_carry: float
    """Sum of H·(F − S0): what the forward premium/discount gave (+) or took (−)."""
    total_pnl: float
    """Sum of FX P&L versus budget minus costs."""
    pnl_std: float
    """Standard deviation of the per-period realised result (the risk a hedge removes)."""
    worst_period: float
    mean_hedge_ratio: float
    """Average of H / realised E."""

    def to_dict(self) -> dict[str, Any]:
        return _outcome_dict(self)


def evaluate_policy(
    name: str,
    *,
    exposure: FloatArray,
    hedge: FloatArray,
    spot_start: FloatArray,
    spot_end: FloatArray,
    forward: FloatArray,
    costs: HedgeCosts,
) -> tuple[PolicyOutcome, FloatArray]:
    """Score one hedge path against realised exposures and rates (and the per-period results)."""
    arrays = [
        np.asarray(a, dtype=np.float64) for a in (exposure, hedge, spot_start, spot_end, forward)
    ]
    if len({a.shape for a in arrays}) != 1:
        raise ValidationFailed(
            "exposure, hedge and rate arrays must have the same length",
            code="length_mismatch",
            param="exposure",
        )
    e, h, s0, s1, f = arrays
    if np.any(h * e < 0):
        raise ValidationFailed(
            "a hedge must have the same sign as its exposure", code="invalid_hedge", param="hedge"
        )
    pnl = e * (s1 - s0) + h * (f - s1)
    cost = costs.tx_cost(e, h, s0)
    result = pnl - cost
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(e != 0, h / e, 0.0)
    out = PolicyOutcome(
        policy=name,
        periods=int(e.shape[0]),
        total_cost=float(cost.sum()),
        total_carry=float((h * (f - s0)).sum()),
        total_pnl=float(result.sum()),
        pnl_std=float(result.std(ddof=1)) if e.shape[0] > 1 else 0.0,
        worst_period=float(result.min()) if e.shape[0] else 0.0,
        mean_hedge_ratio=float(ratio.mean()) if e.shape[0] else 0.0,
    )
    return out, result


class PolicyKind(StrEnum):
    NONE = "none"
    FULL = "full"
    FIXED = "fixed"
    SNAIVE = "snaive"
    FORECAST = "forecast"


@dataclass(frozen=True, slots=True)
class HedgeBacktest:
    """Result of :func:`hedging_backtest`."""

    pair: str
    model: str
    dates: NDArray[np.datetime64]
    outcomes: list[PolicyOutcome]
    hedges: dict[str, FloatArray] = field(repr=False)
    exposure: FloatArray = field(repr=False)
    assumptions: dict[str, Any] = field(default_factory=dict)

    def outcome(self, policy: str) -> PolicyOutcome:
        for o in self.outcomes:
            if o.policy == policy:
                return o
        raise KeyError(policy)

    def cost_reduction(self, policy: str, *, versus: str) -> float:
        """Fractional cost saving of ``policy`` relative to ``versus`` (0.1 = 10 % cheaper)."""
        base = self.outcome(versus).total_cost
        return 1.0 - self.outcome(policy).total_cost / base if base > 0 else math.nan

    def to_dict(self) -> dict[str, Any]:
        return {
            "pair": self.pair,
            "model": self.model,
            "periods": int(self.dates.shape[0]),
            "first_period": str(self.dates[0]) if self.dates.shape[0] else None,
            "last_period": str(self.dates[-1]) if self.dates.shape[0] else None,
            "policies": [_outcome_dict(o) for o in self.outcomes],
            "cost_reduction_forecast_vs_snaive": _r(
                self.cost_reduction("forecast", versus="snaive")
            ),
            "cost_reduction_forecast_vs_none": _r(self.cost_reduction("forecast", versus="none")),
            "assumptions": self.assumptions,
        }


def _r(x: float) -> float | None:
    return round(x, 6) if math.isfinite(x) else None


def _outcome_dict(o: PolicyOutcome) -> dict[str, Any]:
    return {
        "policy": o.policy,
        "periods": o.periods,
        "total_cost": round(o.total_cost, 4),
        "total_carry": round(o.total_carry, 4),
        "total_pnl": round(o.total_pnl, 4),
        "pnl_std": round(o.pnl_std, 4),
        "worst_period": round(o.worst_period, 4),
        "mean_hedge_ratio": round(o.mean_hedge_ratio, 4),
    }


def _rate_at(
    dates: NDArray[np.datetime64], values: FloatArray, when: NDArray[np.datetime64]
) -> FloatArray:
    idx = np.searchsorted(dates, when, side="right") - 1
    if np.any(idx < 0):
        raise ValidationFailed(
            "exposure periods start before the rate history",
            code="no_rates_in_range",
            param="exposure",
        )
    return values[idx]


def hedging_backtest(
    exposure: TimeSeries,
    rates: TimeSeries,
    *,
    pair: tuple[str, str],
    model: str = "ets_theta",
    season_length: int | None = None,
    min_train: int | None = None,
    fixed_ratio: float = 0.5,
    costs: HedgeCosts | None = None,
    carry: CarryAssumption | None = None,
    direction: str = "receivable",
    calib_periods: int = 24,
) -> HedgeBacktest:
    """Replay hedging decisions period by period: decide at the end of period i−1, settle at period i.

    ``exposure`` holds realised exposure magnitudes per period (≥ 0, e.g. monthly totals);
    ``rates`` the daily X/home rate (home units per X) with ``pair = (X, home)``.
    """
    cst = costs or HedgeCosts()
    cry = carry or CarryAssumption()
    if direction not in {"receivable", "payable"}:
        raise ValidationFailed(
            "direction must be receivable or payable", code="invalid_direction", param="direction"
        )
    if not 0.0 <= fixed_ratio <= 1.5:
        raise ValidationFailed(
            "fixed_ratio must be between 0 and 1.5", code="invalid_ratio", param="fixed_ratio"
        )
    e_all = exposure.values
    if np.any(e_all < 0):
        raise ValidationFailed(
            "exposure magnitudes must be ≥ 0 (set direction for payables)",
            code="negative_value",
            param="exposure",
        )
    m = season_length or season_length_for(exposure.freq)
    n = e_all.shape[0]
    start = min_train or max(2 * m + 2, 24)
    if n - start < 6:
        raise ValidationFailed(
            f"exposure series of {n} periods leaves {n - start} to backtest; at least 6 are needed",
            code="series_too_short",
            param="exposure",
        )
    spec = model_spec(model)
    tau = cst.newsvendor_quantile
    y_all = np.log1p(e_all)
    # Decisions before `start` only collect one-step errors for the quantile (rolling calibration).
    first = max(spec.build(m).min_length, start - calib_periods)
    past_errors: list[float] = []
    point = np.empty(n - start)
    qhedge = np.empty(n - start)
    snaive = np.empty(n - start)
    for i in range(first, n):
        hist = y_all[:i]
        mean = float(spec.build(m).fit(hist).predict(1, quantiles=(0.5,)).mean[0])
        if i >= start:
            j = i - start
            point[j] = float(np.expm1(mean))
            snaive[j] = float(
                np.expm1(make_model("snaive", season_length=m).fit(hist).predict(1).mean[0])
            )
            if tau <= 0:
                qhedge[j] = 0.0
            elif len(past_errors) < 6:
                qhedge[j] = point[j]
            else:
                offset = float(np.quantile(np.array(past_errors[-calib_periods:]), tau))
                qhedge[j] = float(np.expm1(mean + offset))
            qhedge[j] = max(qhedge[j], 0.0)
        past_errors.append(float(y_all[i] - mean))
    dates = exposure.dates[start:]
    decided = exposure.dates[start - 1 : n - 1]
    s0 = _rate_at(rates.dates, rates.values, decided)
    s1 = _rate_at(rates.dates, rates.values, dates)
    days = (dates - decided).astype(np.int64).astype(np.float64)
    fwd = cry.forward(s0, base=pair[0], quote=pair[1], days=days)
    sign = 1.0 if direction == "receivable" else -1.0
    realised = e_all[start:]
    hedges = {
        PolicyKind.NONE.value: np.zeros_like(realised),
        PolicyKind.FULL.value: np.maximum(point, 0.0),
        PolicyKind.FIXED.value: fixed_ratio * np.maximum(point, 0.0),
        PolicyKind.SNAIVE.value: np.maximum(snaive, 0.0),
        PolicyKind.FORECAST.value: qhedge,
    }
    outcomes = []
    for name, h in hedges.items():
        # A payable is the mirror image: buying X forward. Scoring in signed amounts covers both.
        out, _ = evaluate_policy(
            name,
            exposure=sign * realised,
            hedge=sign * h,
            spot_start=s0,
            spot_end=s1,
            forward=fwd,
            costs=cst,
        )
        outcomes.append(out)
    return HedgeBacktest(
        pair=f"{pair[0]}/{pair[1]}",
        model=model,
        dates=dates,
        outcomes=outcomes,
        hedges=hedges,
        exposure=realised,
        assumptions={
            "forward": cry.source,
            "costs_bps": {
                "forward": cst.forward_bps,
                "spot": cst.spot_bps,
                "unwind": cst.unwind_bps,
            },
            "forecast_quantile": round(tau, 4),
            "fixed_ratio": fixed_ratio,
            "direction": direction,
            "full": "100% of the model's point forecast",
            "snaive": "100% of the seasonal-naive forecast",
        },
    )


@dataclass(frozen=True, slots=True)
class HedgeRecommendation:
    """What to hedge for one currency over one tenor."""

    currency: str
    home: str
    direction: str
    forecast_mean: float
    forecast_quantiles: dict[float, float]
    hedge_amount: float
    """Forward notional in ``currency`` (positive; sell for receivables, buy for payables)."""
    hedge_ratio: float
    """hedge_amount / |forecast mean|."""
    spot: float
    spot_date: date
    forward_rate: float
    forward_points: float
    tenor_days: int
    home_equivalent: float
    """hedge_amount × forward_rate, in home currency."""
    carry_annualised: float
    """(F − S)/S × 365/days."""
    expected_cost_saving: float
    """Expected transaction cost of not hedging minus that of this hedge, home currency."""
    rationale: str
    assumptions: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "home": self.home,
            "direction": self.direction,
            "forecast_mean": round(self.forecast_mean, 2),
            "forecast_quantiles": {
                f"q{q * 100:g}": round(v, 2) for q, v in self.forecast_quantiles.items()
            },
            "hedge_amount": round(self.hedge_amount, 2),
            "hedge_ratio": round(self.hedge_ratio, 4),
            "spot": round(self.spot, 8),
            "spot_date": self.spot_date.isoformat(),
            "forward_rate": round(self.forward_rate, 8),
            "forward_points": round(self.forward_points, 4),
            "tenor_days": self.tenor_days,
            "home_equivalent": round(self.home_equivalent, 2),
            "carry_annualised": round(self.carry_annualised, 6),
            "expected_cost_saving": round(self.expected_cost_saving, 2),
            "rationale": self.rationale,
            "assumptions": self.assumptions,
        }


def recommend_hedge(
    currency: str,
    *,
    home: str,
    net_quantiles: Mapping[float, float],
    spot: float,
    spot_date: date,
    tenor_days: int,
    costs: HedgeCosts | None = None,
    carry: CarryAssumption | None = None,
    policy: str = "forecast",
    ratio: float | None = None,
) -> HedgeRecommendation:
    """Recommend a forward for a forecast *net* exposure (signed: + receivable, − payable)."""
    cst = costs or HedgeCosts()
    cry = carry or CarryAssumption()
    if tenor_days < 1 or tenor_days > 730:
        raise ValidationFailed(
            "tenor_days must be between 1 and 730", code="invalid_tenor", param="tenor_days"
        )
    if not (math.isfinite(spot) and spot > 0):
        raise ValidationFailed("spot must be positive", code="invalid_rate", param="spot")
    try:
        kind = PolicyKind(policy)
    except ValueError:
        raise ValidationFailed(
            f"unknown policy {policy!r}; use one of {[p.value for p in PolicyKind]}",
            code="invalid_policy",
            param="policy",
        ) from None
    qs = {float(q): float(v) for q, v in net_quantiles.items()}
    if 0.5 not in qs:
        raise ValidationFailed(
            "net_quantiles must include the median (0.5)",
            code="invalid_quantile",
            param="net_quantiles",
        )
    median = qs[0.5]
    mean = median
    direction = "receivable" if median >= 0 else "payable"
    sign = 1.0 if median >= 0 else -1.0
    # Magnitudes in the exposure's own direction: the low quantile of |E| is the confident part.
    levels = sorted(qs)
    mags = {q: max(sign * qs[q if sign > 0 else _mirror(q, levels)], 0.0) for q in levels}
    tau = cst.newsvendor_quantile
    if kind is PolicyKind.NONE:
        amount, why = 0.0, "policy none: no hedge"
    elif kind in (PolicyKind.FULL, PolicyKind.SNAIVE):
        amount, why = abs(mean), "policy full: hedge 100% of the forecast"
    elif kind is PolicyKind.FIXED:
        r = 0.5 if ratio is None else ratio
        if not 0 <= r <= 1.5:
            raise ValidationFailed(
                "ratio must be between 0 and 1.5", code="invalid_ratio", param="ratio"
            )
        amount, why = r * abs(mean), f"policy fixed: hedge {r:.0%} of the forecast"
    else:
        amount = _interp_quantile(mags, tau)
        why = (
            f"forecast-driven: hedge the {tau:.0%} quantile of the exposure forecast — the amount that "
            f"minimises expected dealing cost with forward {cst.forward_bps:g} bps, spot {cst.spot_bps:g} bps, "
            f"unwind {cst.unwind_bps:g} bps"
        )
    fwd = float(cry.forward(spot, base=currency, quote=home, days=tenor_days))
    expected_saving = _expected_saving(mags, amount, cst, spot)
    return HedgeRecommendation(
        currency=currency.upper(),
        home=home.upper(),
        direction=direction,
        forecast_mean=mean,
        forecast_quantiles=qs,
        hedge_amount=amount,
        hedge_ratio=amount / abs(mean) if mean else 0.0,
        spot=spot,
        spot_date=spot_date,
        forward_rate=fwd,
        forward_points=forward_points(spot, fwd, quote=home),
        tenor_days=tenor_days,
        home_equivalent=amount * fwd,
        carry_annualised=(fwd - spot) / spot * 365.0 / tenor_days,
        expected_cost_saving=expected_saving,
        rationale=why,
        assumptions={
            "forward": cry.source,
            "costs_bps": {
                "forward": cst.forward_bps,
                "spot": cst.spot_bps,
                "unwind": cst.unwind_bps,
            },
        },
    )


def _mirror(q: float, levels: Sequence[float]) -> float:
    target = round(1.0 - q, 6)
    return min(levels, key=lambda x: abs(x - target))


def _interp_quantile(mags: Mapping[float, float], tau: float) -> float:
    qs = sorted(mags)
    vals = np.maximum.accumulate(np.array([mags[q] for q in qs]))
    return float(np.interp(tau, qs, vals))


def _expected_saving(
    mags: Mapping[float, float], amount: float, costs: HedgeCosts, spot: float
) -> float:
    """Expected cost(no hedge) − cost(hedge), averaging over the forecast quantiles as scenarios."""
    scen = np.array([mags[q] for q in sorted(mags)])
    zero = costs.tx_cost(scen, np.zeros_like(scen), np.full_like(scen, spot)).mean()
    hedged = costs.tx_cost(scen, np.full_like(scen, amount), np.full_like(scen, spot)).mean()
    return float(zero - hedged)


__all__ = [
    "CarryAssumption",
    "HedgeBacktest",
    "HedgeCosts",
    "HedgeRecommendation",
    "PolicyKind",
    "PolicyOutcome",
    "evaluate_policy",
    "forward_points",
    "hedging_backtest",
    "recommend_hedge",
]
