"""Prompt-injection screen for untrusted text (tool results, retrieved passages, payment notes).

Text that tries to change the agent's instructions is not deleted: it is
replaced by a quarantine marker naming the reason, and the original stays in
the system of record. Agents see data, never commands.
"""

from __future__ import annotations

import re
from typing import Any

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (
        "override_instructions",
        re.compile(
            r"\b(ignore|disregard|forget|override)\b[^.\n]{0,40}\b(previous|prior|above|earlier|all|your|the)\b"
            r"[^.\n]{0,20}\b(instructions?|rules?|prompts?|guidelines|policies)\b",
            re.I,
        ),
    ),
    ("role_change", re.compile(r"\b(you are now|act as|pretend to be|from now on you)\b", re.I)),
    (
        "system_prompt",
        re.compile(
            r"\b(system prompt|developer message|<\s*/?\s*system\s*>|\[\s*system\s*\])", re.I
        ),
    ),
    (
        "tool_directive",
        re.compile(
            r"\b(call|invoke|execute|run)\b[^.\n]{0,20}\b(tool|function)\b|\btransfer_to_\w+", re.I
        ),
    ),
    (
        "money_directive",
        re.compile(
            r"\b(issue|make|send|process|approve)\b[^.\n]{0,15}\b(a |the )?(full )?(refund|payout|transfer|chargeback)\b"
            r"[^.\n]{0,40}\b(now|immediately|to|without)\b",
            re.I,
        ),
    ),
]


def screen_text(text: str) -> list[str]:
    """Reasons this text looks like an injection attempt (empty if none)."""
    return [name for name, pattern in _PATTERNS if pattern.search(text)]


def quarantine(
    value: Any, *, path: str = "$", found: list[str] | None = None
) -> tuple[Any, list[str]]:
    """Copy of ``value`` with suspicious strings replaced; returns (value, paths quarantined)."""
    hits = [] if found is None else found
    if isinstance(value, str):
        reasons = screen_text(value)
        if reasons:
            hits.append(path)
            return f"[quarantined untrusted content: {', '.join(reasons)}]", hits
        return value, hits
    if isinstance(value, dict):
        return {k: quarantine(v, path=f"{path}.{k}", found=hits)[0] for k, v in value.items()}, hits
    if isinstance(value, list):
        return [
            quarantine(v, path=f"{path}[{i}]", found=hits)[0] for i, v in enumerate(value)
        ], hits
    return value, hits


__all__ = ["quarantine", "screen_text"]
