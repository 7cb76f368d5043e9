"""Seeded merchant-financing applications (revenue-based credit for a merchant).

The payments world is built elsewhere and is not imported here: a merchant's
payment history enters as plain aggregates (:func:`application_from_activity`),
so the payments package (or anyone) can feed real figures in. The generator
draws merchants with plausible aggregates, then a default outcome from a
hidden logistic model, so a scorecard trained on the data has something real
to find. Same seed, same data.

Fields (all a lender would see at application time):

- ``monthly_revenue`` — mean monthly processed volume over the last 6 months (EUR)
- ``revenue_growth`` — last 3 months over the 3 before, minus 1 (−1 … 10)
- ``revenue_volatility`` — coefficient of variation of monthly volume (0 … 5)
- ``dispute_rate`` — disputes / transactions over 6 months (0 … 1)
- ``refund_rate`` — refunded / processed volume (0 … 1)
- ``tenure_months`` — months processing with us (0 … 600)
- ``mcc_risk`` — merchant-category risk band (low / medium / high)
- ``market`` — region of the merchant of record
- ``requested_amount`` — financing asked for (EUR)
- ``existing_financing`` — other merchant-cash-advance loans (none / one / several)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from cockpit.errors import ValidationFailed
from tools.credit.schema import FeatureSpec

if TYPE_CHECKING:
    import pandas as pd

MERCHANT_FEATURES: tuple[FeatureSpec, ...] = (
    FeatureSpec(
        "monthly_revenue",
        "numerical",
        "Mean monthly processed volume (EUR)",
        minimum=0,
        maximum=1e9,
        reason_code="MF01",
        reason_text="Low processed revenue",
    ),
    FeatureSpec(
        "revenue_growth",
        "numerical",
        "Revenue growth, last 3 months vs the 3 before",
        minimum=-1,
        maximum=10,
        reason_code="MF02",
        reason_text="Declining revenue",
    ),
    FeatureSpec(
        "revenue_volatility",
        "numerical",
        "Coefficient of variation of monthly revenue",
        minimum=0,
        maximum=5,
        reason_code="MF03",
        reason_text="Volatile revenue",
    ),
    FeatureSpec(
        "dispute_rate",
        "numerical",
        "Disputes per transaction (fraction)",
        minimum=0,
        maximum=1,
        reason_code="MF04",
        reason_text="High dispute rate",
    ),
    FeatureSpec(
        "refund_rate",
        "numerical",
        "Refunded share of volume (fraction)",
        minimum=0,
        maximum=1,
        reason_code="MF05",
        reason_text="High refund rate",
    ),
    FeatureSpec(
        "tenure_months",
        "numerical",
        "Months processing with us",
        minimum=0,
        maximum=600,
        integer=True,
        reason_code="MF06",
        reason_text="Short processing history",
    ),
    FeatureSpec(
        "mcc_risk",
        "categorical",
        "Merchant-category risk band",
        categories=("low", "medium", "high"),
        reason_code="MF07",
        reason_text="High-risk business category",
    ),
    FeatureSpec(
        "market",
        "categorical",
        "Region of the merchant of record",
        categories=("EU", "UK", "US", "APAC", "LATAM"),
        reason_code="MF08",
        reason_text="Market",
    ),
    FeatureSpec(
        "requested_amount",
        "numerical",
        "Financing requested (EUR)",
        minimum=100,
        maximum=10_000_000,
        reason_code="MF09",
        reason_text="Amount high relative to revenue",
    ),
    FeatureSpec(
        "existing_financing",
        "categorical",
        "Other merchant financing outstanding",
        categories=("none", "one", "several"),
        reason_code="MF10",
        reason_text="Existing financing",
    ),
)


@dataclass(frozen=True, slots=True)
class MerchantWorld:
    """Knobs of the generator; defaults give a ~15% default rate."""

    n: int = 5000
    """Applications to draw."""
    seed: int = 7
    """Seed of the numpy generator (same seed, same rows)."""
    base_logit: float = -2.35
    """Log-odds of default of an average merchant."""


def application_from_activity(
    monthly_volumes: Sequence[float],
    *,
    transactions: int,
    disputes: int,
    refunded_volume: float,
    tenure_months: int,
    mcc_risk: str,
    market: str,
    requested_amount: float,
    existing_financing: str = "none",
) -> dict[str, float | str]:
    """Turn a merchant's payment aggregates (oldest month first) into an application."""
    vols = np.asarray(monthly_volumes, dtype=float)
    if len(vols) < 6 or (vols < 0).any():
        raise ValidationFailed(
            "need at least 6 non-negative monthly volumes",
            code="invalid_history",
            param="monthly_volumes",
        )
    if transactions <= 0 or disputes < 0 or disputes > transactions:
        raise ValidationFailed(
            "disputes must be between 0 and transactions (> 0)",
            code="invalid_history",
            param="disputes",
        )
    last6 = vols[-6:]
    mean = float(last6.mean())
    before, after = float(last6[:3].sum()), float(last6[3:].sum())
    return {
        "monthly_revenue": round(mean, 2),
        "revenue_growth": round(min(after / before - 1.0, 10.0), 4) if before > 0 else 0.0,
        "revenue_volatility": round(min(float(last6.std()) / mean, 5.0), 4) if mean > 0 else 0.0,
        "dispute_rate": round(disputes / transactions, 6),
        "refund_rate": round(min(refunded_volume / max(float(last6.sum()), 1.0), 1.0), 6),
        "tenure_months": int(tenure_months),
        "mcc_risk": mcc_risk,
        "market": market,
        "requested_amount": float(requested_amount),
        "existing_financing": existing_financing,
    }


