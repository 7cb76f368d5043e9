"""Character-level helpers shared by detection and translation.

Everything works on a *folded* copy of the text with exactly one character per
original character, so a match found in the folded text is a span of the
original: lower case, and Latin letters without their accents (Vietnamese typed
without diacritics, Spanish without the acute accent still match).
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Final

#: Identifiers (``pay_X``, ``dsp_7k2``), dates and currency codes stay as written.
PROTECTED: Final = re.compile(
    r"(?<![\w])(?:[A-Za-z][A-Za-z0-9]*_[A-Za-z0-9_]+"  # ids
    r"|\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}/\d{2,4}"  # dates
    r"|[A-Z]{3}(?![A-Za-z])"  # ISO currency codes
    r"|\d+(?:[.,]\d+)*\s?%)"  # percentages
)
#: A number as merchants write it: ``50.000`` (dot thousands), ``12,5``, ``1,234.50``.
NUMBER: Final = re.compile(r"\d+(?:[.,]\d+)*")
LATIN_WORD: Final = re.compile(r"[a-z]+(?:'[a-z]+)?")

_THAI = (0x0E00, 0x0E7F)
_HAN = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0xF900, 0xFAFF))
_KANA = (0x3040, 0x30FF)
_HANGUL = ((0xAC00, 0xD7AF), (0x1100, 0x11FF), (0x3130, 0x318F))
_PUNCT_MAP: Final = {"？": "?", "，": ",", "。": ".", "！": "!", "：": ":", "；": ";", "、": ","}
_SPECIAL_FOLD: Final = {"đ": "d", "ð": "d", "ø": "o", "ł": "l", "æ": "a", "œ": "o", "ß": "s"}


@lru_cache(maxsize=4096)
def fold_char(char: str) -> str:
    """One character, lower-cased and (for Latin letters) without its accents."""
    lower = char.lower()
    if len(lower) != 1:
        return char
    if lower in _SPECIAL_FOLD:
        return _SPECIAL_FOLD[lower]
    code = ord(lower)
    if code < 0x250 or 0x1E00 <= code <= 0x1EFF:
        return unicodedata.normalize("NFD", lower)[0]
    return lower


def fold(text: str) -> str:
    """``text`` folded character by character (same length, same offsets)."""
    return "".join(fold_char(c) for c in text)


def normalize(text: str) -> str:
    """NFC, so combining accents typed separately fold like precomposed letters."""
    return unicodedata.normalize("NFC", text)


def script_of(char: str) -> str:
    """``latin``, ``thai``, ``han``, ``kana``, ``hangul``, ``other`` (letters) or ``none``."""
    code = ord(char)
    if _THAI[0] <= code <= _THAI[1]:
        return "thai"
    if any(lo <= code <= hi for lo, hi in _HAN):
        return "han"
    if _KANA[0] <= code <= _KANA[1]:
        return "kana"
    if any(lo <= code <= hi for lo, hi in _HANGUL):
        return "hangul"
    if char.isalpha():
        return "latin" if code < 0x250 or 0x1E00 <= code <= 0x1EFF else "other"
    return "none"


#: Thai vowels written before the consonant they follow in speech (เ แ โ ใ ไ): a syllable
#: starts at them, so no word starts right after one.
_THAI_LEADING: Final = frozenset("\u0e40\u0e41\u0e42\u0e43\u0e44")


def splits_cluster(text: str, i: int) -> bool:
    """Whether a cut at offset ``i`` would split a written syllable: before a combining mark
    (Thai tone marks and upper or lower vowels) or right after a Thai leading vowel. In scripts
    written without spaces a phrase may only start and end where no such cut is needed, so
    กี่ ("how many") is not read inside เกี่ยวกับ ("about")."""
    if 0 < i < len(text) and unicodedata.category(text[i]).startswith("M"):
        return True
    return 0 < i <= len(text) and text[i - 1] in _THAI_LEADING


def ascii_punct(char: str) -> str:
    """Full-width punctuation as ASCII; Spanish opening marks dropped."""
    if char in "¿¡":
        return ""
    return _PUNCT_MAP.get(char, char)


def parse_number(raw: str) -> Decimal | None:
    """``50.000`` → 50000; ``12,5`` → 12.5; ``1,234.50`` → 1234.50 (``None`` if not a number).

    A dot or comma followed by exactly three digits (repeated) groups thousands;
    otherwise it is the decimal mark.
    """
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?", raw):
        canonical = raw.replace(".", "").replace(",", ".")
    elif re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", raw):
        canonical = raw.replace(",", "")
    else:
        canonical = raw.replace(",", ".")
    try:
        return Decimal(canonical)
    except InvalidOperation:
        return None


def format_number(value: Decimal) -> str:
    """A value the English way, with thousands commas: ``1,500,000``, ``1,234.5``."""
    if value == value.to_integral_value():
        return f"{int(value):,}"
    return f"{value:,f}"


def english_number(raw: str, multiplier: int = 1) -> str:
    """``50.000`` → ``50,000``; ``12,5`` → ``12.5``; ``1.5`` with 1,000,000 → ``1,500,000``.

    Plain digits without a multiplier are kept as written (years, days, ``20000``).
    """
    if multiplier == 1 and raw.isdigit():
        return raw
    value = parse_number(raw)
    return raw if value is None else format_number(value * multiplier)


__all__ = [
    "LATIN_WORD",
    "NUMBER",
    "PROTECTED",
    "ascii_punct",
    "english_number",
    "fold",
    "fold_char",
    "format_number",
    "normalize",
    "parse_number",
    "script_of",
]
