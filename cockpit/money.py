"""Money: ISO 4217 exponents, strict amount parsing, minor <-> major conversion, formatting.

The one place that knows how many decimals a currency has (STYLE.md §16): every other
module imports :data:`EXPONENTS` / :func:`exponent` from here instead of keeping a copy.
Amounts are integers in minor units inside Cockpit; decimals are :class:`~decimal.Decimal`,
never ``float`` (DOMAIN.md §1.2).

Everything that turns outside data into an amount goes through :func:`parse_minor` /
:func:`parse_major` or the pydantic types built on them. They accept only what the wire
contract says and reject the rest with :class:`~cockpit.errors.ValidationFailed` naming the
field: booleans (``True`` is not ``1``), floats in REST bodies, non-ASCII digits (Python's
``int("١٢٣")`` and ``"²".isdigit()`` say yes; we say no), exponents, ``NaN``/``Infinity``,
signs where none is allowed and absurd lengths.

Two strictness levels, on purpose:

* :data:`MinorAmount` / :data:`MajorAmount` — REST bodies and query strings. A client that
  sends ``1000.0`` for an integer field has a bug we want to surface, so floats are refused.
* :data:`ModelMinorAmount` / :data:`ModelMajorAmount` — tool arguments a model fills. Models
  routinely write ``1000.0`` or ``"1000"`` for an integer; refusing those only burns a turn,
  so an *integral* float or a digit string becomes the exact ``int``. Anything inexact
  (``1000.5`` minor units, ``NaN``) is still refused. By the time the runtime's policy reads
  validated tool arguments, the amount is a plain ``int``.

This module must never import from ``tools`` or ``knowledge``, and never does I/O.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from types import MappingProxyType
from typing import Annotated, Final

from pydantic import BeforeValidator, ValidationInfo
from pydantic_core import PydanticCustomError

from cockpit.errors import ValidationFailed


def _codes(exp: int, codes: str) -> dict[str, int]:
    return dict.fromkeys(codes.split(), exp)


#: ISO 4217 exponent (digits after the decimal point) of every current currency and fund
#: code. Source: ISO 4217 "List One — current currency & funds", published by SIX Group,
#: the ISO 4217 maintenance agency (six-group.com, "Data standards: currency codes"), as of the 2024/2025 amendments (ZWG and XCG added; HRK, CUC, SLL gone). Codes the list
#: gives no minor unit ("N.A.": XAU, XDR, XXX, ...) are left out: they are not money we move.
EXPONENTS: Final[Mapping[str, int]] = MappingProxyType(
    {
        **_codes(
            0,
            "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF",
        ),
        **_codes(3, "BHD IQD JOD KWD LYD OMR TND"),
        **_codes(4, "CLF UYW"),
        **_codes(
            2,
            "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD "
            "BTN BWP BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP "
            "ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR "
            "JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU "
            "MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR "
            "RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS "
            "TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG",
        ),
    }
)

#: Withdrawn codes (ISO 4217 List Three) that still appear in the ECB reference-rate
#: history the FX tools read. Amounts in them can be formatted and converted, never accepted
#: as new money (:func:`is_known` is False for them).
WITHDRAWN_EXPONENTS: Final[Mapping[str, int]] = MappingProxyType(
    {**_codes(2, "CYP EEK HRK LTL LVL MTL ROL SIT SKK"), **_codes(0, "TRL")}
)

MAX_MINOR_DIGITS: Final = 18
"""Digits an integer minor amount may have: every 18-digit number fits a signed int64."""
MAX_MINOR: Final = 10**MAX_MINOR_DIGITS - 1
MAX_MAJOR_INT_DIGITS: Final = 15
"""Digits before the point of a decimal major amount (with ≤ 3 decimals it stays ≤ 18)."""
MAX_FRACTION_DIGITS: Final = 12
"""Digits after the point when no currency bounds them (rates, un-typed conversions)."""

# ``[0-9]`` and not ``\d``: ``\d`` and ``str.isdigit`` match Arabic-Indic, full-width and
# superscript digits, which ``int()`` then either accepts or crashes on.
_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)")
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.([0-9]+))?")
_CURRENCY = re.compile(r"[A-Za-z]{3}")


def _fail(message: str, code: str, param: str) -> ValidationFailed:
    return ValidationFailed(message, code=code, param=param)


def is_known(currency: object) -> bool:
    """True for a current ISO 4217 code (any case) that has a minor unit."""
    return isinstance(currency, str) and currency.upper() in EXPONENTS


def normalize_currency(code: object, *, param: str = "currency") -> str:
    """The uppercase ISO 4217 code, or ``unknown_currency``."""
    if not isinstance(code, str) or not _CURRENCY.fullmatch(code.strip()):
        raise _fail(
            f"currency must be a 3-letter ISO 4217 code, not {code!r}", "unknown_currency", param
        )
    upper = code.strip().upper()
    if upper not in EXPONENTS:
        raise _fail(f"unknown or unsupported currency {code!r}", "unknown_currency", param)
    return upper


def exponent(currency: str, *, param: str = "currency") -> int:
    """Digits after the decimal point of ``currency`` (JPY 0, EUR 2, KWD 3)."""
    if isinstance(currency, str) and currency.upper() in WITHDRAWN_EXPONENTS:
        return WITHDRAWN_EXPONENTS[currency.upper()]
    return EXPONENTS[normalize_currency(currency, param=param)]


def to_major(minor: int, currency: str) -> Decimal:
    """Integer minor units -> exact decimal major units (``1234, "USD"`` -> ``12.34``)."""
    return Decimal(minor).scaleb(-exponent(currency))


def to_minor(
    major: Decimal,
    currency: str,
    *,
    rounding: str | None = None,
    param: str = "amount",
) -> int:
    """Decimal major units -> integer minor units.

    Exact by default: more decimals than the currency has is ``amount_wrong_exponent``.
    Pass ``rounding=ROUND_HALF_EVEN`` where DOMAIN.md §1.2 says to quantize (FX, fees).
    """
    exp = exponent(currency)
    if not major.is_finite():
        raise _fail("amount must be a finite number", "amount_invalid", param)
    scaled = major.scaleb(exp)
    integral = scaled.to_integral_value(rounding=rounding or ROUND_HALF_EVEN)
    if rounding is None and scaled != integral:
        raise _fail(
            f"{currency.upper()} has {exp} decimals; {major} has more",
            "amount_wrong_exponent",
            param,
        )
    if abs(integral) > MAX_MINOR:
        raise _fail("amount is too large", "amount_too_large", param)
    return int(integral)


def format_amount(minor: int, currency: str, *, grouping: bool = False) -> str:
    """``"12.34 USD"`` (``"1,234.56 USD"`` with ``grouping``), decimals from the currency."""
    exp = exponent(currency)
    sep = "," if grouping else ""
    return f"{to_major(minor, currency):{sep}.{exp}f} {currency.upper()}"


def parse_minor(
    value: object,
    *,
    param: str = "amount",
    currency: str | None = None,
    signed: bool = False,
    integral_floats: bool = False,
) -> int:
    """An integer amount in minor units from a JSON value, strictly.

    Accepts an ``int`` (never ``bool``) or a canonical string of ASCII digits, at most
    :data:`MAX_MINOR_DIGITS` long; ``signed`` allows a leading ``-``. ``integral_floats``
    (the model-facing mode) also accepts a float with no fractional part.
    """
    if isinstance(value, bool):
        raise _fail(f"{param} must be an integer, not a boolean", "amount_not_integer", param)
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not integral_floats:
            raise _fail(
                f"{param} must be an integer number of minor units, not a float",
                "amount_not_integer",
                param,
            )
        if not math.isfinite(value) or not value.is_integer():
            raise _fail(
                f"{param} must be a whole number of minor units, not {value!r}",
                "amount_not_integer",
                param,
            )
        if abs(value) > MAX_MINOR:
            raise _fail(f"{param} is too large", "amount_too_large", param)
        number = int(value)
    elif isinstance(value, str):
        number = _minor_from_text(value, param=param, currency=currency)
    else:
        raise _fail(
            f"{param} must be an integer number of minor units", "amount_not_integer", param
        )
    if abs(number) > MAX_MINOR:
        raise _fail(f"{param} is too large", "amount_too_large", param)
    if number < 0 and not signed:
        raise _fail(f"{param} must not be negative", "amount_negative", param)
    return number


def _minor_from_text(text: str, *, param: str, currency: str | None) -> int:
    # Length first: never hand a 5,000-digit string to a regex or ``int()``.
    if len(text) > MAX_MINOR_DIGITS + 1:
        raise _fail(f"{param} has more than {MAX_MINOR_DIGITS} digits", "amount_too_large", param)
    if _INTEGER.fullmatch(text):
        return int(text)
    if _DECIMAL.fullmatch(text):
        where = f" ({currency.upper()} has {exponent(currency)} decimals)" if currency else ""
        raise _fail(
            f"{param} {text!r} is not an integer number of minor units{where}",
            "amount_wrong_exponent",
            param,
        )
    raise _fail(f"{param} {text[:40]!r} is not an integer of ASCII digits", "amount_invalid", param)


def parse_major(
    value: object,
    *,
    param: str = "amount",
    currency: str | None = None,
    signed: bool = False,
    floats: bool = False,
    max_fraction: int = MAX_FRACTION_DIGITS,
) -> Decimal:
    """A decimal amount in major units (``"1250.50"``) from a JSON value or query string.

    Accepts an ``int`` or a canonical decimal string of ASCII digits (no exponent, no ``+``,
    no spaces, no ``NaN``), with at most :data:`MAX_MAJOR_INT_DIGITS` digits before the point
    and at most the currency's exponent after it (:data:`MAX_FRACTION_DIGITS` without one).
    ``floats`` (the model-facing mode) also accepts a finite float, read as its shortest repr.
    ``max_fraction`` bounds the decimals when no currency does (statistics inputs need more).
    """
    if currency is not None:
        max_fraction = exponent(currency)
    if isinstance(value, bool):
        raise _fail(f"{param} must be a number, not a boolean", "amount_invalid", param)
    if isinstance(value, int):
        if abs(value) > MAX_MINOR:
            raise _fail(f"{param} is too large", "amount_too_large", param)
        text = str(value)
    elif isinstance(value, float) and floats:
        if not math.isfinite(value):
            raise _fail(f"{param} must be a finite number", "amount_invalid", param)
        if abs(value) >= 10**MAX_MAJOR_INT_DIGITS:
            raise _fail(f"{param} is too large", "amount_too_large", param)
        exact = Decimal(float.__repr__(value))  # numpy floats repr as "np.float64(…)"
        if currency is None:
            # Float noise (0.1 + 0.2) is not a caller's intent; a currency's exponent is.
            exact = exact.quantize(Decimal(1).scaleb(-max_fraction)).normalize()
        text = f"{exact:f}"
    elif isinstance(value, str):
        text = value
    else:
        raise _fail(f'{param} must be a decimal string such as "12.50"', "amount_invalid", param)
    if len(text) > MAX_MAJOR_INT_DIGITS + max_fraction + 2 or not text:
        raise _fail(f"{param} is too long", "amount_too_large", param)
    match = _DECIMAL.fullmatch(text)
    if match is None:
        raise _fail(
            f'{param} {text[:40]!r} is not a decimal number such as "12.50"',
            "amount_invalid",
            param,
        )
    fraction = match.group(1) or ""
    if len(text.lstrip("-")) - len(fraction) - (1 if fraction else 0) > MAX_MAJOR_INT_DIGITS:
        raise _fail(f"{param} is too large", "amount_too_large", param)
    if len(fraction) > max_fraction:
        where = f"{currency.upper()} has {max_fraction}" if currency else f"at most {max_fraction}"
        raise _fail(
            f"{param} has {len(fraction)} decimals; {where}", "amount_wrong_exponent", param
        )
    amount = Decimal(text)
    if amount < 0 and not signed:
        raise _fail(f"{param} must not be negative", "amount_negative", param)
    return amount


# ----- pydantic types ------------------------------------------------------------------------
# Each validator re-raises as a PydanticCustomError so pydantic (and FastAPI) put the field's
# full location ("amount.value", "items.2.price") in ``param``, which a bare ValidationFailed
# raised from inside a validator could not know.


def _as_pydantic(exc: ValidationFailed) -> PydanticCustomError:
    return PydanticCustomError(exc.code, "{reason}", {"reason": exc.message})


def _field(info: ValidationInfo) -> str:
    return info.field_name or "amount"


def _rest_minor(value: object, info: ValidationInfo) -> int:
    try:
        return parse_minor(value, param=_field(info))
    except ValidationFailed as exc:
        raise _as_pydantic(exc) from None


def _model_minor(value: object, info: ValidationInfo) -> int:
    try:
        return parse_minor(value, param=_field(info), integral_floats=True)
    except ValidationFailed as exc:
        raise _as_pydantic(exc) from None


def _rest_major(value: object, info: ValidationInfo) -> Decimal:
    try:
        return parse_major(value, param=_field(info))
    except ValidationFailed as exc:
        raise _as_pydantic(exc) from None


def _model_major(value: object, info: ValidationInfo) -> Decimal:
    try:
        return parse_major(value, param=_field(info), floats=True)
    except ValidationFailed as exc:
        raise _as_pydantic(exc) from None


def _currency(value: object, info: ValidationInfo) -> str:
    try:
        return normalize_currency(value, param=info.field_name or "currency")
    except ValidationFailed as exc:
        raise _as_pydantic(exc) from None


MinorAmount = Annotated[int, BeforeValidator(_rest_minor)]
"""REST: a non-negative ``int`` in minor units, or its canonical ASCII-digit string.
No booleans, no floats (``1000.0`` is a client bug), ≤ 18 digits. Add ``Field(gt=0)`` for
amounts that must be positive."""

ModelMinorAmount = Annotated[int, BeforeValidator(_model_minor)]
"""Tool arguments: as :data:`MinorAmount`, and an integral float (``1000.0``) becomes the
exact ``int``; ``1000.5`` is still refused."""

MajorAmount = Annotated[Decimal, BeforeValidator(_rest_major)]
"""REST: a non-negative decimal in major units as a canonical string (``"1250.50"``) or an
``int``; no floats, exponents or ``NaN``; ≤ 15 integer and ≤ 12 fraction digits."""

ModelMajorAmount = Annotated[Decimal, BeforeValidator(_model_major)]
"""Tool arguments: as :data:`MajorAmount`, and a finite float is read as its shortest repr."""

CurrencyCode = Annotated[str, BeforeValidator(_currency)]
"""A current ISO 4217 code in any case, normalised to upper case."""


__all__ = [
    "EXPONENTS",
    "MAX_MINOR",
    "MAX_MINOR_DIGITS",
    "WITHDRAWN_EXPONENTS",
    "CurrencyCode",
    "MajorAmount",
    "MinorAmount",
    "ModelMajorAmount",
    "ModelMinorAmount",
    "exponent",
    "format_amount",
    "is_known",
    "normalize_currency",
    "parse_major",
    "parse_minor",
    "to_major",
    "to_minor",
]
