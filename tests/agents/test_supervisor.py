"""The supervisor's routing examples are derived from the specialists' intents and kept in sync."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.agentkit import TeamHarness

ROOT = Path(__file__).resolve().parents[2]


def test_routing_examples_are_up_to_date() -> None:
    out = subprocess.run([sys.executable, "scripts/supervisor_examples.py", "--check"], cwd=ROOT)
    assert out.returncode == 0, (
        "run scripts/supervisor_examples.py after changing a specialist's intents"
    )


def test_out_of_scope_is_said_plainly_and_calls_nothing(team: TeamHarness) -> None:
    key = team.merchant_key
    tid = team.thread(key)
    turn = team.say(key, tid, "what's a good wine to go with salmon?")
    assert turn.tools_called == []
    assert "can't help with that" in turn.answer and "handle payments" in turn.answer
    state = team.get(key, f"/threads/{tid}/state")
    assert state["values"]["active_agent"] == "cockpit"


def test_routes_each_domain_to_its_agent(team: TeamHarness) -> None:
    key = team.merchant_key
    cases = {
        "why do my customers' card payments keep failing?": "copilot",
        "which chargebacks do I have to answer first?": "dispute",
        "is customer ring_01_03 connected to a fraud ring?": "risk",
        "could my shop qualify for a working capital advance?": "credit",
    }
    for text, agent in cases.items():
        tid = team.thread(key)
        turn = team.say(key, tid, text)
        assert turn.tools_called[0] == f"transfer_to_{agent}", (text, turn.tools_called)
        assert team.get(key, f"/threads/{tid}/state")["values"]["active_agent"] == agent
        assert turn.answer, text
