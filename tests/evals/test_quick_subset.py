"""The CI quick subset: tasks tagged ``quick``, ``gate`` tasks that fail the run, figures per agent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evals import SUITES_DIR, load_suites, select_tasks
from evals.report import agent_figures, gate_failures, markdown

ROOT = Path(__file__).resolve().parents[2]


def test_tags_select_the_quick_subset() -> None:
    suites = load_suites(SUITES_DIR)
    quick = select_tasks(suites, tags=frozenset({"quick"}))
    everything = select_tasks(suites)
    assert quick and len(quick) < len(everything)
    assert all("quick" in t.tags for _s, t in quick)
    gates = select_tasks(suites, tags=frozenset({"quick", "gate"}))
    assert gates and {t.id for _s, t in gates} <= {t.id for _s, t in quick}


def test_check_script_runs_the_quick_subset_with_junit() -> None:
    script = (ROOT / "scripts" / "check.sh").read_text(encoding="utf-8")
    assert "eval run evals/suites --tag quick --trials 1 --report" in script
    assert "junit.xml" in script


def _task(tags: list[str], successes: int) -> dict[str, Any]:
    own = {"successes": successes, "trials": 1, "pass": {"1": float(successes)}}
    return {
        "suite": "s",
        "task": f"t{successes}",
        "agent": "copilot",
        "tags": tags,
        "agents": {"copilot": own},
    }


def test_a_failing_gate_task_is_named() -> None:
    tasks = [_task(["gate"], 0), _task(["gate"], 1), _task([], 0)]
    assert gate_failures(tasks) == ["s/t0"]


def test_figures_per_agent_with_controls(mini_report: dict[str, Any]) -> None:
    figures = agent_figures(mini_report)
    assert list(figures) == ["copilot", "do-nothing", "oracle"]
    assert figures["oracle"]["pass^1"] == 1.0
    assert figures["copilot"]["tasks"] == 2 and figures["copilot"]["heldout"]["tasks"] == 1
    assert figures["do-nothing"]["write_tasks"] == 1
    assert figures["do-nothing"]["write_tasks_passed"] == 0
    assert mini_report["checks"]["gate_failed"] == []
    assert "gate tasks failed: none" in markdown(mini_report)
