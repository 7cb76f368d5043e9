"""The runner: each task's gold world once, then k trials per agent, each in its own world.

A trial copies the task's template, serves it (the real app; HTTP by default), applies the
task's fixtures, plays the user through the ``langgraph-sdk`` client — its scripted turns, or the
LLM user simulator on ``user.instructions`` (:mod:`evals.user_sim`) — answering approval
interrupts with ``command.resume`` as the task's user decides, stops the app, and scores the end
state against the gold replay's. ``workers > 1`` runs tasks in parallel worker processes.
"""

from __future__ import annotations

import multiprocessing
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cockpit.specs.spec import AgentSpec
from evals.assertions import AssertionResult, check_assertions
from evals.bind import Bound, resolve_binds, substitute
from evals.controls import DO_NOTHING, ORACLE, do_nothing_factory, oracle_factory
from evals.host import host_world
from evals.replay import apply_fixtures, next_decision, replay_gold
from evals.scoring import (
    Trajectory,
    Verdict,
    forbidden_hits,
    missing_facts,
    trajectory,
    violations,
)
from evals.shopping import ShopGold, ShopTask, run_shop_task
from evals.snapshot import Snapshot, diff, take_snapshot
from evals.task import Approval, Call, Task
from evals.transcript import Transcript, calls_from_messages, readable
from evals.user_sim import NO_USER_MODEL, UserSimulator, user_model
from evals.world import Template, World, build_template, new_world

MAX_RESUMES = 8


@dataclass
class TrialResult:
    task_id: str
    agent: str
    """What ran: the task's assistant, ``oracle`` or ``do-nothing``."""
    trial: int
    verdict: Verdict
    transcript: Transcript
    assertions: list[AssertionResult] = field(default_factory=list)
    state_diff: dict[str, Any] = field(default_factory=dict)
    trajectory: Trajectory | None = None
    seconds: float = 0.0
    skipped: str | None = None
    """Why the trial was not run (e.g. an LLM user simulator with no model configured)."""

    @property
    def passed(self) -> bool:
        return self.skipped is None and self.verdict.passed


@dataclass
class GoldWorld:
    """A task's reference: bound placeholders and the gold replay's end state."""

    template: Template
    bound: Bound
    snapshot: Snapshot
    assertions: list[AssertionResult]
    error: str | None = None

    @property
    def writes(self) -> bool:
        return not self.snapshot.empty


@dataclass
class RunOptions:
    trials: int = 4
    in_process: bool = False
    cache: Path = field(default_factory=lambda: Path(".cockpit") / "evals")
    workdir: Path | None = None
    controls: bool = True
    on_trial: Callable[[TrialResult], None] | None = None
    specs: tuple[AgentSpec, ...] = ()
    """Agent specs installed (as ``live``) in every world: a partner's agent under test."""
    user_model: str | None = None
    """``provider:model`` of the LLM user simulator (``user.instructions`` tasks); none: skipped."""
    workers: int = 1
    """Tasks run at once, each in a worker process (see :func:`run_tasks`)."""
    model: str | None = None
    """Run the task's agents on this model instead of their specs' (e.g. ``openai:gpt-4o-mini``,
    which reads ``OPENAI_BASE_URL`` / ``OPENAI_API_KEY``); the controls keep their own."""


def _decision(a: Approval) -> dict[str, Any]:
    out: dict[str, Any] = {"action": a.action}
    if a.args:
        out["args"] = a.args
    if a.reason:
        out["reason"] = a.reason
    return out


def _latest_answer(values: Any) -> str:
    """The agent's answers since the last user message, from a run's state values."""
    messages = list((values.get("messages") or []) if isinstance(values, dict) else [])
    out: list[str] = []
    for m in messages:
        if not isinstance(m, dict):
            continue
        if m.get("type") == "human":
            out = []
        elif m.get("type") == "ai" and isinstance(m.get("content"), str) and m["content"]:
            out.append(m["content"])
    return "\n".join(out)


