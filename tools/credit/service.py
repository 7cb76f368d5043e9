"""Credit lifecycle: create → test → backtest → deploy → decide → explain → roll back.

:class:`CreditService` is the one entry point the router, the CLI and the
agent tools share. It stores immutable strategy versions (each with a
snapshot of its scorecard, so a version always decides the same way),
deploys by swapping the in-process live entry after re-running the
version's embedded tests, and records every decision with its reasons and
node trace. Other workers notice a deploy or rollback on their next
decision: the live deployment id is read from the database on each
persisted decision and a changed one is compiled and swapped in.

Deployments and decisions are idempotent on their key (:mod:`cockpit.idempotency`):
the row stores the request's fingerprint and the response, a retry gets that
response with ``replayed: true``, another request under the key is a 409, and
concurrent requests with one key make one row.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
import weakref
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cockpit.audit.log import AuditLog
from cockpit.db.base import utcnow
from cockpit.db.session import Database
from cockpit.errors import Conflict, NotFound
from cockpit.idempotency import Record, fingerprint, key_reused, write_once
from cockpit.progress import Progress, quiet
from tools.credit.backtest import BacktestReport, backtest
from tools.credit.catalog import DEFAULT_PORTFOLIO, builtin_scorecard, portfolio
from tools.credit.deploy_checks import check_challenger, check_share, check_tests_pass
from tools.credit.live import CompiledCache, LiveDeployment, LiveTable, applicant_key
from tools.credit.models import DecisionRow, DeploymentRow, StrategyVersionRow
from tools.credit.records import (
    decision_record,
    deployment_summary,
    explanation,
    granted_minor,
    version_summary,
)
from tools.credit.strategy import CompiledStrategy, Decision, TestReport, parse_spec
from tools.credit.what_if import what_if


def _new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:24]}"


def _hash(body: Any) -> str:
    return hashlib.sha256(
        json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


def _not_deployed(name: str, param: str) -> NotFound:
    return NotFound(f"strategy {name} is not deployed", code="strategy_not_deployed", param=param)


class CreditService:
    """Everything the credit package does for a tenant, over one database."""

    def __init__(self, db: Database, *, live: LiveTable | None = None) -> None:
        self.db = db
        self.live = live or LiveTable()
        self.audit = AuditLog(db)
        self._compiled = CompiledCache()

    def _compile(self, row: StrategyVersionRow) -> CompiledStrategy:
        return self._compiled.compile(row)

    @staticmethod
    def _version(session: Session, version_id: str) -> StrategyVersionRow:
        row = session.execute(
            select(StrategyVersionRow).where(StrategyVersionRow.id == version_id)
        ).scalar_one_or_none()
        if row is None:
            raise NotFound(
                f"no strategy version {version_id}", code="strategy_not_found", param="version_id"
            )
        return row

    # ----- versions --------------------------------------------------------------------------

    def create_version(self, tenant_id: str, body: Any, *, created_by: str) -> dict[str, Any]:
        """Validate a strategy document, run its tests and store it as the slot's next version."""
        spec = parse_spec(body)
        card = builtin_scorecard(spec.scorecard)
        version_id = _new_id("cstr")
        compiled = CompiledStrategy(version_id, spec, card)
        report = compiled.run_tests()
        spec_body = spec.model_dump(mode="json")
        card_body = card.to_dict()
        for attempt in range(3):
            try:
                with self.db.tenant_session(tenant_id) as s:
                    latest = s.execute(
                        select(func.max(StrategyVersionRow.version)).where(
                            StrategyVersionRow.name == spec.name
                        )
                    ).scalar()
                    row = StrategyVersionRow(
                        id=version_id,
                        name=spec.name,
                        version=int(latest or 0) + 1,
                        description=spec.description,
                        scorecard_name=spec.scorecard,
                        currency=spec.currency,
                        spec=spec_body,
                        scorecard=card_body,
                        content_hash=_hash({"spec": spec_body, "scorecard": card_body}),
                        tests_passed=report.passed,
                        test_report=report.to_dict(),
                        created_by=created_by,
                        created_at=utcnow(),
                    )
                    s.add(row)
                    s.flush()
                    summary = version_summary(row)
                break
            except IntegrityError:
                if attempt == 2:
                    raise Conflict(
                        "concurrent version creation; retry", code="version_race", param="name"
                    ) from None
        self._compiled.remember(compiled)
        self.audit.record(
            tenant_id,
            kind="credit_strategy_created",
            actor=created_by,
            subject=version_id,
            payload={
                "name": spec.name,
                "version": summary["version"],
                "content_hash": summary["content_hash"],
                "tests_passed": report.passed,
            },
        )
        return summary

    def list_versions(self, tenant_id: str, *, name: str | None = None) -> list[dict[str, Any]]:
        with self.db.tenant_session(tenant_id) as s:
            q = select(StrategyVersionRow).order_by(
                StrategyVersionRow.name, StrategyVersionRow.version
            )
            if name:
                q = q.where(StrategyVersionRow.name == name)
            return [version_summary(r) for r in s.execute(q).scalars()]

    def get_version(self, tenant_id: str, version_id: str) -> dict[str, Any]:
        with self.db.tenant_session(tenant_id) as s:
            return version_summary(self._version(s, version_id), full=True)

    def compiled(self, tenant_id: str, version_id: str) -> CompiledStrategy:
        with self.db.tenant_session(tenant_id) as s:
            return self._compile(self._version(s, version_id))

    def test_version(self, tenant_id: str, version_id: str) -> TestReport:
        """Re-run a stored version's embedded tests."""
        return self.compiled(tenant_id, version_id).run_tests()

    def backtest_version(
        self,
        tenant_id: str,
        version_id: str,
        *,
        portfolio_name: str | None = None,
        progress: Progress = quiet,
    ) -> BacktestReport:
        """Backtest a version; compare with the slot's live champion when there is one."""
        candidate = self.compiled(tenant_id, version_id)
        pf = portfolio(
            portfolio_name
            or DEFAULT_PORTFOLIO.get(candidate.scorecard.name, candidate.scorecard.name)
        )
        live = self._sync_live(tenant_id, candidate.name)
        champion = (
            live.champion if live is not None and live.champion.version_id != version_id else None
        )
        return backtest(candidate, pf, champion=champion, progress=progress)

    def what_if(
        self,
        tenant_id: str,
        name: str,
        changes: Mapping[str, float],
        *,
        min_score: int | None = None,
        portfolio_name: str | None = None,
    ) -> dict[str, Any]:
        """Backtest a draft of the slot's live champion with ``changes`` against the champion
        itself, storing nothing (:func:`tools.credit.what_if.what_if`)."""
        champion = self.live_deployment(tenant_id, name).champion
        base = self.get_version(tenant_id, champion.version_id)
        return what_if(champion, base, changes, min_score=min_score, portfolio_name=portfolio_name)

    # ----- deploy / rollback -------------------------------------------------------------------

    def _live_row(self, s: Session, name: str) -> DeploymentRow | None:
        q = (
            select(DeploymentRow)
            .where(DeploymentRow.name == name, DeploymentRow.rolled_back_at.is_(None))
            .order_by(DeploymentRow.created_at.desc(), DeploymentRow.id.desc())
            .limit(1)
        )
        return s.execute(q).scalar_one_or_none()

    def _materialise(self, s: Session, row: DeploymentRow) -> LiveDeployment:
        champion = self._compile(self._version(s, row.champion_id))
        challenger = (
            self._compile(self._version(s, row.challenger_id)) if row.challenger_id else None
        )
        return LiveDeployment(row.id, row.name, champion, challenger, row.challenger_share)

    def _sync_live(
        self, tenant_id: str, name: str, s: Session | None = None
    ) -> LiveDeployment | None:
        """The live deployment of a slot, refreshed from the database if another worker changed it."""
        if s is None:
            with self.db.tenant_session(tenant_id) as s2:
                return self._sync_live(tenant_id, name, s2)
        row = self._live_row(s, name)
        current = self.live.get(tenant_id, name)
        if row is None:
            if current is not None:
                self.live.swap(tenant_id, name, None)
            return None
        if current is not None and current.deployment_id == row.id:
            return current
        fresh = self._materialise(s, row)
        self.live.swap(tenant_id, name, fresh)
        return fresh

    def live_deployment(self, tenant_id: str, name: str) -> LiveDeployment:
        """The compiled live deployment of a slot (for in-process, non-persisted decisions)."""
        live = self._sync_live(tenant_id, name)
        if live is None:
            raise _not_deployed(name, "strategy")
        return live

    def deploy(
        self,
        tenant_id: str,
        version_id: str,
        *,
        created_by: str,
        challenger_version_id: str | None = None,
        challenger_share: float = 0.0,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Make a version the slot's champion (optionally with a challenger); refuse untested ones."""
        check_share(challenger_version_id, challenger_share)
        request = {
            "version_id": version_id,
            "challenger_version_id": challenger_version_id,
            "challenger_share": challenger_share,
        }
        request_hash = fingerprint(request, operation="credit.deploy")
        made: list[LiveDeployment] = []

        def write(s: Session) -> dict[str, Any]:
            response, fresh = self._deploy_in(
                s,
                version_id,
                created_by=created_by,
                challenger_version_id=challenger_version_id,
                challenger_share=challenger_share,
                idempotency_key=idempotency_key,
                request_hash=request_hash,
            )
            made.append(fresh)
            return response

        outcome = write_once(
            self.db,
            tenant_id,
            key=idempotency_key,
            request_fingerprint=request_hash,
            find=lambda s: self._prior_deployment(s, idempotency_key or ""),
            write=write,
        )
        if outcome.replayed:
            return {**outcome.response, "replayed": True}
        # Swap only after the row is committed: a failed commit leaves the old version live.
        fresh = made[-1]
        self.live.swap(tenant_id, fresh.name, fresh)
        summary = outcome.response
        self.audit.record(
            tenant_id,
            kind="credit_strategy_deployed",
            actor=created_by,
            subject=summary["id"],
            payload={
                k: summary[k]
                for k in (
                    "name",
                    "champion_version_id",
                    "challenger_version_id",
                    "challenger_share",
                )
            },
        )
        return summary

    def _deploy_in(
        self,
        s: Session,
        version_id: str,
        *,
        created_by: str,
        challenger_version_id: str | None,
        challenger_share: float,
        idempotency_key: str | None,
        request_hash: str,
    ) -> tuple[dict[str, Any], LiveDeployment]:
        """Store the deployment (with its response when keyed); the compiled entry to swap in."""
        started = time.perf_counter()
        champ_row = self._version(s, version_id)
        rows = [("version_id", champ_row)]
        if challenger_version_id is not None:
            chal_row = self._version(s, challenger_version_id)
            check_challenger(champ_row, chal_row)
            rows.append(("challenger_version_id", chal_row))
        for param, row in rows:
            check_tests_pass(row, self._compile(row), param)
        previous = self._live_row(s, champ_row.name)
        dep = DeploymentRow(
            id=_new_id("cdep"),
            name=champ_row.name,
            champion_id=champ_row.id,
            challenger_id=challenger_version_id,
            challenger_share=challenger_share if challenger_version_id else 0.0,
            created_by=created_by,
            created_at=utcnow(),
            idempotency_key=idempotency_key,
            request_hash=request_hash if idempotency_key else None,
        )
        fresh = self._materialise(s, dep)
        response = {
            **deployment_summary(dep),
            "previous_champion_version_id": previous.champion_id if previous else None,
            "deploy_ms": round((time.perf_counter() - started) * 1000, 2),
            "replayed": False,
        }
        dep.response = response if idempotency_key else None
        s.add(dep)
        s.flush()
        return response, fresh

    @staticmethod
    def _prior_deployment(s: Session, idempotency_key: str) -> Record | None:
        prior = s.execute(
            select(DeploymentRow).where(DeploymentRow.idempotency_key == idempotency_key)
        ).scalar_one_or_none()
        if prior is None:
            return None
        return Record(prior.request_hash, prior.response or deployment_summary(prior))

    def rollback(self, tenant_id: str, name: str, *, created_by: str) -> dict[str, Any]:
        """Retire the slot's live deployment; the one before it becomes live again."""
        with self.db.tenant_session(tenant_id) as s:
            current = self._live_row(s, name)
            if current is None:
                raise _not_deployed(name, "name")
            current.rolled_back_at = utcnow()
            s.flush()
            restored = self._live_row(s, name)
            if restored is None:
                raise Conflict(
                    f"strategy {name} has no earlier deployment to roll back to",
                    code="nothing_to_roll_back",
                    param="name",
                )
            fresh = self._materialise(s, restored)
            out: dict[str, Any] = {
                "rolled_back": deployment_summary(current),
                "live": deployment_summary(restored),
                "by": created_by,
            }
        self.live.swap(tenant_id, name, fresh)
        self.audit.record(
            tenant_id,
            kind="credit_strategy_rolled_back",
            actor=created_by,
            subject=out["rolled_back"]["id"],
            payload={"name": name, "live_version_id": out["live"]["champion_version_id"]},
        )
        return out

    def deployment(self, tenant_id: str, name: str) -> dict[str, Any]:
        with self.db.tenant_session(tenant_id) as s:
            row = self._live_row(s, name)
            if row is None:
                raise _not_deployed(name, "name")
            return deployment_summary(row)

    # ----- decisions ---------------------------------------------------------------------------

    def preview(
        self,
        tenant_id: str,
        name: str,
        applicant: Mapping[str, Any],
        *,
        application_id: str | None = None,
    ) -> tuple[str, Decision]:
        """Decide on the live strategy without recording anything."""
        return self.live_deployment(tenant_id, name).decide(
            applicant, application_id=application_id, trace=True
        )

    def decide(
        self,
        tenant_id: str,
        name: str,
        applicant: Mapping[str, Any],
        *,
        created_by: str,
        merchant_id: str | None = None,
        application_id: str | None = None,
        idempotency_key: str | None = None,
        kind: str = "decision",
        grant_minor: int | None = None,
        grant_currency: str | None = None,
    ) -> dict[str, Any]:
        """Decide on the live strategy and store the decision (idempotent on ``idempotency_key``).

        ``merchant_id`` is the merchant the decision is for (``None``: tenant-level); the caller
        resolves it from the key. ``grant_minor`` (final decisions) grants that limit instead of
        the strategy's, and must not exceed it; a strategy decline is recorded as a decline
        whatever was asked.
        """
        request = {
            "strategy": name,
            "applicant": dict(applicant),
            "merchant_id": merchant_id,
            "application_id": application_id,
            "kind": kind,
            "grant_minor": grant_minor,
            "grant_currency": grant_currency,
        }
        request_hash = fingerprint(request, operation="credit.decide")
        routed: list[str] = []

        def write(s: Session) -> dict[str, Any]:
            live = self._sync_live(tenant_id, name, s)
            if live is None:
                raise _not_deployed(name, "strategy")
            arm, strategy, other = live.route(applicant_key(applicant, application_id))
            routed.append(arm)
            decision = strategy.decide(applicant, trace=True)
            limit_minor = granted_minor(decision, name, grant_minor, grant_currency)
            shadow = None
            if other is not None:
                alt = other.decide(applicant, validated=True)
                shadow = {
                    "version_id": alt.version_id,
                    "decision": alt.outcome,
                    "limit": alt.limit,
                    "price": alt.price,
                }
            row = DecisionRow(
                id=_new_id("cdec"),
                application_id=application_id,
                merchant_id=merchant_id,
                strategy=name,
                version_id=decision.version_id,
                deployment_id=live.deployment_id,
                arm=arm,
                kind=kind,
                outcome=decision.outcome,
                limit_minor=limit_minor,
                currency=decision.currency,
                price_apr=decision.price,
                score=decision.score,
                pd=decision.pd,
                reasons=[r.to_dict() for r in decision.reasons],
                points=decision.points,
                applicant=dict(strategy.scorecard.validate(applicant)),
                trace=decision.trace or [],
                shadow=shadow,
                idempotency_key=idempotency_key,
                request_hash=request_hash if idempotency_key else None,
                created_by=created_by,
                created_at=utcnow(),
            )
            record = decision_record(row)
            row.response = record if idempotency_key else None
            s.add(row)
            s.flush()
            return record

        outcome = write_once(
            self.db,
            tenant_id,
            key=idempotency_key,
            request_fingerprint=request_hash,
            find=lambda s: self._prior(s, idempotency_key or "", merchant_id),
            write=write,
        )
        if outcome.replayed:
            return {**outcome.response, "replayed": True}
        record = outcome.response
        self.audit.record(
            tenant_id,
            kind="credit_decision",
            actor=created_by,
            subject=record["id"],
            payload={
                "kind": kind,
                "merchant_id": merchant_id,
                "strategy": name,
                "version_id": record["version_id"],
                "arm": routed[-1],
                "decision": record["decision"],
                "limit_minor": record["limit_minor"],
                "currency": record["currency"],
                "score": record["score"],
                "reason_codes": [r["code"] for r in record["reasons"]],
            },
        )
        return record

    @staticmethod
    def _prior(s: Session, idempotency_key: str, merchant_id: str | None) -> Record | None:
        """The decision stored under this key. A row from before keys were fingerprinted has no
        hash to compare: one for another merchant is still a conflict, not a replay (a merchant
        key must not read another merchant's decision by reusing its key)."""
        prior = s.execute(
            select(DecisionRow).where(DecisionRow.idempotency_key == idempotency_key)
        ).scalar_one_or_none()
        if prior is None:
            return None
        if prior.request_hash is None and prior.merchant_id != merchant_id:
            raise key_reused(idempotency_key)
        return Record(prior.request_hash, prior.response or decision_record(prior))

    def get_decision(
        self, tenant_id: str, decision_id: str, *, merchant_id: str | None = None
    ) -> dict[str, Any]:
        """A stored decision; with ``merchant_id`` (a merchant-bound caller) only that merchant's."""
        with self.db.tenant_session(tenant_id) as s:
            return decision_record(self._decision(s, decision_id, merchant_id))

    @staticmethod
    def _decision(s: Session, decision_id: str, merchant_id: str | None = None) -> DecisionRow:
        """The decision, scoped to ``merchant_id`` when given: another merchant's decision is not
        found, exactly like an unknown id (nothing tells them apart)."""
        q = select(DecisionRow).where(DecisionRow.id == decision_id)
        if merchant_id is not None:
            q = q.where(DecisionRow.merchant_id == merchant_id)
        row = s.execute(q).scalar_one_or_none()
        if row is None:
            raise NotFound(
                f"no credit decision {decision_id}", code="decision_not_found", param="decision_id"
            )
        return row

    def explain(
        self, tenant_id: str, decision_id: str, *, merchant_id: str | None = None
    ) -> dict[str, Any]:
        """A stored decision with its points, score factors, node trace and inputs (scoped to
        ``merchant_id`` when given, as :meth:`get_decision`)."""
        with self.db.tenant_session(tenant_id) as s:
            row = self._decision(s, decision_id, merchant_id)
            card = self._compile(self._version(s, row.version_id)).scorecard
            return explanation(row, card)


_SERVICES: weakref.WeakKeyDictionary[Database, CreditService] = weakref.WeakKeyDictionary()


def service_for(db: Database) -> CreditService:
    """The process-wide service of a database (router, tools and CLI share its live table)."""
    svc = _SERVICES.get(db)
    if svc is None:
        svc = _SERVICES[db] = CreditService(db)
    return svc


__all__ = ["CreditService", "service_for"]
