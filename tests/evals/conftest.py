"""Eval tests share one seeded template (seeded once per run) and one run of the fixture
suite (trials=2)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from evals import RunOptions, TaskRun, load_suites, run_tasks, select_tasks
from evals.report import summarise
from evals.task import DEFAULT_CLOCK
from evals.world import Template, build_template
from tests.support import shared

FIXTURES = Path(__file__).parent / "fixtures"
MINI = FIXTURES / "mini.yaml"


@pytest.fixture(scope="session")
def eval_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This worker's template cache, holding a copy of the default world (seed 7, the default
    clock) that one worker of the run seeded; other worlds are seeded here when asked for."""
    cache = tmp_path_factory.mktemp("eval-cache")
    world = shared.eval_world(tmp_path_factory)
    shutil.copytree(world, cache / world.name)
    return cache


@pytest.fixture(scope="session")
def template(eval_cache: Path) -> Template:
    from cockpit.clock import parse_instant

    return build_template(eval_cache, seed=7, clock=parse_instant(DEFAULT_CLOCK))


@pytest.fixture(scope="session")
def mini_runs(template: Template, eval_cache: Path) -> list[TaskRun]:
    tasks = select_tasks(load_suites(MINI))
    return run_tasks(tasks, opts=RunOptions(trials=2, cache=eval_cache))


@pytest.fixture(scope="session")
def mini_report(mini_runs: list[TaskRun]) -> dict[str, Any]:
    return summarise(mini_runs, trials=2)
