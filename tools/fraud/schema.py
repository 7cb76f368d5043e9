"""The transaction the fraud engine scores, and its validation at the trust boundary.

Inside the package a transaction is the frozen dataclass :class:`Transaction`
(amounts in integer minor units, time in epoch seconds). Anything that comes
from outside (HTTP bodies, agent tool arguments, CSV rows) goes through
:func:`parse_transaction`, which turns every problem into a
:class:`cockpit.errors.ValidationFailed` with a stable ``code`` and the
offending ``param`` — never a raw pydantic or numpy error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cockpit.errors import ValidationFailed
from cockpit.money import MinorAmount, exponent
from cockpit.toolkit.ids import check_id, check_ip, kind_of

# Rough USD value of one major unit. Only used to put amounts of different
# currencies on one scale for the model; it is not an FX rate to settle with.
USD_PER_UNIT: dict[str, float] = {
    "USD": 1.0, "EUR": 1.08, "GBP": 1.27, "JPY": 0.0067, "KRW": 0.00073, "VND": 0.00004,
    "CLP": 0.0011, "IDR": 0.000063, "CNY": 0.14, "HKD": 0.128, "TWD": 0.031, "SGD": 0.74,
    "MYR": 0.21, "THB": 0.028, "PHP": 0.018, "INR": 0.012, "AUD": 0.66, "NZD": 0.6,
    "BRL": 0.2, "MXN": 0.058, "PEN": 0.27, "PKR": 0.0036, "BDT": 0.0084, "PLN": 0.25,
    "CHF": 1.13, "SEK": 0.095, "NOK": 0.093, "DKK": 0.145, "CZK": 0.043, "HUF": 0.0027,
    "CAD": 0.73, "ZAR": 0.054, "TRY": 0.031, "ILS": 0.27, "ISK": 0.0072, "KWD": 3.25,
    "BHD": 2.65, "OMR": 2.6, "JOD": 1.41, "TND": 0.32,
}  # fmt: skip

# Exponent of each currency the fraud engine scores, from cockpit.money. The keys are the
# supported set (those with a USD scale); the tabular features encode a currency by its rank.
CURRENCY_EXPONENT: dict[str, int] = {code: exponent(code) for code in USD_PER_UNIT}

METHODS: tuple[str, ...] = ("card", "wallet", "bank_transfer")
ENTITY_KINDS: tuple[str, ...] = ("customer", "card", "device", "ip")


@dataclass(frozen=True, slots=True)
class Transaction:
    """One authorisation attempt as the fraud engine sees it."""

    txn_id: str
    """Caller's id for the transaction (unique per tenant)."""
    ts: float
    """When it happened, epoch seconds (UTC)."""
    customer_id: str
    """The paying account."""
    card_id: str
    """Card fingerprint / token (never a PAN)."""
    device_id: str
    """Device fingerprint."""
    ip: str
    """Client IP address (or a stable hash of it)."""
    merchant_id: str
    """Merchant being paid."""
    amount_minor: int
    """Amount in minor units of ``currency``."""
    currency: str
    """Uppercase ISO 4217 code."""
    method: str = "card"
    """``card``, ``wallet`` or ``bank_transfer``."""
    mcc: int = 5999
    """Merchant category code."""
    card_country: str = "US"
    """Issuing (BIN) country."""
    ip_country: str = "US"
    """Geolocated IP country."""
    ship_country: str = "US"
    """Shipping country (equal to the billing country for digital goods)."""
    account_created_ts: float | None = None
    """When the customer account was created (epoch seconds)."""
    profile_changed_ts: float | None = None
    """Last change of email / phone / shipping address (epoch seconds), if any."""
    cvv_match: bool | None = None
    """CVV check result, when the method has one."""
    avs_match: bool | None = None
    """Address verification result, when known."""
    declined: bool = False
    """Issuer declined it. Known after authorisation: only earlier declines are features."""
    liveness_score: float | None = None
    """External liveness / deepfake check (1 = live person), e.g. from eKYC; optional."""
    attack_type: str | None = None
    """Attack the liveness vendor detected (``replay``, ``face_swap``…), if any."""

    @property
    def amount_usd(self) -> float:
        """Amount on a common scale (approximate USD) for the model."""
        scale = USD_PER_UNIT[self.currency] / (10 ** CURRENCY_EXPONENT[self.currency])
        return float(self.amount_minor * scale)