def play(
    client: Any, task: Task, bound: Bound, *, simulator: UserSimulator | None = None
) -> Transcript:
    """Drive the conversation through the SDK; never raises for the agent's mistakes.

    The user's messages are the task's scripted turns, or ``simulator``'s turns (each one
    answering the agent's previous answer) when given."""
    transcript = Transcript()
    assistant = task.agent
    approvals = [
        Approval.model_validate(substitute(a.model_dump(), bound)) for a in task.user.approvals
    ]
    used: set[int] = set()
    tid = ""

    def say(text: str) -> Any:
        message = {"role": "user", "content": text}
        values = client.runs.wait(tid, assistant, input={"messages": [message]})
        for _ in range(MAX_RESUMES):
            pending = values.get("__interrupt__") if isinstance(values, dict) else None
            if not pending:
                break
            request = pending[0].get("value") or {}
            answer = next_decision(approvals, used, str(request.get("tool")))
            transcript.approvals.append({"request": request, "decision": _decision(answer)})
            values = client.runs.wait(tid, assistant, command={"resume": _decision(answer)})
        return values

    try:
        tid = client.threads.create()["thread_id"]
        if simulator is None:
            for text in task.user.turns:
                say(substitute(text, bound))
        else:
            turn = simulator.next_turn()
            while turn is not None:
                turn = simulator.next_turn(_latest_answer(say(turn)))
    except Exception as exc:  # the agent's failure is the trial's result, not the runner's
        transcript.error = f"{type(exc).__name__}: {exc}"[:500]
    if tid:
        try:
            state = client.threads.get_state(tid)
            messages = list((state.get("values") or {}).get("messages") or [])
        except Exception as exc:
            transcript.error = transcript.error or f"state unreadable: {exc}"
            messages = []
        transcript.messages = readable(messages)
        transcript.calls = calls_from_messages(messages)
    return transcript


def _calls(task: Task, bound: Bound) -> list[Call]:
    return [Call(tool=g.tool, args=substitute(g.args, bound)) for g in task.gold_actions]


@contextmanager
def _workspace(opts: RunOptions) -> Iterator[Path]:
    if opts.workdir is not None:
        opts.workdir.mkdir(parents=True, exist_ok=True)
        yield opts.workdir
        return
    with tempfile.TemporaryDirectory(prefix="cockpit-eval-") as tmp:
        yield Path(tmp)


def gold_world(
    task: Task, template: Template, work: Path, *, specs: Sequence[AgentSpec] = ()
) -> GoldWorld:
    """Bind the task's placeholders and replay its gold actions on a fresh copy."""
    bound = resolve_binds(
        template.database,
        task.bind,
        merchant_id=template.merchants.get(
            task.world.user.merchant or "", task.world.user.merchant
        ),
        merchants=template.merchants,
    )
    world = _world(task, template, work / "gold", specs)
    error: str | None = None
    try:
        with host_world(world, in_process=True) as hosted:
            apply_fixtures(
                hosted.services,
                [
                    Call.model_validate(substitute(f.model_dump(), bound))
                    for f in task.world.fixtures
                ],
            )
            replay_gold(
                hosted.services,
                agent=task.agent,
                key=world.key,
                calls=_calls(task, bound),
                # The same decisions the simulated user makes, placeholders filled alike.
                approvals=[
                    Approval.model_validate(substitute(a.model_dump(), bound))
                    for a in task.user.approvals
                ],
            )
    except Exception as exc:
        error = f"gold replay failed: {exc}"
    snapshot = take_snapshot(world.database, template.database)
    checks = check_assertions(
        world.database,
        template.database,
        task.assertions,
        bound=bound,
        snapshot=snapshot,
        skip=frozenset({"approvals"}),  # the executor path records no approval rows
    )
    shutil.rmtree(world.dir, ignore_errors=True)
    if error is None and not all(a.ok for a in checks):
        failed = "; ".join(a.detail for a in checks if not a.ok)
        error = f"the gold world fails its own assertions: {failed}"
    return GoldWorld(template, bound, snapshot, checks, error)


