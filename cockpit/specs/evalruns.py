"""Eval runs per tenant: start them in the background, store their reports, and gate ``live``.

A run judges one spec version (by content hash) on named suites — the tenant's own YAML, stored
when a run request carries it, or the built-in ``evals/suites/<name>`` — through the
:class:`~cockpit.specs.gate.EvalRunner` the composition root provides. Runs go one at a time
per process (the machine is small and a run serves many app instances). This module never
imports ``evals``.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from sqlalchemy import select

from cockpit.audit.log import AuditLog
from cockpit.clock import utcnow
from cockpit.db.base import iso
from cockpit.db.session import Database
from cockpit.errors import CockpitError, Conflict, NotFound, ValidationFailed
from cockpit.specs.gate import (
    EvalJob,
    EvalOutcome,
    EvalRunner,
    SuiteSource,
    covers,
    gates_for,
    judge,
)
from cockpit.specs.models import EvalRun, EvalSuite
from cockpit.specs.registry import ResolvedAgent, SpecRegistry
from cockpit.specs.spec import AgentSpec

MAX_TRIALS = 16
REUSE = timedelta(days=7)
"""A passing gate run of the same spec hash is reused for this long."""


def run_json(row: EvalRun, *, report: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "run_id": row.id,
        "agent_id": row.agent_id,
        "version": row.version,
        "spec_hash": row.spec_hash,
        "suites": list(row.suites),
        "trials": row.trials,
        "split": row.split,
        "status": row.status,
        "gate": row.gate,
        "result": row.result,
        "error": row.error,
        "created_at": iso(row.created_at),
        "finished_at": iso(row.finished_at) if row.finished_at else None,
    }
    if report:
        out["report"] = row.report
    return out


@dataclass(frozen=True, slots=True)
class GateDecision:
    """What the gate says about publishing one spec version."""

    decision: Literal["passed", "failed", "ungated"]
    run: EvalRun | None = None
    reused: bool = False
    """The run is an earlier passing one of the same spec hash."""
    reasons: tuple[str, ...] = ()

    def payload(self) -> dict[str, Any]:
        """For the audit log and the 409's details."""
        return {
            "decision": self.decision,
            "run_id": self.run.id if self.run else None,
            "reused": self.reused,
            "status": self.run.status if self.run else None,
            "result": self.run.result if self.run else None,
            "error": self.run.error if self.run else None,
            "reasons": list(self.reasons),
        }


