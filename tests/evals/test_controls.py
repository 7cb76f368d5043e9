"""Controls keep suites honest: the oracle scores 1.0, do-nothing fails every write task."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evals import DO_NOTHING, ORACLE, TaskRun, select_tasks
from evals.bind import resolve_binds, substitute
from evals.task import Bind
from evals.world import Template


def test_oracle_passes_every_task(mini_runs: list[TaskRun]) -> None:
    for run in mini_runs:
        assert run.gold.error is None, run.gold.error
        assert all(r.passed for r in run.trials[ORACLE]), [
            r.verdict.reasons() for r in run.trials[ORACLE]
        ]


def test_do_nothing_fails_every_write_task(mini_runs: list[TaskRun]) -> None:
    writes = [run for run in mini_runs if run.gold.writes]
    assert [r.task.id for r in writes] == ["refund-partial"]
    for run in writes:
        assert not any(r.passed for r in run.trials[DO_NOTHING])
        assert (
            "end state differs from the gold replay" in run.trials[DO_NOTHING][0].verdict.reasons()
        )


def test_copilot_passes_the_fixture_suite(mini_report: dict[str, Any]) -> None:
    rows = {(r["agent"], r["split"]): r for r in mini_report["rows"]}
    assert rows[("copilot", "all")]["pass^1"] == 1.0
    assert rows[("copilot", "all")]["pass^2"] == 1.0
    assert rows[(ORACLE, "all")]["pass^1"] == 1.0
    assert rows[(DO_NOTHING, "dev")]["pass^1"] == 0.0
    assert ("copilot", "heldout") in rows and ("copilot", "dev") in rows
    assert mini_report["checks"] == {
        "oracle_failed": [],
        "do_nothing_passed_write": [],
        "gold_errors": [],
        "gate_failed": [],
    }


def test_binds_resolve_deterministically_and_distinctly(template: Template) -> None:
    binds = {
        "a": Bind(kind="payment", status="CAPTURED", method_type="CARD", refunded=False),
        "b": Bind(kind="payment", status="CAPTURED", method_type="CARD", refunded=False),
        "d": Bind(kind="dispute", merchant="de", status="NEEDS_RESPONSE"),
        "s": Bind(kind="strategy"),
    }
    sg = template.merchants["sg"]
    bound = resolve_binds(template.database, binds, merchant_id=sg, merchants=template.merchants)
    again = resolve_binds(template.database, binds, merchant_id=sg, merchants=template.merchants)
    assert bound == again
    assert bound["a"]["id"] != bound["b"]["id"] and bound["a"]["merchant_id"] == sg
    assert bound["d"]["status"] == "NEEDS_RESPONSE" and bound["s"]["version"] == 1
    assert substitute("refund {a.id}", bound) == f"refund {bound['a']['id']}"
    assert substitute({"amount": "{a.amount}"}, bound) == {"amount": bound["a"]["amount"]}


def test_fixture_suite_splits() -> None:
    from evals import load_suites

    suites = load_suites(Path(__file__).parent / "fixtures" / "mini.yaml")
    assert [t.id for _s, t in select_tasks(suites, split="heldout")] == ["payment-status"]
