"""The languages the planner can tell apart (``core.yaml``) and how it tells them apart.

Detection is deliberately small and predictable, because merchant requests are
short and full of ids, amounts and English loanwords ("tolong refund pay_X"):

* a script decides outright — Thai letters mean Thai, kana Japanese, Hangul
  Korean, Han characters (without kana) Chinese;
* Latin text is scored per language by the words it shares with the language's
  profile (function words plus every word of its glossaries) and by letters only
  that language uses (Vietnamese ơ ư đ ạ…, Spanish ñ ¿); English is scored by
  the words the planner knows in English. A language wins when it scores at
  least half of English — a foreign phrase among English loanwords is foreign,
  a stray foreign word in an English sentence is not.

Off-the-shelf detectors were measured and not used: py3langid (4.6 MB wheel, 5 s
import, 131 MB) reads "tolong refund pay_X" as Breton and "disputa dsp_X" as
Portuguese; lingua (96 MB wheel, 13 s to build, 275 MB) reads the first as
Tagalog. Profiles that know the domain's words do better on these texts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Final, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from cockpit.planner.languages.text import LATIN_WORD, PROTECTED, fold, normalize, script_of

Script = Literal["latin", "thai", "han", "kana", "hangul"]

ENGLISH: Final = "en"
UNKNOWN: Final = "und"


class LanguageDef(BaseModel):
    """One language in ``core.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[a-z]{2,3}$")
    name: str
    """How a merchant would name it (``Bahasa Indonesia``, ``中文 (Chinese)``)."""
    english: str
    answering: str | None = None
    """"Answering in English", in this language (the opening note of an answer)."""
    script: Script
    profile: list[str] = Field(default_factory=list)
    marks: str = ""
    """Letters that, in Latin text, point to this language."""
    yes: list[str] = Field(default_factory=list)
    """How a merchant says "yes, go ahead" (confirms an action shown in English)."""
    multipliers: dict[str, int] = Field(default_factory=dict)
    """Number words after a figure (``50 ribu``, ``5万``)."""
    phrases: dict[str, str] = Field(default_factory=dict)
    """Agent-agnostic phrases → canonical English."""
    words: dict[str, str] = Field(default_factory=dict)
    """Short words matched only as a whole word (a particle from :attr:`suffixes` may follow):
    in Korean 내 "my" is also the first syllable of 내역 "history", 안 "not" of 안전 "safe"."""
    suffixes: dict[str, str] = Field(default_factory=dict)
    """Endings written onto the word before them (Korean particles: 결제를, 환불됐나요) →
    canonical English (usually nothing). They match only at the end of a word with letters
    before them, so a syllable that also starts or sits inside other words is left alone, and
    they count as no words of their own (a particle says nothing about what was understood)."""


class _English(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    profile: list[str]


class CoreData(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    english: _English
    languages: list[LanguageDef]

    def language(self, code: str) -> LanguageDef | None:
        return next((lang for lang in self.languages if lang.code == code), None)


class _Loader(yaml.SafeLoader):
    """YAML where only ``true``/``false`` are booleans: glossaries are full of words like
    *yes*, *no*, *on*, *y* and *o* (Spanish "or") that YAML 1.1 would turn into booleans."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _first in "tTfF":
    _Loader.add_implicit_resolver(
        "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), [_first]
    )


def load_yaml(text: str) -> object:
    """Safe YAML with booleans spelled only ``true``/``false``."""
    return yaml.load(text, Loader=_Loader)


@lru_cache(maxsize=1)
def core_data() -> CoreData:
    """``core.yaml``, validated once per process."""
    raw = resources.files(__package__ or "cockpit.planner.languages").joinpath("core.yaml")
    return CoreData.model_validate(load_yaml(raw.read_text(encoding="utf-8")))


def _telling(phrase: str, english: str) -> bool:
    """Whether a phrase is evidence of its language: not a currency name any language uses
    ("baht", "dolar singapura" → SGD), not an English word kept as is."""
    return not re.fullmatch(r"[A-Z]{3}", english) and fold(phrase) != fold(english)


@dataclass(frozen=True, slots=True)
class Detection:
    """The language of one message."""

    code: str
    """ISO 639-1 code, ``en``, or ``und`` (letters of a script no language here uses)."""
    decided: bool
    """False when the text had nothing to go on (an id, a number, "ok")."""
    scores: Mapping[str, float]


class Detector:
    """Scores a message against every language in ``core.yaml``.

    ``english_words`` are the words the agent understands in English (its examples);
    ``extra_words`` add each language's glossary words to its profile.
    """

    def __init__(
        self,
        english_words: Iterable[str] = (),
        extra_words: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        data = core_data()
        self.english = frozenset(fold(w) for w in (*data.english.profile, *english_words))
        self.languages = [lang for lang in data.languages if lang.script == "latin"]
        self.by_script = {
            lang.script: lang.code for lang in data.languages if lang.script != "latin"
        }
        extra = extra_words or {}
        self.profiles: dict[str, frozenset[str]] = {}
        for lang in self.languages:
            phrases = [p for p, e in lang.phrases.items() if _telling(p, e)]
            words = {
                w
                for phrase in (*lang.profile, *phrases, *extra.get(lang.code, ()))
                for w in LATIN_WORD.findall(fold(normalize(phrase)))
                if len(w) > 1
            }
            self.profiles[lang.code] = frozenset(words - self.english)
        self.marks = {lang.code: frozenset(lang.marks) for lang in self.languages}

    def detect(self, text: str) -> Detection:
        text = normalize(PROTECTED.sub(" ", text))
        counts: dict[str, int] = {}
        for char in text:
            script = script_of(char)
            counts[script] = counts.get(script, 0) + 1
        for script in ("kana", "hangul", "thai", "han"):
            # kana before han: Japanese writes Han characters too.
            if counts.get(script) and script in self.by_script:
                return Detection(self.by_script[script], True, {script: counts[script]})
        words = LATIN_WORD.findall(fold(text))
        raw_words = [w for w in text.lower().split() if any(c.isalpha() for c in w)]
        if counts.get("other", 0) > counts.get("latin", 0):
            return Detection(UNKNOWN, True, {"other": counts["other"]})
        english = sum(1 for w in words if w in self.english)
        scores: dict[str, float] = {ENGLISH: english}
        for lang in self.languages:
            score = float(sum(1 for w in words if w in self.profiles[lang.code]))
            marks = self.marks[lang.code]
            if marks:
                score += sum(1 for w in raw_words if any(c in marks for c in w))
            scores[lang.code] = score
        best = max(self.languages, key=lambda lang: scores[lang.code], default=None)
        top = scores[best.code] if best is not None else 0.0
        if best is not None and top > 0 and top * 2 >= english:
            return Detection(best.code, True, scores)
        # Latin text that no profile recognises is read as English ("Berlin Outdoor's preview
        # approves"): the English planner declines what it does not understand.
        return Detection(ENGLISH, english > 0, scores)


__all__ = [
    "ENGLISH",
    "UNKNOWN",
    "CoreData",
    "Detection",
    "Detector",
    "LanguageDef",
    "Script",
    "core_data",
    "load_yaml",
]
