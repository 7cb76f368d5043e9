"""Dispute reason codes and the evidence each needs (DOMAIN.md §5.3, §5.4, §5.7).

Contribution levels follow the gateway's checklist shape (``HIGH``/``MEDIUM``/
``LOW``); the mapping of evidence to reasons is common practice (unverified
beyond 10.4 and 13.1) and ours for wallets.
"""

from __future__ import annotations

from dataclasses import dataclass

H, M, L = "HIGH", "MEDIUM", "LOW"


@dataclass(frozen=True, slots=True)
class Reason:
    network: str
    code: str
    name: str
    category: str
    """``fraud`` · ``authorization`` · ``processing_error`` · ``consumer``."""
    evidence: tuple[tuple[str, str], ...]
    """``(evidenceTag, winRateContribution)`` in checklist order."""
    defendable: bool = True
    straight_to_arbitration: bool = False

    @property
    def is_fraud(self) -> bool:
        return self.category == "fraud"


_FRAUD_CNP = ((("THREE_DS_RESULT", H), ("PRIOR_UNDISPUTED_TXNS", H), ("AVS_CVV_MATCH", M),
               ("DEVICE_IP_LINK", M), ("DELIVERY_PROOF", M), ("ORDER_INFORMATION", L)))  # fmt: skip

REASONS: dict[tuple[str, str], Reason] = {
    (r.network, r.code): r
    for r in [
        Reason("VISA", "10.4", "other fraud, card absent", "fraud", _FRAUD_CNP),
        Reason("VISA", "10.5", "Visa fraud monitoring program", "fraud", (("ORDER_INFORMATION", L),), defendable=False),
        Reason("VISA", "11.2", "declined authorization", "authorization", (("ORDER_INFORMATION", H),)),
        Reason("VISA", "11.3", "no authorization", "authorization", (("ORDER_INFORMATION", H),)),
        Reason("VISA", "12.5", "incorrect amount", "processing_error", (("ORDER_INFORMATION", H), ("PRODUCT_DESCRIPTION", M))),
        Reason("VISA", "12.6", "duplicate processing or paid by other means", "processing_error",
               (("DUPLICATE_EXPLANATION", H), ("ORDER_INFORMATION", M))),
        Reason("VISA", "13.1", "merchandise/services not received", "consumer",
               (("DELIVERY_PROOF", H), ("LOGISTIC_INFORMATION", H), ("CUSTOMER_COMMUNICATION", M), ("ORDER_INFORMATION", L))),
        Reason("VISA", "13.2", "cancelled recurring", "consumer",
               (("CANCELLATION_POLICY", H), ("SERVICE_USAGE_LOG", M), ("CUSTOMER_COMMUNICATION", M))),
        Reason("VISA", "13.3", "not as described or defective", "consumer",
               (("PRODUCT_DESCRIPTION", H), ("REFUND_POLICY_ACCEPTED", M), ("CUSTOMER_COMMUNICATION", M))),
        Reason("VISA", "13.6", "credit not processed", "consumer", (("REFUND_PROOF", H), ("REFUND_POLICY_ACCEPTED", M))),
        Reason("VISA", "13.7", "cancelled merchandise/services", "consumer",
               (("CANCELLATION_POLICY", H), ("CUSTOMER_COMMUNICATION", M))),
        Reason("MASTERCARD", "4837", "no cardholder authorization", "fraud", _FRAUD_CNP),
        Reason("MASTERCARD", "4863", "cardholder does not recognize", "fraud",
               (("ORDER_INFORMATION", H), ("CUSTOMER_COMMUNICATION", M), ("DEVICE_IP_LINK", M))),
        Reason("MASTERCARD", "4808", "authorization-related", "authorization", (("ORDER_INFORMATION", H),),
               straight_to_arbitration=True),
        Reason("MASTERCARD", "4834", "point-of-interaction error", "processing_error",
               (("ORDER_INFORMATION", H), ("DUPLICATE_EXPLANATION", M))),
        Reason("MASTERCARD", "4853", "cardholder dispute", "consumer",
               (("DELIVERY_PROOF", H), ("PRODUCT_DESCRIPTION", M), ("REFUND_POLICY_ACCEPTED", M), ("CUSTOMER_COMMUNICATION", M))),
        Reason("MASTERCARD", "4871", "EMV liability shift non-counterfeit", "fraud", (("ORDER_INFORMATION", L),),
               defendable=False, straight_to_arbitration=True),
        Reason("MASTERCARD", "4849", "questionable merchant activity", "fraud", (("ORDER_INFORMATION", L),), defendable=False),
        Reason("WALLET", "NOT_RECEIVED", "goods or services not received", "consumer",
               (("DELIVERY_PROOF", H), ("LOGISTIC_INFORMATION", H), ("CUSTOMER_COMMUNICATION", M))),
        Reason("WALLET", "NOT_AS_DESCRIBED", "not as described", "consumer",
               (("PRODUCT_DESCRIPTION", H), ("CUSTOMER_COMMUNICATION", M))),
        Reason("WALLET", "UNAUTHORIZED", "unauthorised wallet payment", "fraud",
               (("ORDER_INFORMATION", H), ("DEVICE_IP_LINK", H), ("CUSTOMER_COMMUNICATION", M))),
    ]
}  # fmt: skip

AGENT_AUTHORIZATION = "AGENT_AUTHORIZATION"
"""Our tag: the buyer authorised the purchase through an agent — a signed AP2 mandate for exactly
this cart, or a delegated, allowance-bound credential (see :mod:`tools.payments.documents`)."""

EVIDENCE_TAGS = frozenset(tag for r in REASONS.values() for tag, _ in r.evidence) | {
    "SERVICE_USAGE_LOG",
    "CANCELLATION_POLICY",
    AGENT_AUTHORIZATION,
}


def network_for(method_category: str, brand: str | None) -> str:
    """Card brands with our reason tables; AMEX/JCB/CUP disputes use the Visa table here."""
    if method_category != "CARD":
        return "WALLET"
    return "MASTERCARD" if brand == "MASTERCARD" else "VISA"


__all__ = ["AGENT_AUTHORIZATION", "EVIDENCE_TAGS", "REASONS", "Reason", "network_for"]
