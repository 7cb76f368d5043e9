"""The LLM user simulator plays ``user.instructions`` against a local OpenAI-compatible server;
without a user model such tasks are skipped, with the reason."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from cockpit.testing.openai_server import FakeOpenAIServer, FakeReply
from evals import DO_NOTHING, ORACLE, RunOptions, parse_suite, run_tasks, select_tasks
from evals.report import summarise, write_all
from evals.task import Task
from evals.user_sim import GREETING, NO_USER_MODEL, STOP
from evals.world import Template

SUITE = {
    "schema": "cockpit.eval/v1",
    "suite": "sim",
    "agent": "copilot",
    "world": {"user": {"role": "merchant", "merchant": "sg"}},
    "tasks": [
        {
            "id": "refund-simulated",
            "bind": {
                "pay": {
                    "kind": "payment",
                    "status": "CAPTURED",
                    "method_type": "CARD",
                    "refunded": False,
                    "disputed": False,
                    "min_amount": 5000,
                }
            },
            "user": {
                "instructions": "You want 12 SGD refunded on payment {pay.id}; thank them after.",
                "max_turns": 4,
            },
            "gold_actions": [
                {
                    "tool": "payments_refund",
                    "args": {"payment_id": "{pay.id}", "amount": 1200, "currency": "SGD"},
                }
            ],
            "assertions": [
                {"kind": "refund_total", "payment": "{pay.id}", "equals": 1200},
                {"kind": "ledger_balanced"},
            ],
            "communicate": ["12.00 SGD"],
        }
    ],
}


def _tasks() -> list[tuple[str, Task]]:
    return select_tasks([parse_suite(SUITE, source="test")])


class CannedUser(FakeOpenAIServer):
    """Answers as the user: the refund request (with the payment id from its system prompt),
    a thank-you, then the stop token."""

    def _next(self, model: str) -> FakeReply | None:
        messages = self.requests[-1]["messages"]
        pay = re.search(r"pay_\w+", messages[0]["content"])
        assert pay is not None, "the instructions reach the simulator with placeholders resolved"
        said = sum(1 for m in messages if m["role"] == "assistant")
        turns = [f"hey can u refund 12 SGD on {pay.group(0)} pls", "thanks!", STOP]
        return FakeReply(content=turns[min(said, len(turns) - 1)])


@pytest.fixture
def user_server(monkeypatch: pytest.MonkeyPatch) -> Any:
    server = CannedUser()
    server.start()
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    try:
        yield server
    finally:
        server.stop()


def test_simulated_user_drives_the_agent(
    template: Template, eval_cache: Path, user_server: CannedUser
) -> None:
    [run] = run_tasks(
        _tasks(),
        opts=RunOptions(trials=1, cache=eval_cache, in_process=True, user_model="openai:sim-user"),
    )
    assert run.gold.error is None, run.gold.error
    [trial] = run.trials["copilot"]
    said = [m["content"] for m in trial.transcript.messages if m["role"] == "user"]
    assert said[0].startswith("hey can u refund 12 SGD on pay_") and said[1:] == ["thanks!"]
    assert trial.passed, trial.verdict.reasons()
    assert trial.trajectory is not None and trial.trajectory.in_order
    # The simulator saw the agent's answers as the conversation, after the greeting.
    first, second = user_server.requests[0]["messages"], user_server.requests[1]["messages"]
    assert first[0]["role"] == "system" and STOP in first[0]["content"]
    assert first[1] == {"role": "user", "content": GREETING}
    assert second[-2]["role"] == "assistant" and "12.00 SGD" in second[-1]["content"]
    # Controls run through the same simulator: graded as usual.
    assert all(r.passed for r in run.trials[ORACLE])
    assert not any(r.passed for r in run.trials[DO_NOTHING])


def test_without_user_model_the_task_is_skipped(
    template: Template, eval_cache: Path, tmp_path: Path
) -> None:
    runs = run_tasks(_tasks(), opts=RunOptions(trials=1, cache=eval_cache, in_process=True))
    results = [r for results in runs[0].trials.values() for r in results]
    assert results and all(r.skipped == NO_USER_MODEL and not r.passed for r in results)
    assert "--user-model" in NO_USER_MODEL
    paths = write_all(summarise(runs, trials=1), tmp_path)
    skipped = ET.parse(paths["junit"]).getroot().findall(".//skipped")
    assert skipped and {s.get("message") for s in skipped} == {NO_USER_MODEL}
