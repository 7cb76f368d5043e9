"""Payment methods by market: cards and wallets/local methods (DOMAIN.md §3).

The catalogue says, per method, which currency and market it serves, its
limits, refund window, cancel rule and whether card chargebacks apply. The
gateway consults it before authorising anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from cockpit.errors import ValidationFailed

UTC8 = timedelta(hours=8)


class CancelRule(StrEnum):
    CARD = "card"
    """Up to 7 days after payment, only if not captured."""
    WALLET = "wallet"
    """From creation until 00:15 (UTC+8) on T+1; a paid order is reversed."""
    BEFORE_COMPLETION = "before_completion"
    """Only while the payment is not yet final."""
    NONE = "none"
    """Not cancellable."""


@dataclass(frozen=True, slots=True)
class Method:
    """One payment method the simulator can route to."""

    code: str
    """``paymentMethodType`` (``CARD`` for all card brands)."""
    category: str
    """``paymentMethodCategory``."""
    markets: tuple[str, ...]
    """ISO country codes it serves (empty = global)."""
    currencies: tuple[str, ...]
    """Currencies it accepts (empty = any)."""
    min_minor: int = 1
    """Smallest amount in minor units of its (first) currency."""
    max_minor: int | None = None
    """Largest single amount, if known."""
    refund_window_days: int | None = 365
    """None = refunds not supported."""
    cancel_rule: CancelRule = CancelRule.WALLET
    chargeback: bool = False
    """Card-style chargebacks (wallets run retrieval → escalation → chargeback)."""
    base_approval: float = 0.95
    """Simulator base success rate before issuer and context effects."""

    @property
    def is_card(self) -> bool:
        return self.code == "CARD"


CARD_BRANDS: dict[str, dict[str, object]] = {
    # response window in days (DOMAIN.md §3.1 / §5.2); ECI values authenticated / attempted / none
    "VISA": {"window_days": 30, "eci": ("05", "06", "07")},
    "MASTERCARD": {"window_days": 45, "eci": ("02", "01", "00")},
    "AMEX": {"window_days": 20, "eci": ("05", "06", "07")},
    "JCB": {"window_days": 30, "eci": ("05", "06", "07")},
    "CUP": {"window_days": 30, "eci": ("05", "06", "07")},
}

_W = "WALLET"
_AP = "ALIPAY_PLUS"
METHODS: dict[str, Method] = {
    m.code: m
    for m in [
        Method("CARD", "CARD", (), (), cancel_rule=CancelRule.CARD, chargeback=True, base_approval=0.93),
        Method("APPLEPAY", "CARD", (), (), cancel_rule=CancelRule.CARD, chargeback=True, base_approval=0.95),
        Method("GOOGLEPAY", "CARD", (), (), cancel_rule=CancelRule.CARD, chargeback=True, base_approval=0.95),
        Method("ALIPAY_CN", _AP, ("CN",), ("CNY",), 10, 30_000_000, 548),
        Method("ALIPAY_HK", _AP, ("HK",), ("HKD",), 1, 5_000_000),
        Method("JKOPAY", _W, ("TW",), ("TWD",), 100, cancel_rule=CancelRule.NONE),
        Method("DANA", _AP, ("ID",), ("IDR",), 30_000),
        Method("GOPAY_ID", _W, ("ID",), ("IDR",), 100, 2_000_000_000, None, CancelRule.NONE),
        Method("TNG", _AP, ("MY",), ("MYR",), 5, 2_000_000, 30),
        Method("GRABPAY_MY", _W, ("MY",), ("MYR",), 1),
        Method("GCASH", _AP, ("PH",), ("PHP",), 100, 10_000_000),
        Method("MAYA", _W, ("PH",), ("PHP",), 100),
        Method("GRABPAY_SG", _W, ("SG",), ("SGD",), 1),
        Method("PAYNOW", "MOBILE_BANKING_APP", ("SG",), ("SGD",), 1, cancel_rule=CancelRule.BEFORE_COMPLETION),
        Method("TRUEMONEY", _AP, ("TH",), ("THB",), 100),
        Method("PROMPTPAY", "MOBILE_BANKING_APP", ("TH",), ("THB",), 1, cancel_rule=CancelRule.BEFORE_COMPLETION),
        Method("KAKAOPAY", _AP, ("KR",), ("KRW",), 50, 2_000_000),
        Method("NAVERPAY", _AP, ("KR",), ("KRW",), 1),
        Method("PAYPAY", _W, ("JP",), ("JPY",), 1, 500_000, 90),
        Method("PIX", "BANK_TRANSFER", ("BR",), ("BRL",), 1, cancel_rule=CancelRule.BEFORE_COMPLETION),
        Method("MERCADOPAGO_BR", _W, ("BR",), ("BRL",), 1),
        Method("UPI", "MOBILE_BANKING_APP", ("IN",), ("INR",), 100, cancel_rule=CancelRule.BEFORE_COMPLETION),
        Method("IDEAL", "ONLINE_BANKING", ("NL",), ("EUR",), 1, cancel_rule=CancelRule.BEFORE_COMPLETION),
    ]
}  # fmt: skip


def get_method(code: str, *, param: str = "method_type") -> Method:
    upper = (code or "").strip().upper()
    method = METHODS.get(upper)
    if method is None:
        raise ValidationFailed(
            f"unknown payment method {code!r}", code="unknown_payment_method", param=param
        )
    return method


def methods_for(market: str, currency: str) -> list[Method]:
    """Methods that serve a market and currency (what ``consult`` would list)."""
    return [
        m
        for m in METHODS.values()
        if (not m.markets or market in m.markets) and (not m.currencies or currency in m.currencies)
    ]


def wallet_cancel_deadline(created_at: datetime) -> datetime:
    """00:15 in UTC+8 on the day after creation (DOMAIN.md §2.6), as a UTC instant."""
    local = created_at + UTC8
    next_day = (local + timedelta(days=1)).replace(hour=0, minute=15, second=0, microsecond=0)
    return next_day - UTC8


__all__ = [
    "CARD_BRANDS",
    "METHODS",
    "CancelRule",
    "Method",
    "get_method",
    "methods_for",
    "wallet_cancel_deadline",
]
