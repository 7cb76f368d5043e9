"""Glossaries: phrase → canonical English, per language, and the translation that applies them.

A glossary file (YAML) maps a language code to ``terms`` (shared words) and
``topics`` (``declines: {ditolak: declined}``). Agents name their glossaries in
the planner spec by package resource — ``tools.payments:planner_lexicon.yaml`` —
so domain words live next to the tools that own them and the core stays
agent-agnostic. The core's own everyday phrases (``core.yaml``) are always added.

Translation is phrase-level, longest match first, left to right; Thai and
Chinese are matched without spaces. Ids, dates, currency codes and percentages
pass through untouched, numbers are rewritten the English way (``50.000`` →
``50,000``, ``5万`` → ``50,000``, ``1만 5천`` → ``15,000``), a unit written after a number
with a multiplier still reads as the number's unit (``2만원`` → ``20,000 KRW``), and words the agent already understands in
English are kept. Coverage — the share of the message's words (characters, in
Thai and Chinese) that a phrase or English accounts for — says how much of the
request was really understood.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Final

import yaml
from pydantic import BaseModel, ConfigDict, Field, RootModel, ValidationError, field_validator

from cockpit.errors import ValidationFailed
from cockpit.planner.languages.profiles import LanguageDef, core_data, load_yaml
from cockpit.planner.languages.text import (
    LATIN_WORD,
    NUMBER,
    PROTECTED,
    ascii_punct,
    english_number,
    fold,
    fold_char,
    format_number,
    normalize,
    parse_number,
    script_of,
    splits_cluster,
)

#: ``package.module:file.yaml`` — a YAML file shipped inside an importable package.
REFERENCE: Final = re.compile(
    r"^(?P<pkg>[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*):(?P<file>[A-Za-z0-9_-]+\.ya?ml)$"
)
_PLACEHOLDER = "{n}"
_NUM = r"(\d+(?:[.,]\d+)*)"


class LanguageGlossary(BaseModel):
    """One language's part of a glossary file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    terms: dict[str, str] = Field(default_factory=dict)
    """Shared vocabulary ("payment"): understood, but no topic on its own."""
    topics: dict[str, dict[str, str]] = Field(default_factory=dict)
    """Topic name (English, as shown to merchants) → its phrases."""

    @field_validator("terms", "topics")
    @classmethod
    def _phrases(cls, value: dict[str, object]) -> dict[str, object]:
        if any(not str(phrase).strip() for phrase in value):
            raise ValueError("phrases must not be empty")
        return value


class GlossaryFile(RootModel[dict[str, LanguageGlossary]]):
    """A whole glossary file: language code → :class:`LanguageGlossary`."""

    @field_validator("root")
    @classmethod
    def _known(cls, value: dict[str, LanguageGlossary]) -> dict[str, LanguageGlossary]:
        known = {lang.code for lang in core_data().languages}
        unknown = sorted(set(value) - known)
        if unknown:
            raise ValueError(f"unknown language codes {unknown}; known: {sorted(known)}")
        return value


def _resolve(reference: str) -> Path:
    match = REFERENCE.match(reference)
    if match is None:
        raise ValidationFailed(
            f"glossary {reference!r} must look like 'package.module:file.yaml'",
            code="invalid_planner",
            param="planner.glossaries",
        )
    try:
        found = importlib.util.find_spec(match["pkg"])
    except ModuleNotFoundError:
        found = None
    locations = list(found.submodule_search_locations or []) if found else []
    for location in locations:
        path = Path(location) / match["file"]
        if path.is_file():
            return path
    raise ValidationFailed(
        f"glossary {reference!r} not found", code="invalid_planner", param="planner.glossaries"
    )


@lru_cache(maxsize=32)
def load_glossary(reference: str) -> GlossaryFile:
    """The glossary file a spec names, validated (errors name the reference)."""
    path = _resolve(reference)
    try:
        return GlossaryFile.model_validate(load_yaml(path.read_text(encoding="utf-8")))
    except (yaml.YAMLError, ValidationError) as exc:
        raise ValidationFailed(
            f"glossary {reference!r}: {exc}", code="invalid_planner", param="planner.glossaries"
        ) from None


@dataclass(frozen=True, slots=True)
class _Entry:
    phrase: str
    """Folded, with ``{n}`` placeholders."""
    english: str
    topic: str | None
    exact: re.Pattern[str]
    folded: re.Pattern[str]
    latin_start: bool
    latin_end: bool
    literal: int
    suffix: bool = False
    """A word ending (:attr:`LanguageDef.suffixes`): only after letters, only at a word's end."""
    word: bool = False
    """A whole word (:attr:`LanguageDef.words`): only at a word's start, and to its end."""


