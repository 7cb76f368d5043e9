"""The named models: how each name is built (:class:`ModelSpec`), the registry that plug-ins
(foundation models with local weights) join, and :func:`make_model`.

The forecaster classes themselves live in :mod:`tools.fx.models`; this module only says which
configuration of them a name such as ``ets_season`` or ``trend_median`` stands for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cockpit.errors import UserError, ValidationFailed
from tools.fx.models import (
    Drift,
    Ensemble,
    Forecaster,
    RandomWalk,
    SeasonalNaive,
    StatsForecastModel,
)

#: Foundation-model names with a reserved slot; they work only once registered.
FOUNDATION_SLOTS: tuple[str, ...] = ("chronos", "timesfm", "falcon-tst")


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """How to build a named model."""

    name: str
    description: str
    build: Callable[[int], Forecaster]
    """``build(season_length)`` → a fresh, unfitted forecaster."""
    cheap: bool = False
    """True when past errors have a closed form (no refits needed to calibrate)."""
    median_of: tuple[str, ...] = ()
    """Registered models this one is the per-step median of (``auto`` scores it from theirs)."""


def _sf(
    name: str,
    make: Callable[[int, int], Any],
    *,
    min_length: int = 20,
    window: int | None = 750,
    reuse_fit: bool = False,
) -> Callable[[int], Forecaster]:
    """Builder for a statsforecast model; ``make(season_length, n_obs)`` returns the model.

    ``reuse_fit`` only for models whose calibration with the estimate re-applied was
    checked against refitting (``benchmarks/fx_quality.py``, section ``reused_fit``).
    """

    def build(m: int) -> Forecaster:
        return StatsForecastModel(
            name,
            lambda n: make(m, n),
            min_length=max(min_length, 2 * m + 2),
            window=window,
            reuse_fit=reuse_fit,
        )

    return build


def _ets(m: int, n: int) -> Any:
    from statsforecast.models import AutoETS

    return AutoETS(season_length=m)


def _theta(m: int, n: int) -> Any:
    from statsforecast.models import Theta

    return Theta(season_length=m)


def _arima(m: int, n: int) -> Any:
    from statsforecast.models import AutoARIMA

    # Small search space: daily FX is close to a random walk, and the full search is slow.
    return AutoARIMA(season_length=m, max_p=2, max_q=2, max_P=1, max_Q=1)


def _mstl(m: int, n: int) -> Any:
    from statsforecast.models import MSTL, AutoETS

    # Daily data gets weekly + yearly seasonality once two full years are available.
    seasons = [7, 365] if m == 7 and n >= 2 * 365 + 7 else [m]
    return MSTL(season_length=seasons, trend_forecaster=AutoETS(model="ZZN"))


def _ensemble(m: int) -> Forecaster:
    return Ensemble(
        [
            _sf("ets", _ets, reuse_fit=True)(m),
            _sf("theta", _theta, reuse_fit=True)(m),
            _sf("arima", _arima, window=500)(m),
        ]
    )


def _ets_season(m: int, n: int) -> Any:
    from statsforecast.models import AutoETS

    # No trend term: level + additive season (multiplicative in levels, as we model logs).
    # ~10x cheaper than the full AutoETS search on daily data; trend comes from Theta in
    # the ets_theta combination, which halves it — a damped trend in effect.
    return AutoETS(season_length=m, model="ZNA" if m > 1 else "ZNN")


def _ets_damped(m: int, n: int) -> Any:
    from statsforecast.models import AutoETS

    # Damped additive trend (Gardner & McKenzie): a trend that fades over the horizon.
    return AutoETS(season_length=m, model="ZAA" if m > 1 else "ZAN", damped=True)


def _dotm(m: int, n: int) -> Any:
    from statsforecast.models import DynamicOptimizedTheta

    # Theta with its theta line and smoothing optimised (Fiorucci et al. 2016).
    return DynamicOptimizedTheta(season_length=m)


def _ces(m: int, n: int) -> Any:
    from statsforecast.models import AutoCES

    # Complex exponential smoothing (Svetunkov & Kourentzes): a level that follows the
    # series' long-run mean without a trend term; seasonal form chosen by information criterion.
    return AutoCES(season_length=m)


#: Members of ``trend_median``: the same seasonal smoothing with no, damped and Theta trend.
TREND_MEDIAN = ("ets_season", "ets_damped", "dotm")
#: Members of ``ces_median``: the three trend views and complex exponential smoothing. Not the
#: seasonal prior: chosen on the 38 "other" quarterly series, where as a fixed model it had
#: 0.804x seasonal naive's MASE against trend_median's 0.823x, it had 0.878x against 0.870x
#: on the 40 tourism series (``benchmarks/fx_auto_real.py`` protocol, 16 rolling origins).
CES_MEDIAN = (*TREND_MEDIAN, "ces")


def _median_of(name: str, members: tuple[str, ...]) -> Callable[[int], Forecaster]:
    def build(m: int) -> Forecaster:
        return Ensemble([model_spec(n).build(m) for n in members], name=name, combine="median")

    return build


def _ets_theta(m: int) -> Forecaster:
    # Cheap two-model combination; the default for demand series (seasonal ARIMA is slow).
    return Ensemble([_sf("ets_season", _ets_season)(m), _sf("theta", _theta)(m)], name="ets_theta")


_REGISTRY: dict[str, ModelSpec] = {}


def register_model(spec: ModelSpec, *, replace: bool = False) -> None:
    """Add a model (a plug-in or foundation model) under ``spec.name``."""
    if spec.name in _REGISTRY and not replace:
        raise UserError(
            f"model {spec.name!r} is already registered", code="model_exists", param="model"
        )
    _REGISTRY[spec.name] = spec


def unregister_model(name: str) -> None:
    """Remove a registered model (built-ins included; used by tests of plug-ins)."""
    _REGISTRY.pop(name, None)


def model_names() -> list[str]:
    """Names :func:`make_model` accepts right now."""
    return sorted(_REGISTRY)


def model_spec(name: str) -> ModelSpec:
    """The registered spec for ``name`` (clear error for unknown or unavailable models)."""
    key = name.strip().lower()
    spec = _REGISTRY.get(key)
    if spec is not None:
        return spec
    if key in FOUNDATION_SLOTS:
        raise UserError(
            f"foundation model {key!r} is an optional plug-in and is not installed here; "
            "register it with tools.fx.register_model (weights must be local files)",
            code="model_unavailable",
            param="model",
        )
    raise ValidationFailed(
        f"unknown model {name!r}; available: {', '.join(model_names())}",
        code="unknown_model",
        param="model",
    )


def make_model(name: str, *, season_length: int = 1) -> Forecaster:
    """A fresh forecaster by registry name."""
    if season_length < 1:
        raise ValidationFailed(
            "season_length must be ≥ 1", code="invalid_season", param="season_length"
        )
    return model_spec(name).build(season_length)


for _spec in (
    ModelSpec("rw", "driftless random walk (the FX benchmark)", lambda m: RandomWalk(), cheap=True),
    ModelSpec("drift", "random walk with trailing-window drift", lambda m: Drift(), cheap=True),
    ModelSpec(
        "snaive", "seasonal naive (the demand benchmark)", lambda m: SeasonalNaive(m), cheap=True
    ),
    ModelSpec("ets", "AutoETS (statsforecast)", _sf("ets", _ets, reuse_fit=True)),
    ModelSpec("theta", "Theta (statsforecast)", _sf("theta", _theta, reuse_fit=True)),
    ModelSpec("arima", "AutoARIMA, small search (statsforecast)", _sf("arima", _arima, window=500)),
    ModelSpec(
        "mstl",
        "MSTL multi-seasonal decomposition + ETS trend (statsforecast)",
        _sf("mstl", _mstl, window=None),
    ),
    ModelSpec("ensemble", "mean of ETS, Theta and ARIMA", _ensemble),
    ModelSpec(
        "ets_season",
        "AutoETS without trend: level + season (statsforecast)",
        _sf("ets_season", _ets_season),
    ),
    ModelSpec("ets_theta", "mean of trendless seasonal ETS and Theta", _ets_theta),
    ModelSpec(
        "ets_damped",
        "AutoETS with damped additive trend and season (statsforecast)",
        _sf("ets_damped", _ets_damped),
    ),
    ModelSpec("dotm", "dynamic optimised Theta (statsforecast)", _sf("dotm", _dotm)),
    ModelSpec("ces", "AutoCES, complex exponential smoothing (statsforecast)", _sf("ces", _ces)),
    ModelSpec(
        "trend_median",
        "median of trendless, damped-trend ETS and dynamic optimised Theta (default for demand)",
        _median_of("trend_median", TREND_MEDIAN),
        median_of=TREND_MEDIAN,
    ),
    ModelSpec(
        "ces_median",
        "median of trendless and damped-trend ETS, dynamic optimised Theta and AutoCES",
        _median_of("ces_median", CES_MEDIAN),
        median_of=CES_MEDIAN,
    ),
):
    register_model(_spec)


__all__ = [
    "CES_MEDIAN",
    "FOUNDATION_SLOTS",
    "TREND_MEDIAN",
    "ModelSpec",
    "make_model",
    "model_names",
    "model_spec",
    "register_model",
    "unregister_model",
]
