"""Money in integer minor units: currency exponents, parsing, wire steps, splits and FX.

Never floats: decimals are parsed with :mod:`decimal` and stored as ``int``
minor units next to an uppercase ISO 4217 code (DOMAIN.md §1). Every function
here is pure; invalid input raises :class:`~cockpit.errors.ValidationFailed`
with a stable code so callers can reject a request before writing anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from types import MappingProxyType

from cockpit import money
from cockpit.errors import ValidationFailed
from cockpit.money import format_amount

_SUPPORTED = (
    "USD EUR GBP JPY KRW VND CLP ISK KWD BHD OMR JOD TND IDR CNY HKD TWD SGD MYR THB PHP "
    "INR AUD NZD BRL MXN PEN PKR BDT PLN CHF SEK NOK DKK CZK HUF CAD ZAR TRY ILS MOP"
)
SUPPORTED_CURRENCIES: frozenset[str] = frozenset(_SUPPORTED.split())
"""Currencies the simulator accepts (DOMAIN.md §1.1); exponents come from cockpit.money."""
EXPONENTS: Mapping[str, int] = MappingProxyType(
    {code: money.exponent(code) for code in sorted(SUPPORTED_CURRENCIES)}
)
"""Exponent of each supported currency, read from :data:`cockpit.money.EXPONENTS`."""

# Granularity of the integer minor value the gateway accepts, when not 1.
CURRENCY_WIRE_STEP: dict[str, int] = {"IDR": 100}
METHOD_WIRE_STEP: dict[tuple[str, str], int] = {("JKOPAY", "TWD"): 100, ("OCTOPUS", "HKD"): 10}

MAX_MINOR = 10**15
"""Upper bound on any single amount (keeps arithmetic far from any column limit)."""


def normalize_currency(code: str, *, param: str = "currency") -> str:
    """Uppercase ISO code of a currency the simulator supports, or ``unknown_currency``."""
    upper = money.normalize_currency(code, param=param)
    if upper not in SUPPORTED_CURRENCIES:
        raise ValidationFailed(
            f"unknown or unsupported currency {code!r}", code="unknown_currency", param=param
        )
    return upper


def exponent(currency: str) -> int:
    return EXPONENTS[normalize_currency(currency)]


def wire_step(currency: str, method_type: str | None = None) -> int:
    """The step an integer minor amount must be a multiple of (DOMAIN.md §1.1)."""
    ccy = normalize_currency(currency)
    if method_type is not None and (method_type, ccy) in METHOD_WIRE_STEP:
        return METHOD_WIRE_STEP[(method_type, ccy)]
    return CURRENCY_WIRE_STEP.get(ccy, 1)


def check_minor(
    value: int,
    currency: str,
    *,
    method_type: str | None = None,
    param: str = "amount",
    allow_zero: bool = False,
) -> int:
    """Validate an integer minor amount: positive, bounded, on the wire step."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed(
            "amount must be an integer in minor units", code="amount_not_integer", param=param
        )
    if value < 0 or (value == 0 and not allow_zero):
        raise ValidationFailed(
            "amount must be greater than zero", code="amount_not_positive", param=param
        )
    if value > MAX_MINOR:
        raise ValidationFailed("amount is too large", code="amount_too_large", param=param)
    step = wire_step(currency, method_type)
    if value % step:
        raise ValidationFailed(
            f"{currency} amounts must be a multiple of {step} minor units",
            code="amount_wire_step",
            param=param,
        )
    return value


def parse_minor(
    value: str | int, currency: str, *, method_type: str | None = None, param: str = "amount"
) -> int:
    """Parse a gateway wire value: integer minor units as an ``int`` or ASCII-digit string."""
    ccy = normalize_currency(currency)
    number = money.parse_minor(value, param=param, currency=ccy, signed=True)
    return check_minor(number, ccy, method_type=method_type, param=param)


def major_to_minor(
    value: str | Decimal, currency: str, *, method_type: str | None = None, param: str = "amount"
) -> int:
    """Convert a decimal major amount ("12.34") to minor units; extra digits are an error."""
    ccy = normalize_currency(currency)
    major = (
        value
        if isinstance(value, Decimal)
        else money.parse_major(value, param=param, currency=ccy, signed=True)
    )
    return check_minor(
        money.to_minor(major, ccy, param=param), ccy, method_type=method_type, param=param
    )


