"""Redaction of card numbers and secrets before anything is logged, stored in audit or traced.

Card numbers (PANs) are found as 13–19 digit runs (spaces or dashes allowed)
that pass the Luhn check, and are masked to their last four digits. Values
under secret-looking keys, and strings that look like our API keys, are
replaced whole. Redaction never raises: it is on the logging path.
"""

from __future__ import annotations

import re
from typing import Any

# A card number stands alone: digits inside an identifier (pay_d980143936464…) are not one.
_PAN = re.compile(r"(?<![A-Za-z0-9_])(?:\d[ -]?){12,18}\d(?![A-Za-z0-9_])")
_API_KEY = re.compile(r"\bck_[A-Za-z0-9]{6,}_[A-Za-z0-9_\-]{16,}\b")
_BEARER = re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._\-]{12,}")
_EMAIL = re.compile(r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}\b")
SECRET_KEYS = frozenset(
    {
        "password",
        "secret",
        "api_key",
        "apikey",
        "x-api-key",
        "authorization",
        "token",
        "access_token",
        "refresh_token",
        "cvc",
        "cvv",
        "cvv2",
        "pin",
        "private_key",
        "signing_secret",
        "webhook_secret",
    }
)
REDACTED = "[REDACTED]"


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _mask_pan(match: re.Match[str]) -> str:
    raw = match.group(0)
    digits = re.sub(r"[ -]", "", raw)
    if not 13 <= len(digits) <= 19 or not luhn_ok(digits):
        return raw
    return f"[PAN ****{digits[-4:]}]"


def redact_text(text: str, *, emails: bool = False) -> str:
    """Mask PANs, API keys and bearer tokens in free text (and e-mail addresses if asked)."""
    out = _PAN.sub(_mask_pan, text)
    out = _API_KEY.sub(REDACTED, out)
    out = _BEARER.sub("Bearer " + REDACTED, out)
    if emails:
        out = _EMAIL.sub("[EMAIL]", out)
    return out


def redact(value: Any, *, emails: bool = False, _depth: int = 0) -> Any:
    """Redact a JSON-like value recursively; secret-named keys lose their value."""
    if _depth > 32:
        return REDACTED
    if isinstance(value, str):
        return redact_text(value, emails=emails)
    if isinstance(value, dict):
        return {
            k: (
                REDACTED
                if isinstance(k, str) and k.lower() in SECRET_KEYS
                else redact(v, emails=emails, _depth=_depth + 1)
            )
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v, emails=emails, _depth=_depth + 1) for v in value]
    return value


__all__ = ["REDACTED", "SECRET_KEYS", "luhn_ok", "redact", "redact_text"]
