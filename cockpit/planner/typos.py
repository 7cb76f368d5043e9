"""Typo tolerance for intent detection: misspelt words read as the agent's own words.

Merchants type fast ("fite it", "acept dsp_…", "refnd"). A word that is neither one of the
agent's example words nor an English word is replaced by the example word it most likely
stands for: one that sounds the same and starts alike ("fite" -> "fight"), else one typing slip
away (a letter missing, extra, wrong or two swapped; two slips for long words). Known English
words are never touched, so "shipped" stays "shipped" even when no example says it.

The English word list is the whole-word part of the sentence embedder's tokenizer vocabulary
(shipped with the package, about 20k words). This module only rewrites text for ranking; slots
are always read from what the user wrote. (Chat shorthand such as "pls" or "thru" is
:mod:`cockpit.planner.shorthand`'s job.)
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from functools import cache, lru_cache
from pathlib import Path
from typing import Final

_VOCAB_FILE: Final = (
    Path(__file__).resolve().parents[1] / "embeddings" / "data" / "minilm" / "tokenizer.json"
)
_WORD: Final = re.compile(r"[a-z]+")
#: Words shorter than this are left alone: too many real words are one slip apart.
MIN_LENGTH: Final = 4
#: From this length on, two slips still name a word.
TWO_SLIPS_FROM: Final = 8
#: Slips allowed between words that sound alike and start alike ("fite" / "fight").
SOUND_ALIKE_SLIPS: Final = 3

# A rough English sound key: spellings that sound alike map to one key.
_SOUNDS: Final = (
    ("igh", "i"),
    ("ght", "t"),
    ("ph", "f"),
    ("ck", "k"),
    ("qu", "kw"),
    ("wh", "w"),
    ("ce", "se"),
    ("ci", "si"),
    ("cy", "sy"),
    ("c", "k"),
    ("z", "s"),
    ("y", "i"),
)


@cache
def english_words() -> frozenset[str]:
    """Whole English words of the embedder's tokenizer (empty when the file is absent)."""
    try:
        data = json.loads(_VOCAB_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return frozenset()
    vocab = data.get("model", {}).get("vocab", {})
    return frozenset(w for w in vocab if _WORD.fullmatch(w) and len(w) > 1)


def sound_key(word: str) -> str:
    """``word`` as it sounds, roughly: silent final e and doubled letters dropped."""
    key = word.lower()
    for written, sound in _SOUNDS:
        key = key.replace(written, sound)
    if len(key) > 3 and key.endswith("e"):
        key = key[:-1]
    return re.sub(r"(.)\1+", r"\1", key)


def slips(a: str, b: str, limit: int) -> int:
    """Typing slips between ``a`` and ``b`` (optimal string alignment distance), or
    ``limit + 1`` once it is certain to exceed ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] | None = None
    row = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(row[j] + 1, current[j - 1] + 1, row[j - 1] + cost)
            swapped = i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]
            if swapped and before is not None:
                current[j] = min(current[j], before[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        before, row = row, current
    return row[-1]


class Speller:
    """Corrects words against one agent's vocabulary (the words of its examples)."""

    def __init__(self, texts: Iterable[str]) -> None:
        self._counts = Counter(w for text in texts for w in _WORD.findall(text.lower()))
        self._known = english_words() | frozenset(self._counts)
        self._sounds = {word: sound_key(word) for word in self._counts}
        self.correct_word = lru_cache(maxsize=4096)(self._correct_word)

    def _correct_word(self, word: str) -> str:
        if len(word) < MIN_LENGTH or word in self._known:
            return word
        limit = 2 if len(word) >= TWO_SLIPS_FROM else 1
        sound = sound_key(word)
        best: tuple[int, int, int, str] | None = None
        for candidate, count in self._counts.items():
            alike = candidate[0] == word[0] and self._sounds[candidate] == sound
            allowed = SOUND_ALIKE_SLIPS if alike else limit
            if abs(len(candidate) - len(word)) > allowed:
                continue
            distance = slips(word, candidate, allowed)
            if distance > allowed:
                continue
            rank = (0 if alike else 1, distance, -count, candidate)
            if best is None or rank < best:
                best = rank
        return word if best is None else best[3]

    def correct(self, text: str) -> str:
        """``text`` (lower case) with each misspelt word replaced by the word it stands for."""
        return _WORD.sub(lambda m: self.correct_word(m.group(0)), text)


__all__ = ["MIN_LENGTH", "SOUND_ALIKE_SLIPS", "TWO_SLIPS_FROM", "Speller", "english_words"]
