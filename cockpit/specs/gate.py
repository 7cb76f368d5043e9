"""The eval gate's contract: what an eval run is asked, what it answers, and how it is judged.

``cockpit`` never imports ``evals``: the composition root hands the platform an
:class:`EvalRunner` (the ``evals`` package's implementation), and this module judges the scores
it returns against the spec's ``evals`` thresholds. A ``live`` alias moves only through a run
that :func:`judge` passes for that exact spec hash (see :mod:`cockpit.specs.evalruns`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from cockpit.specs.spec import AgentSpec, SuiteGate

RunStatus = Literal["running", "passed", "failed", "error"]
Split = Literal["dev", "heldout", "all"]


@dataclass(frozen=True, slots=True)
class SuiteSource:
    """A suite to run: the tenant's own YAML, or (``yaml`` None) the built-in of that name."""

    name: str
    yaml: str | None = None


@dataclass(frozen=True, slots=True)
class EvalJob:
    """One eval run: these suites, on this spec, in fresh worlds."""

    spec: AgentSpec
    """The version under test; every task runs on it (as ``live`` in each world)."""
    suites: tuple[SuiteSource, ...]
    trials: int
    split: Split = "all"
    team: tuple[AgentSpec, ...] = ()
    """The tenant's other agents the spec may hand off to (installed in each world too)."""


@dataclass(frozen=True, slots=True)
class SuiteScore:
    suite: str
    tasks: int
    """Tasks run (skipped ones excluded)."""
    pass1: float | None
    passk: dict[int, float | None]
    """pass^k of the agent under test by k (1 ≤ k ≤ trials)."""


@dataclass(frozen=True, slots=True)
class EvalOutcome:
    scores: tuple[SuiteScore, ...]
    broken: tuple[str, ...] = ()
    """Tasks the controls expose (the oracle fails, do-nothing passes a write, gold refused)."""
    report: dict[str, Any] = field(default_factory=dict)
    """The full report (JSON-able; its schema belongs to the runner)."""


class EvalRunner(Protocol):
    """Runs suites on a spec (isolated from the serving process; cancelling it stops the run)."""

    def suite_name(self, yaml_text: str) -> str:
        """Validate a suite file; its ``suite`` name. Raises ``ValidationFailed``."""
        ...

    def builtin_suites(self) -> set[str]:
        """Names of the suites shipped with the runner."""
        ...

    async def run(self, job: EvalJob) -> EvalOutcome:
        """Run the job; raises only when the run itself could not happen."""
        ...


@dataclass(frozen=True, slots=True)
class Verdict:
    passed: bool
    reasons: tuple[str, ...]
    """Why it failed (empty when it passed)."""


def gates_for(spec: AgentSpec, suites: list[str]) -> list[SuiteGate]:
    """The thresholds for ``suites``: the spec's own where it names them, defaults elsewhere."""
    named = {g.suite: g for g in spec.evals}
    return [named.get(s) or SuiteGate(suite=s) for s in suites]


def judge(outcome: EvalOutcome, gates: list[SuiteGate]) -> Verdict:
    """Did every gated suite reach its pass^1 and pass^k? A suite the controls expose fails."""
    reasons: list[str] = [f"broken task: {b}" for b in outcome.broken]
    scores = {s.suite: s for s in outcome.scores}
    for gate in gates:
        score = scores.get(gate.suite)
        if score is None or score.tasks == 0:
            reasons.append(f"{gate.suite}: no task was run")
            continue
        pass1 = score.pass1 or 0.0
        if pass1 < gate.min_pass1:
            reasons.append(f"{gate.suite}: pass^1 {pass1:.2f} < {gate.min_pass1:.2f}")
        if gate.min_passk > 0:
            passk = score.passk.get(gate.k)
            if passk is None or passk < gate.min_passk:
                shown = "n/a" if passk is None else f"{passk:.2f}"
                reasons.append(f"{gate.suite}: pass^{gate.k} {shown} < {gate.min_passk:.2f}")
    return Verdict(not reasons, tuple(reasons))


def covers(spec: AgentSpec, *, suites: list[str], trials: int, split: str) -> bool:
    """Does a run of ``suites`` (``trials``, ``split``) decide the spec's gate?"""
    needed = {g.suite for g in spec.evals}
    k = max((g.k for g in spec.evals), default=1)
    return split == "all" and needed <= set(suites) and trials >= k


__all__ = [
    "EvalJob",
    "EvalOutcome",
    "EvalRunner",
    "RunStatus",
    "Split",
    "SuiteScore",
    "SuiteSource",
    "Verdict",
    "covers",
    "gates_for",
    "judge",
]