def _pattern(phrase: str, *, spaced: bool) -> re.Pattern[str]:
    """Words separated by whitespace (optional when the script has no spaces); ``{n}`` a number."""
    gap = r"\s+" if spaced else r"\s*"
    parts = [gap.join(re.escape(w) for w in part.split()) for part in phrase.split(_PLACEHOLDER)]
    return re.compile(rf"\s*{_NUM}\s*".join(parts))


def _entry(
    phrase: str,
    english: str,
    topic: str | None,
    *,
    spaced: bool,
    suffix: bool = False,
    word: bool = False,
) -> _Entry:
    phrase = normalize(phrase.strip().lower())
    shape = phrase.replace(_PLACEHOLDER, "0")
    return _Entry(
        phrase=fold(phrase),
        english=english.strip(),
        topic=topic,
        exact=_pattern(phrase, spaced=spaced),
        folded=_pattern(fold(phrase), spaced=spaced),
        latin_start=script_of(shape[0]) == "latin",
        latin_end=script_of(shape[-1]) == "latin",
        literal=len(phrase.replace(_PLACEHOLDER, "")),
        suffix=suffix,
        word=word,
    )


def _tail(entry: _Entry) -> re.Pattern[str] | None:
    """For a phrase that starts with its only number (``{n}원``), the rest of it: what may follow
    a number whose multiplier the number reading already took (``2만`` + ``원``)."""
    if not entry.phrase.startswith(_PLACEHOLDER) or entry.phrase.count(_PLACEHOLDER) != 1:
        return None
    rest = entry.phrase[len(_PLACEHOLDER) :].strip()
    if not rest:
        return None
    gap = r"\s+" if entry.latin_start or script_of(rest[0]) == "latin" else r"\s*"
    return re.compile(r"\s*" + gap.join(re.escape(w) for w in rest.split()))


@dataclass(frozen=True, slots=True)
class Translation:
    """A message in canonical English, with how much of it was understood."""

    text: str
    coverage: float
    """Understood units / all units (words; Thai and Han characters). 1.0 with no units."""
    topics: frozenset[str]
    units: int
    unknown: tuple[str, ...] = ()
    """The words (or runs of characters) nothing accounted for."""
    source: str = ""
    """The message as written (normalised)."""
    spans: tuple[tuple[str, int, int], ...] = ()
    """Each English piece of ``text`` with the span of ``source`` it came from."""

    def original_of(self, english: str) -> str | None:
        """The merchant's own words that ``english`` (a run of whole pieces of ``text``, such
        as the reason a slot took) was translated from; None when it is not such a run."""
        wanted = english.strip()
        pieces = [piece for piece, _, _ in self.spans]
        for i, (_, start, _) in enumerate(self.spans):
            for j in range(i, len(self.spans)):
                joined = _join(pieces[i : j + 1])
                if joined == wanted:
                    return self.source[start : self.spans[j][2]].strip()
                if len(joined) > len(wanted):
                    break
        return None


@dataclass
class _Out:
    pieces: list[str] = field(default_factory=list)
    spans: list[tuple[str, int, int]] = field(default_factory=list)
    units: int = 0
    understood: int = 0
    topics: set[str] = field(default_factory=set)
    unknown: list[str] = field(default_factory=list)

    def add(self, piece: str, start: int, end: int) -> None:
        """One English piece, translated from ``text[start:end]``."""
        self.pieces.append(piece)
        self.spans.append((piece, start, end))


