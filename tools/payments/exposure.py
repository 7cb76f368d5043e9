"""Cross-currency volumes from the payments world: what FX exposure is made of.

A capture in a currency other than the merchant's settlement currency is a receivable in that
currency; a refund of it is a payable. :class:`LedgerExposureSource` hands these to the FX
tool as signed daily totals in major units. It satisfies ``tools.fx.exposure.ExposureSource``
structurally, so neither package imports the other.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from cockpit.db.session import Database
from tools.payments.models import Capture, Merchant, Refund
from tools.payments.money import EXPONENTS

EXTRAS_KEY = "fx_exposure_source"
"""Where the FX tool looks for its exposure source (``tools.fx.exposure.EXPOSURE_SOURCE_KEY``)."""


@dataclass(frozen=True, slots=True)
class DailyVolume:
    date: date
    currency: str
    amount: float
    """Signed, in major units: captures positive, refunds negative."""


def daily_totals_in(
    session: Session,
    *,
    merchant_id: str | None = None,
    start: date | None = None,
    end: date | None = None,
) -> dict[tuple[date, str], int]:
    """Signed minor-unit totals per (day, currency) of captures (+) and successful refunds (−)
    in currencies other than each merchant's settlement currency, in ``session``."""
    lo = datetime.combine(start, time.min, UTC) if start else None
    hi = datetime.combine(end, time.max, UTC) if end else None
    totals: dict[tuple[date, str], int] = defaultdict(int)
    home = {m.id: m.settlement_currency for m in session.scalars(select(Merchant))}
    for model, sign in ((Capture, 1), (Refund, -1)):
        q = select(model.merchant_id, model.currency, model.amount, model.created_at)
        if model is Refund:
            q = q.where(Refund.status == "SUCCESS")
        if merchant_id:
            q = q.where(model.merchant_id == merchant_id)
        if lo:
            q = q.where(model.created_at >= lo)
        if hi:
            q = q.where(model.created_at <= hi)
        for mid, ccy, amount, at in session.execute(q):
            if ccy != home.get(mid):
                totals[(at.date(), ccy)] += sign * amount
    return dict(totals)


class LedgerExposureSource:
    def __init__(self, db: Database) -> None:
        self._db = db

    def daily_volumes(
        self,
        tenant_id: str,
        *,
        merchant_id: str | None = None,
        start: date | None = None,
        end: date | None = None,
    ) -> Iterable[DailyVolume]:
        with self._db.tenant_session(tenant_id) as s:
            totals = daily_totals_in(s, merchant_id=merchant_id, start=start, end=end)
        return [
            DailyVolume(day, ccy, float(Decimal(minor).scaleb(-EXPONENTS[ccy])))
            for (day, ccy), minor in sorted(totals.items())
        ]


__all__ = ["EXTRAS_KEY", "DailyVolume", "LedgerExposureSource", "daily_totals_in"]