class EvalService:
    def __init__(
        self, db: Database, specs: SpecRegistry, runner: EvalRunner | None, *, concurrency: int = 1
    ) -> None:
        self._db = db
        self._specs = specs
        self.runner = runner
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[EvalRun]] = set()

    # -- requests --------------------------------------------------------------------------

    def _runner(self) -> EvalRunner:
        if self.runner is None:
            raise ValidationFailed(
                "evals are not installed on this server", code="evals_unavailable"
            )
        return self.runner

    def store_suites(self, tenant_id: str, texts: list[str]) -> list[str]:
        """Validate and store the tenant's suite files (the newest by name wins); their names."""
        runner = self._runner()
        named = [(runner.suite_name(text), text) for text in texts]
        with self._db.tenant_session(tenant_id) as s:
            for name, text in named:
                row = s.scalars(select(EvalSuite).where(EvalSuite.name == name)).one_or_none()
                if row is None:
                    s.add(EvalSuite(name=name, yaml=text))
                else:
                    row.yaml = text
                    row.updated_at = utcnow()
        return [name for name, _ in named]

    def _sources(self, tenant_id: str, names: list[str]) -> tuple[SuiteSource, ...]:
        with self._db.tenant_session(tenant_id) as s:
            own = {
                r.name: r.yaml
                for r in s.scalars(select(EvalSuite).where(EvalSuite.name.in_(names)))
            }
        builtin = self._runner().builtin_suites()
        out = []
        for i, name in enumerate(names):
            if name not in own and name not in builtin:
                raise ValidationFailed(
                    f"suites.{i}: no suite {name!r} (send its YAML with the run, or name a "
                    f"built-in one: {', '.join(sorted(builtin)) or 'none'})",
                    code="unknown_suite",
                    param=f"suites.{i}",
                )
            out.append(SuiteSource(name, own.get(name)))
        return tuple(out)

    def _team(self, tenant_id: str, spec: AgentSpec) -> tuple[AgentSpec, ...]:
        """The tenant's own agents reachable by handoffs (built-ins are in every world)."""
        seen, todo, team = {spec.id}, list(spec.handoffs), []
        while todo:
            agent_id = todo.pop()
            if agent_id in seen:
                continue
            seen.add(agent_id)
            try:
                r = self._specs.resolve(tenant_id, agent_id)
            except NotFound:
                continue
            if r.source == "tenant":
                team.append(r.spec)
            todo.extend(r.spec.handoffs)
        return tuple(team)

    def create(
        self,
        tenant_id: str,
        agent: ResolvedAgent,
        *,
        suites: list[str],
        trials: int | None,
        split: str,
        created_by: str,
    ) -> tuple[EvalRun, EvalJob]:
        """Store a ``running`` run of ``agent`` on ``suites`` (default: the spec's own)."""
        spec = agent.spec
        names = list(dict.fromkeys(suites or [g.suite for g in spec.evals]))
        if not names:
            raise ValidationFailed(
                "name the suites to run (the spec's evals name none)",
                code="no_suites",
                param="suites",
            )
        k = max((g.k for g in gates_for(spec, names)), default=1)
        trials = trials or k
        if not 1 <= trials <= MAX_TRIALS:
            raise ValidationFailed(
                f"trials must be 1–{MAX_TRIALS}", code="invalid_trials", param="trials"
            )
        job = EvalJob(
            spec=spec,
            suites=self._sources(tenant_id, names),
            trials=trials,
            split=split,  # type: ignore[arg-type]  # validated at the boundary
            team=self._team(tenant_id, spec),
        )
        row = EvalRun(
            id=f"evr_{secrets.token_hex(8)}",
            agent_id=spec.id,
            version=agent.version,
            spec_hash=spec.content_hash(),
            suites=names,
            trials=trials,
            split=split,
            status="running",
            gate=covers(spec, suites=names, trials=trials, split=split),
            created_by=created_by,
        )
        with self._db.tenant_session(tenant_id) as s:
            s.add(row)
            s.flush()
            s.expunge(row)
        return row, job

    # -- running ---------------------------------------------------------------------------

    def start(self, tenant_id: str, row: EvalRun, job: EvalJob) -> None:
        """Run in the background (one at a time); the row's status tells when it is done."""
        task = asyncio.get_running_loop().create_task(self.execute(tenant_id, row.id, job))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def execute(self, tenant_id: str, run_id: str, job: EvalJob) -> EvalRun:
        """Run the job now (waiting for a free slot) and store its outcome."""
        outcome: EvalOutcome | None = None
        error: str | None = None
        async with self._slots:
            try:
                outcome = await self._runner().run(job)
            except Exception as exc:  # the run failed to happen; the row says why
                error = f"{type(exc).__name__}: {exc}"[:2000]
        return await asyncio.to_thread(self._store_outcome, tenant_id, run_id, job, outcome, error)

    def _store_outcome(
        self,
        tenant_id: str,
        run_id: str,
        job: EvalJob,
        outcome: EvalOutcome | None,
        error: str | None,
    ) -> EvalRun:
        with self._db.tenant_session(tenant_id) as s:
            row = s.get(EvalRun, run_id)
            assert row is not None
            row.finished_at = utcnow()
            if outcome is None:
                row.status, row.error = "error", error
            else:
                verdict = judge(outcome, gates_for(job.spec, list(row.suites)))
                row.status = "passed" if verdict.passed else "failed"
                row.result = {
                    "scores": [
                        {
                            "suite": sc.suite,
                            "tasks": sc.tasks,
                            "pass^1": sc.pass1,
                            **{f"pass^{k}": v for k, v in sc.passk.items() if k != 1},
                        }
                        for sc in outcome.scores
                    ],
                    "broken": list(outcome.broken),
                    "reasons": list(verdict.reasons),
                }
                row.report = outcome.report
            s.flush()
            s.expunge(row)
        return row

    async def shutdown(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def gate(self, tenant_id: str, agent: ResolvedAgent, *, created_by: str) -> GateDecision:
        """May ``live`` point at ``agent``? Reuse a recent passing run of its hash, or run one.

        A spec whose ``evals`` name no suite is ungated: it publishes, and the audit says so.
        """
        spec = agent.spec
        if not spec.evals:
            return GateDecision("ungated")
        reused = await asyncio.to_thread(self.passing_run, tenant_id, spec)
        if reused is not None:
            return GateDecision("passed", reused, reused=True)
        try:
            row, job = await asyncio.to_thread(
                self.create,
                tenant_id,
                agent,
                suites=[],
                trials=None,
                split="all",
                created_by=created_by,
            )
        except CockpitError as exc:  # an unknown suite, no runner: nothing can pass
            return GateDecision("failed", reasons=(f"{exc.code}: {exc.message}",))
        row = await self.execute(tenant_id, row.id, job)
        reasons = tuple((row.result or {}).get("reasons") or ([row.error] if row.error else []))
        return GateDecision("passed" if row.status == "passed" else "failed", row, False, reasons)

    async def publish(
        self,
        audit: AuditLog,
        tenant_id: str,
        agent_id: str,
        version: int,
        *,
        actor: str,
        created_by: str,
        force: bool = False,
        reason: str | None = None,
    ) -> dict[str, Any]:
        """The gate for ``live`` → ``version`` (API and CLI alike): decide, audit, 409 on failure.

        Who may force is the caller's check; here a force only needs its reason.
        """
        try:
            target = await asyncio.to_thread(
                self._specs.resolve, tenant_id, f"{agent_id}@v{version}"
            )
        except NotFound:
            raise NotFound(
                f"no version {version} of agent {agent_id!r}",
                code="agent_version_not_found",
                param="version",
            ) from None
        record: dict[str, Any] = {"version": version, "hash": target.spec.content_hash()}
        if force:
            if not (reason or "").strip():
                raise ValidationFailed(
                    "a forced publish needs a reason", code="reason_required", param="reason"
                )
            record |= {"decision": "forced", "reason": reason}
        else:
            record |= (await self.gate(tenant_id, target, created_by=created_by)).payload()
        await asyncio.to_thread(
            audit.record,
            tenant_id,
            kind="agent_publish_gate",
            actor=actor,
            subject=agent_id,
            payload=record,
        )
        if record["decision"] == "failed":
            raise Conflict(
                f"{agent_id} v{version} did not pass its eval gate: "
                + ("; ".join(record["reasons"]) or "see details"),
                code="eval_gate_failed",
                details=record,
            )
        return record

    # -- reading ---------------------------------------------------------------------------

    def get(self, tenant_id: str, run_id: str) -> EvalRun:
        with self._db.tenant_session(tenant_id) as s:
            row = s.get(EvalRun, run_id)
            if row is None or row.tenant_id != tenant_id:
                raise NotFound(f"no eval run {run_id!r}", code="eval_run_not_found")
            s.expunge(row)
        return row

    def list(
        self, tenant_id: str, *, agent_id: str | None = None, limit: int = 50
    ) -> list[EvalRun]:
        with self._db.tenant_session(tenant_id) as s:
            q = select(EvalRun).order_by(EvalRun.created_at.desc()).limit(limit)
            if agent_id:
                q = q.where(EvalRun.agent_id == agent_id)
            rows = list(s.scalars(q))
            for r in rows:
                s.expunge(r)
        return rows

    def passing_run(self, tenant_id: str, spec: AgentSpec) -> EvalRun | None:
        """A recent passing run that decides this exact spec's gate, if any."""
        since = utcnow() - REUSE
        with self._db.tenant_session(tenant_id) as s:
            row = s.scalars(
                select(EvalRun)
                .where(
                    EvalRun.spec_hash == spec.content_hash(),
                    EvalRun.status == "passed",
                    EvalRun.gate.is_(True),
                    EvalRun.created_at >= since,
                )
                .order_by(EvalRun.created_at.desc())
                .limit(1)
            ).one_or_none()
            if row is not None:
                s.expunge(row)
        return row


__all__ = ["MAX_TRIALS", "REUSE", "EvalService", "GateDecision", "run_json"]
