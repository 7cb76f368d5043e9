"""Issuer / method simulator: a seeded, deterministic model of authorisation outcomes.

Each decline cause is a separate hazard (expired card, cross-border, SCA
required, amount limit, suspected fraud, insufficient funds, issuer quality,
planted outages …) whose probability depends on method, market, issuer,
amount, 3DS, network token and hour. A cause fires when its own uniform draw,
derived by hashing ``(seed, request id, attempt, cause)``, falls below its
probability; the first cause that fires names the decline code. The same
inputs therefore always give the same answer, and the structure is there for
analytics to find.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

EEA = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
        "IS",
        "LI",
        "NO",
    ]
)


@dataclass(frozen=True, slots=True)
class Degradation:
    """A planted problem: extra decline probability for matching traffic."""

    penalty: float
    """Added probability of a decline (0–1)."""
    code: str
    """Decline code the problem produces."""
    issuer: str | None = None
    method_type: str | None = None
    market: str | None = None
    start: datetime | None = None
    end: datetime | None = None

    def matches(self, ctx: AuthContext) -> bool:
        return (
            (self.issuer is None or ctx.issuer == self.issuer)
            and (self.method_type is None or ctx.method_type == self.method_type)
            and (self.market is None or ctx.market == self.market)
            and (self.start is None or ctx.at >= self.start)
            and (self.end is None or ctx.at < self.end)
        )


@dataclass(frozen=True, slots=True)
class AuthContext:
    """What the issuer sees of one authorisation attempt."""

    request_id: str
    attempt: int
    method_type: str
    category: str
    market: str
    amount_eur: float
    at: datetime
    merchant_country: str
    brand: str | None = None
    issuer: str | None = None
    issuing_country: str | None = None
    funding: str | None = None
    three_ds: bool = False
    network_token: bool = False
    card_expired: bool = False
    base_approval: float = 0.95


@dataclass(frozen=True, slots=True)
class AuthDecision:
    approved: bool
    unknown: bool = False
    """The issuer did not answer in time (result status U)."""
    code: str = "00"
    merchant_advice_code: str | None = None
    cause: str = "approved"


@dataclass(slots=True)
class IssuerSimulator:
    """Deterministic for a given seed; ``degradations`` plant problems to find."""

    seed: int = 7
    degradations: list[Degradation] = field(default_factory=list)
    unknown_rate: float = 0.003

    def uniform(self, *parts: object) -> float:
        digest = hashlib.blake2b(
            "|".join(map(str, (self.seed, *parts))).encode(), digest_size=8
        ).digest()
        return int.from_bytes(digest, "big") / 2**64

    def issuer_quality(self, issuer: str) -> float:
        """Base "do not honour" rate of an issuer: 1–5 %, fixed by the seed."""
        return 0.01 + 0.04 * self.uniform("issuer", issuer)

    def hazards(self, ctx: AuthContext) -> list[tuple[str, float, str]]:
        """``(cause, probability, code)`` in the order they are checked."""
        out: list[tuple[str, float, str]] = []
        card = ctx.category == "CARD"
        for i, d in enumerate(self.degradations):
            if d.matches(ctx):
                out.append((f"planted_{i}", d.penalty, d.code))
        if card:
            if ctx.card_expired and not ctx.network_token:
                out.append(("expired_card", 0.92, "54"))
            cross_border = ctx.issuing_country not in (None, ctx.merchant_country)
            if cross_border:
                out.append(("cross_border", 0.07, "62"))
            if ctx.issuing_country in EEA and not ctx.three_ds and ctx.amount_eur > 30:
                out.append(("sca_required", 0.30, "65" if ctx.brand == "MASTERCARD" else "1A"))
            if ctx.amount_eur > 600:
                out.append(("amount_limit", 0.10, "61"))
            fraud = 0.004 if ctx.three_ds else 0.02 + (0.02 if ctx.amount_eur > 300 else 0.0)
            out.append(("suspected_fraud", fraud, "59"))
            nsf = {"DEBIT": 0.05, "PREPAID": 0.09}.get(ctx.funding or "", 0.02)
            out.append(("insufficient_funds", nsf, "51"))
            quality = self.issuer_quality(ctx.issuer or "unknown")
            if ctx.network_token:
                quality *= 0.6
            if 0 <= ctx.at.hour < 5:
                quality += 0.01
            out.append(("do_not_honor", quality, "05"))
            out.append(("cvv_mismatch", 0.006, "82"))
        else:
            wallet_fail = 1.0 - ctx.base_approval
            out.append(("balance", wallet_fail * 0.5, "USER_BALANCE_NOT_ENOUGH"))
            out.append(("verification", wallet_fail * 0.3, "USER_PAYMENT_VERIFICATION_FAILED"))
            if ctx.amount_eur > 1000:
                out.append(("user_limit", 0.15, "USER_AMOUNT_EXCEED_LIMIT"))
            out.append(("risk", wallet_fail * 0.2, "RISK_REJECT"))
        return out

    def decide(self, ctx: AuthContext) -> AuthDecision:
        if self.uniform(ctx.request_id, ctx.attempt, "unknown") < self.unknown_rate:
            return AuthDecision(approved=False, unknown=True, code="", cause="issuer_timeout")
        for cause, probability, code in self.hazards(ctx):
            if self.uniform(ctx.request_id, ctx.attempt, cause) < probability:
                mac = None
                if ctx.brand == "MASTERCARD":
                    mac = {"51": "24", "54": "01", "59": "02", "91": "02"}.get(code)
                return AuthDecision(
                    approved=False, code=code, merchant_advice_code=mac, cause=cause
                )
        return AuthDecision(approved=True)


__all__ = ["EEA", "AuthContext", "AuthDecision", "Degradation", "IssuerSimulator"]
