"""``--workers N`` runs tasks in worker processes with the same verdicts as one worker."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from evals import RunOptions, TaskRun, TrialResult, load_suites, run_tasks, select_tasks
from evals.cli import app

MINI = Path(__file__).parent / "fixtures" / "mini.yaml"


def _verdicts(runs: list[TaskRun], trials: int) -> list[tuple[str, str, list[bool]]]:
    """Per task and agent, the pass/fail of its first ``trials`` trials."""
    return [
        (run.task.id, agent, [r.passed for r in results[:trials]])
        for run in runs
        for agent, results in run.trials.items()
    ]


def test_two_workers_match_one(mini_runs: list[TaskRun], eval_cache: Path) -> None:
    # Two trials, as the one-worker run: a task's trials may land on different workers.
    seen: list[TrialResult] = []
    runs = run_tasks(
        select_tasks(load_suites(MINI)),
        opts=RunOptions(trials=2, cache=eval_cache, workers=2, on_trial=seen.append),
    )
    # Same tasks, same order, same pass/fail.
    assert _verdicts(runs, 2) == _verdicts(mini_runs, 2)
    assert sorted((r.task_id, r.agent, r.trial) for r in seen) == sorted(
        (run.task.id, r.agent, r.trial) for run in runs for rs in run.trials.values() for r in rs
    )


def test_cli_documents_workers_and_user_model() -> None:
    result = CliRunner().invoke(app, ["run", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "--workers" in result.output and "--user-model" in result.output
