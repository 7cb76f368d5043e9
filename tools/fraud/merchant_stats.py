"""Per-merchant statistics of scored traffic: decision rates, mean score, top reason codes.

In memory and rebuilt from traffic, like the velocity and graph state; the caller
(:class:`tools.fraud.service.FraudService`) holds the lock.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from cockpit.errors import NotFound
from tools.fraud.schema import Transaction
from tools.fraud.scoring import ScoreResult


@dataclass(slots=True)
class MerchantStats:
    """One merchant's scored traffic so far."""

    scored: int = 0
    decisions: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    score_sum: float = 0.0
    amount_usd: float = 0.0
    declined_amount_usd: float = 0.0

    def add(self, txn: Transaction, res: ScoreResult) -> None:
        self.scored += 1
        self.decisions[res.decision] += 1
        self.score_sum += res.score or 0.0
        self.amount_usd += txn.amount_usd
        if res.decision == "decline":
            self.declined_amount_usd += txn.amount_usd
        for r in res.reasons:
            self.reasons[r.code] += 1


def merchant_report(
    stats: dict[str, MerchantStats], merchant_id: str, *, model_version: str | None
) -> dict[str, Any]:
    """Decision rates, mean score and top reasons of a merchant (404 if it has no traffic)."""
    st = stats.get(merchant_id)
    if st is None:
        raise NotFound(
            f"no scored traffic for merchant {merchant_id!r}",
            code="merchant_not_found",
            param="merchant_id",
        )
    n = st.scored
    return {
        "merchant_id": merchant_id,
        "scored": n,
        "approve_rate": st.decisions["approve"] / n,
        "review_rate": st.decisions["review"] / n,
        "decline_rate": st.decisions["decline"] / n,
        "mean_score": st.score_sum / n,
        "amount_usd": round(st.amount_usd, 2),
        "declined_amount_usd": round(st.declined_amount_usd, 2),
        "top_reasons": [{"code": c, "count": k} for c, k in st.reasons.most_common(5)],
        "model_version": model_version,
    }


__all__ = ["MerchantStats", "merchant_report"]
