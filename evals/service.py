"""The platform's eval runner: runs an :class:`~cockpit.specs.gate.EvalJob` in a child process.

A run seeds worlds, installs the platform clock and hosts apps; none of that may touch the
serving process, so each job runs as ``python -m evals.service JOB_DIR`` (in-process worlds
inside the child) and answers with ``outcome.json``. Cancelling the run kills the child.
The composition root (``cockpit/app.py``) wires :class:`SubprocessEvalRunner` in.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from cockpit.errors import CockpitError, ValidationFailed
from cockpit.specs.gate import EvalJob, EvalOutcome, SuiteScore
from cockpit.specs.spec import AgentSpec
from evals.controls import CONTROLS
from evals.runner import RunOptions, run_tasks
from evals.scoring import mean_pass_hat_k
from evals.suites import SUITES_DIR, load_suites, select_tasks
from evals.task import parse_suite

JOB = "job.json"
OUTCOME = "outcome.json"


class SubprocessEvalRunner:
    """Implements ``cockpit.specs.gate.EvalRunner``."""

    def __init__(self, *, cache: Path, timeout_s: float = 3600.0) -> None:
        self.cache = cache
        """Seeded world templates, kept between runs."""
        self.timeout_s = timeout_s

    def suite_name(self, yaml_text: str) -> str:
        try:
            data = yaml.safe_load(yaml_text)
        except yaml.YAMLError as exc:
            raise ValidationFailed(f"suite: not YAML: {exc}", code="invalid_suite") from None
        try:
            return parse_suite(data, source="suite").suite
        except CockpitError as exc:
            raise ValidationFailed(exc.message, code="invalid_suite", param=exc.param) from None

    def builtin_suites(self) -> set[str]:
        return (
            {p.name for p in SUITES_DIR.iterdir() if p.is_dir()} if SUITES_DIR.exists() else set()
        )

    async def run(self, job: EvalJob) -> EvalOutcome:
        with tempfile.TemporaryDirectory(prefix="cockpit-evalrun-") as tmp:
            folder = Path(tmp)
            suites = []
            for i, source in enumerate(job.suites):
                entry: dict[str, Any] = {"name": source.name}
                if source.yaml is not None:
                    path = folder / f"suite-{i}.yaml"
                    path.write_text(source.yaml, encoding="utf-8")
                    entry["file"] = str(path)
                suites.append(entry)
            (folder / JOB).write_text(
                json.dumps(
                    {
                        "spec": job.spec.model_dump(mode="json"),
                        "team": [s.model_dump(mode="json") for s in job.team],
                        "suites": suites,
                        "trials": job.trials,
                        "split": job.split,
                        "cache": str(self.cache),
                    }
                )
            )
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "evals.service",
                str(folder),
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
                # The worlds configure themselves: the server's database, model override or
                # Chroma server must never leak into them.
                env={k: v for k, v in os.environ.items() if not k.startswith("COCKPIT_")},
            )
            try:
                _, err = await asyncio.wait_for(proc.communicate(), self.timeout_s)
            except BaseException:  # cancelled or timed out: the child must not outlive the run
                proc.kill()
                await proc.wait()
                raise
            outcome = folder / OUTCOME
            if proc.returncode != 0 or not outcome.exists():
                tail = err.decode(errors="replace").strip().splitlines()[-5:]
                raise RuntimeError(f"eval run exited {proc.returncode}: {' | '.join(tail)}")
            return _outcome(json.loads(outcome.read_text()))


def _outcome(data: dict[str, Any]) -> EvalOutcome:
    scores = tuple(
        SuiteScore(
            suite=s["suite"],
            tasks=s["tasks"],
            pass1=s["pass1"],
            passk={int(k): v for k, v in s["passk"].items()},
        )
        for s in data["scores"]
    )
    return EvalOutcome(scores, tuple(data["broken"]), data["report"])


def scores(report: dict[str, Any], *, agent: str, suites: list[str]) -> list[dict[str, Any]]:
    """pass^1 … pass^trials of ``agent`` per suite, from a report's per-task results."""
    out = []
    for suite in suites:
        items = [
            (a["successes"], a["trials"])
            for t in report["tasks"]
            if t["suite"] == suite
            for label, a in t["agents"].items()
            if label == agent and a["trials"] > 0
        ]
        ks = range(1, int(report["trials"]) + 1)
        out.append(
            {
                "suite": suite,
                "tasks": len(items),
                "pass1": mean_pass_hat_k(items, 1),
                "passk": {str(k): mean_pass_hat_k(items, k) for k in ks},
            }
        )
    return out


def run_job(folder: Path) -> dict[str, Any]:
    """The child's side: load the job, run it (worlds in-process), summarise."""
    from evals.report import summarise

    job = json.loads((folder / JOB).read_text())
    spec = AgentSpec.model_validate(job["spec"])
    team = tuple(AgentSpec.model_validate(s) for s in job["team"])
    names = [str(s["name"]) for s in job["suites"]]
    tasks = [
        (name, task)  # scored under the name the gate asked for
        for name, entry in zip(names, job["suites"], strict=True)
        for _, task in select_tasks(load_suites(entry.get("file") or name), split=job["split"])
    ]
    opts = RunOptions(
        trials=int(job["trials"]), in_process=True, cache=Path(job["cache"]), specs=(spec, *team)
    )
    runs = run_tasks(tasks, opts=opts, agent_override=spec.id)
    report = summarise(runs, trials=opts.trials)
    broken = [item for items in report["checks"].values() for item in items]
    assert spec.id not in CONTROLS
    return {
        "scores": scores(report, agent=spec.id, suites=names),
        "broken": broken,
        "report": report,
    }


def main(argv: list[str]) -> int:
    folder = Path(argv[0])
    (folder / OUTCOME).write_text(json.dumps(run_job(folder), default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))


__all__ = ["SubprocessEvalRunner", "run_job", "scores"]
