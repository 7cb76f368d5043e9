"""The built-in suites run unchanged on ``model: openai:<name>``.

The CI subset (tasks tagged ``quick``, every built-in agent) is played twice on the same seeded
template: once with every agent switched to ``openai:<name>`` (``--model``) against the project's
OpenAI-compatible test server, whose replies come from the same planner
(:class:`~cockpit.testing.planner_server.PlannerResponder`), then once more on each agent's own
``local:planner``, graded against the same gold replay. Everything between the agent and the
server is the real LLM path — the ``openai`` client, tool schemas and arguments as JSON, tool
results as text — so the two runs must grade every task alike.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import agents
from cockpit.embeddings import default_embedder
from cockpit.specs.registry import load_builtin_specs
from cockpit.testing.openai_server import fake_openai_server
from cockpit.testing.planner_server import PlannerResponder
from evals import SUITES_DIR, RunOptions, Task, TaskRun, load_suites, run_tasks, select_tasks
from evals.runner import GoldWorld, run_trial
from evals.shopping import ShopTask
from evals.world import Template

MODEL = "cockpit-planner"


def _outcomes(runs: list[TaskRun]) -> dict[str, list[bool]]:
    return {
        f"{run.suite}/{run.task.id}": [r.passed for r in run.trials[run.task.agent]] for run in runs
    }


def _local(remote: list[TaskRun], work: Path) -> list[TaskRun]:
    """Each task's trial on its agent's own model, against the gold the remote run replayed.

    A task's gold replay runs no model, so it is the same world whichever model plays the task;
    replaying it again for the second run would only seed the same end state twice."""
    out = []
    for run in remote:
        assert isinstance(run.task, Task) and isinstance(run.gold, GoldWorld)
        result = run_trial(
            run.task, run.gold, agent=run.task.agent, trial=0, work=work, in_process=True
        )
        out.append(TaskRun(run.task, run.suite, run.gold, {run.task.agent: [result]}))
    return out


def test_quick_suites_grade_alike_on_an_openai_model(
    template: Template, eval_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    quick = select_tasks(load_suites(SUITES_DIR), tags=frozenset({"quick"}))
    # Shopping tasks use no model.
    tasks: list[tuple[str, Task | ShopTask]] = [(s, t) for s, t in quick if isinstance(t, Task)]
    assert {t.agent for _s, t in tasks} >= {"copilot"}
    opts = RunOptions(trials=1, cache=eval_cache, controls=False, in_process=True)

    specs = load_builtin_specs([Path(agents.__file__).parent])
    responder = PlannerResponder(specs, embedder=default_embedder())
    with fake_openai_server({}, responders={MODEL: responder}) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
        remote = run_tasks(tasks, opts=RunOptions(**{**vars(opts), "model": f"openai:{MODEL}"}))
    local = _local(remote, tmp_path)

    assert {r.task.agent for r in remote} <= set(responder.served), "every agent went over the wire"
    assert all(r["model"] == MODEL for r in server.requests)
    assert _outcomes(remote) == _outcomes(local)
    assert any(all(v) for v in _outcomes(remote).values()), "the subset passes somewhere"
