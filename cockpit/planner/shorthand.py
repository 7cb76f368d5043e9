"""Chat spellings read as standard English: "didnt go thru", "pls", "rn", "txn".

Merchants type the way people text. The sentence embedder behind intent detection knows
"didn't go through" but barely "didnt go thru", so a casual request ranks like a different
one. :func:`standard_spelling` rewrites the common shorthand before intent detection; slot
extraction still reads the merchant's own words. It only rewrites whole words, never ids or
codes (those are replaced by their kind first).
"""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import Final

#: Chat shorthand (lower case) -> the standard spelling the intent examples use.
SHORTHAND: Final = MappingProxyType(
    {
        "thru": "through",
        "tho": "though",
        "didnt": "didn't",
        "doesnt": "doesn't",
        "dont": "don't",
        "wont": "won't",
        "cant": "can't",
        "isnt": "isn't",
        "wasnt": "wasn't",
        "werent": "weren't",
        "arent": "aren't",
        "havent": "haven't",
        "hasnt": "hasn't",
        "couldnt": "couldn't",
        "wouldnt": "wouldn't",
        "shouldnt": "shouldn't",
        "whats": "what's",
        "pls": "please",
        "plz": "please",
        "rn": "right now",
        "atm": "at the moment",
        "u": "you",
        "ur": "your",
        "cuz": "because",
        "coz": "because",
        "bc": "because",
        "txn": "transaction",
        "txns": "transactions",
        "pmt": "payment",
        "pmts": "payments",
        "acct": "account",
        "amt": "amount",
        "w/o": "without",
    }
)

_WORD = re.compile(
    r"(?<![\w/'-])(?:"
    + "|".join(re.escape(w) for w in sorted(SHORTHAND, key=len, reverse=True))
    + r")(?![\w/'-])",
    re.I,
)


def standard_spelling(text: str) -> str:
    """``text`` with chat shorthand written out ("didnt go thru" -> "didn't go through")."""
    return _WORD.sub(lambda m: SHORTHAND[m.group(0).lower()], text)


__all__ = ["SHORTHAND", "standard_spelling"]