class Lexicon:
    """One language's compiled phrases (core + the agent's glossaries)."""

    def __init__(
        self,
        language: LanguageDef,
        glossaries: Sequence[LanguageGlossary],
        english_words: frozenset[str],
    ) -> None:
        self.language = language
        self.english_words = english_words
        spaced = language.script == "latin"
        entries: list[_Entry] = [
            _entry(p, e, None, spaced=spaced) for p, e in language.phrases.items()
        ]
        entries += [
            _entry(p, e, None, spaced=spaced, suffix=True) for p, e in language.suffixes.items()
        ]
        entries += [_entry(p, e, None, spaced=spaced, word=True) for p, e in language.words.items()]
        topics: list[str] = []
        for glossary in glossaries:
            entries += [_entry(p, e, None, spaced=spaced) for p, e in glossary.terms.items()]
            for topic, phrases in glossary.topics.items():
                if topic not in topics:
                    topics.append(topic)
                entries += [_entry(p, e, topic, spaced=spaced) for p, e in phrases.items()]
        self.topics: tuple[str, ...] = tuple(topics)
        self._index: dict[str, list[_Entry]] = {}
        for entry in entries:
            key = "0" if entry.phrase.startswith(_PLACEHOLDER) else entry.phrase[0]
            self._index.setdefault(key, []).append(entry)
        self._tails = [(pattern, e) for e in entries if (pattern := _tail(e)) is not None]
        self.words = frozenset(
            w for e in entries if _foreign(e) for w in LATIN_WORD.findall(e.phrase)
        )
        """Latin words of the phrases that are evidence for this language (detection)."""
        self.english_out = frozenset(
            w for e in entries for w in LATIN_WORD.findall(fold(e.english)) if len(w) > 1
        )
        """Words of the canonical English the phrases translate to (English by definition)."""
        self._multipliers = sorted(
            ((normalize(w.lower()), m) for w, m in language.multipliers.items()),
            key=lambda item: -len(item[0]),
        )

    # ----- translation -------------------------------------------------------------------
    def translate(self, text: str) -> Translation:
        text = normalize(text)
        lower = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
        folded = fold(text)
        out = _Out()
        i, n = 0, len(text)
        while i < n:
            char = text[i]
            if char.isspace():
                i += 1
                continue
            protected = PROTECTED.match(text, i)
            if protected is not None and (i == 0 or not text[i - 1].isalnum()):
                out.add(protected.group(0), i, protected.end())
                i = protected.end()
                continue
            hit = self._phrase(lower, folded, i)
            if hit is not None:
                end, entry, number = hit
                english = entry.english
                if number is not None:
                    english = english.replace(_PLACEHOLDER, english_number(number))
                if english:
                    out.add(english, i, end)
                if not entry.suffix:
                    self._count(text[i:end], out, understood=True)
                if entry.topic:
                    out.topics.add(entry.topic)
                i = end
                continue
            number_match = NUMBER.match(text, i)
            if number_match is not None:
                end, number = self._number(lower, folded, number_match)
                unit = self._unit(folded, end)
                if unit is None:
                    out.add(number, i, end)
                    i = end
                    continue
                unit_end, entry = unit
                out.add(entry.english.replace(_PLACEHOLDER, number), i, unit_end)
                self._count(text[end:unit_end], out, understood=True)
                if entry.topic:
                    out.topics.add(entry.topic)
                i = unit_end
                continue
            word = LATIN_WORD.match(folded, i)
            if word is not None and script_of(char) == "latin":
                known = word.group(0) in self.english_words
                out.add(text[i : word.end()], i, word.end())
                self._count(text[i : word.end()], out, understood=known)
                i = word.end()
                continue
            script = script_of(char)
            if script in ("thai", "han", "kana", "hangul", "other"):
                start = i
                i += 1
                while (
                    i < n
                    and script_of(text[i]) == script
                    and self._phrase(lower, folded, i) is None
                ):
                    i += 1
                out.add(text[start:i], start, i)
                self._count(text[start:i], out, understood=False)
                continue
            punct = ascii_punct(char)
            if punct:
                out.add(punct, i, i + 1)
            i += 1
        coverage = out.understood / out.units if out.units else 1.0
        return Translation(
            text=_join(out.pieces),
            coverage=round(coverage, 3),
            topics=frozenset(out.topics),
            units=out.units,
            unknown=tuple(out.unknown),
            source=text,
            spans=tuple(out.spans),
        )

    def _phrase(self, lower: str, folded: str, i: int) -> tuple[int, _Entry, str | None] | None:
        if splits_cluster(lower, i):
            return None
        key = "0" if folded[i].isdigit() else folded[i]
        best: tuple[int, int, int, _Entry, str | None] | None = None
        for entry in self._index.get(key, ()):
            if entry.latin_start and i > 0 and fold_char(lower[i - 1]).isalnum():
                continue
            if entry.suffix and (i == 0 or not lower[i - 1].isalpha()):
                continue
            if entry.word and i > 0 and lower[i - 1].isalpha():
                continue
            for exact, match in (
                (1, entry.exact.match(lower, i)),
                (0, entry.folded.match(folded, i)),
            ):
                if match is None:
                    continue
                end = match.end()
                if splits_cluster(lower, end):
                    continue
                if (
                    (entry.latin_end or entry.suffix)
                    and end < len(folded)
                    and folded[end].isalpha()
                ):
                    continue
                if entry.word and not self._word_ends(lower, folded, end):
                    continue
                number = match.group(1) if match.re.groups else None
                rank = (end, exact, entry.literal)
                if best is None or rank > best[:3]:
                    best = (end, exact, entry.literal, entry, number)
                break
        return None if best is None else (best[0], best[3], best[4])

    def _word_ends(self, lower: str, folded: str, end: int) -> bool:
        """Whether a word ends at ``end``, or only a suffix follows (내가, 이 결제를)."""
        if end >= len(folded) or not folded[end].isalpha():
            return True
        hit = self._phrase(lower, folded, end)
        return hit is not None and hit[1].suffix and self._word_ends(lower, folded, hit[0])

    def _number(self, lower: str, folded: str, match: re.Match[str]) -> tuple[int, str]:
        """A number with its multipliers, the English way: ``50.000``, ``5万``, and compounds
        that count down (``1만 5천``, ``2万3000``) as one amount."""
        end, multiplier = self._multiplier(lower, match.end())
        value = parse_number(match.group(0))
        if multiplier == 1 or value is None:
            return end, english_number(match.group(0), multiplier)
        total = value * multiplier
        while True:
            j = end + 1 if end < len(lower) and lower[end] == " " else end
            following = NUMBER.match(lower, j)
            if following is None:
                break
            part = parse_number(following.group(0))
            next_end, next_multiplier = self._multiplier(lower, following.end())
            if part is None or part * next_multiplier >= multiplier:
                break
            # A bare figure after a multiplier word of a language without spaces between number
            # words: "2万3000" is one amount, "2만 3000원" too (a unit follows), but "5万 3天"
            # is two numbers, and so is "50 ribu 20 hari".
            if next_multiplier == 1 and (
                script_of(lower[end - 1]) == "latin"
                or (j > end and self._unit(folded, next_end) is None)
            ):
                break
            total += part * next_multiplier
            end, multiplier = next_end, next_multiplier
            if multiplier == 1:
                break
        return end, format_number(total)

    def _unit(self, folded: str, end: int) -> tuple[int, _Entry] | None:
        """The rest of a ``{n}…`` phrase right after a number read with its multiplier."""
        best: tuple[int, _Entry] | None = None
        for pattern, entry in self._tails:
            match = pattern.match(folded, end)
            if match is None or match.end() == end:
                continue
            stop = match.end()
            if entry.latin_end and stop < len(folded) and folded[stop].isalpha():
                continue
            if best is None or stop > best[0]:
                best = (stop, entry)
        return best

    def _multiplier(self, lower: str, end: int) -> tuple[int, int]:
        j = end
        while j < len(lower) and lower[j] == " ":
            j += 1
        for word, value in self._multipliers:
            if lower.startswith(word, j):
                after = j + len(word)
                latin = script_of(word[-1]) == "latin"
                if not latin or after >= len(lower) or not lower[after].isalpha():
                    return after, value
        return end, 1

    @staticmethod
    def _count(chunk: str, out: _Out, *, understood: bool) -> None:
        units = 0
        for part in re.findall(r"[^\W\d_]+", chunk):
            scripts = {script_of(c) for c in part}
            if scripts <= {"latin"}:
                units += 1
            else:
                units += sum(1 for c in part if script_of(c) != "none")
        out.units += units
        if understood:
            out.understood += units
        elif units:
            out.unknown.append(chunk)


