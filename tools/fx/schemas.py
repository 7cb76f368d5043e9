"""Pydantic bodies for the FX API and agent tools (the trust boundary); domain code stays dataclasses."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from cockpit.errors import ValidationFailed
from cockpit.money import parse_major
from tools.fx.models import DEFAULT_QUANTILES


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


#: A point's date: ISO, or a period label read by tools.fx.periods (aliased: the field is "date").
DateOrLabel = date | str


class SeriesPoint(_Body):
    date: DateOrLabel = Field(
        description="An ISO date, or a period label such as 1981 Q1, 1981-03 or Mar 1981",
    )
    value: float

    @field_validator("date", mode="before")
    @classmethod
    def _bounded_label(cls, value: object) -> object:
        if isinstance(value, str) and len(value) > 40:
            raise ValueError("a date or period label is at most 40 characters")
        return value


class VolumeIn(_Body):
    """One day's volume in one currency: + inflow (receivable), − outflow (payable)."""

    date: date
    currency: str = Field(min_length=3, max_length=3)
    amount: float = Field(description="Signed major units, e.g. -1250.5 (a payable)")
    merchant_id: str | None = None

    @field_validator("amount", mode="before")
    @classmethod
    def _decimal_amount(cls, value: object) -> object:
        # Lax float parsing would take true, "NaN", "1e309" and non-ASCII digits; a volume is
        # statistics input, so a float is fine once it is a bounded, canonical number.
        try:
            number = parse_major(value, param="amount", signed=True, floats=True, max_fraction=20)
            return float(number)
        except ValidationFailed as exc:
            raise PydanticCustomError(exc.code, "{reason}", {"reason": exc.message}) from None


class ForecastRequest(_Body):
    """Forecast an ECB pair (``pair``) or your own series (``series`` or ``csv``)."""

    pair: str | None = Field(default=None, description="Currency pair BASE/QUOTE, e.g. USD/PHP")
    series: list[SeriesPoint] | None = Field(default=None, max_length=20_000)
    csv: str | None = Field(
        default=None, max_length=2_000_000, description="CSV with a header row: date,value"
    )
    date_column: str | None = Field(
        default=None, max_length=200, description="CSV column with the dates (default: the first)"
    )
    value_column: str | None = Field(
        default=None, max_length=200, description="CSV column with the values (default: the second)"
    )
    name: str = "series"
    horizon: int | None = Field(
        default=None,
        description="Steps ahead (business days for pairs); default: 22 business days for a pair, "
        "two seasons for quarterly and monthly series",
    )
    model: str = Field(
        default="auto",
        description="A registered model, or auto: the candidate with the lowest "
        "cross-validated error on this series",
    )
    quantiles: list[float] = Field(default_factory=lambda: list(DEFAULT_QUANTILES), max_length=20)
    calibration: Literal["conformal", "empirical", "native"] = "conformal"
    transform: Literal["log", "log1p", "none"] | None = None
    freq: Literal["B", "D", "W", "M", "Q"] | None = None
    season_length: int | None = Field(default=None, ge=1, le=400)
    as_of: date | None = Field(default=None, description="Forecast from this date (pairs only)")
    chart: Literal["png", "svg"] | None = Field(
        default=None, description="Return a chart instead of JSON"
    )
    history: int = Field(default=120, ge=0, le=5000, description="History points to include / plot")


class ExposureRequest(_Body):
    """Forecast daily FX demand per currency from volume records (or the ledger when omitted)."""

    records: list[VolumeIn] | None = Field(default=None, max_length=200_000)
    currencies: list[str] | None = None
    horizon: int = 30
    model: str = "ets_theta"
    quantiles: list[float] = Field(default_factory=lambda: list(DEFAULT_QUANTILES), max_length=20)
    holidays: list[date] | None = None
    absolute: bool = Field(
        default=False, description="Gross volume (sum of |amount|) instead of net"
    )
    start: date | None = None
    end: date | None = None
    merchant_id: str | None = Field(
        default=None,
        max_length=64,
        description="One merchant's volumes (a merchant-bound key always gets its own)",
    )
    history: int = Field(
        default=0, ge=0, le=5000, description="History points to include per currency"
    )


class CostsIn(_Body):
    forward_bps: float = Field(default=10.0, ge=0, le=1000)
    spot_bps: float = Field(default=30.0, ge=0, le=1000)
    unwind_bps: float = Field(default=20.0, ge=0, le=1000)


class ExposureQuantiles(_Body):
    """An exposure forecast you already have: signed amount quantiles for the tenor."""

    currency: str = Field(min_length=3, max_length=3)
    quantiles: dict[str, float] = Field(
        description='e.g. {"0.1": 80000, "0.5": 100000, "0.9": 120000}'
    )

    @field_validator("quantiles")
    @classmethod
    def _levels(cls, value: dict[str, float]) -> dict[str, float]:
        for key in value:
            try:
                q = float(key)
            except ValueError:
                raise ValueError(f"quantile key {key!r} is not a number") from None
            if not 0 < q < 1:
                raise ValueError(f"quantile {key} must be between 0 and 1")
        if not any(abs(float(k) - 0.5) < 1e-9 for k in value):
            raise ValueError("quantiles must include 0.5")
        return value


class HedgeRequest(_Body):
    """Hedge recommendation: from volume records / the ledger, or from given exposure quantiles."""

    home: str = Field(min_length=3, max_length=3, description="Reporting currency, e.g. PHP")
    tenor_days: int = Field(default=30, ge=1, le=730)
    records: list[VolumeIn] | None = Field(default=None, max_length=200_000)
    exposures: list[ExposureQuantiles] | None = Field(default=None, max_length=50)
    currencies: list[str] | None = None
    model: str = "ets_theta"
    policy: Literal["forecast", "full", "fixed", "none"] = "forecast"
    ratio: float | None = Field(default=None, ge=0, le=1.5)
    costs: CostsIn = Field(default_factory=CostsIn)
    interest_rates: dict[str, float] = Field(
        default_factory=dict,
        description='Annual simple rates per currency for forward pricing, e.g. {"USD": 0.045}; '
        "omitted currencies use 0 (forward = spot) — an explicit assumption",
    )
    as_of: date | None = None

    @field_validator("interest_rates")
    @classmethod
    def _rates(cls, value: dict[str, float]) -> dict[str, float]:
        for code, r in value.items():
            if not -0.2 <= r <= 2.0:
                raise ValueError(
                    f"interest rate for {code} must be between -0.2 and 2.0 (annual, decimal)"
                )
        return {k.upper(): v for k, v in value.items()}


__all__ = [
    "CostsIn",
    "ExposureQuantiles",
    "ExposureRequest",
    "ForecastRequest",
    "HedgeRequest",
    "SeriesPoint",
    "VolumeIn",
]
