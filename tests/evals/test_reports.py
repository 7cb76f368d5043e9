"""Report writers produce files that parse back; the run diff names newly failing tasks."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from evals.report import compare, read_json, write_all


def test_writers(mini_report: dict[str, Any], tmp_path: Path) -> None:
    paths = write_all(mini_report, tmp_path)
    assert read_json(paths["json"])["schema"] == "cockpit.eval-report/v1"
    assert json.loads(paths["json"].read_text())["rows"]
    root = ET.parse(paths["junit"]).getroot()
    assert root.tag == "testsuites"
    cases = root.findall(".//testcase")
    assert {c.get("name") for c in cases} == {"refund-partial", "payment-status"}
    assert not root.findall(".//failure")  # do-nothing failing is expected, not a CI failure
    page = paths["html"].read_text()
    assert (
        "<svg" in page
        and "<script" not in page
        and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    )
    assert "| copilot | mini | all | 2 |" in paths["markdown"].read_text()


def test_diff_names_newly_failing_tasks(mini_report: dict[str, Any]) -> None:
    after = copy.deepcopy(mini_report)
    task = next(t for t in after["tasks"] if t["task"] == "refund-partial")
    task["agents"]["copilot"]["successes"] = 1
    changes = compare(mini_report, after)
    assert [(c["task"], c["agent"]) for c in changes["newly_failing"]] == [
        ("refund-partial", "copilot")
    ]
    back = compare(after, mini_report)
    assert [c["task"] for c in back["newly_passing"]] == ["refund-partial"]
