"""Card numbers in, card *records* out: the only code that ever holds a PAN.

A delegated card arrives with its full number (FPAN or network token) and CVC. This module
checks the number (digits, length, Luhn), reads the brand from the IIN ranges, and returns what
may be kept: a ``pay_cards`` row (brand, BIN ≤ 8 digits, last four, funding, expiry) and a keyed
hash of the number (HMAC-SHA256 under the vault key) so the same card delegated twice maps to
the same card record — the gateway's retry caps and fraud velocity then see one card, not a
fresh one per token. It must never store, log or return the number or the CVC.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cockpit.guardrails import luhn_ok

BRANDS: tuple[str, ...] = ("VISA", "MASTERCARD", "AMEX", "JCB", "CUP")
"""Brands the gateway routes (``tools.payments.methods.CARD_BRANDS``)."""

_WIRE_BRAND = {
    "VISA": "visa",
    "MASTERCARD": "mastercard",
    "AMEX": "amex",
    "JCB": "jcb",
    "CUP": "unionpay",
    "DISCOVER": "discover",
    "DINERS": "diners",
}
"""Our brand code → the ACP ``PaymentMethodObject.brands`` spelling."""


def brand_of(number: str) -> str | None:
    """The network of a card number by its IIN, or None when no known range matches."""
    if not number.isdigit() or len(number) < 6:
        return None
    two, three, four, six = int(number[:2]), int(number[:3]), int(number[:4]), int(number[:6])
    if number[0] == "4":
        return "VISA"
    if 51 <= two <= 55 or 2221 <= four <= 2720:
        return "MASTERCARD"
    if two in (34, 37):
        return "AMEX"
    if 3528 <= four <= 3589:
        return "JCB"
    if four == 6011 or 644 <= three <= 649 or two == 65 or 622126 <= six <= 622925:
        return "DISCOVER"
    if two == 62:
        return "CUP"
    if two in (36, 38, 39) or 300 <= three <= 305:
        return "DINERS"
    return None


def wire_brand(brand: str) -> str:
    """``VISA`` → ``visa`` (ACP's spelling)."""
    return _WIRE_BRAND.get(brand, brand.lower())


_LENGTHS = {"AMEX": (15,), "DINERS": (14, 16, 19), "VISA": (13, 16, 19)}


@dataclass(frozen=True, slots=True)
class CheckedNumber:
    """A card number that passed the checks, reduced to what may be kept."""

    brand: str
    """One of :data:`BRANDS`."""
    bin: str
    """The first 8 digits (6 for numbers shorter than 16)."""
    last4: str
    pan_hash: str
    """HMAC-SHA256 of the number under the vault key (hex)."""


class BadNumber(ValueError):
    """Why a number is refused, in the buyer's terms (never echoes the number)."""


def check_number(number: str, *, key: bytes) -> CheckedNumber:
    """Digits only, 13–19 long, Luhn-valid, a brand the gateway routes; else :class:`BadNumber`."""
    digits = number.strip()
    if not digits.isdigit() or not 13 <= len(digits) <= 19:
        raise BadNumber("the card number must be 13 to 19 digits")
    if not luhn_ok(digits):
        raise BadNumber("the card number fails its check digit")
    brand = brand_of(digits)
    if brand is None or brand not in BRANDS:
        raise BadNumber("cards of this network are not accepted")
    allowed = _LENGTHS.get(brand, (16, 17, 18, 19))
    if len(digits) not in allowed:
        raise BadNumber(
            f"a {wire_brand(brand)} card number is {'/'.join(map(str, allowed))} digits"
        )
    return CheckedNumber(
        brand=brand,
        bin=digits[: 8 if len(digits) >= 16 else 6],
        last4=digits[-4:],
        pan_hash=hmac.new(key, digits.encode(), hashlib.sha256).hexdigest(),
    )


def load_or_create_key(path: Path) -> bytes:
    """The vault's HMAC key: ``path`` (32 random bytes, hex, mode 0600), created on first use.

    It lives outside the database on purpose: with BIN and last four stored, a number has only
    ~10⁵ candidates, so a hash keyed by something in the same database would not protect it.
    Hosts sharing one database must share this file.
    """
    if path.exists():
        return bytes.fromhex(path.read_text().strip())
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return bytes.fromhex(path.read_text().strip())
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)
    return bytes.fromhex(value)


__all__ = [
    "BRANDS",
    "BadNumber",
    "CheckedNumber",
    "brand_of",
    "check_number",
    "load_or_create_key",
    "wire_brand",
]
