"""``cockpit eval``: run suites against agents (with the controls) and compare reports."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cockpit.cli_errors import CliGroup
from cockpit.exitcodes import CliFailure, ExitCode

if TYPE_CHECKING:
    from rich.console import Console

    from evals.runner import TrialResult

# The runner (LangGraph, the app, seeded worlds) and rich are imported inside the commands:
# ``--help`` stays fast. A command fails by raising; CliGroup prints the line and the exit code.
app = typer.Typer(
    cls=CliGroup,
    help="Agent task evaluation (τ-bench style): suites, controls, reports.",
    no_args_is_help=True,
)


@cache
def _console() -> Console:
    from rich.console import Console

    return Console()


@app.command("run")
def run(
    target: Annotated[
        str, typer.Argument(help="Suite name (evals/suites/<name>), agent id, or a path.")
    ],
    trials: Annotated[
        int, typer.Option(min=1, help="Trials per task (pass^k needs k ≤ trials).")
    ] = 4,
    agent: Annotated[
        str | None, typer.Option(help="Run the tasks on this assistant, e.g. copilot@canary.")
    ] = None,
    report: Annotated[
        Path | None, typer.Option(help="Write report.json/.md/.html and junit.xml here.")
    ] = None,
    split: Annotated[str, typer.Option(help="dev, heldout or all.")] = "all",
    tag: Annotated[
        list[str] | None,
        typer.Option(help="Only tasks carrying this tag (repeatable), e.g. quick: the CI subset."),
    ] = None,
    in_process: Annotated[
        bool, typer.Option("--in-process", help="ASGI in-process instead of HTTP.")
    ] = False,
    controls: Annotated[
        bool, typer.Option(help="Also run the oracle and do-nothing controls.")
    ] = True,
    cache: Annotated[Path, typer.Option(help="Where seeded world templates are kept.")] = Path(
        ".cockpit/evals"
    ),
    user_model: Annotated[
        str | None,
        typer.Option(
            help="LLM user simulator for tasks with user.instructions, e.g. openai:gpt-4o-mini "
            "(reads OPENAI_BASE_URL / OPENAI_API_KEY); without it those tasks are skipped."
        ),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            help="Run the agents on this model instead of their specs' own, e.g. "
            "openai:gpt-4o-mini (reads OPENAI_BASE_URL / OPENAI_API_KEY); the suites are the same."
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1, help="Tasks run at once, each in its own worker process (own worlds, clock)."
        ),
    ] = 1,
) -> None:
    """Run a suite; print pass^1 and pass^k per agent, with the oracle and do-nothing rows.

    Exits 1 when a control exposes a broken task (the oracle fails one, do-nothing passes a
    write) or a task tagged ``gate`` fails on its agent.
    """
    from cockpit.clock import utcnow
    from cockpit.progress import progress_bar
    from evals.report import summarise, write_all
    from evals.runner import RunOptions, run_tasks
    from evals.suites import load_suites, select_tasks

    if split not in {"dev", "heldout", "all"}:
        raise typer.BadParameter("split is dev, heldout or all", param_hint="--split")
    tags = frozenset(tag or ())
    tasks = select_tasks(load_suites(target), split=split, tags=tags)
    if not tasks:
        tagged = f" tagged {sorted(tags)}" if tags else ""
        raise CliFailure(f"no {split} tasks in {target}{tagged}", ExitCode.BAD_INPUT)
    total = len(tasks) * (trials + (2 if controls else 0))
    started = utcnow()
    with progress_bar("evaluating") as progress:
        done = 0

        def tick(result: TrialResult) -> None:
            nonlocal done
            done += 1
            mark = "ok" if result.passed else "FAIL"
            progress(done, total, f"{result.task_id} · {result.agent} · {mark}")

        opts = RunOptions(
            trials=trials,
            in_process=in_process,
            cache=cache,
            controls=controls,
            on_trial=tick,
            user_model=user_model,
            workers=workers,
            model=model,
        )
        runs = run_tasks(tasks, opts=opts, agent_override=agent)
    summary = summarise(runs, trials=trials, started=started)
    _print(summary)
    if report is not None:
        paths = write_all(summary, report)
        _console().print("reports: " + ", ".join(str(p) for p in paths.values()))
    checks = summary["checks"]
    failed = [name for name, items in checks.items() if items]
    if failed:
        raise CliFailure(f"the run fails its checks: {', '.join(failed)}")


def _print(summary: dict[str, object]) -> None:
    from rich.table import Table

    from evals.controls import CONTROLS

    ks = summary["ks"]
    assert isinstance(ks, list)
    table = Table(title="pass^k (controls: oracle must be 1.00, do-nothing fails every write task)")
    for col in ("agent", "suite", "split", "tasks", *(f"pass^{k}" for k in ks)):
        table.add_column(col)
    rows = summary["rows"]
    assert isinstance(rows, list)
    for r in sorted(
        rows, key=lambda r: (r["agent"] in CONTROLS, r["agent"], r["suite"], r["split"])
    ):
        vals = ["—" if r[f"pass^{k}"] is None else f"{r[f'pass^{k}']:.2f}" for k in ks]
        table.add_row(r["agent"], r["suite"], r["split"], str(r["tasks"]), *vals)
    _console().print(table)
    checks = summary["checks"]
    assert isinstance(checks, dict)
    for name, items in checks.items():
        if items:
            _console().print(f"[red]{name}[/red]: " + "; ".join(items))


@app.command("diff")
def diff(before: Path, after: Path) -> None:
    """Name the tasks that newly fail (and newly pass) between two report.json files."""
    from evals.report import compare, read_json

    changes = compare(read_json(before), read_json(after))
    for kind, items in changes.items():
        for item in items:
            _console().print(
                f"{kind}: {item['suite']}/{item['task']} [{item['agent']}] {item['before']} → {item['after']}"
            )
    if changes["newly_failing"]:
        raise CliFailure(f"{len(changes['newly_failing'])} tasks newly fail")


__all__ = ["app"]
