"""The runner: each task's gold world once, then k trials per agent, each in its own world.

A trial copies the task's template, serves it (the real app; HTTP by default), applies the
task's fixtures, plays the scripted user through the ``langgraph-sdk`` client — answering
approval interrupts with ``command.resume`` as the task's user decides — stops the app, and
scores the end state against the gold replay's.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
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
from evals.snapshot import Snapshot, diff, take_snapshot
from evals.task import Approval, Call, Task
from evals.transcript import Transcript, calls_from_messages, readable
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


def _decision(a: Approval) -> dict[str, Any]:
    out: dict[str, Any] = {"action": a.action}
    if a.args:
        out["args"] = a.args
    if a.reason:
        out["reason"] = a.reason
    return out


def play(client: Any, task: Task, bound: Bound) -> Transcript:
    """Drive the conversation through the SDK; never raises for the agent's mistakes."""
    transcript = Transcript()
    assistant = task.agent
    approvals = [
        Approval.model_validate(substitute(a.model_dump(), bound)) for a in task.user.approvals
    ]
    used: set[int] = set()
    tid = ""
    try:
        tid = client.threads.create()["thread_id"]
        for text in task.user.turns:
            message = {"role": "user", "content": substitute(text, bound)}
            values = client.runs.wait(tid, assistant, input={"messages": [message]})
            for _ in range(MAX_RESUMES):
                pending = values.get("__interrupt__") if isinstance(values, dict) else None
                if not pending:
                    break
                request = pending[0].get("value") or {}
                answer = next_decision(approvals, used, str(request.get("tool")))
                transcript.approvals.append({"request": request, "decision": _decision(answer)})
                values = client.runs.wait(tid, assistant, command={"resume": _decision(answer)})
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
                approvals=task.user.approvals,
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
) -> TrialResult:
    """One trial of ``agent`` (the task's assistant or a control) in a fresh world."""
    started = time.perf_counter()
    if not task.user.turns:
        return TrialResult(
            task.id,
            agent,
            trial,
            Verdict(False, False),
            Transcript(),
            skipped="LLM user simulator: not implemented (scripted turns only)",
        )
    factory = None
    if agent == ORACLE:
        facts = [str(substitute(f, gold.bound)) for f in task.communicate]
        factory = oracle_factory(_calls(task, gold.bound), facts)
    elif agent == DO_NOTHING:
        factory = do_nothing_factory()
    world = _world(task, gold.template, work / f"{agent}-{trial}", specs)
    try:
        with host_world(world, in_process=in_process, model_factory=factory) as hosted:
            apply_fixtures(
                hosted.services,
                [
                    Call.model_validate(substitute(f.model_dump(), gold.bound))
                    for f in task.world.fixtures
                ],
            )
            transcript = play(hosted.client, task, gold.bound)
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
    task: Task
    suite: str
    gold: GoldWorld
    trials: dict[str, list[TrialResult]] = field(default_factory=dict)
    """By agent label."""


def run_tasks(
    tasks: list[tuple[str, Task]], *, opts: RunOptions, agent_override: str | None = None
) -> list[TaskRun]:
    """Every (suite, task): gold once, then ``opts.trials`` trials of the agent and the controls."""
    out: list[TaskRun] = []
    with _workspace(opts) as work:
        for suite, task in tasks:
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
                    )
                    results.append(result)
                    if opts.on_trial is not None:
                        opts.on_trial(result)
            out.append(run)
    return out


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