def _foreign(entry: _Entry) -> bool:
    """Whether a phrase says something about the language: not an English loanword kept as
    is ("refund"), not a currency name that any language uses ("baht", "euros")."""
    if re.fullmatch(r"[A-Z]{3}", entry.english):
        return False
    return fold(entry.english) != entry.phrase


def _join(pieces: Iterable[str]) -> str:
    text = " ".join(p for p in pieces if p)
    return re.sub(r"\s+([?.,!:;])", r"\1", text).strip()


def compile_lexicons(
    references: Sequence[str], english_words: Iterable[str] = ()
) -> dict[str, Lexicon]:
    """Language code → :class:`Lexicon`, for every language the glossaries cover."""
    return _compiled(tuple(references), frozenset(fold(w) for w in english_words))


@lru_cache(maxsize=32)
def _compiled(references: tuple[str, ...], english_words: frozenset[str]) -> dict[str, Lexicon]:
    files = [load_glossary(ref) for ref in references]
    data = core_data()
    english = english_words | frozenset(fold(w) for w in data.english.profile)
    lexicons: dict[str, Lexicon] = {}
    for language in data.languages:
        parts = [f.root[language.code] for f in files if language.code in f.root]
        if parts:
            lexicons[language.code] = Lexicon(language, parts, english)
    return lexicons


def english_vocabulary(texts: Iterable[str]) -> frozenset[str]:
    """The words of an agent's English examples (kept as-is inside other languages)."""
    return frozenset(w for t in texts for w in LATIN_WORD.findall(fold(t)) if len(w) > 1)


__all__ = [
    "REFERENCE",
    "GlossaryFile",
    "LanguageGlossary",
    "Lexicon",
    "Translation",
    "compile_lexicons",
    "english_vocabulary",
    "load_glossary",
]
