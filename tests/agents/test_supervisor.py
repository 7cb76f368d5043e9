"""The supervisor (assistant ``cockpit``): routing, clarifying, declining, and what it hands over.

The routing examples are derived from the specialists' intents and kept in sync. Every turn goes
through HTTP to the default assistant, as `cockpit chat` does.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.agentkit import PaymentPool, TeamHarness

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


def _active(team: TeamHarness, key: str, tid: str) -> str:
    return str(team.get(key, f"/threads/{tid}/state")["values"]["active_agent"])


def _refunds(team: TeamHarness, key: str, pid: str) -> list[dict[str, Any]]:
    return list(team.get(key, f"/v1/payments/payments/{pid}").get("refunds") or [])


@pytest.fixture(scope="module")
def pool(team: TeamHarness) -> PaymentPool:
    return PaymentPool(team, team.merchant_key, min_minor=20_000)


@pytest.mark.parametrize(
    ("text", "agent"),
    [
        ("my onboarding has been pending for ages, what is still missing?", "copilot"),
        ("how should my server check that a webhook really came from you?", "copilot"),
        ("this device keeps showing up with different cards, investigate it", "risk"),
        ("why was my request for a business loan turned down?", "credit"),
    ],
)
def test_paraphrased_requests_reach_the_right_specialist(
    team: TeamHarness, text: str, agent: str
) -> None:
    key = team.merchant_key
    tid = team.thread(key)
    turn = team.say(key, tid, text)
    assert turn.tools_called[:1] == [f"transfer_to_{agent}"], (text, turn.tools_called)
    assert _active(team, key, tid) == agent
    assert turn.answer and "{" not in turn.answer


@pytest.mark.parametrize(
    "text",
    ["book me a table for two tonight", "recommend a podcast for my commute", "fix my wifi please"],
)
def test_unrelated_requests_are_declined_without_routing(team: TeamHarness, text: str) -> None:
    key = team.merchant_key
    tid = team.thread(key)
    turn = team.say(key, tid, text)
    assert turn.tools_called == [] and "can't help with that" in turn.answer, turn.answer
    assert _active(team, key, tid) == "cockpit"


def test_greeting_lists_what_the_team_does_and_routes_nowhere(team: TeamHarness) -> None:
    key = team.merchant_key
    tid = team.thread(key)
    turn = team.say(key, tid, "hello there")
    assert turn.tools_called == [] and _active(team, key, tid) == "cockpit"
    assert "payments" in turn.answer and "dispute" in turn.answer


def test_refund_through_the_front_door_stops_for_approval_then_happens_once(
    team: TeamHarness, pool: PaymentPool
) -> None:
    key, pid = team.merchant_key, pool.take()
    tid = team.thread(key)
    turn = team.say(key, tid, f"the shopper on {pid} should get 160 SGD back")
    assert turn.tools_called == ["transfer_to_copilot", "payments_refund"], turn.tools_called
    assert turn.interrupt is not None and turn.interrupt["args"]["amount"] == 16_000
    assert _refunds(team, key, pid) == []
    done = team.resume(key, tid, {"action": "approve"})
    refunds = _refunds(team, key, pid)
    assert [r["refundAmount"] for r in refunds] == [{"currency": "SGD", "value": "16000"}]
    assert refunds[0]["refundId"] in done.answer
    # Resuming again (a client retry) replays nothing.
    team.say(key, tid, "thank you")
    assert len(_refunds(team, key, pid)) == 1


def test_rejected_approval_through_the_front_door_moves_no_money(
    team: TeamHarness, pool: PaymentPool
) -> None:
    key, pid = team.merchant_key, pool.take()
    before = team.get(key, f"/v1/payments/payments/{pid}")
    tid = team.thread(key)
    turn = team.say(key, tid, f"please reimburse 170 SGD on {pid}")
    assert turn.interrupt is not None
    done = team.resume(key, tid, {"action": "reject", "reason": "ask finance first"})
    assert "not approved" in done.answer
    after = team.get(key, f"/v1/payments/payments/{pid}")
    assert after["refunds"] == [] and after["refundedAmount"] == before["refundedAmount"]


def test_follow_up_in_another_domain_moves_between_specialists_with_the_same_payment(
    team: TeamHarness, pool: PaymentPool
) -> None:
    key, pid = team.merchant_key, pool.take()
    tid = team.thread(key)
    first = team.say(key, tid, f"look up {pid} for me")
    assert first.tools_called == ["transfer_to_copilot", "payments_get_payment"]
    second = team.say(key, tid, "could that payment be fraud? check its risk")
    assert second.tools_called[:1] == ["transfer_to_risk"], second.tools_called
    assert _active(team, key, tid) == "risk"
    if not second.tools_called[1:]:  # the risk agent may ask which check is meant
        assert "payment" in second.answer, second.answer
        second = team.say(key, tid, "the payment's risk signals")
    # The risk agent works on the payment the thread was about, not on a guess.
    looked_up = [c["args"] for c in second.tool_calls if c["name"] == "payments_get_payment"]
    assert looked_up == [{"payment_id": pid}], (second.tool_calls, second.answer)
    assert pid in second.answer


def test_an_ambiguous_request_is_asked_about_and_the_answer_routes_it(team: TeamHarness) -> None:
    key = team.merchant_key
    tid = team.thread(key)
    ask = team.say(
        key, tid, "a Visa cardholder says the parcel never arrived, what can I send the bank?"
    )
    if ask.tools_called:  # routed straight away: it must be the dispute agent
        assert ask.tools_called[0] == "transfer_to_dispute"
        return
    assert "dispute" in ask.answer and _active(team, key, tid) == "cockpit", ask.answer
    routed = team.say(key, tid, "the chargeback one")
    assert routed.tools_called[:1] == ["transfer_to_dispute"], (routed.tools_called, routed.answer)
    assert _active(team, key, tid) == "dispute"


def test_merchant_key_cannot_reach_another_merchants_payment_through_the_team(
    team: TeamHarness,
) -> None:
    kr_key = team.key_for("kr")
    sg_rows = team.get(team.merchant_key, "/v1/payments/payments", limit=1)["data"]
    foreign = sg_rows[0]["paymentId"]
    tid = team.thread(kr_key)
    turn = team.say(kr_key, tid, f"show me payment {foreign}")
    results = turn.tool_results("payments_get_payment")
    assert results and results[0]["error"]["code"] == "payment_not_found", results
    assert str(sg_rows[0]["paymentAmount"]["value"]) not in turn.answer


def test_cancelling_a_half_asked_request_does_nothing(team: TeamHarness, pool: PaymentPool) -> None:
    key = team.merchant_key
    tid = team.thread(key)
    ask = team.say(key, tid, "I need to send a customer some money back")
    assert "payment id" in ask.answer and ask.interrupt is None
    stop = team.say(key, tid, "never mind, forget it")
    assert stop.tools_called == [] and stop.interrupt is None
    assert team.get(key, "/v1/approvals", thread_id=tid) == []