def generate_merchant_applications(
    world: MerchantWorld = MerchantWorld(),
) -> tuple[pd.DataFrame, np.ndarray]:
    """Draw ``world.n`` applications and their outcome (1 = defaulted within 12 months)."""
    import pandas as pd  # here, not at the top: it adds a third of a second to start-up

    rng = np.random.default_rng(world.seed)
    n = world.n
    mcc = rng.choice(["low", "medium", "high"], size=n, p=[0.55, 0.33, 0.12])
    market = rng.choice(
        ["EU", "UK", "US", "APAC", "LATAM"], size=n, p=[0.35, 0.15, 0.25, 0.15, 0.10]
    )
    tenure = np.minimum(rng.gamma(1.6, 14.0, size=n).astype(int), 600)
    revenue = np.round(np.exp(rng.normal(10.4, 1.1, size=n)), 2)
    growth = np.clip(rng.normal(0.04, 0.22, size=n), -0.95, 10)
    vol = np.clip(rng.gamma(2.0, 0.12, size=n) + np.where(tenure < 6, 0.15, 0.0), 0, 5)
    mcc_dispute = np.select([mcc == "low", mcc == "medium"], [0.002, 0.004], 0.009)
    dispute = np.clip(rng.gamma(1.5, mcc_dispute / 1.5), 0, 1)
    refund = np.clip(rng.beta(1.2, 40, size=n), 0, 1)
    existing = rng.choice(["none", "one", "several"], size=n, p=[0.7, 0.22, 0.08])
    # Ask for 0.5–3 months of revenue, with some over-reaching asks.
    months_asked = np.exp(rng.normal(0.3, 0.55, size=n))
    requested = np.clip(np.round(revenue * months_asked, -2), 100, 10_000_000)

    leverage = requested / np.maximum(revenue, 1.0)
    logit = (
        world.base_logit
        - 0.45 * (np.log(revenue) - 10.4)
        - 1.6 * growth
        + 1.8 * (vol - 0.25)
        + 140.0 * (dispute - 0.004)
        + 6.0 * (refund - 0.03)
        - 0.9 * (np.log1p(tenure) - 2.8)
        + np.select([mcc == "low", mcc == "medium"], [-0.2, 0.1], 0.6)
        + 0.35 * (leverage - 1.5)
        + np.select([existing == "none", existing == "one"], [0.0, 0.35], 0.9)
    )
    bad = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int64)
    frame = pd.DataFrame(
        {
            "monthly_revenue": revenue,
            "revenue_growth": np.round(growth, 4),
            "revenue_volatility": np.round(vol, 4),
            "dispute_rate": np.round(dispute, 6),
            "refund_rate": np.round(refund, 6),
            "tenure_months": tenure,
            "mcc_risk": mcc,
            "market": market,
            "requested_amount": requested,
            "existing_financing": existing,
        }
    )
    return frame, bad


__all__ = [
    "MERCHANT_FEATURES",
    "MerchantWorld",
    "application_from_activity",
    "generate_merchant_applications",
]
