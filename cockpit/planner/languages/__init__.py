"""Requests in other languages: detect the language, translate by glossary, act only when understood.

The planner's dialogue works in English. This package lets it serve merchants
who write in Indonesian, Malay, Thai, Chinese, Vietnamese, Spanish, Korean or German: agent
specs name glossaries (``planner.glossaries``) that map the merchant's phrases
to canonical English, by topic; :class:`LanguageGate` detects each message's
language, translates it for the dialogue, answers plainly when a language or
topic is not covered, and holds back writes from partly understood requests.
"""

from cockpit.planner.languages.gate import (
    CONFIRM_KEY,
    MIN_COVERAGE,
    WRITE_COVERAGE,
    LanguageGate,
    Turn,
)
from cockpit.planner.languages.glossary import (
    GlossaryFile,
    LanguageGlossary,
    Lexicon,
    Translation,
    compile_lexicons,
    load_glossary,
)
from cockpit.planner.languages.profiles import (
    ENGLISH,
    UNKNOWN,
    Detection,
    Detector,
    LanguageDef,
    core_data,
)

__all__ = [
    "CONFIRM_KEY",
    "ENGLISH",
    "MIN_COVERAGE",
    "UNKNOWN",
    "WRITE_COVERAGE",
    "Detection",
    "Detector",
    "GlossaryFile",
    "LanguageDef",
    "LanguageGate",
    "LanguageGlossary",
    "Lexicon",
    "Translation",
    "Turn",
    "compile_lexicons",
    "core_data",
    "load_glossary",
]
