"""Test kit for the platform spine: a payout tool, a note tool, and a rule-scripted model.

The payout tool appends to a JSON-lines ledger file in the data dir, idempotent on the
runtime's key, so tests can count how many times a write really happened.
"""

from __future__ import annotations

import json
import os
import re
import threading
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.messages.utils import count_tokens_approximately
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import BaseModel, Field

from cockpit.toolkit import ToolContext, ToolKind, register_tool

_lock = threading.Lock()


def payouts_file(ctx: ToolContext) -> Path:
    settings = ctx.extras.get("settings")
    base = settings.data_dir if settings is not None else Path(os.environ["COCKPIT_DATA_DIR"])
    return Path(base) / "spine_payouts.jsonl"


def read_payouts(data_dir: Path) -> list[dict[str, Any]]:
    path = data_dir / "spine_payouts.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


class PayoutArgs(BaseModel):
    amount: int = Field(gt=0, description="Amount in minor units")
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    payee: str = Field(min_length=1, max_length=100)


class NoteArgs(BaseModel):
    text: str = Field(min_length=1, max_length=500)


if (
    "spine_payout"
    not in __import__("cockpit.toolkit", fromlist=["default_registry"]).default_registry._tools
):

    @register_tool(
        "spine_payout",
        kind=ToolKind.WRITE,
        args=PayoutArgs,
        amount_field="amount",
        currency_field="currency",
    )
    def spine_payout(ctx: ToolContext, args: PayoutArgs) -> dict[str, Any]:
        """Send a payout to a payee (test tool)."""
        return _record_payout(ctx, args)

    @register_tool("spine_note", kind=ToolKind.READ, args=NoteArgs)
    def spine_note(ctx: ToolContext, args: NoteArgs) -> dict[str, Any]:
        """Echo a note back with the caller's tenant (test tool)."""
        return {"note": args.text, "tenant": ctx.principal.tenant_id}


