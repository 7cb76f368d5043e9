"""The eval gate over HTTP: ``live`` moves only through a passing eval run of that spec's hash.

A partner agent built on the copilot, two one-task suites (one it passes, one it cannot), the
real eval runner (a child process, worlds in-process) and the official ``langgraph-sdk`` client
for the assistants the gate publishes. The world template is seeded once per run and
copied into the app's template cache.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from langgraph_sdk.client import SyncLangGraphClient

from cockpit.specs.spec import load_spec_file
from tests.support import shared
from tests.support.apptest import Api, running_app

pytestmark = pytest.mark.timeout(900)  # the first run seeds the world template (a minute or so)
ROOT = Path(__file__).resolve().parents[2]
AGENT = "acme-copilot"

PASS_SUITE = """\
# Held-out tasks in this file are never used to add planner examples.
schema: cockpit.eval/v1
suite: acme-status
agent: acme-copilot
world: {user: {role: merchant, merchant: sg}}
tasks:
  - id: payment-status
    bind: {pay: {kind: payment, status: CAPTURED, method_type: CARD}}
    user: {turns: ["can you pull up {pay.id} for me?"]}
    gold_actions: [{tool: payments_get_payment, args: {payment_id: "{pay.id}"}}]
    assertions: [{kind: no_writes}]
    communicate: ["{pay.id}"]
"""
# The user only asks to look a payment up, but the gold says it is refunded: no agent that does
# what it is asked passes, while the oracle does (so the task is not broken, the agent fails).
FAIL_SUITE = """\
# Held-out tasks in this file are never used to add planner examples.
schema: cockpit.eval/v1
suite: acme-refund
agent: acme-copilot
world: {user: {role: merchant, merchant: sg}}
tasks:
  - id: refund-unasked
    bind:
      pay: {kind: payment, status: CAPTURED, method_type: CARD, refunded: false, disputed: false, min_amount: 5000}
    user: {turns: ["can you pull up {pay.id} for me?"]}
    gold_actions:
      - {tool: payments_refund, args: {payment_id: "{pay.id}", amount: 1200, currency: SGD}}
    assertions: [{kind: refund_total, payment: "{pay.id}", equals: 1200}]
