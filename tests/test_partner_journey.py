"""The partner journey of the README's "Build your own agent", end to end, over REST only.

A partner with its own tool package (``examples/partner-tool``, installed as a distribution
with a ``cockpit.tools`` entry point) and its own documents gets a partner key, finds its tool
in the catalogue, uploads documents to a knowledge collection, validates its spec (a typo is
answered with "did you mean"), creates it, evaluates it with its own suite, publishes it to
``live`` through the eval gate, publishes a second version, and rolls ``live`` back — against
the real app in its own process, with the local planner answering.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import yaml

from tests.docs.partner import EXAMPLE_TOOL, PARTNER_GROUP, Partner, call, partner

__all__ = ["partner"]  # the fixture, shared with the guides
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500), PARTNER_GROUP]
AGENT_DIR = EXAMPLE_TOOL / "agent"
AGENT = "acme-assistant"


@pytest.fixture
def acme(partner: Partner) -> Partner:
    """The partner server the guides use too: this journey's tenant (``acme``) is its own."""
    return partner


def ok(r: Any, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json()


def say(acme: Partner, key: str, assistant: str, text: str) -> str:
    """One user turn on a new thread; the assistant's answer."""
    thread = ok(call(acme, key, "POST", "/threads", json={}))["thread_id"]
    body = {"assistant_id": assistant, "input": {"messages": [{"role": "user", "content": text}]}}
    state = ok(call(acme, key, "POST", f"/threads/{thread}/runs/wait", json=body))
    return str(state["messages"][-1]["content"])


def wait_run(acme: Partner, key: str, run_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 1200
    while time.monotonic() < deadline:
        run: dict[str, Any] = ok(call(acme, key, "GET", f"/v1/evals/runs/{run_id}"))
        if run["status"] != "running":
            return run
        time.sleep(0.2)
    raise AssertionError(f"eval run {run_id} did not finish")


def test_a_partner_builds_evaluates_publishes_and_rolls_back(acme: Partner) -> None:
    admin = acme.admin_key()
    # 1. The operator creates the partner's tenant and a partner key.
    ok(call(acme, admin, "POST", "/v1/tenants", json={"tenant_id": "acme"}), 201)
    key = ok(
        call(acme, admin, "POST", "/v1/keys", json={"role": "partner", "tenant_id": "acme"}), 201
    )["key"]

    # 2. The partner's own tool, installed as a package, is in the catalogue.
    tools = {t["name"]: t for t in ok(call(acme, key, "GET", "/v1/tools"))}
    fee = tools["acme_fee_quote"]
    assert fee["kind"] == "READ" and fee["policy_fields"] == ["rate_limit"]
    assert set(fee["parameters"]["properties"]) == {"amount", "currency"}

    # 3. Its own documents, in its own collection.
    ok(
        call(acme, key, "POST", "/v1/knowledge/collections", json={"name": "acme-policies"}),
        201,
    )
    policy = (AGENT_DIR / "payouts-policy.md").read_text(encoding="utf-8")
    upload = {"filename": "payouts-policy.md", "content": policy, "title": "Payout policy"}
    doc = ok(
        call(acme, key, "POST", "/v1/knowledge/collections/acme-policies/documents", json=upload),
        201,
    )
    assert doc["chunks"] >= 1

    # 4. Validate: a typo is answered with the field and a suggestion; nothing is stored.
    spec_text = (AGENT_DIR / "agent.yaml").read_text(encoding="utf-8")
    yaml_header = {"content-type": "application/yaml"}
    typo = spec_text.replace("- name: acme_fee_quote", "- name: acme_fee_qoute")
    checked = ok(call(acme, key, "POST", "/v1/agents/validate", content=typo, headers=yaml_header))
    assert checked["valid"] is False
    assert checked["errors"][0]["param"] == "tools.0.name"
    assert "did you mean 'acme_fee_quote'?" in checked["errors"][0]["message"]
    checked = ok(
        call(acme, key, "POST", "/v1/agents/validate", content=spec_text, headers=yaml_header)
    )
    assert checked["valid"] is True
    assert call(acme, key, "GET", f"/v1/agents/{AGENT}/versions").status_code == 404

    # 5. Create version 1. Its evals gate it: it is not live until it passes them.
    v1 = ok(call(acme, key, "POST", "/v1/agents", content=spec_text, headers=yaml_header), 201)
    assert v1 == {"agent_id": AGENT, "version": 1}
    assert call(acme, key, "GET", f"/v1/agents/{AGENT}").status_code == 404

    # 6. Evaluate it with its own suite.
    suite = (AGENT_DIR / "acme-fees.eval.yaml").read_text(encoding="utf-8")
    started = ok(
        call(
            acme,
            key,
            "POST",
            "/v1/evals/runs",
            json={"agent": f"{AGENT}@1", "suite_yaml": [suite]},
        ),
        202,
    )
    run = wait_run(acme, key, started["run_id"])
    assert run["status"] == "passed", run
    assert run["gate"] is True and run["spec_hash"] == checked["content_hash"]
    assert run["result"]["scores"][0] == {"suite": "acme-fees", "tasks": 2, "pass^1": 1.0}

    # 7. Publish v1 through the gate: the passing run of this exact spec is reused.
    moved = ok(call(acme, key, "PUT", f"/v1/agents/{AGENT}/aliases/live", json={"version": 1}))
    assert moved["gate"]["decision"] == "passed" and moved["gate"]["run_id"] == run["run_id"]

    # Merchants of the tenant chat with it: the partner's tool, and the partner's documents.
    merchant = ok(
        call(acme, admin, "POST", "/v1/keys", json={"role": "merchant", "tenant_id": "acme"}), 201
    )["key"]
    answer = say(acme, merchant, AGENT, "what fee does acme charge on 120 SGD?")
    assert "3.78 SGD" in answer and "116.22 SGD" in answer, answer
    answer = say(acme, merchant, AGENT, "how long does acme keep a rolling reserve?")
    assert "90 days" in answer and "acme-policies" in answer, answer

    # 8. Version 2 changes the answer; publishing it runs the gate on its own hash.
    spec2 = yaml.safe_load(spec_text)
    intent = spec2["planner"]["intents"][0]
    intent["responses"]["ok"] = (
        "Acme charges {fee|money:currency} on {amount|money:currency}; "
        "you receive {net|money:currency}."
    )
    ok(call(acme, key, "POST", "/v1/agents", json=spec2), 201)
    moved = ok(
        call(
            acme,
            key,
            "PUT",
            f"/v1/agents/{AGENT}/aliases/live",
            json={"version": 2},
            timeout=1200,
        )
    )
    assert moved["gate"]["decision"] == "passed" and moved["gate"]["reused"] is False
    answer = say(acme, merchant, AGENT, "what fee does acme charge on 120 SGD?")
    assert answer.startswith("Acme charges 3.78 SGD"), answer

    # 9. Roll back: live points at v1 again, without another eval run.
    runs_before = len(ok(call(acme, key, "GET", "/v1/evals/runs")))
    back = ok(
        call(
            acme,
            key,
            "POST",
            f"/v1/agents/{AGENT}/aliases/live/rollback",
            json={"reason": "v2 reads worse"},
        )
    )
    assert back["version"] == 1 and back["gate"]["decision"] == "rollback"
    assert back["gate"]["admitted_by"]["decision"] == "passed"
    assert len(ok(call(acme, key, "GET", "/v1/evals/runs"))) == runs_before
    answer = say(acme, merchant, AGENT, "what fee does acme charge on 120 SGD?")
    assert answer.startswith("Acme's fee on 120.00 SGD is 3.78 SGD"), answer
    history = ok(call(acme, key, "GET", f"/v1/agents/{AGENT}/aliases"))["live"]
    assert history["version"] == 1
    assert [(h["kind"], h["version"]) for h in history["history"]] == [
        ("rollback", 1),
        ("set", 2),
        ("set", 1),
    ]
    # The tenant's audit chain holds every step.
    owner = ok(
        call(acme, admin, "POST", "/v1/keys", json={"role": "admin", "tenant_id": "acme"}), 201
    )["key"]
    audit = ok(call(acme, owner, "GET", "/v1/audit", params={"limit": 200}))
    kinds = {r["kind"] for r in (audit["records"] if isinstance(audit, dict) else audit)}
    assert {
        "agent_version_created",
        "agent_publish_gate",
        "agent_alias_moved",
        "agent_alias_rolled_back",
    } <= kinds
