"""A merchant's processing activity, as a lender sees it: what merchant financing is built from.

:class:`LedgerActivitySource` reads one merchant's payments world and returns the aggregates a
revenue-based credit application needs (``tools.credit.merchant.application_from_activity``):

- ``monthly_volumes`` — captured volume per **30-day bucket ending at** ``as_of`` (oldest first),
  in EUR major units. Buckets, not calendar months: every bucket is a whole month of trading, so a
  merchant seen today never has a half-empty "current month" pulling its mean and volatility down.
  At most ``months`` buckets, and only whole buckets since the merchant was created (a merchant
  created 100 days ago has 3 buckets).
- ``transactions`` — captured payments in those buckets; ``disputes`` — disputes opened in them;
  ``refunded_volume`` — successful refunds in them (EUR major units).
- ``tenure_months`` — whole 30-day months since the merchant was created.
- ``mcc_risk`` — band of the merchant's MCC (:func:`mcc_risk_band`); ``market`` — region of its
  country of incorporation (:func:`market_region`).

Amounts in other currencies are converted at the rates the source is given — the composition
root passes the shared gateway's (ECB-wired) rates, the ones settlements use. Like the FX
exposure source, it reaches the credit tools through ``extras`` (:data:`EXTRAS_KEY`) and satisfies
``tools.credit.activity.ActivitySource`` structurally, so neither package imports the other.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cockpit.db.base import utcnow
from cockpit.db.session import Database
from cockpit.errors import NotFound, ValidationFailed
from tools.payments.models import Capture, Dispute, Merchant, Refund
from tools.payments.money import EXPONENTS, FixedRates
from tools.payments.simulator import EEA
from tools.payments.tx import read_tx

EXTRAS_KEY = "credit_activity_source"
"""Where the credit tools look for this source (``tools.credit.activity.ACTIVITY_SOURCE_KEY``)."""

BUCKET = timedelta(days=30)
"""One "month" of activity and of tenure."""

# MCC risk bands. High: the restricted / enhanced-due-diligence categories of DOMAIN.md §6
# (licensed gambling, dating, direct marketing, money transfer, quasi-cash, pawn, tobacco,
# pharma, digital goods/games). Medium (ours): future-delivery categories, where the buyer pays
# long before the service is delivered (travel, airlines, lodging, car rental, tickets, cruises,
# timeshares) — the same delivery risk the demo world's acquirer holds a reserve for.
# Everything else is low.
_HIGH_MCC: tuple[tuple[int, int], ...] = (
    (4829, 4829),
    (5122, 5122),
    (5815, 5817),
    (5933, 5933),
    (5960, 5969),
    (5993, 5993),
    (6050, 6051),
    (7273, 7273),
    (7995, 7995),
)
_MEDIUM_MCC: tuple[tuple[int, int], ...] = (
    (3000, 3299),  # airlines
    (3351, 3441),  # car rental
    (3501, 3999),  # lodging
    (4411, 4411),  # cruise lines
    (4511, 4511),  # airlines, air carriers
    (4722, 4722),  # travel agencies and tour operators
    (7011, 7012),  # hotels; timeshares
    (7512, 7512),  # car rental agencies
    (7922, 7922),  # theatrical producers, ticket agencies
)

# Europe for merchant financing: the EEA plus the European microstates that use the euro
# area's rails.
_EU = EEA | frozenset({"CH", "MC", "AD", "SM"})
_UK = frozenset({"GB", "GG", "JE", "IM"})
_US = frozenset({"US", "PR"})
_APAC = frozenset(
    [
        "SG",
        "MY",
        "TH",
        "ID",
        "PH",
        "VN",
        "KR",
        "JP",
        "CN",
        "HK",
        "MO",
        "TW",
        "AU",
        "NZ",
        "IN",
        "PK",
        "BD",
        "LK",
        "KH",
        "LA",
        "MM",
        "BN",
        "NP",
        "MN",
    ]
)
_LATAM = frozenset(
    [
        "BR",
        "MX",
        "AR",
        "CL",
        "CO",
        "PE",
        "UY",
        "PY",
        "BO",
        "EC",
        "VE",
        "CR",
        "PA",
        "GT",
        "HN",
        "SV",
        "NI",
        "DO",
    ]
)


def mcc_risk_band(mcc: str) -> str:
    """``high`` / ``medium`` / ``low`` for a four-digit MCC (see the tables above)."""
    try:
        code = int(mcc)
    except ValueError:
        raise ValidationFailed(f"MCC {mcc!r} is not a number", code="invalid_mcc") from None
    if any(lo <= code <= hi for lo, hi in _HIGH_MCC):
        return "high"
    if any(lo <= code <= hi for lo, hi in _MEDIUM_MCC):
        return "medium"
    return "low"


def market_region(country: str) -> str:
    """The credit model's region (EU / UK / US / APAC / LATAM) of an ISO country code."""
    code = country.upper()
    for region, members in (
        ("EU", _EU),
        ("UK", _UK),
        ("US", _US),
        ("APAC", _APAC),
        ("LATAM", _LATAM),
    ):
        if code in members:
            return region
    raise ValidationFailed(
        f"merchant country {code} is in no market the credit model covers "
        "(EU, UK, US, APAC, LATAM)",
        code="market_unsupported",
        param="merchant_id",
    )


