"""FX forecasting speed: 40 currency series × 30-business-day horizon with calibrated intervals.

Prints one JSON document. Measured separately:

* ``cold`` — a fresh interpreter: importing ``tools.fx`` (pulls in statsforecast) and the
  first call of each statsforecast model versus its second call. statsforecast 2.x ships
  compiled C++ (``statsforecast._lib``) and does not depend on numba, so there is no JIT;
  the first call only pays lazy loading. Reported so that claim can be checked.
* ``forty_series`` — 40 ECB series (28 EUR crosses + 12 USD crosses), horizon 30,
  quantiles 5/10/50/90/95 with conformal calibration, for the default ``rw`` and the
  ``theta``/``ets`` backends; first pass (includes reading the ECB file) and the median
  of repeated warm passes.
* ``baseline`` — the library's own path in the same run: ``StatsForecast`` with AutoETS
  and native 80/90 % intervals on the same 40 series (no calibration).

Target from the issue: ≤ 5 s for the 40 series (aim ≤ 2 s).
Usage: ``python benchmarks/fx_speed.py [--repeats 3] [--skip-ets]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

COLD_SNIPPET = r"""
import json, time
t = time.perf_counter()
import tools.fx  # noqa: F401
from tools.fx import make_model
import numpy as np
imp = time.perf_counter() - t
y = np.log(np.linspace(50, 56, 800) + np.sin(np.arange(800) / 9.0))
out = {"import_tools_fx_s": round(imp, 3)}
for name in ("ets", "theta", "arima"):
    t = time.perf_counter(); make_model(name).fit(y).predict(30); first = time.perf_counter() - t
    t = time.perf_counter(); make_model(name).fit(y).predict(30); second = time.perf_counter() - t
    out[name] = {"first_call_s": round(first, 4), "second_call_s": round(second, 4)}
print(json.dumps(out))
"""


def cold_numbers() -> dict[str, Any]:
    env = dict(os.environ)
    proc = subprocess.run(
        [sys.executable, "-c", COLD_SNIPPET], capture_output=True, text=True, env=env, check=True
    )
    data: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    try:
        import numba  # type: ignore[import-not-found]  # noqa: F401

        data["numba_installed"] = True
    except ImportError:
        data["numba_installed"] = False
    return data


def series_names() -> list[str]:
    from tools.fx import load_ecb

    live = [c for c in load_ecb().currencies(live_only=True) if c != "EUR"]
    eur = [f"EUR/{c}" for c in live][:28]
    usd = [f"USD/{c}" for c in live if c not in {"USD"}][:12]
    return eur + usd


def run_batch(pairs: list[str], model: str) -> float:
    from tools.fx import forecast_pair

    t = time.perf_counter()
    for p in pairs:
        fc = forecast_pair(p, horizon=30, model=model)
        assert fc.horizon == 30 and 0.05 in fc.quantiles
    return time.perf_counter() - t


def baseline_statsforecast(pairs: list[str]) -> float:
    import numpy as np
    import pandas as pd
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS

    from tools.fx import pair_series

    frames = []
    t = time.perf_counter()
    for p in pairs:
        s, _ = pair_series(p)
        n = min(len(s), 1500)
        frames.append(
            pd.DataFrame({"unique_id": p, "ds": np.arange(n), "y": np.log(s.values[-n:])})
        )
    df = pd.concat(frames)
    sf = StatsForecast(models=[AutoETS(season_length=1)], freq=1, n_jobs=1)
    out = sf.forecast(df=df, h=30, level=[80, 90])
    assert len(out) == 30 * len(pairs)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description="FX forecasting speed")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-ets", action="store_true")
    args = ap.parse_args()
    report: dict[str, Any] = {"benchmark": "fx_speed", "cpu_count": os.cpu_count()}
    report["cold"] = cold_numbers()
    pairs = series_names()
    assert len(pairs) == 40, pairs
    report["series"] = pairs
    results: dict[str, Any] = {}
    for model in ("rw", "theta") + (() if args.skip_ets else ("ets",)):
        first = run_batch(pairs, model)
        warm = [run_batch(pairs, model) for _ in range(args.repeats)]
        results[model] = {
            "first_pass_s": round(first, 3),
            "warm_median_s": round(statistics.median(warm), 3),
            "warm_runs_s": [round(w, 3) for w in warm],
            "per_series_ms": round(1000 * statistics.median(warm) / len(pairs), 2),
        }
    report["forty_series_h30_with_intervals"] = results
    base = [baseline_statsforecast(pairs) for _ in range(max(1, args.repeats - 1))]
    report["baseline_statsforecast_autoets_native_intervals_s"] = round(statistics.median(base), 3)
    default = results["rw"]["warm_median_s"]
    report["target"] = {
        "default_model": "rw",
        "limit_s": 5.0,
        "aim_s": 2.0,
        "measured_s": default,
        "first_pass_s": results["rw"]["first_pass_s"],
        "within_limit": default <= 5.0,
        "within_aim": default <= 2.0,
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
