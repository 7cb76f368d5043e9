"""Prompt-injection screen for untrusted text (tool results, retrieved passages, payment notes).

Text that tries to change the agent's instructions is not deleted: it is
replaced by a quarantine marker naming the reason, and the original stays in
the system of record. Agents see data, never commands.

Naming a tool is not, by itself, an attempt to take over the reader: a refund
policy says "run the refund tool once the goods are back", a partner's tool
description says "call this function with the order id". Such text is *flagged*
(``names_tool``) and left as it is; the paths are listed beside the result so the
agent reads it as a procedure someone wrote down, not as its own instruction.
What an agent may actually do is decided by its tools' policies and approvals,
never by text it reads. Hand-offs (``transfer_to_…``), overrides, role changes and
money moved on the text's say-so stay quarantined.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
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
    ("handoff_directive", re.compile(r"\btransfer_to_\w+", re.I)),
    (
        "money_directive",
        re.compile(
            r"\b(issue|make|send|process|approve)\b[^.\n]{0,15}\b(a |the )?(full )?(refund|payout|transfer|chargeback)\b"
            r"[^.\n]{0,40}\b(now|immediately|to|without)\b",
            re.I,
        ),
    ),
]
"""(reason, pattern): text that tries to take over the reader. Quarantined."""

_FLAGS: list[tuple[str, re.Pattern[str]]] = [
    (
        "names_tool",
        re.compile(r"\b(call|invoke|execute|run|use)\b[^.\n]{0,40}\b(tool|function)\b", re.I),
    ),
]
"""(flag, pattern): procedure that names a tool. Shown, and listed under ``_flagged``."""


def screen_text(text: str) -> list[str]:
    """Reasons this text looks like an injection attempt (empty if none)."""
    return [name for name, pattern in _PATTERNS if pattern.search(text)]


def flag_text(text: str) -> list[str]:
    """Flags for procedure this text states (``names_tool``); it stays as it is."""
    return [name for name, pattern in _FLAGS if pattern.search(text)]


@dataclass(slots=True)
class Screened:
    """A screened copy of a value, and where the screen acted."""

    value: Any
    untrusted: list[str] = field(default_factory=list)
    """Paths replaced by a quarantine marker."""
    flagged: dict[str, list[str]] = field(default_factory=dict)
    """Paths left as they are, with their flags."""


def quarantine(value: Any) -> Screened:
    """Copy of ``value`` with suspicious strings replaced and procedural ones flagged."""
    out = Screened(value=None)
    out.value = _screen(value, "$", out)
    return out


def _screen(value: Any, path: str, out: Screened) -> Any:
    if isinstance(value, str):
        reasons = screen_text(value)
        if reasons:
            out.untrusted.append(path)
            return f"[quarantined untrusted content: {', '.join(reasons)}]"
        flags = flag_text(value)
        if flags:
            out.flagged[path] = flags
        return value
    if isinstance(value, dict):
        return {k: _screen(v, f"{path}.{k}", out) for k, v in value.items()}
    if isinstance(value, list):
        return [_screen(v, f"{path}[{i}]", out) for i, v in enumerate(value)]
    return value


__all__ = ["Screened", "flag_text", "quarantine", "screen_text"]
