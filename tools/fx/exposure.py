"""FX demand / exposure series from cross-currency volume records.

The payments ledger (wired in by the composition root, not imported here) or a user
supplies daily records ``(date, currency, amount)``: positive amounts are inflows in
that currency (receivables), negative are outflows (payables). Records of all merchants
are netted per currency and day (multilateral netting) before anything is hedged; days
without records count as zero volume, because no payment is a real observation of zero
demand, not a missing one.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol, runtime_checkable

import numpy as np

from cockpit.errors import ValidationFailed
from tools.fx.ecb import load_ecb
from tools.fx.series import MIN_LENGTH, TimeSeries, make_series

#: Key under which the composition root puts the tenant's :class:`ExposureSource` in
#: ``RequestContext.extras`` / ``ToolContext.extras`` (the payments ledger adapter).
EXPOSURE_SOURCE_KEY = "fx_exposure_source"


@runtime_checkable
class VolumeRecord(Protocol):
    """Anything with a date, an ISO currency code and a signed amount in major units."""

    @property
    def date(self) -> date: ...

    @property
    def currency(self) -> str: ...

    @property
    def amount(self) -> float: ...


@dataclass(frozen=True, slots=True)
class Volume:
    """A plain :class:`VolumeRecord`."""

    date: date
    currency: str
    amount: float
    merchant_id: str | None = None


@runtime_checkable
class ExposureSource(Protocol):
    """Where tenant volumes come from (the payments ledger implements this; tests use a list)."""

    def daily_volumes(
        self,
        tenant_id: str,
        *,
        merchant_id: str | None = None,
        start: date | None = None,
        end: date | None = None,
    ) -> Iterable[VolumeRecord]:
        """Signed daily cross-currency volumes for the tenant (optionally one merchant)."""
        ...


@dataclass(slots=True)
class InMemoryExposureSource:
    """An :class:`ExposureSource` over records held in memory, keyed by tenant."""

    records: dict[str, list[Volume]]

    def daily_volumes(
        self,
        tenant_id: str,
        *,
        merchant_id: str | None = None,
        start: date | None = None,
        end: date | None = None,
    ) -> Iterable[VolumeRecord]:
        for rec in self.records.get(tenant_id, []):
            if merchant_id is not None and rec.merchant_id != merchant_id:
                continue
            if start is not None and rec.date < start:
                continue
            if end is not None and rec.date > end:
                continue
            yield rec


def _as_date(value: object, *, row: int) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ValidationFailed(
            f"record {row}: cannot read date {value!r}", code="invalid_date", param="records"
        ) from None


def daily_exposure(
    records: Iterable[VolumeRecord],
    *,
    currencies: Sequence[str] | None = None,
    start: date | None = None,
    end: date | None = None,
    min_length: int = MIN_LENGTH,
    absolute: bool = False,
) -> dict[str, TimeSeries]:
    """Net daily volume per currency, zero-filled over the span (``absolute`` sums |amount| instead)."""
    known = set(load_ecb().currencies())
    wanted = {c.upper() for c in currencies} if currencies else None
    totals: dict[str, dict[date, float]] = defaultdict(lambda: defaultdict(float))
    for row, rec in enumerate(records):
        code = str(rec.currency).upper()
        if len(code) != 3 or not code.isalpha():
            raise ValidationFailed(
                f"record {row}: bad currency {rec.currency!r}",
                code="invalid_currency",
                param="records",
            )
        if code not in known:
            raise ValidationFailed(
                f"record {row}: unknown currency {code!r} (not in the ECB reference set)",
                code="unknown_currency",
                param="records",
            )
        amount = float(rec.amount)
        if not math.isfinite(amount):
            raise ValidationFailed(
                f"record {row}: amount is NaN or infinite", code="missing_value", param="records"
            )
        d = _as_date(rec.date, row=row)
        if wanted is not None and code not in wanted:
            continue
        totals[code][d] += abs(amount) if absolute else amount
    if wanted:
        absent = sorted(wanted - set(totals))
        if absent:
            raise ValidationFailed(
                f"no volume records for {', '.join(absent)}", code="no_exposure", param="currency"
            )
    if not totals:
        raise ValidationFailed("no volume records", code="no_exposure", param="records")
    out: dict[str, TimeSeries] = {}
    for code, by_day in sorted(totals.items()):
        lo = start or min(by_day)
        hi = end or max(by_day)
        days = np.arange(np.datetime64(lo, "D"), np.datetime64(hi, "D") + 1)
        values = np.array([by_day.get(d.item(), 0.0) for d in days], dtype=np.float64)
        out[code] = make_series(
            days,
            values,
            name=f"{code} net volume",
            freq="D",
            min_length=min_length,
            param="records",
        )
    return out


__all__ = [
    "EXPOSURE_SOURCE_KEY",
    "ExposureSource",
    "InMemoryExposureSource",
    "Volume",
    "VolumeRecord",
    "daily_exposure",
]
