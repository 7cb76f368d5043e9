"""The same agent specs, tools and policies on an OpenAI-compatible model (a local server on 127.0.0.1)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cockpit.testing import FakeReply, fake_openai_server
from tests.support.agentkit import running_team

MODEL = "qwen-test"


def test_copilot_on_an_openai_compatible_model(
    tmp_path_factory: pytest.TempPathFactory,
    team_template: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with fake_openai_server({MODEL: []}) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test-key")
        tmp = tmp_path_factory.mktemp("llm")
        with running_team(tmp, team_template, model_override=f"openai:{MODEL}") as team:
            key = team.merchant_key
            failed = team.get(key, "/v1/payments/payments", state="FAILED", limit=1)["data"][0][
                "paymentId"
            ]
            captured = team.get(key, "/v1/payments/payments", state="CAPTURED", method_type="CARD",
                                limit=1)["data"][0]  # fmt: skip
            server.replies[MODEL] = [
                FakeReply(
                    tool_calls=[
                        {"name": "payments_explain_decline", "arguments": {"payment_id": failed}}
                    ]
                ),
                FakeReply(content="It was declined by the issuer; see the lever."),
                # An over-threshold refund from the LLM meets the same approval policy.
                FakeReply(
                    tool_calls=[
                        {
                            "name": "payments_refund",
                            "arguments": {
                                "payment_id": captured["paymentId"],
                                "amount": 15_000,
                                "currency": "SGD",
                            },
                        }
                    ]
                ),
                FakeReply(content="Understood, no refund was made."),
                # And a tool outside the copilot's spec is refused, whatever the model says.
                FakeReply(
                    tool_calls=[
                        {
                            "name": "block_entity",
                            "arguments": {"kind": "card", "entity_id": "x", "reason": "y"},
                        }
                    ]
                ),
                FakeReply(content="I cannot do that."),
            ]
            tid = team.thread(key)
            turn = team.say(key, tid, "why did my payment fail?", assistant="copilot")
            assert turn.tools_called == ["payments_explain_decline"]
            assert turn.tool_results("payments_explain_decline")[0]["paymentId"] == failed
            assert turn.answer == "It was declined by the issuer; see the lever."
            # The model saw exactly the copilot's tools (plus its handoffs), nothing else.
            offered = {t["function"]["name"] for t in server.requests[0]["tools"]}
            assert "payments_refund" in offered and "block_entity" not in offered
            assert {"transfer_to_dispute", "transfer_to_risk", "transfer_to_credit"} <= offered

            refund = team.say(key, tid, "refund 150 SGD on that card payment", assistant="copilot")
            assert refund.interrupt is not None and refund.interrupt["amount"] == 15_000
            team.resume(key, tid, {"action": "reject"}, assistant="copilot")
            after = team.get(key, f"/v1/payments/payments/{captured['paymentId']}")
            assert after["refundedAmount"] == captured["refundedAmount"]
            blocked = team.say(key, tid, "block that card", assistant="copilot")
            tool_msg = next(m for m in blocked.messages if m["type"] == "tool")
            assert json.loads(tool_msg["content"])["error"]["code"] == "tool_not_allowed"
            usage = team.get(key, "/v1/usage", agent_id="copilot")
            assert usage["calls"] >= 5 and usage["input_tokens"] >= 5 * 11
