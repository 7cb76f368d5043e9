"""End to end: a monitor finding reaches a registered webhook endpoint (a real receiver on
127.0.0.1), signed and verifiable with the procedure docs/webhooks.md documents; then the
copilot explains that finding in chat, and lists what the monitors found.

The world is the seeded demo world: Jakarta Threads (``id``) is in KYB review waiting for two
documents, so its KYB monitor finds something the moment it runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from cockpit.clock import utcnow
from cockpit.webhooks.signing import SignatureError, verify
from tests.cockpit.webhooks.kit import Receiver, documented_verifier, serving_receiver
from tests.support import shared
from tests.support.agentkit import TeamHarness, running_team


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with serving_receiver() as got:
        yield got


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory, receiver: Receiver) -> Iterator[TeamHarness]:
    template = shared.team_template(tmp_path_factory)  # the agent tests' world, built once
    with running_team(
        tmp_path_factory.mktemp("monitors-team"),
        template,
        webhook_allowed_hosts=["127.0.0.1"],
        monitors_poll_s=0,
    ) as harness:
        yield harness


@pytest.fixture(scope="module")
def jakarta(team: TeamHarness) -> str:
    return team.key_for("id")


def _register(team: TeamHarness, key: str, url: str) -> dict[str, Any]:
    body = {"url": url, "event_types": ["monitor.finding"], "description": "monitor alerts"}
    r = team.client.post("/v1/webhooks/endpoints", json=body, headers=team.h(key))
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_a_finding_reaches_the_endpoint_signed_and_the_copilot_explains_it(
    team: TeamHarness, jakarta: str, receiver: Receiver
) -> None:
    endpoint = _register(team, jakarta, receiver.url + "/alerts")
    r = team.client.post("/v1/monitors/run", json={}, headers=team.h(jakarta))
    assert r.status_code == 200, r.text
    (finding,) = r.json()["new_findings"]
    assert finding["monitor"] == "kyb_missing_documents"
    assert finding["merchant_id"] == team.merchants["id"]

    (got,) = receiver.wait_for(1)
    assert got.path == "/alerts"
    envelope = json.loads(got.body)
    assert envelope["type"] == "monitor.finding"
    assert envelope["data"]["id"] == finding["id"]
    assert envelope["data"]["summary"] == finding["summary"]
    assert envelope["data"]["figures"]["missingDocuments"] == ["ADDRESS_PROOF", "UBO_PROVE"]
    # The documented receiver procedure accepts it, and refuses a tampered body or another key.
    now = int(utcnow().timestamp())
    check = documented_verifier()
    assert check(endpoint["secret"], got.headers, got.body, now=now)
    assert not check(endpoint["secret"], got.headers, got.body.replace(b"UBO", b"XYZ"), now=now)
    assert verify(endpoint["secret"], got.headers, got.body, now=now) == int(
        got.headers["webhook-timestamp"]
    )
    with pytest.raises(SignatureError):
        verify("whsec_" + "A" * 32, got.headers, got.body, now=now)
    # A second run finds the same condition: no new finding, no second notification.
    again = team.client.post("/v1/monitors/run", json={}, headers=team.h(jakarta)).json()
    assert again["new_findings"] == []

    tid = team.thread(jakarta)
    turn = team.say(jakarta, tid, f"explain finding {finding['id']}", assistant="copilot")
    assert turn.tools_called == ["explain_monitor_finding"]
    assert finding["id"] in turn.answer and "UBO_PROVE" in turn.answer
    assert "Why it matters" in turn.answer and "upload the missing documents" in turn.answer

    turn = team.say(jakarta, tid, "what did the monitors find?", assistant="copilot")
    assert turn.tools_called == ["list_monitor_findings"]
    assert finding["id"] in turn.answer and "1 finding" in turn.answer


def test_the_copilot_answers_about_monitors_through_the_front_door(
    team: TeamHarness, jakarta: str
) -> None:
    team.client.post("/v1/monitors/run", json={}, headers=team.h(jakarta))
    tid = team.thread(jakarta)
    turn = team.say(jakarta, tid, "why did you warn me about my onboarding documents?")
    assert turn.tools_called[-1] == "explain_monitor_finding", (turn.tools_called, turn.answer)
    assert "ADDRESS_PROOF" in turn.answer


def test_a_merchant_without_findings_hears_that_nothing_was_found(team: TeamHarness) -> None:
    sg = team.merchant_key
    tid = team.thread(sg)
    turn = team.say(sg, tid, "any alerts on my account?", assistant="copilot")
    assert turn.tools_called == ["list_monitor_findings"]
    assert "nothing to report" in turn.answer
    turn = team.say(sg, tid, "why did you warn me about VAMP?", assistant="copilot")
    assert turn.tools_called == ["explain_monitor_finding"]
    assert turn.tool_calls[0]["args"].get("monitor") == "scheme_program_proximity"
    assert "not flagged anything" in turn.answer
