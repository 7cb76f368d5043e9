"""The task schema: strict, errors name the field, the README's example validates."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from evals import SUITES_DIR, TaskFormatError, load_suites, parse_suite
from evals.matchers import parse_matcher

README = Path(__file__).resolve().parents[2] / "evals" / "README.md"


def _suite(**task: object) -> dict[str, object]:
    base: dict[str, object] = {"id": "t1", "agent": "copilot", "user": {"turns": ["hi"]}}
    return {"schema": "cockpit.eval/v1", "suite": "s", "tasks": [{**base, **task}]}


def test_readme_example_validates() -> None:
    text = README.read_text(encoding="utf-8")
    block = re.search(r"<!-- eval-example -->\s*```yaml\n(.*?)```", text, re.S)
    assert block, "evals/README.md lost its example"
    suite = parse_suite(yaml.safe_load(block.group(1)), source="README")
    task = suite.tasks[0]
    assert task.split == "heldout" and task.agent == "copilot"
    assert [a.kind for a in task.assertions][:2] == ["refund_total", "balance_delta"]
    assert task.gold_actions[0].matchers(task.gold_actions[0].args)["payment_id"]("pay_x")


def test_shipped_suites_validate_and_say_heldout_is_never_an_example() -> None:
    for path in SUITES_DIR.rglob("*.yaml"):
        assert "never" in path.read_text(encoding="utf-8").split("schema:")[0].lower(), path
    assert load_suites("copilot")[0].tasks


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"surprise": 1}, "tasks.0.surprise"),
        ({"split": "test"}, "tasks.0.split"),
        ({"gold_actions": [{"args": {}}]}, "tasks.0.gold_actions.0.tool"),
        (
            {"assertions": [{"kind": "refund_total", "payment": "p"}]},
            "tasks.0.assertions.0.refund_total.equals",
        ),
        ({"bind": {"p": {"kind": "planet"}}}, "tasks.0.bind.p.kind"),
        ({"user": {"approvals": []}}, "tasks.0.user"),
        ({"forbidden": [{"tool": "x", "args": {"a": {"regex": "("}}}]}, "tasks.0.forbidden.0.args"),
    ],
)
def test_errors_name_the_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(TaskFormatError) as info:
        parse_suite(_suite(**change), source="s.yaml")
    assert info.value.param == field
    assert f"s.yaml: {field}" in info.value.message


def test_schema_version_is_required() -> None:
    data = _suite()
    data["schema"] = "cockpit.eval/v0"
    with pytest.raises(TaskFormatError, match="schema"):
        parse_suite(data)


def test_file_defaults_apply_and_ids_are_unique() -> None:
    data = {
        "schema": "cockpit.eval/v1",
        "suite": "s",
        "agent": "risk",
        "tasks": [
            {"id": "a", "user": {"turns": ["x"]}},
            {"id": "b", "agent": "credit", "user": {"turns": ["y"]}},
        ],
    }
    suite = parse_suite(data)
    assert [t.agent for t in suite.tasks] == ["risk", "credit"]
    data["tasks"] = [data["tasks"][0], data["tasks"][0]]  # type: ignore[index]
    with pytest.raises(TaskFormatError, match="duplicate task id"):
        parse_suite(data)


def test_matchers() -> None:
    assert parse_matcher({"any": True})(None)
    assert parse_matcher({"regex": "^pay_"})("pay_1") and not parse_matcher({"regex": "^pay_"})("x")
    assert parse_matcher({"approx": 120.0, "tol": 0.5})(120.4)
    assert not parse_matcher({"approx": 120.0, "tol": 0.5})(121)
    assert parse_matcher(1200)(1200.0) and parse_matcher("SGD")("sgd")
    assert not parse_matcher(True)(1) or parse_matcher(True)(True)
