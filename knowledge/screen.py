"""A small screen for instructions hidden in documents (prompt injection).

Content that tries to change an agent's instructions is still stored and
returned, but as data: chunks that match are flagged ``untrusted`` with the
reasons, so the agents' own injection guard can quote rather than obey them.
This screen only flags; it never rewrites or drops text.

Procedure is not injection: a policy that says "use the make_payment tool when the
user accepts" is what a knowledge base is for. Naming a tool is therefore a *flag*
(``flags``: ``names_tool``), shown with the passage but leaving it trusted; only
the phrases that try to take over the reader (override its instructions, reassign
its role, reach for secrets, hand off or move money on the text's say-so, hide
things from the user) make a chunk ``untrusted``. A caller that wants the old,
stricter reading asks for it at query time (``strict_screen``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cockpit.guardrails.injection import flag_text

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
            r"\btransfer_to_[a-z_]+\b|\b(issue|make|process|approve)\s+(a\s+|the\s+)?(full\s+)?(refund|payout|transfer)s?\s+(to|for|of)\b",
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
    """It tries to take over the reader: return it as quoted data only."""
    reasons: tuple[str, ...] = field(default_factory=tuple)
    """Why it is untrusted (rule codes)."""
    flags: tuple[str, ...] = field(default_factory=tuple)
    """Procedure it states (``names_tool``): shown with the passage, which stays trusted."""


def screen_text(text: str) -> ScreenResult:
    """Flag text that tries to instruct the reader (an agent) rather than inform it."""
    reasons = tuple(code for code, pattern in _RULES if pattern.search(text))
    # Procedure is flagged by the runtime's own screen: one reading of "names a tool".
    flags = tuple(flag_text(text))
    return ScreenResult(untrusted=bool(reasons), reasons=reasons, flags=flags)


def strict_verdict(
    untrusted: bool, reasons: tuple[str, ...], flags: tuple[str, ...]
) -> tuple[bool, tuple[str, ...]]:
    """The pre-flag reading (``strict_screen``): every flag counts as a reason to distrust."""
    merged = reasons + tuple(f for f in flags if f not in reasons)
    return untrusted or bool(flags), merged


__all__ = ["ScreenResult", "screen_text", "strict_verdict"]