def _record_payout(ctx: ToolContext, args: PayoutArgs) -> dict[str, Any]:
    path = payouts_file(ctx)
    with _lock:
        existing = read_payouts(path.parent)
        for row in existing:
            if row["key"] == ctx.idempotency_key:
                return {"payout_id": row["payout_id"], "replayed": True}
        row = {
            "payout_id": f"po_{len(existing) + 1}",
            "key": ctx.idempotency_key,
            "tenant": ctx.principal.tenant_id,
            "amount": args.amount,
            "currency": args.currency,
            "payee": args.payee,
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as fh:
            fh.write(json.dumps(row) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
    return {"payout_id": row["payout_id"], "amount": args.amount, "currency": args.currency}


def read_calls(data_dir: Path) -> list[dict[str, Any]]:
    """Every time ``spine_slow_payout``'s body started (a continued run may start it again)."""
    path = data_dir / "spine_calls.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


if (
    "spine_slow_payout"
    not in __import__("cockpit.toolkit", fromlist=["default_registry"]).default_registry._tools
):

    @register_tool(
        "spine_slow_payout",
        kind=ToolKind.WRITE,
        args=PayoutArgs,
        amount_field="amount",
        currency_field="currency",
    )
    def spine_slow_payout(ctx: ToolContext, args: PayoutArgs) -> dict[str, Any]:
        """A payout that takes SPINE_SLOW_S seconds before it lands (test tool: a worker can
        die in the middle of it)."""
        import time

        calls = payouts_file(ctx).parent / "spine_calls.jsonl"
        with _lock, calls.open("a") as fh:
            fh.write(json.dumps({"key": ctx.idempotency_key, "pid": os.getpid()}) + "\n")
        time.sleep(float(os.environ.get("SPINE_SLOW_S", "2")))
        return _record_payout(ctx, args)


class SleepArgs(BaseModel):
    seconds: float = Field(gt=0, le=30)


if (
    "spine_sleep"
    not in __import__("cockpit.toolkit", fromlist=["default_registry"]).default_registry._tools
):

    @register_tool("spine_sleep", kind=ToolKind.READ, args=SleepArgs)
    def spine_sleep(ctx: ToolContext, args: SleepArgs) -> dict[str, Any]:
        """Wait a while, or until the run stops waiting for this call (test tool for
        cancellation). Each call starts with a line in ``spine_sleeps_started.jsonl``, so a
        test can cancel a call that is running, and ends with a line in ``spine_sleeps.jsonl``
        saying which."""
        folder = payouts_file(ctx).parent
        with _lock, (folder / "spine_sleeps_started.jsonl").open("a") as fh:
            fh.write(json.dumps({"call": ctx.tool_call_id}) + "\n")
        stopped = ctx.cancelled.wait(args.seconds)
        sleeps = folder / "spine_sleeps.jsonl"
        with _lock, sleeps.open("a") as fh:
            fh.write(json.dumps({"call": ctx.tool_call_id, "stopped": stopped}) + "\n")
        return {"slept": args.seconds, "stopped": stopped}


_PAY = re.compile(r"(slow)?pay (\d+(?:\.\d{2})?) ([A-Z]{3}) to (\w+)")


class RuleModel(BaseChatModel):
    """Deterministic stand-in for an LLM: 'pay 12.00 USD to bob' → spine_payout; 'note X' → spine_note.

    ``raw_calls`` lets a test make the model emit any tool call (to prove policy refuses it).
    """

    raw_calls: list[dict[str, Any]] = Field(default_factory=list)
    loop: bool = False
    """Answer every tool result with the same tool call again (to test loop guards)."""

    @property
    def _llm_type(self) -> str:
        return "rule-model"

    def bind_tools(self, tools: Any, **_: Any) -> RuleModel:  # type: ignore[override]
        return self

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **_: Any
    ) -> ChatResult:
        last = messages[-1]
        n = sum(1 for m in messages if isinstance(m, AIMessage))
        if isinstance(last, ToolMessage) and self.loop:
            prev = next(m for m in reversed(messages) if isinstance(m, AIMessage) and m.tool_calls)
            call = {**prev.tool_calls[0], "id": f"call_{n}"}
            msg = AIMessage(content="", tool_calls=[call])
        elif isinstance(last, ToolMessage):
            msg = AIMessage(content=f"Done: {last.content}")
        elif isinstance(last, HumanMessage):
            text = str(last.content)
            m = _PAY.search(text)
            if text.startswith("raw:") and self.raw_calls:
                call = dict(self.raw_calls[int(text[4:])])
                call.setdefault("id", f"call_{n}")
                msg = AIMessage(content="", tool_calls=[call])
            elif m:
                amount = round(float(m.group(2)) * 100)
                msg = AIMessage(
                    content="",
                    tool_calls=[
                        {
                            "name": "spine_slow_payout" if m.group(1) else "spine_payout",
                            "id": f"call_{n}",
                            "args": {"amount": amount, "currency": m.group(3), "payee": m.group(4)},
                        }
                    ],
                )
            elif text.startswith("sleep "):
                msg = AIMessage(
                    content="",
                    tool_calls=[
                        {
                            "name": "spine_sleep",
                            "id": f"call_{n}",
                            "args": {"seconds": float(text[6:])},
                        }
                    ],
                )
            elif text.startswith("note "):
                msg = AIMessage(
                    content="",
                    tool_calls=[
                        {"name": "spine_note", "id": f"call_{n}", "args": {"text": text[5:]}}
                    ],
                )
            else:
                msg = AIMessage(content=f"You said: {text}")
        else:
            msg = AIMessage(content="ok")
        # Report usage the way a real provider does, so accounting has something to count.
        used_in = count_tokens_approximately(messages)
        used_out = count_tokens_approximately([msg])
        msg.usage_metadata = {
            "input_tokens": used_in,
            "output_tokens": used_out,
            "total_tokens": used_in + used_out,
        }
        return ChatResult(generations=[ChatGeneration(message=msg)])


def rule_model_factory(
    raw_calls: list[dict[str, Any]] | None = None, loop_agents: frozenset[str] = frozenset()
) -> Any:
    def factory(spec: Any, schemas: list[dict[str, Any]]) -> Any:
        return RuleModel(raw_calls=raw_calls or [], loop=spec.id in loop_agents)

    return factory


AGENTS_DIR = Path(__file__).parent / "agents"
