"""A run's results as one plain, JSON-able report: per task and agent, and pass^k per suite/split.

Every writer (JSON, Markdown, HTML, JUnit) and the run-to-run diff read this dict, never the
runner's objects, so a stored report can be re-rendered or compared later.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from cockpit.clock import utcnow
from evals.controls import CONTROLS, DO_NOTHING, ORACLE
from evals.runner import TaskRun, TrialResult
from evals.scoring import mean_pass_hat_k, pass_hat_k

REPORT_SCHEMA = "cockpit.eval-report/v1"
GATE_TAG = "gate"
"""A task tagged so must pass on its agent, or the run fails (``cockpit eval run`` exits 1)."""


def _ks(trials: int) -> list[int]:
    return sorted({1, 4, trials} & set(range(1, trials + 1))) or [1]


def _trial(r: TrialResult) -> dict[str, Any]:
    return {
        "trial": r.trial,
        "passed": r.passed,
        "skipped": r.skipped,
        "reasons": r.verdict.reasons(),
        "seconds": round(r.seconds, 3),
        "trajectory": asdict(r.trajectory) if r.trajectory else None,
        "assertions": [asdict(a) for a in r.assertions],
        "state_diff": r.state_diff,
        "transcript": r.transcript.to_dict(),
    }


def _pass_k(successes: int, trials: int, k: int, control: bool) -> float | None:
    if trials == 0:
        return None
    if control and trials < k:
        return successes / trials  # controls are deterministic: one trial says it all
    return pass_hat_k(successes, trials, k) if k <= trials else None


def summarise(
    runs: list[TaskRun], *, trials: int, started: datetime | None = None
) -> dict[str, Any]:
    ks = _ks(trials)
    tasks: list[dict[str, Any]] = []
    for run in runs:
        agents: dict[str, Any] = {}
        for label, results in run.trials.items():
            done = [r for r in results if r.skipped is None]
            s = sum(r.passed for r in done)
            control = label in CONTROLS
            agents[label] = {
                "control": control,
                "successes": s,
                "trials": len(done),
                "skipped": len(results) - len(done),
                "pass": {str(k): _pass_k(s, len(done), k, control) for k in ks},
                "results": [_trial(r) for r in results],
            }
        tasks.append(
            {
                "suite": run.suite,
                "task": run.task.id,
                "agent": run.task.agent,
                "split": run.task.split,
                "tags": list(run.task.tags),
                "writes": run.gold.writes,
                "gold_error": run.gold.error,
                "agents": agents,
            }
        )
    return {
        "schema": REPORT_SCHEMA,
        "started": (started or utcnow()).isoformat(),
        "trials": trials,
        "ks": ks,
        "rows": rows(tasks, ks),
        "checks": {**control_checks(tasks), "gate_failed": gate_failures(tasks)},
        "tasks": tasks,
    }


def rows(tasks: list[dict[str, Any]], ks: list[int]) -> list[dict[str, Any]]:
    """pass^k per (agent row, suite, split), splits ``dev``, ``heldout`` and ``all``."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for t in tasks:
        for label, a in t["agents"].items():
            if a["trials"] == 0:
                continue
            for split in (t["split"], "all"):
                groups.setdefault((label, t["suite"], split), []).append(a)
    out = []
    for (label, suite, split), items in sorted(groups.items()):
        control = label in CONTROLS
        row: dict[str, Any] = {"agent": label, "suite": suite, "split": split, "tasks": len(items)}
        for k in ks:
            vals = [a["pass"][str(k)] for a in items if a["pass"].get(str(k)) is not None]
            if not control:
                vals = [
                    v
                    for v in [mean_pass_hat_k([(a["successes"], a["trials"])], k) for a in items]
                    if v is not None
                ]
            row[f"pass^{k}"] = round(sum(vals) / len(vals), 4) if vals else None
        out.append(row)
    return out


def _mean(values: list[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return round(sum(kept) / len(kept), 4) if kept else None


def agent_figures(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """pass^k per agent over all its tasks (every suite), held-out apart; the controls by name."""
    by: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {}
    for t in report["tasks"]:
        for label, a in t["agents"].items():
            if a["trials"]:
                by.setdefault(label, []).append((t, a))
    out: dict[str, dict[str, Any]] = {}
    for label, items in sorted(by.items(), key=lambda kv: (kv[0] in CONTROLS, kv[0])):
        fig: dict[str, Any] = {"tasks": len(items)}
        for split in ("all", "heldout"):
            part = [a for t, a in items if split in ("all", t["split"])]
            vals = {f"pass^{k}": _mean([a["pass"][str(k)] for a in part]) for k in report["ks"]}
            if split == "all":
                fig.update(vals)
            elif part:
                fig["heldout"] = {"tasks": len(part), **vals}
        if label == DO_NOTHING:
            writes = [a for t, a in items if t["writes"]]
            fig["write_tasks"] = len(writes)
            fig["write_tasks_passed"] = sum(1 for a in writes if a["successes"])
        out[label] = fig
    return out


def control_checks(tasks: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Tasks the controls expose as broken: the oracle fails, or do-nothing passes a write."""
    oracle_fails = [
        f"{t['suite']}/{t['task']}"
        for t in tasks
        if ORACLE in t["agents"]
        and t["agents"][ORACLE]["successes"] < t["agents"][ORACLE]["trials"]
    ]
    idle_passes = [
        f"{t['suite']}/{t['task']}"
        for t in tasks
        if t["writes"] and DO_NOTHING in t["agents"] and t["agents"][DO_NOTHING]["successes"] > 0
    ]
    gold_errors = [f"{t['suite']}/{t['task']}: {t['gold_error']}" for t in tasks if t["gold_error"]]
    return {
        "oracle_failed": oracle_fails,
        "do_nothing_passed_write": idle_passes,
        "gold_errors": gold_errors,
    }


def gate_failures(tasks: list[dict[str, Any]]) -> list[str]:
    """Tasks tagged ``gate`` that their own agent failed in any trial (CI fails on them)."""
    return [
        f"{t['suite']}/{t['task']}"
        for t in tasks
        if GATE_TAG in t.get("tags", ())
        and (own := t["agents"].get(t["agent"])) is not None
        and own["successes"] < own["trials"]
    ]


def failures(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Each failed trial with its task, agent, reasons, transcript and state diff."""
    out = []
    for t in report["tasks"]:
        for label, a in t["agents"].items():
            for r in a["results"]:
                if not r["passed"] and r["skipped"] is None and label != DO_NOTHING:
                    out.append({"suite": t["suite"], "task": t["task"], "agent": label, **r})
    return out


__all__ = [
    "GATE_TAG",
    "REPORT_SCHEMA",
    "agent_figures",
    "control_checks",
    "failures",
    "gate_failures",
    "rows",
    "summarise",
]