def _world(task: Task, template: Template, into: Path, specs: Sequence[AgentSpec] = ()) -> World:
    shutil.rmtree(into, ignore_errors=True)
    return new_world(
        template, into, role=task.world.user.role, merchant=task.world.user.merchant, specs=specs
    )


def run_trial(
    task: Task,
    gold: GoldWorld,
    *,
    agent: str,
    trial: int,
    work: Path,
    in_process: bool,
    specs: Sequence[AgentSpec] = (),
    user_model_ref: str | None = None,
    model: str | None = None,
) -> TrialResult:
    """One trial of ``agent`` (the task's assistant or a control) in a fresh world.

    A task with ``user.instructions`` and no scripted turns is played by the LLM user
    simulator on ``user_model_ref``; without one the trial is skipped."""
    started = time.perf_counter()
    simulator: UserSimulator | None = None
    if not task.user.turns:
        if user_model_ref is None:
            return TrialResult(
                task.id, agent, trial, Verdict(False, False), Transcript(), skipped=NO_USER_MODEL
            )
        simulator = UserSimulator(
            user_model(user_model_ref),
            str(substitute(task.user.instructions or "", gold.bound)),
            max_turns=task.user.max_turns,
        )
    factory = None
    if agent == ORACLE:
        facts = [str(substitute(f, gold.bound)) for f in task.communicate]
        factory = oracle_factory(_calls(task, gold.bound), facts)
    elif agent == DO_NOTHING:
        factory = do_nothing_factory()
    world = _world(task, gold.template, work / f"{agent}-{trial}", specs)
    try:
        with host_world(
            world,
            in_process=in_process,
            model_factory=factory,
            model=model if factory is None else None,
        ) as hosted:
            apply_fixtures(
                hosted.services,
                [
                    Call.model_validate(substitute(f.model_dump(), gold.bound))
                    for f in task.world.fixtures
                ],
            )
            transcript = play(hosted.client, task, gold.bound, simulator=simulator)
        snapshot = take_snapshot(world.database, gold.template.database)
        checks = check_assertions(
            world.database,
            gold.template.database,
            task.assertions,
            bound=gold.bound,
            snapshot=snapshot,
        )
    finally:
        shutil.rmtree(world.dir, ignore_errors=True)
    state_diff = diff(gold.snapshot, snapshot)
    facts = [str(substitute(f, gold.bound)) for f in task.communicate]
    forbidden = [
        f.model_copy(update={"args": substitute(f.args, gold.bound)}) for f in task.forbidden
    ]
    gold_actions = [
        g.model_copy(update={"args": substitute(g.args, gold.bound)}) for g in task.gold_actions
    ]
    verdict = Verdict(
        state_equal=not state_diff,
        assertions_ok=all(a.ok for a in checks),
        missing_facts=missing_facts(facts, transcript.answers),
        forbidden=forbidden_hits(forbidden, transcript.calls),
        violations=violations(transcript.calls),
        error=gold.error or transcript.error,
    )
    return TrialResult(
        task.id,
        agent,
        trial,
        verdict,
        transcript,
        checks,
        state_diff,
        trajectory(gold_actions, transcript.calls),
        time.perf_counter() - started,
    )


@dataclass
class TaskRun:
    task: Task | ShopTask
    suite: str
    gold: GoldWorld | ShopGold
    trials: dict[str, list[TrialResult]] = field(default_factory=dict)
    """By agent label."""