class TransactionIn(BaseModel):
    """A transaction as callers send it (HTTP body, tool argument)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    txn_id: str = Field(min_length=1, max_length=128, description="Your id for the transaction.")
    ts: datetime | float = Field(description="Time: ISO-8601 or epoch seconds.")
    customer_id: str = Field(min_length=1, max_length=128)
    card_id: str = Field(min_length=1, max_length=128, description="Card fingerprint or token.")
    device_id: str = Field(min_length=1, max_length=128)
    ip: str = Field(min_length=1, max_length=64)
    merchant_id: str = Field(min_length=1, max_length=128)
    amount_minor: MinorAmount = Field(
        ge=0, le=10**15, description="Amount in minor units (e.g. cents)."
    )
    currency: str = Field(min_length=3, max_length=3, description="ISO 4217 code, e.g. USD.")
    method: str = "card"
    mcc: int = Field(default=5999, ge=0, le=9999)
    card_country: str = Field(default="US", min_length=2, max_length=2)
    ip_country: str = Field(default="US", min_length=2, max_length=2)
    ship_country: str = Field(default="US", min_length=2, max_length=2)
    account_created_ts: datetime | float | None = None
    profile_changed_ts: datetime | float | None = None
    cvv_match: bool | None = None
    avs_match: bool | None = None
    declined: bool = False
    liveness_score: float | None = Field(default=None, ge=0.0, le=1.0)
    attack_type: str | None = Field(default=None, max_length=64)

    @field_validator("ts", "account_created_ts", "profile_changed_ts", "liveness_score")
    @classmethod
    def _finite(cls, value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value


def _epoch(value: datetime | float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value)


_CODE_BY_FIELD = {"amount_minor": "invalid_amount", "currency": "unknown_currency"}


def _raise_from_pydantic(exc: ValidationError) -> None:
    err = exc.errors()[0]
    # The model is flat; union members (``ts.datetime``) would only confuse callers.
    param = str(err["loc"][0]) if err["loc"] else None
    kind = err["type"]
    if kind == "missing":
        code = "missing_field"
    elif kind == "extra_forbidden":
        code = "unknown_field"
    elif param == "amount_minor":
        code = "invalid_amount"
    elif kind.endswith("_type") or kind.endswith("_parsing"):
        code = "invalid_type"
    elif param in _CODE_BY_FIELD:
        code = _CODE_BY_FIELD[param]
    else:
        code = "invalid_value"
    raise ValidationFailed(f"{param}: {err['msg']}", code=code, param=param) from None


def parse_transaction(data: Any) -> Transaction:
    """Validate caller data (a mapping or :class:`TransactionIn`) into a :class:`Transaction`."""
    if isinstance(data, TransactionIn):
        model = data
    else:
        if not isinstance(data, dict):
            raise ValidationFailed("a transaction must be a JSON object", code="invalid_type")
        try:
            model = TransactionIn.model_validate(data)
        except ValidationError as exc:
            _raise_from_pydantic(exc)
            raise  # unreachable: keeps type checkers happy
    currency = model.currency.upper()
    if currency not in CURRENCY_EXPONENT:
        raise ValidationFailed(
            f"unknown currency {model.currency!r}", code="unknown_currency", param="currency"
        )
    if model.method not in METHODS:
        raise ValidationFailed(
            f"method must be one of {', '.join(METHODS)}", code="invalid_value", param="method"
        )
    # An id of another kind in an entity field (a payment id as the device) is refused.
    for kind, field in (("customer", "customer_id"), ("card", "card_id"), ("device", "device_id")):
        check_id(getattr(model, field), kind, param=field)
    if kind_of(model.ip) is not None:
        check_ip(model.ip, param="ip")
    ts = _epoch(model.ts)
    assert ts is not None
    return Transaction(
        txn_id=model.txn_id,
        ts=ts,
        customer_id=model.customer_id,
        card_id=model.card_id,
        device_id=model.device_id,
        ip=model.ip,
        merchant_id=model.merchant_id,
        amount_minor=model.amount_minor,
        currency=currency,
        method=model.method,
        mcc=model.mcc,
        card_country=model.card_country.upper(),
        ip_country=model.ip_country.upper(),
        ship_country=model.ship_country.upper(),
        account_created_ts=_epoch(model.account_created_ts),
        profile_changed_ts=_epoch(model.profile_changed_ts),
        cvv_match=model.cvv_match,
        avs_match=model.avs_match,
        declined=model.declined,
        liveness_score=model.liveness_score,
        attack_type=model.attack_type,
    )


def entity_keys(txn: Transaction) -> tuple[tuple[str, str], ...]:
    """The (kind, id) pairs a block can match."""
    return (
        ("customer", txn.customer_id),
        ("card", txn.card_id),
        ("device", txn.device_id),
        ("ip", txn.ip),
    )


__all__ = [
    "CURRENCY_EXPONENT",
    "ENTITY_KINDS",
    "METHODS",
    "Transaction",
    "TransactionIn",
    "entity_keys",
    "parse_transaction",
]
