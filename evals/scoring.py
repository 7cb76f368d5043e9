"""Scoring: a trial's reward, the trajectory diagnostic, and pass^k over trials.

Reward is 1 only when the agent's world equals the gold replay's world AND every assertion
holds AND every fact was communicated AND nothing forbidden was called AND no call was refused
by policy (a violation fails hard, whatever the end state). The trajectory match is reported but
never decides the reward: there are many right ways to reach the same end state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import comb
from typing import Any

from evals.matchers import args_match
from evals.task import Forbidden, GoldAction
from evals.transcript import ToolCall

#: Error types of a call the platform refused on policy or rights grounds.
VIOLATION_TYPES = frozenset({"policy_error", "permission_error"})


def pass_hat_k(successes: int, trials: int, k: int) -> float:
    """τ-bench pass^k for one task: the chance that k trials drawn from n all succeed."""
    if not 0 <= successes <= trials:
        raise ValueError("successes must be between 0 and trials")
    if k < 1 or k > trials:
        raise ValueError(f"pass^{k} needs at least {k} trials (have {trials})")
    return comb(successes, k) / comb(trials, k)


def mean_pass_hat_k(results: list[tuple[int, int]], k: int) -> float | None:
    """pass^k averaged over tasks given ``(successes, trials)``; None when no task has k trials."""
    scores = [pass_hat_k(s, n, k) for s, n in results if n >= k]
    return sum(scores) / len(scores) if scores else None


@dataclass(frozen=True, slots=True)
class Trajectory:
    exact: bool
    in_order: bool
    any_order: bool


def _matches(gold: GoldAction, call: ToolCall) -> bool:
    return gold.tool == call.tool and args_match(gold.matchers(gold.args), call.args)


def trajectory(gold: list[GoldAction], calls: list[ToolCall]) -> Trajectory:
    """Gold calls against the agent's: the same list, a subsequence, or all present."""
    made = [c for c in calls if c.ok or c.rejected]  # an attempt the user rejected still counts
    exact = len(gold) == len(made) and all(_matches(g, c) for g, c in zip(gold, made, strict=False))
    pos, in_order = 0, True
    for g in gold:
        while pos < len(made) and not _matches(g, made[pos]):
            pos += 1
        if pos == len(made):
            in_order = False
            break
        pos += 1
    free = list(made)
    any_order = True
    for g in gold:
        hit = next((c for c in free if _matches(g, c)), None)
        if hit is None:
            any_order = False
            break
        free.remove(hit)
    return Trajectory(exact, in_order, any_order)


def forbidden_hits(forbidden: list[Forbidden], calls: list[ToolCall]) -> list[str]:
    return [
        f"{c.tool}({c.args})"
        for f in forbidden
        for c in calls
        if c.tool == f.tool and args_match(f.matchers(f.args), c.args)
    ]


def violations(calls: list[ToolCall]) -> list[str]:
    return [f"{c.tool}: {c.error_code}" for c in calls if c.error_type in VIOLATION_TYPES]


def missing_facts(facts: list[str], answers: list[str]) -> list[str]:
    text = "\n".join(answers).casefold()
    return [f for f in facts if f.casefold() not in text]


@dataclass
class Verdict:
    """Why a trial passed or failed."""

    state_equal: bool
    assertions_ok: bool
    missing_facts: list[str] = field(default_factory=list)
    forbidden: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def passed(self) -> bool:
        return (
            self.error is None
            and self.state_equal
            and self.assertions_ok
            and not self.missing_facts
            and not self.forbidden
            and not self.violations
        )

    def reasons(self) -> list[str]:
        out: list[str] = []
        if self.error:
            out.append(f"error: {self.error}")
        if not self.state_equal:
            out.append("end state differs from the gold replay")
        if not self.assertions_ok:
            out.append("an assertion failed")
        out += [f"not communicated: {f}" for f in self.missing_facts]
        out += [f"forbidden call: {f}" for f in self.forbidden]
        out += [f"policy violation: {v}" for v in self.violations]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "reasons": self.reasons()}


__all__ = [
    "Trajectory",
    "Verdict",
    "forbidden_hits",
    "mean_pass_hat_k",
    "missing_facts",
    "pass_hat_k",
    "trajectory",
    "violations",
]
