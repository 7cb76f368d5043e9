"""Evals: agent task suites judged by end state (τ-bench style), controls, pass^k and reports.

The one home of evaluation. Nothing imports ``evals`` but composition roots (the CLI),
benchmarks and tests. See ``evals/README.md`` for the task schema.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cockpit.lazy import lazy_exports

if TYPE_CHECKING:  # the same names, imported on first use (cockpit.lazy)
    from evals.controls import CONTROLS, DO_NOTHING, ORACLE
    from evals.runner import RunOptions, TaskRun, TrialResult, run_tasks
    from evals.scoring import mean_pass_hat_k, pass_hat_k
    from evals.suites import SUITES_DIR, load_suites, select_tasks
    from evals.task import SCHEMA, Suite, Task, TaskFormatError, load_suite_file, parse_suite

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "evals.controls": ["CONTROLS", "DO_NOTHING", "ORACLE"],
        "evals.runner": ["RunOptions", "TaskRun", "TrialResult", "run_tasks"],
        "evals.scoring": ["mean_pass_hat_k", "pass_hat_k"],
        "evals.suites": ["SUITES_DIR", "load_suites", "select_tasks"],
        "evals.task": [
            "SCHEMA",
            "Suite",
            "Task",
            "TaskFormatError",
            "load_suite_file",
            "parse_suite",
        ],
    },
)

__all__ = [
    "CONTROLS",
    "DO_NOTHING",
    "ORACLE",
    "SCHEMA",
    "SUITES_DIR",
    "RunOptions",
    "Suite",
    "Task",
    "TaskFormatError",
    "TaskRun",
    "TrialResult",
    "load_suite_file",
    "load_suites",
    "mean_pass_hat_k",
    "parse_suite",
    "pass_hat_k",
    "run_tasks",
    "select_tasks",
]