def minor_to_major(value: int, currency: str) -> Decimal:
    return money.to_major(value, normalize_currency(currency))


def split_largest_remainder(total: int, weights: list[int]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` so the parts sum exactly to ``total``."""
    if not weights or sum(weights) <= 0:
        raise ValidationFailed("weights must be positive", code="invalid_split")
    wsum = sum(weights)
    raw = [total * w for w in weights]
    parts = [r // wsum for r in raw]
    remainders = sorted(range(len(weights)), key=lambda i: (-(raw[i] % wsum), i))
    for i in remainders[: total - sum(parts)]:
        parts[i] += 1
    return parts


def percent_fee(amount: int, *, bps: int, fixed: int = 0) -> int:
    """Fee of ``bps`` basis points plus ``fixed``, half-even rounded, never above the amount."""
    fee = int((Decimal(amount) * bps / Decimal(10_000)).quantize(Decimal(1), ROUND_HALF_EVEN))
    return min(amount, fee + fixed)


# Illustrative EUR reference rates (units of currency per 1 EUR), used until the FX
# tool supplies live ECB rates. They only need to be stable and plausible.
_EUR_RATES: dict[str, str] = {
    "EUR": "1", "USD": "1.08", "GBP": "0.85", "JPY": "162", "KRW": "1450", "CNY": "7.8",
    "HKD": "8.45", "TWD": "34.5", "SGD": "1.45", "MYR": "5.05", "THB": "38.5", "PHP": "61",
    "IDR": "17000", "INR": "90", "AUD": "1.65", "NZD": "1.8", "BRL": "5.6", "MXN": "19.5",
    "VND": "27000", "CLP": "1000", "PEN": "4.05", "PKR": "300", "BDT": "128", "PLN": "4.3",
    "CHF": "0.95", "SEK": "11.3", "NOK": "11.6", "DKK": "7.46", "CZK": "25", "HUF": "395",
    "CAD": "1.48", "ZAR": "20", "TRY": "35", "ILS": "4", "ISK": "150", "MOP": "8.7",
    "KWD": "0.33", "BHD": "0.41", "OMR": "0.42", "JOD": "0.77", "TND": "3.35",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class FxQuote:
    """A conversion with the rate used, recorded on the ledger legs."""

    source_currency: str
    target_currency: str
    rate: Decimal
    source_minor: int
    target_minor: int
    quote_id: str


class FixedRates:
    """Rates from a fixed table; the seam where the FX tool plugs in."""

    def __init__(self, eur_rates: dict[str, str] | None = None, *, source: str = "fixed") -> None:
        # Currencies the given table lacks keep the built-in approximate rate.
        merged = {**_EUR_RATES, **(eur_rates or {})}
        self._rates = {k: Decimal(v) for k, v in merged.items()}
        self.source = source
        """Label on every quote, so a settlement says where its rate came from."""

    def rate(self, source: str, target: str) -> Decimal:
        src, dst = normalize_currency(source), normalize_currency(target)
        if src not in self._rates or dst not in self._rates:
            raise ValidationFailed(
                f"no FX rate for {src}/{dst}", code="fx_rate_unavailable", param="currency"
            )
        return self._rates[dst] / self._rates[src]

    def convert(self, minor: int, source: str, target: str) -> FxQuote:
        """``target_minor = round_half_even(minor / 10^e_src × rate × 10^e_dst)``."""
        src, dst = normalize_currency(source), normalize_currency(target)
        rate = Decimal(1) if src == dst else self.rate(src, dst)
        value = money.to_major(minor, src) * rate
        target_minor = money.to_minor(value, dst, rounding=ROUND_HALF_EVEN)
        return FxQuote(src, dst, rate, minor, target_minor, f"{self.source}:{src}{dst}:{rate:.8f}")


__all__ = [
    "EXPONENTS",
    "SUPPORTED_CURRENCIES",
    "FixedRates",
    "FxQuote",
    "check_minor",
    "exponent",
    "format_amount",
    "major_to_minor",
    "minor_to_major",
    "normalize_currency",
    "parse_minor",
    "percent_fee",
    "split_largest_remainder",
    "wire_step",
]
