"""A small screen for instructions hidden in documents (prompt injection).

Content that tries to change an agent's instructions is still stored and
returned, but as data: chunks that match are flagged ``untrusted`` with the
reasons, so the agents' own injection guard can quote rather than obey them.
This screen only flags; it never rewrites or drops text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: (reason code, pattern). Patterns are deliberately phrase-level: single words
#: like "refund" appear in honest documents all the time.
_RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (code, re.compile(pattern, re.IGNORECASE))
    for code, pattern in (
        (
            "override_instructions",
            r"\b(ignore|disregard|forget|override|bypass)\b[^.\n]{0,40}\b(previous|prior|above|earlier|all|any|your|the)\b[^.\n]{0,20}\b(instructions?|rules|prompts?|guidelines|polic(y|ies))\b",
        ),
        ("new_instructions", r"\b(new|updated|real|actual)\s+(system\s+)?instructions?\s*[:\-]"),
        (
            "role_reassignment",
            r"\byou\s+are\s+now\b|\bfrom\s+now\s+on,?\s+you\b|\bact\s+as\s+(an?\s+)?(admin|administrator|system|developer)\b",
        ),
        (
            "system_prompt",
            r"\bsystem\s+prompt\b|\bdeveloper\s+message\b|<\s*/?\s*system\s*>|\[\s*/?\s*system\s*\]",
        ),
        (
            "reveal_secrets",
            r"\b(reveal|print|show|leak|exfiltrate)\b[^.\n]{0,30}\b(api[\s_-]?keys?|secrets?|passwords?|credentials|system prompt)\b",
        ),
        (
            "tool_command",
            r"\b(call|invoke|run|use|execute)\s+(the\s+)?[a-z_]+\s+tool\b|\btransfer_to_[a-z_]+\b|\b(issue|make|process|approve)\s+(a\s+|the\s+)?(full\s+)?(refund|payout|transfer)s?\s+(to|for|of)\b",
        ),
        (
            "conceal_from_user",
            r"\b(do\s+not|don't|never)\s+(tell|inform|mention\s+(this\s+)?to)\s+(the\s+)?(user|merchant|customer|human)\b",
        ),
    )
)


@dataclass(frozen=True, slots=True)
class ScreenResult:
    """Whether text looks like it carries instructions, and why."""

    untrusted: bool
    reasons: tuple[str, ...] = field(default_factory=tuple)


def screen_text(text: str) -> ScreenResult:
    """Flag text that tries to instruct the reader (an agent) rather than inform it."""
    reasons = tuple(code for code, pattern in _RULES if pattern.search(text))
    return ScreenResult(untrusted=bool(reasons), reasons=reasons)


__all__ = ["ScreenResult", "screen_text"]
