"""The external retrieval corpus loader, on a miniature copy of the package's layout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.retrieval_external import load_external

MANUAL = """# Introduction
## Fix actions
`toggle_airplane_mode()` `toggle_data()` `toggle_roaming()` `reseat_sim_card()` `disconnect_vpn()`
# Service
### Airplane Mode
If it is ON, guide the user to use `toggle_airplane_mode()` to turn it OFF.
"""
WORKFLOW = """# Workflow
## Path 1: No Service
### Step 1.1: Check Airplane Mode and Network Status
Ask the user to turn Airplane Mode off.
"""
POLICY = """# Retail agent policy
## Cancel pending order
An order can only be cancelled while pending.
"""


def _write(root: Path) -> None:
    files = {
        "airline/policy.md": "# Airline\n## Book flight\nAt most five passengers.\n",
        "retail/policy.md": POLICY,
        "telecom/main_policy.md": "# Telecom\n## Data Roaming\nRoaming for travellers.\n",
        "telecom/tech_support_manual.md": MANUAL,
        "telecom/tech_support_workflow.md": WORKFLOW,
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    scenario = {"persona": "A patient caller.", "instructions": {"reason_for_call": "No signal."}}
    tasks = {
        "airline": [],
        "retail": [
            {
                "id": "r1",
                "user_scenario": {"instructions": {"reason_for_call": "Cancel my order."}},
                "evaluation_criteria": {
                    "actions": [{"name": "get_order_details"}, {"name": "cancel_pending_order"}]
                },
            },
            {"id": "r2", "user_scenario": scenario, "evaluation_criteria": {"actions": []}},
        ],
        "telecom": [
            {
                "id": "t1",
                "user_scenario": scenario,
                "evaluation_criteria": {"actions": [{"name": "toggle_airplane_mode"}]},
            },
        ],
    }
    for domain, items in tasks.items():
        (root / domain / "tasks.json").write_text(json.dumps(items), encoding="utf-8")


def test_sections_become_documents_and_actions_judge_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path)
    monkeypatch.setenv("COCKPIT_TAU2_DATA", str(tmp_path))
    corpus = load_external()
    assert corpus is not None
    ids = {d.document_id for d in corpus.documents}
    assert "telecom:manual:service/airplane-mode" in ids
    assert "retail:policy:cancel-pending-order" in ids
    judged = {q.task_id: q for q in corpus.queries}
    assert set(judged) == {"retail/r1", "telecom/t1"}  # r2 changes nothing: nothing to judge
    assert judged["retail/r1"].relevant == {"retail:policy:cancel-pending-order"}
    # The reference list names five tools: it is not the rule for any of them.
    assert judged["telecom/t1"].relevant == {
        "telecom:manual:service/airplane-mode",
        "telecom:workflow:path-1-no-service/step-1-1-check-airplane-mode-and-network-status",
    }
    assert judged["telecom/t1"].text == "A patient caller.\n\nNo signal."


def test_absent_data_is_reported_as_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COCKPIT_TAU2_DATA", str(tmp_path / "missing"))
    assert load_external() is None
