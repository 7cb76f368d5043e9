"""Decline codes and the lever each suggests (DOMAIN.md §2.4, §4.1, §4.5).

ISO 8583 field-39 codes for cards and gateway result codes for wallets share
one table so analytics can rank them together.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DeclineCode:
    """What a decline means and what to do about it."""

    code: str
    meaning: str
    soft: bool
    """Soft declines may succeed on a later attempt; hard ones never will as sent."""
    visa_category: int | None
    """1 never approve · 2 cannot approve now · 3 data quality · 4 generic."""
    lever: str
    """Lever name from DOMAIN.md §4.5 (stable snake_case)."""
    action: str
    """What the merchant (or the retry engine) should do."""

    @property
    def retry_allowed(self) -> bool:
        return self.soft and self.visa_category != 1


LEVERS: dict[str, str] = {
    "smart_retry": "Retry soft declines on a schedule; never retry category-1 or R-codes.",
    "failover_acquirer": "Cascade to a second acquirer on issuer outages (91/92/96).",
    "local_acquiring": "Route through an acquirer in the issuer's country to cut cross-border declines.",
    "three_ds": "Authenticate with 3DS (SCA soft declines, suspected fraud).",
    "network_tokens": "Use network tokens and the account updater (expired / reissued cards).",
    "recollect_details": "Ask the buyer to re-enter card details or CVV.",
    "other_method": "Offer another payment method (wallet, local method).",
    "lower_amount": "Split or lower the amount, or ask the buyer to raise a limit.",
    "merchant_config": "Fix merchant configuration with the acquirer.",
    "stop_billing": "Stop billing this credential.",
    "data_completeness": "Send buyer e-mail, phone, IP and device data.",
}

_TABLE = [
    DeclineCode("01", "refer to issuer", True, 4, "other_method", "ask for another method"),
    DeclineCode("03", "invalid merchant", False, 2, "merchant_config", "fix config, retry later"),
    DeclineCode("04", "pick up card", False, 1, "other_method", "never retry"),
    DeclineCode("05", "do not honor", True, 4, "data_completeness", "at most one retry, then another method"),
    DeclineCode("06", "error", True, 4, "smart_retry", "retry"),
    DeclineCode("12", "invalid transaction", False, 1, "merchant_config", "never retry"),
    DeclineCode("13", "invalid amount", False, 3, "lower_amount", "fix amount"),
    DeclineCode("14", "invalid card number", False, 1, "recollect_details", "recollect card"),
    DeclineCode("19", "re-enter transaction", True, 2, "smart_retry", "immediate retry"),
    DeclineCode("41", "lost card", False, 1, "other_method", "never retry; fraud flag"),
    DeclineCode("43", "stolen card", False, 1, "other_method", "never retry; fraud flag"),
    DeclineCode("46", "closed account", False, 1, "network_tokens", "account updater"),
    DeclineCode("51", "insufficient funds", True, 2, "smart_retry", "retry later; honour MAC timing"),
    DeclineCode("54", "expired card", False, 3, "network_tokens", "account updater / network token"),
    DeclineCode("57", "not permitted to cardholder", False, 1, "other_method", "never retry"),
    DeclineCode("59", "suspected fraud", True, 2, "three_ds", "3DS step-up, then retry"),
    DeclineCode("61", "exceeds amount limit", True, 2, "lower_amount", "lower amount / later / 3DS"),
    DeclineCode("62", "restricted card (region)", True, 2, "local_acquiring", "local acquiring / other method"),
    DeclineCode("65", "frequency limit / SCA required", True, 2, "three_ds", "retry with 3DS"),
    DeclineCode("82", "CVV mismatch", True, 3, "recollect_details", "recollect CVV"),
    DeclineCode("91", "issuer unavailable", True, 2, "failover_acquirer", "failover acquirer, retry soon"),
    DeclineCode("96", "system malfunction", True, 2, "failover_acquirer", "failover acquirer, retry soon"),
    DeclineCode("1A", "additional authentication required", True, None, "three_ds", "retry with 3DS"),
    DeclineCode("R1", "stop all merchant payments", False, 1, "stop_billing", "stop billing"),
    # Wallet / APM results (gateway result codes, DOMAIN.md §2.4)
    DeclineCode("USER_BALANCE_NOT_ENOUGH", "wallet balance too low", True, None, "other_method", "other method or top-up"),
    DeclineCode("USER_PAYMENT_VERIFICATION_FAILED", "wallet OTP/PIN failed", True, None, "smart_retry", "ask the buyer to retry"),
    DeclineCode("USER_AMOUNT_EXCEED_LIMIT", "wallet user limit hit", True, None, "lower_amount", "lower amount / other method"),
    DeclineCode("RISK_REJECT", "risk engine refused", False, None, "data_completeness", "do not retry the same request"),
    DeclineCode("UNAVAILABLE_PAYMENT_METHOD", "method degraded", True, None, "other_method", "route to another method"),
    # Our own refusal before reaching the issuer (scheme retry caps)
    DeclineCode("RETRY_CAP_EXCEEDED", "scheme retry cap reached for this card", False, None, "smart_retry", "stop retrying this card"),
]  # fmt: skip

DECLINE_CODES: dict[str, DeclineCode] = {d.code: d for d in _TABLE}

RESULT_CODES_F = {
    "PARAM_ILLEGAL", "PROCESS_FAIL", "REPEAT_REQ_INCONSISTENT", "CURRENCY_NOT_SUPPORT",
    "ORDER_IS_CLOSED", "ORDER_NOT_EXIST", "PAYMENT_AMOUNT_EXCEED_LIMIT", "CANCEL_WINDOW_EXCEED",
    "REFUND_AMOUNT_EXCEED", "REFUND_WINDOW_EXCEED", "USER_BALANCE_NOT_ENOUGH", "RISK_REJECT",
}  # fmt: skip


def describe(code: str) -> DeclineCode:
    """The entry for ``code``; unknown codes read as generic soft declines."""
    return DECLINE_CODES.get(
        code, DeclineCode(code, "unclassified decline", True, 4, "smart_retry", "retry later")
    )


__all__ = ["DECLINE_CODES", "LEVERS", "RESULT_CODES_F", "DeclineCode", "describe"]