@dataclass(frozen=True, slots=True)
class MerchantActivity:
    """One merchant's processing figures (see the module docstring for each field)."""

    merchant_id: str
    merchant_name: str
    as_of: datetime
    window_start: datetime
    monthly_volumes: tuple[float, ...]
    transactions: int
    disputes: int
    refunded_volume: float
    tenure_months: int
    mcc: str
    mcc_risk: str
    country: str
    market: str
    currency: str = "EUR"
    bucket_days: int = 30

    def to_dict(self) -> dict[str, object]:
        return {
            "merchant_id": self.merchant_id,
            "merchant_name": self.merchant_name,
            "as_of": self.as_of.isoformat(),
            "window_start": self.window_start.isoformat(),
            "bucket_days": self.bucket_days,
            "currency": self.currency,
            "monthly_volumes": list(self.monthly_volumes),
            "transactions": self.transactions,
            "disputes": self.disputes,
            "refunded_volume": self.refunded_volume,
            "tenure_months": self.tenure_months,
            "mcc": self.mcc,
            "mcc_risk": self.mcc_risk,
            "country": self.country,
            "market": self.market,
        }


def _eur(totals: dict[str, int], rates: FixedRates) -> Decimal:
    """Sum of per-currency minor-unit totals in EUR major units (exact, then half-even cents)."""
    total = Decimal(0)
    for ccy, minor in totals.items():
        major = Decimal(minor).scaleb(-EXPONENTS[ccy])
        total += major if ccy == "EUR" else major * rates.rate(ccy, "EUR")
    return total.quantize(Decimal("0.01"), ROUND_HALF_EVEN)


class LedgerActivitySource:
    """Merchant activity from the payments tables, converted to EUR at ``rates``."""

    def __init__(self, db: Database, *, rates: FixedRates | None = None) -> None:
        self._db = db
        self._rates = rates or FixedRates()

    def activity(
        self,
        tenant_id: str,
        merchant_id: str,
        *,
        months: int = 6,
        as_of: datetime | None = None,
    ) -> MerchantActivity:
        """The merchant's last ``months`` whole 30-day buckets ending at ``as_of`` (default now).

        Raises ``NotFound`` (``merchant_not_found``) for a merchant the tenant does not have.
        """
        end = (as_of or utcnow()).astimezone(UTC).replace(microsecond=0)
        return read_tx(
            self._db, tenant_id, lambda s: self._read(s, merchant_id, months=months, end=end)
        )

    def _read(
        self, s: Session, merchant_id: str, *, months: int, end: datetime
    ) -> MerchantActivity:
        merchant = s.scalar(select(Merchant).where(Merchant.id == merchant_id))
        if merchant is None:
            raise NotFound(
                f"no merchant {merchant_id!r}", code="merchant_not_found", param="merchant_id"
            )
        created = merchant.created_at.astimezone(UTC)
        whole = max((end - created) // BUCKET, 0)
        n = min(months, whole)
        start = end - n * BUCKET
        volumes: list[dict[str, int]] = [defaultdict(int) for _ in range(n)]
        q = select(Capture.payment_id, Capture.currency, Capture.amount, Capture.created_at).where(
            Capture.merchant_id == merchant_id,
            Capture.created_at >= start,
            Capture.created_at < end,
        )
        paid: set[str] = set()
        for payment_id, ccy, amount, at in s.execute(q):
            volumes[min((at - start) // BUCKET, n - 1)][ccy] += amount
            paid.add(payment_id)
        refunds: dict[str, int] = defaultdict(int)
        rq = select(Refund.currency, func.sum(Refund.amount)).where(
            Refund.merchant_id == merchant_id,
            Refund.status == "SUCCESS",
            Refund.created_at >= start,
            Refund.created_at < end,
        )
        for ccy, amount in s.execute(rq.group_by(Refund.currency)):
            refunds[ccy] += int(amount or 0)
        disputes = s.scalar(
            select(func.count(Dispute.id)).where(
                Dispute.merchant_id == merchant_id,
                Dispute.opened_at >= start,
                Dispute.opened_at < end,
            )
        )
        return MerchantActivity(
            merchant_id=merchant.id,
            merchant_name=merchant.name,
            as_of=end,
            window_start=start,
            monthly_volumes=tuple(float(_eur(v, self._rates)) for v in volumes),
            transactions=len(paid),
            disputes=int(disputes or 0),
            refunded_volume=float(_eur(refunds, self._rates)),
            tenure_months=int((end - created) // BUCKET),
            mcc=merchant.mcc,
            mcc_risk=mcc_risk_band(merchant.mcc),
            country=merchant.country,
            market=market_region(merchant.country),
        )


__all__ = [
    "BUCKET",
    "EXTRAS_KEY",
    "LedgerActivitySource",
    "MerchantActivity",
    "market_region",
    "mcc_risk_band",
]