def _run_task(
    suite: str, task: Task | ShopTask, *, opts: RunOptions, work: Path, agent_override: str | None
) -> TaskRun:
    if isinstance(task, ShopTask):  # always played by the shopping agent, over HTTP
        run: TaskRun = run_shop_task(suite, task, opts=opts, work=work)
        return run
    if agent_override:
        task = task.model_copy(update={"agent": agent_override})
    template = build_template(opts.cache, seed=task.world.seed, clock=task.world.clock)
    gold = gold_world(task, template, work, specs=opts.specs)
    run = TaskRun(task, suite, gold)
    agents = [task.agent, *((ORACLE, DO_NOTHING) if opts.controls else ())]
    for agent in agents:
        results = run.trials.setdefault(agent, [])
        # The controls are deterministic: one trial each says everything.
        count = opts.trials if agent == task.agent else 1
        for i in range(count):
            result = run_trial(
                task,
                gold,
                agent=agent,
                trial=i,
                work=work,
                in_process=opts.in_process,
                specs=opts.specs,
                user_model_ref=opts.user_model,
                model=opts.model,
            )
            results.append(result)
            if opts.on_trial is not None:
                opts.on_trial(result)
    return run


def _task_in_worker(
    suite: str, task: Task | ShopTask, opts: RunOptions, agent_override: str | None
) -> TaskRun:
    """A worker process's job: one task, all its trials, in ``opts.workdir``."""
    assert opts.workdir is not None
    opts.workdir.mkdir(parents=True, exist_ok=True)
    return _run_task(suite, task, opts=opts, work=opts.workdir, agent_override=agent_override)


def _run_parallel(
    tasks: list[tuple[str, Task | ShopTask]], opts: RunOptions, agent_override: str | None
) -> list[TaskRun]:
    # Seed each template once, here: two workers must never build the same one.
    for seed, clock in dict.fromkeys((t.world.seed, t.world.clock) for _s, t in tasks):
        build_template(opts.cache, seed=seed, clock=clock)
    out: list[TaskRun | None] = [None] * len(tasks)
    context = multiprocessing.get_context("spawn")  # no fork of a process running threads
    with _workspace(opts) as work:
        pool = ProcessPoolExecutor(max_workers=min(opts.workers, len(tasks)), mp_context=context)
        try:
            futures = {
                pool.submit(
                    _task_in_worker,
                    suite,
                    task,
                    replace(opts, on_trial=None, workers=1, workdir=work / f"task-{i:04d}"),
                    agent_override,
                ): i
                for i, (suite, task) in enumerate(tasks)
            }
            for future in as_completed(futures):
                run = future.result()
                out[futures[future]] = run
                if opts.on_trial is not None:
                    for results in run.trials.values():
                        for result in results:
                            opts.on_trial(result)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    return [run for run in out if run is not None]


def run_tasks(
    tasks: list[tuple[str, Task | ShopTask]], *, opts: RunOptions, agent_override: str | None = None
) -> list[TaskRun]:
    """Every (suite, task): gold once, then ``opts.trials`` trials of the agent and the controls.

    With ``opts.workers > 1`` tasks run concurrently, each in a worker process (spawned, one task
    at a time, its own work dir; every world still gets its own app, port and data dir). Worker
    processes, not threads, because the platform clock is process-global: each world's app
    installs its task's ``clock`` at startup, so two worlds of different instants must never
    share a process at the same time (processes also get both cores past the GIL). Results come
    back in the order of ``tasks``; ``on_trial`` then fires per task, as each one finishes.
    """
    if opts.user_model is not None and any(
        isinstance(t, Task) and not t.user.turns for _s, t in tasks
    ):
        user_model(opts.user_model)  # a bad reference or a missing key fails before any world
    if opts.workers > 1 and len(tasks) > 1:
        return _run_parallel(tasks, opts, agent_override)
    with _workspace(opts) as work:
        return [
            _run_task(suite, task, opts=opts, work=work, agent_override=agent_override)
            for suite, task in tasks
        ]


__all__ = [
    "GoldWorld",
    "RunOptions",
    "TaskRun",
    "TrialResult",
    "gold_world",
    "play",
    "run_tasks",
    "run_trial",
]
