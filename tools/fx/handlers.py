"""Request → result for the transports: validated bodies in, domain calls, JSON-ready dicts out.

The router, the CLI and the agent tools call these so the three behave the same way.
Volumes come from the request body or, when it has none, from the tenant's
:class:`~tools.fx.exposure.ExposureSource` (the ledger adapter the composition root
installs under :data:`~tools.fx.exposure.EXPOSURE_SOURCE_KEY`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from cockpit.errors import UserError, ValidationFailed
from tools.fx.schemas import ExposureRequest, ForecastRequest, HedgeRequest, VolumeIn

# The forecasting, hedging and ECB modules load SciPy and pandas: each handler imports them when
# it first runs, so registering the tools and mounting the router (every server start) do not.
if TYPE_CHECKING:
    from tools.fx.exposure import VolumeRecord
    from tools.fx.forecast import Forecast


def run_forecast(req: ForecastRequest) -> Forecast:
    """Forecast the pair or the user series the request names (exactly one of them)."""
    from tools.fx.forecast import DEFAULT_HORIZONS, forecast_pair, forecast_series
    from tools.fx.series import series_from_csv, series_from_records
    from tools.fx.service import default_transform

    given = [x for x in (req.pair, req.series, req.csv) if x is not None]
    if len(given) != 1:
        raise ValidationFailed(
            "send exactly one of pair, series or csv", code="invalid_request", param="pair"
        )
    if req.csv is None and (req.date_column or req.value_column):
        raise ValidationFailed(
            "date_column and value_column name columns of csv",
            code="invalid_request",
            param="date_column" if req.date_column else "value_column",
        )
    if req.pair is not None:
        if req.transform not in (None, "log"):
            raise ValidationFailed(
                "rates are always modelled in logs", code="invalid_transform", param="transform"
            )
        return forecast_pair(
            req.pair,
            horizon=DEFAULT_HORIZONS["B"] if req.horizon is None else req.horizon,
            model=req.model,
            quantiles=req.quantiles,
            calibration=req.calibration,
            as_of=req.as_of,
        )
    if req.as_of is not None:
        raise ValidationFailed(
            "as_of applies to pairs only; trim your series instead",
            code="invalid_request",
            param="as_of",
        )
    if req.series is not None:
        series = series_from_records(
            [p.model_dump() for p in req.series], name=req.name, freq=req.freq, param="series"
        )
    else:
        series = series_from_csv(
            req.csv or "",
            name=req.name,
            freq=req.freq,
            date_column=req.date_column,
            value_column=req.value_column,
        )
    return forecast_series(
        series,
        horizon=DEFAULT_HORIZONS[series.freq] if req.horizon is None else req.horizon,
        model=req.model,
        quantiles=req.quantiles,
        calibration=req.calibration,
        transform=req.transform or default_transform(series),
        season_length=req.season_length,
    )


def volumes(
    records: list[VolumeIn] | None,
    *,
    extras: Mapping[str, Any],
    tenant_id: str,
    merchant_id: str | None,
    start: Any = None,
    end: Any = None,
) -> Iterable[VolumeRecord]:
    """Records from the body, else the tenant's ledger-backed source."""
    from tools.fx.exposure import EXPOSURE_SOURCE_KEY, ExposureSource, Volume

    if records is not None:
        return [Volume(r.date, r.currency.upper(), r.amount, r.merchant_id) for r in records]
    source = extras.get(EXPOSURE_SOURCE_KEY)
    if not isinstance(source, ExposureSource):
        raise UserError(
            "no payments ledger is connected for FX exposure; send volume records in the request",
            code="exposure_source_unavailable",
            param="records",
        )
    return list(source.daily_volumes(tenant_id, merchant_id=merchant_id, start=start, end=end))


def run_exposure(
    req: ExposureRequest, *, extras: Mapping[str, Any], tenant_id: str, merchant_id: str | None
) -> dict[str, Any]:
    from tools.fx.service import forecast_exposure

    recs = volumes(
        req.records,
        extras=extras,
        tenant_id=tenant_id,
        merchant_id=merchant_id,
        start=req.start,
        end=req.end,
    )
    fcs = forecast_exposure(
        recs,
        horizon=req.horizon,
        currencies=req.currencies,
        model=req.model,
        quantiles=req.quantiles,
        holidays=req.holidays,
        absolute=req.absolute,
    )
    return {
        "basis": "gross" if req.absolute else "net",
        "source": "request" if req.records is not None else "ledger",
        "currencies": {code: fc.to_dict(history=req.history) for code, fc in fcs.items()},
    }


def run_hedge(
    req: HedgeRequest, *, extras: Mapping[str, Any], tenant_id: str, merchant_id: str | None
) -> dict[str, Any]:
    from tools.fx.hedging import CarryAssumption, HedgeCosts
    from tools.fx.service import hedge_from_quantiles, hedge_recommendation

    costs = HedgeCosts(**req.costs.model_dump())
    carry = CarryAssumption(rates=req.interest_rates)
    if req.exposures is not None:
        if req.records is not None:
            raise ValidationFailed(
                "send records or exposures, not both", code="invalid_request", param="exposures"
            )
        recs = [
            hedge_from_quantiles(
                e.currency.upper(),
                home=req.home.upper(),
                net_quantiles={float(k): v for k, v in e.quantiles.items()},
                tenor_days=req.tenor_days,
                policy=req.policy,
                ratio=req.ratio,
                costs=costs,
                carry=carry,
                as_of=req.as_of,
            )
            for e in req.exposures
        ]
    else:
        data = volumes(req.records, extras=extras, tenant_id=tenant_id, merchant_id=merchant_id)
        recs = hedge_recommendation(
            data,
            home=req.home,
            tenor_days=req.tenor_days,
            currencies=req.currencies,
            model=req.model,
            policy=req.policy,
            ratio=req.ratio,
            costs=costs,
            carry=carry,
            as_of=req.as_of,
        )
    return {
        "home": req.home.upper(),
        "tenor_days": req.tenor_days,
        "recommendations": [r.to_dict() for r in recs],
    }


__all__ = ["run_exposure", "run_forecast", "run_hedge", "volumes"]
