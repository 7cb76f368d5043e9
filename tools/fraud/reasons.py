"""Reason codes: per-feature contributions (LightGBM TreeSHAP) grouped into stable codes.

Every feature maps to one reason code. A decision's reasons are the codes
whose summed contribution to the log-odds pushes towards fraud, largest
first, each naming the features and values behind it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from tools.fraud.features import FEATURE_NAMES

REASON_TEXT: dict[str, str] = {
    "AMOUNT": "amount unusual for this kind of payment",
    "AMOUNT_ANOMALY": "amount far from this card's / customer's history",
    "PAYMENT_PROFILE": "currency, method or merchant category",
    "GEO_MISMATCH": "card country differs from the IP country",
    "SHIP_MISMATCH": "card country differs from the shipping country",
    "UNUSUAL_TIME": "time of day / week",
    "NEW_ACCOUNT": "account age",
    "RECENT_PROFILE_CHANGE": "email / phone / address changed shortly before",
    "VERIFICATION_FAILED": "CVV or address verification result",
    "LIVENESS": "external liveness (eKYC) signal",
    "CARD_VELOCITY": "many recent payments on this card",
    "CUSTOMER_VELOCITY": "many recent payments by this customer",
    "DEVICE_VELOCITY": "many recent payments from this device",
    "IP_VELOCITY": "many recent payments from this IP",
    "CARD_DECLINES": "recent declines on this card",
    "CUSTOMER_DECLINES": "recent declines for this customer",
    "DEVICE_DECLINES": "recent declines from this device",
    "IP_DECLINES": "recent declines from this IP",
    "SHARED_ENTITIES": "device or card shared by several accounts",
    "SHARED_IP": "IP shared by several accounts",
    "MANY_CARDS": "many cards used on this device / account",
    "NEW_DEVICE": "device new to this account",
    "NEW_CARD": "card first seen recently",
    "FRAUD_NEIGHBOURS": "linked to accounts with confirmed fraud",
    "KNOWN_FRAUD_ACCOUNT": "this account has confirmed fraud",
    # Not model features: set by policy overrides in scoring.
    "ENTITY_BLOCKED": "a card, device, customer or IP in this payment is blocked",
    "LIVENESS_ATTACK": "the liveness vendor reported an attack or a low liveness score",
    "SCORING_ERROR": "scoring failed; sent to review (fail closed)",
}

_FIXED = {
    "amount_usd_log": "AMOUNT",
    "currency_code": "PAYMENT_PROFILE",
    "method_code": "PAYMENT_PROFILE",
    "mcc": "PAYMENT_PROFILE",
    "ip_country_mismatch": "GEO_MISMATCH",
    "ship_country_mismatch": "SHIP_MISMATCH",
    "hour_of_day": "UNUSUAL_TIME",
    "day_of_week": "UNUSUAL_TIME",
    "account_age_d": "NEW_ACCOUNT",
    "profile_change_age_h": "RECENT_PROFILE_CHANGE",
    "cvv_fail": "VERIFICATION_FAILED",
    "avs_fail": "VERIFICATION_FAILED",
    "liveness_score": "LIVENESS",
    "card_amount_z": "AMOUNT_ANOMALY",
    "customer_amount_z": "AMOUNT_ANOMALY",
    "graph_comp_accounts": "SHARED_ENTITIES",
    "graph_device_accounts": "SHARED_ENTITIES",
    "graph_card_accounts": "SHARED_ENTITIES",
    "graph_ip_accounts": "SHARED_IP",
    "graph_device_cards": "MANY_CARDS",
    "graph_customer_cards": "MANY_CARDS",
    "graph_customer_devices": "NEW_DEVICE",
    "graph_device_new_for_customer": "NEW_DEVICE",
    "graph_device_age_h": "NEW_DEVICE",
    "graph_card_age_h": "NEW_CARD",
    "graph_comp_fraud": "FRAUD_NEIGHBOURS",
    "graph_comp_fraud_share": "FRAUD_NEIGHBOURS",
    "graph_neigh_fraud_share": "FRAUD_NEIGHBOURS",
    "graph_risk": "FRAUD_NEIGHBOURS",
    "graph_customer_known_fraud": "KNOWN_FRAUD_ACCOUNT",
}


def reason_code(feature: str) -> str:
    """The reason code a feature's contribution counts towards."""
    if feature in _FIXED:
        return _FIXED[feature]
    kind = feature.split("_", 1)[0]
    if "_declines_" in feature:
        return f"{kind.upper()}_DECLINES"
    return f"{kind.upper()}_VELOCITY"


REASON_OF_FEATURE: dict[str, str] = {f: reason_code(f) for f in FEATURE_NAMES}


@dataclass(frozen=True, slots=True)
class FeatureContribution:
    """One feature's value and its contribution to the log-odds of fraud."""

    feature: str
    value: float | None
    contribution: float


@dataclass(frozen=True, slots=True)
class Reason:
    """A reason code with the features behind it."""

    code: str
    description: str
    contribution: float
    """Summed log-odds contribution of its features (positive = towards fraud)."""
    features: tuple[FeatureContribution, ...]


def _value(v: float) -> float | None:
    return None if v != v else v  # NaN (no history) is reported as null


@lru_cache(maxsize=32)
def _code_layout(
    feature_names: tuple[str, ...],
) -> tuple[np.ndarray, tuple[str, ...], tuple[list[int], ...]]:
    """Per feature its reason-code index; the codes; per code the feature positions."""
    codes = tuple(dict.fromkeys(REASON_OF_FEATURE.get(n, "OTHER") for n in feature_names))
    pos = {c: i for i, c in enumerate(codes)}
    idx = np.array([pos[REASON_OF_FEATURE.get(n, "OTHER")] for n in feature_names], dtype=np.int64)
    members = tuple(np.flatnonzero(idx == i).tolist() for i in range(len(codes)))
    return idx, codes, members


def top_reasons(
    feature_names: tuple[str, ...], values: np.ndarray, contrib: np.ndarray, *, k: int = 3
) -> list[Reason]:
    """The ``k`` reason codes contributing most towards fraud (only positive totals)."""
    idx, codes, members = _code_layout(feature_names)
    contrib = np.asarray(contrib[: len(feature_names)], dtype=np.float64)
    totals = np.bincount(idx, weights=contrib, minlength=len(codes))
    # Python floats from here: indexing numpy arrays element by element costs more than the
    # whole explanation (this runs for every flagged payment and every HTTP score).
    contribs, vals, total_list = contrib.tolist(), np.asarray(values).tolist(), totals.tolist()
    reasons: list[Reason] = []
    for ci in np.argsort(-totals, kind="stable")[:k].tolist():
        total = total_list[ci]
        if total <= 0.0:
            break
        feats = [
            FeatureContribution(
                feature=feature_names[j],
                value=_value(float(vals[j])),
                contribution=contribs[j],
            )
            for j in members[ci]
            if contribs[j] != 0.0
        ]
        feats.sort(key=lambda f: -f.contribution)
        code = codes[ci]
        reasons.append(
            Reason(
                code=code,
                description=REASON_TEXT.get(code, code.lower()),
                contribution=total,
                features=tuple(feats),
            )
        )
    return reasons


__all__ = [
    "REASON_OF_FEATURE",
    "REASON_TEXT",
    "FeatureContribution",
    "Reason",
    "reason_code",
    "top_reasons",
]
