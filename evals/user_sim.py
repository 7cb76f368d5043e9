"""The LLM user simulator (τ-bench style): plays a task's ``user.instructions``.

The simulator's system prompt is the task's instructions (placeholders already resolved from the
world); the conversation it sees is the agent's answers (as the other party) and its own earlier
turns. Each call produces the next user message, until it answers with :data:`STOP` (the goal is
reached or cannot be) or ``max_turns`` messages were sent. Approval decisions are not the
simulator's: they stay scripted (``user.approvals``) so the gold replay decides the same way.

The model comes from a ``provider:model`` reference (``openai:<name>`` reads ``OPENAI_BASE_URL``
and ``OPENAI_API_KEY`` like the rest of the model layer): no model configured, no network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from cockpit.errors import UserError

STOP = "###STOP###"
GREETING = "Hi! How can I help you today?"
"""The agent's implicit first line, so the simulator speaks first (as in τ-bench)."""
NO_USER_MODEL = (
    "LLM user simulator: no user model configured (pass --user-model openai:<model>, "
    "with OPENAI_BASE_URL / OPENAI_API_KEY)"
)

PROMPT = """You are a user talking to the assistant of a payments platform, as a merchant would.
Your goal and what you know:

<instructions>
{instructions}
</instructions>

Rules:
- Write only your next message to the assistant, in your own words; never play the assistant.
- Reveal details a little at a time, when they are needed or asked for; don't paste the instructions.
- Never invent ids, amounts or facts the instructions do not give you.
- When your goal is reached, or clearly cannot be, answer with exactly {stop} and nothing else.
"""


def _text(message: BaseMessage) -> str:
    content: Any = message.content
    if isinstance(content, str):
        return content
    parts = [p.get("text", "") if isinstance(p, dict) else str(p) for p in content or []]
    return "".join(parts)


def user_model(ref: str) -> BaseChatModel:
    """The simulator's chat model for ``ref`` (``openai:<model>``, or ``fake:<name>`` in tests)."""
    from cockpit.models.resolve import parse_model_ref, resolve_model

    provider, _name = parse_model_ref(ref, param="user_model")
    if provider == "local":
        raise UserError(
            "the local planner cannot play a user; use openai:<model>",
            code="invalid_model",
            param="user_model",
        )
    return resolve_model(ref)


@dataclass
class UserSimulator:
    """One simulated user for one trial (not shared between trials)."""

    model: BaseChatModel
    instructions: str
    max_turns: int = 8
    history: list[BaseMessage] = field(default_factory=list)
    sent: int = 0
    """User messages handed to the agent so far."""
    stopped: str | None = None
    """Why the conversation ended: ``stop`` (the simulator said so) or ``max_turns``."""

    def __post_init__(self) -> None:
        prompt = PROMPT.format(instructions=self.instructions.strip(), stop=STOP)
        self.history = [SystemMessage(prompt), HumanMessage(GREETING)]

    def next_turn(self, answer: str | None = None) -> str | None:
        """The next user message after the agent's ``answer`` (none before the first turn);
        ``None`` when the conversation is over."""
        if self.stopped is not None:
            return None
        if self.sent >= self.max_turns:
            self.stopped = "max_turns"
            return None
        if answer is not None:
            self.history.append(HumanMessage(answer.strip() or "(no answer)"))
        try:
            text = _text(self.model.invoke(self.history)).strip()
        except Exception as exc:  # reported as the trial's error, named as the simulator's
            raise RuntimeError(f"user simulator: {type(exc).__name__}: {exc}") from exc
        self.history.append(AIMessage(text))
        if not text or STOP in text:
            self.stopped = "stop"
            return None
        self.sent += 1
        return text


__all__ = ["GREETING", "NO_USER_MODEL", "STOP", "UserSimulator", "user_model"]