"""


def _spec(evals: list[Any], name: str) -> dict[str, Any]:
    spec = load_spec_file(ROOT / "agents" / "copilot" / "agent.yaml").model_dump(mode="json")
    return {**spec, "id": AGENT, "name": name, "evals": evals}


class Gate:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.admin = api.tenant("acme", "admin")
        self.partner = self._key("partner")
        self.merchant = self._key("merchant")
        self.other = api.tenant("globex", "partner")
        self.started: dict[str, Any] = {}
        """The first eval run as its POST answered (``running``), and as it finished."""
        self.finished: dict[str, Any] = {}

    def _key(self, role: str) -> str:
        r = self.api.client.post("/v1/keys", json={"role": role}, headers=self.api.h(self.admin))
        assert r.status_code == 201, r.text
        return str(r.json()["key"])

    def call(self, key: str, method: str, path: str, **kw: Any) -> httpx.Response:
        return self.api.client.request(method, path, headers=self.api.h(key), **kw)

    def publish(self, key: str, version: int, **extra: Any) -> httpx.Response:
        body = {"version": version, **extra}
        return self.call(key, "PUT", f"/v1/agents/{AGENT}/aliases/live", json=body)

    def wait(self, run_id: str, timeout: float = 600) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = self.call(self.partner, "GET", f"/v1/evals/runs/{run_id}")
            assert r.status_code == 200, r.text
            if r.json()["status"] != "running":
                return cast(dict[str, Any], r.json())
            time.sleep(0.1)
        raise AssertionError("the eval run did not finish")

    def sdk(self, key: str) -> SyncLangGraphClient:
        client = self.api.client
        client.headers["x-api-key"] = key
        return SyncLangGraphClient(cast(httpx.Client, client))

    def audit(self, kind: str) -> list[dict[str, Any]]:
        r = self.call(self.admin, "GET", "/v1/audit", params={"kind": kind})
        assert r.status_code == 200, r.text
        body = r.json()
        return list(body["records"] if isinstance(body, dict) else body)


@pytest.fixture(scope="module")
def gate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gate]:
    tmp = tmp_path_factory.mktemp("eval-gate")
    world = shared.eval_world(tmp_path_factory)  # seeded once per run, shared with tests/evals
    shutil.copytree(world, tmp / "data" / "evals" / world.name)  # the app's template cache
    with running_app(tmp) as api:
        g = Gate(api)
        for evals, name in (
            ([{"suite": "acme-refund", "min_pass1": 1.0}], "Acme v1 (fails its suite)"),
            (["acme-status"], "Acme v2 (passes its suite)"),
            ([], "Acme v3 (no evals)"),
        ):
            r = g.call(g.partner, "POST", "/v1/agents", json=_spec(evals, name))
            assert r.status_code == 201, r.text
        # The tenant's suites arrive with a first run, so each test stands alone (in any order,
        # on any worker). That run is the one test_an_eval_run_is_stored_per_tenant reads: an
        # eval run is a child process seeding worlds, too slow to repeat for a read.
        r = g.call(
            g.partner,
            "POST",
            "/v1/evals/runs",
            json={"agent": f"{AGENT}@1", "suite_yaml": [FAIL_SUITE, PASS_SUITE], "trials": 1},
        )
        assert r.status_code == 202, r.text
        g.started = r.json()
        g.finished = g.wait(g.started["run_id"])
        yield g


def test_an_eval_run_is_stored_per_tenant(gate: Gate) -> None:
    started = gate.started
    assert started["status"] == "running" and started["suites"] == ["acme-refund", "acme-status"]
    run = gate.finished
    assert run["status"] == "failed", run
    scores = {s["suite"]: s for s in run["result"]["scores"]}
    assert scores["acme-refund"]["pass^1"] == 0.0 and scores["acme-status"]["pass^1"] == 1.0
    assert run["result"]["broken"] == []  # the controls vouch for both tasks
    assert run["report"]["tasks"][0]["agents"]["oracle"]["successes"] == 1
    listed = gate.call(gate.partner, "GET", "/v1/evals/runs").json()
    assert run["run_id"] in [x["run_id"] for x in listed]
    # Another tenant sees nothing of it.
    assert gate.call(gate.other, "GET", f"/v1/evals/runs/{run['run_id']}").status_code == 404
    assert gate.call(gate.other, "GET", "/v1/evals/runs").json() == []
    # A merchant key does no partner work.
    assert gate.call(gate.merchant, "GET", "/v1/evals/runs").status_code == 403


def test_a_failing_agent_cannot_be_published(gate: Gate) -> None:
    r = gate.publish(gate.partner, 1)
    assert r.status_code == 409, r.text
    err = r.json()
    assert err["code"] == "eval_gate_failed"
    details = err["details"]
    assert details["decision"] == "failed" and details["run_id"].startswith("evr_")
    assert details["result"]["scores"][0]["suite"] == "acme-refund"
    assert any("pass^1 0.00 < 1.00" in reason for reason in details["reasons"])
    # Gated, v1 never became live, so the assistant id resolves to nothing yet.
    assert gate.call(gate.partner, "GET", f"/v1/agents/{AGENT}").status_code == 404
    failed = gate.audit("agent_publish_gate")
    assert failed[-1]["payload"]["decision"] == "failed"


def test_only_an_admin_forces_with_a_reason(gate: Gate) -> None:
    forced = {"force": True, "reason": "hotfix for incident 42; suite fixed tomorrow"}
    r = gate.publish(gate.merchant, 1, **forced)
    assert r.status_code == 403 and r.json()["code"] == "role_required"
    r = gate.publish(gate.partner, 1, **forced)
    assert r.status_code == 403 and r.json()["code"] == "force_needs_admin"
    r = gate.publish(gate.admin, 1, force=True)
    assert r.status_code == 422 and r.json()["code"] == "reason_required"
    r = gate.publish(gate.admin, 1, **forced)
    assert r.status_code == 200, r.text
    assert r.json()["gate"]["decision"] == "forced"
    record = gate.audit("agent_publish_gate")[-1]
    assert record["payload"]["decision"] == "forced"
    assert record["payload"]["reason"] == forced["reason"]
    assert record["actor"].startswith("key:")


def test_a_passing_agent_is_published_and_the_run_reused(gate: Gate) -> None:
    r = gate.publish(gate.partner, 2)
    assert r.status_code == 200, r.text
    first = r.json()["gate"]
    assert first["decision"] == "passed" and first["reused"] is False
    sdk = gate.sdk(gate.partner)
    assistant = sdk.assistants.get(AGENT)
    assert assistant["version"] == 2
    thread = sdk.threads.create()
    assert thread["thread_id"]
    # Roll back to the forced v1, then publish v2 again: the stored passing run is reused.
    assert (
        gate.call(
            gate.admin,
            "PUT",
            f"/v1/agents/{AGENT}/aliases/live",
            json={"version": 1, "force": True, "reason": "rollback drill"},
        ).status_code
        == 200
    )
    r = gate.publish(gate.partner, 2)
    assert r.status_code == 200, r.text
    again = r.json()["gate"]
    assert again["reused"] is True and again["run_id"] == first["run_id"]
    decisions = [x["payload"]["decision"] for x in gate.audit("agent_publish_gate")]
    assert decisions[-2:] == ["forced", "passed"]


def test_a_spec_without_evals_publishes_ungated(gate: Gate) -> None:
    r = gate.publish(gate.partner, 3)
    assert r.status_code == 200, r.text
    assert r.json()["gate"]["decision"] == "ungated"
    assert gate.audit("agent_publish_gate")[-1]["payload"]["decision"] == "ungated"
    # canary is not gated
    r = gate.call(gate.partner, "PUT", f"/v1/agents/{AGENT}/aliases/canary", json={"version": 1})
    assert r.status_code == 200 and r.json()["gate"] is None
