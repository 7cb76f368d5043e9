"""A run request, checked at the boundary: only user messages or a resume come in.

Clients may only add user messages or resume an interrupt; they cannot write agent
state (that would bypass policy). Everything here is pure validation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cockpit.db.base import iso
from cockpit.errors import ValidationFailed
from cockpit.guardrails.redact import redact_text
from cockpit.runtime.execution import STREAM_MODES
from cockpit.runtime.records import RunRecord

RUN_STATUSES = ("pending", "running", "success", "error", "timeout", "interrupted")
MULTITASK_STRATEGIES = ("reject", "interrupt", "rollback", "enqueue")
"""What a run does when its thread is busy: fail (409), stop the current run (keeping or
undoing what it did), or wait its turn."""


@dataclass
class RunSpec:
    """A validated run request."""

    assistant_id: str
    input: dict[str, Any] | None = None
    resume: Any = None
    has_resume: bool = False
    stream_mode: list[str] = field(default_factory=lambda: ["values"])
    metadata: dict[str, Any] = field(default_factory=dict)
    multitask_strategy: str = "reject"
    on_disconnect: str = "cancel"
    webhook: str | None = None
    """A registered webhook endpoint of the tenant told when the run ends (``run.completed``)."""
    after_seconds: float = 0
    """Wait this long in the queue before starting."""
    checkpoint_id: str | None = None
    """Start from this checkpoint of the thread (a fork) instead of its latest."""
    on_completion: str = "keep"
    """``delete`` removes a stateless run's thread once the run succeeded."""

    def payload(self) -> dict[str, Any]:
        """What a worker needs to execute the run, as stored on its row."""
        return {
            "input": self.input,
            "resume": self.resume,
            "has_resume": self.has_resume,
            "checkpoint_id": self.checkpoint_id,
            "on_completion": self.on_completion,
        }


def check_input(value: Any) -> dict[str, Any]:
    """Only user messages may come in from a client."""
    if not isinstance(value, dict):
        raise ValidationFailed("input must be an object", code="invalid_input", param="input")
    extra = set(value) - {"messages"}
    if extra:
        raise ValidationFailed(
            f"input may only carry 'messages' (got {sorted(extra)})",
            code="invalid_input",
            param=f"input.{sorted(extra)[0]}",
        )
    msgs = value.get("messages")
    if not isinstance(msgs, list) or not msgs:
        raise ValidationFailed(
            "input.messages must be a non-empty list", code="invalid_input", param="input.messages"
        )
    clean = []
    for i, m in enumerate(msgs):
        if isinstance(m, str):
            m = {"role": "user", "content": m}
        if not isinstance(m, dict):
            raise ValidationFailed(
                "each message must be an object", code="invalid_input", param=f"input.messages.{i}"
            )
        role = m.get("role") or m.get("type")
        if role not in ("user", "human"):
            raise ValidationFailed(
                "clients may only send user messages",
                code="invalid_input",
                param=f"input.messages.{i}.role",
            )
        content = m.get("content")
        if not isinstance(content, str) or not content.strip():
            raise ValidationFailed(
                "message content must be non-empty text",
                code="invalid_input",
                param=f"input.messages.{i}.content",
            )
        if len(content) > 20_000:
            raise ValidationFailed(
                "message content is longer than 20,000 characters",
                code="input_too_long",
                param=f"input.messages.{i}.content",
            )
        # Redact at the boundary: the raw text never reaches a checkpoint, not even as input.
        clean.append({"role": "user", "content": redact_text(content)})
    return {"messages": clean}


def check_stream_modes(value: Any) -> list[str]:
    modes = [value] if isinstance(value, str) else value
    if modes is None:
        return ["values"]
    if not isinstance(modes, list) or not all(isinstance(m, str) for m in modes):
        raise ValidationFailed(
            "stream_mode must be a string or a list of strings",
            code="invalid_stream_mode",
            param="stream_mode",
        )
    for m in modes:
        if m not in STREAM_MODES:
            raise ValidationFailed(
                f"unsupported stream_mode {m!r}; use one of {sorted(STREAM_MODES)}",
                code="invalid_stream_mode",
                param="stream_mode",
            )
    return modes or ["values"]


def run_json(rec: RunRecord) -> dict[str, Any]:
    return {
        "run_id": rec.run_id,
        "thread_id": rec.thread_id,
        "assistant_id": rec.assistant_id,
        "created_at": iso(rec.created_at),
        "updated_at": iso(rec.updated_at),
        "status": rec.status,
        "metadata": rec.meta,
        "multitask_strategy": rec.multitask_strategy,
        "kwargs": {k: v for k, v in rec.kwargs.items() if k != "error_status"},
        "error": rec.error,
        "usage": rec.usage,
    }


__all__ = [
    "MULTITASK_STRATEGIES",
    "RUN_STATUSES",
    "RunSpec",
    "check_input",
    "check_stream_modes",
    "run_json",
]
