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
import threading
import time
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cockpit.audit.log import AuditLog
from cockpit.db.base import utcnow
from cockpit.db.session import Database
from cockpit.errors import Conflict, NotFound, ToolError, ValidationFailed
from cockpit.idempotency import Record, fingerprint, key_reused, write_once
from cockpit.progress import Progress, quiet
from tools.credit.backtest import BacktestReport, backtest
from tools.credit.catalog import DEFAULT_PORTFOLIO, builtin_scorecard, portfolio
from tools.credit.live import LiveDeployment, LiveTable, applicant_key
from tools.credit.models import DecisionRow, DeploymentRow, StrategyVersionRow
from tools.credit.proposal import derive, read_settings
from tools.credit.records import (
    decision_record,
    deployment_summary,
    minor_units,
    version_summary,
)
from tools.credit.scorecard import Scorecard
from tools.credit.strategy import CompiledStrategy, Decision, TestReport, parse_spec


def _new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:24]}"


def _hash(body: Any) -> str:
    return hashlib.sha256(
        json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


def _min_score_changes(base: Mapping[str, Any], min_score: int) -> dict[str, float]:
    """The cut-off changes that make ``min_score`` the lowest approved score, keeping
    refer floor ≤ approval ≤ prime."""
    current = read_settings(base["decision_model"])
    out: dict[str, float] = {"approve_cutoff": float(min_score)}
    if current["prime_cutoff"] < min_score:
        out["prime_cutoff"] = float(min_score)
    if current["refer_floor"] > min_score:
        out["refer_floor"] = float(min_score)
    return out


class CreditService:
    """Everything the credit package does for a tenant, over one database."""

    def __init__(self, db: Database, *, live: LiveTable | None = None) -> None:
        self.db = db
        self.live = live or LiveTable()
        self.audit = AuditLog(db)
        self._compiled: OrderedDict[str, CompiledStrategy] = OrderedDict()
        self._cache_lock = threading.Lock()

    # ----- compile cache ---------------------------------------------------------------------

    def _compile(self, row: StrategyVersionRow) -> CompiledStrategy:
        with self._cache_lock:
            hit = self._compiled.get(row.id)
            if hit is not None:
                self._compiled.move_to_end(row.id)
                return hit
        # Compile outside the lock; two threads racing compile the same immutable version.
        compiled = CompiledStrategy(
            row.id, parse_spec(row.spec), Scorecard.from_dict(row.scorecard)
        )
        self._remember(compiled)
        return compiled

    def _remember(self, compiled: CompiledStrategy) -> None:
        with self._cache_lock:
            self._compiled[compiled.version_id] = compiled
            while len(self._compiled) > 256:
                self._compiled.popitem(last=False)

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
        self._remember(compiled)
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
        itself, storing nothing: no version is created, nothing is deployed.

        The draft is derived exactly as a proposal would be (:func:`derive`), keeps the
        champion's scorecard, and runs on the scorecard's held-out portfolio by default.
        ``min_score`` is "the lowest score approved at all": the approval cut-off, with the
        prime cut-off raised to it (or the refer floor lowered to it) when it would otherwise
        leave the cut-offs out of order; ``changes`` lists every setting that moved.
        """
        live = self._sync_live(tenant_id, name)
        if live is None:
            raise NotFound(
                f"strategy {name} is not deployed", code="strategy_not_deployed", param="strategy"
            )
        champion = live.champion
        base = self.get_version(tenant_id, champion.version_id)
        if min_score is not None:
            changes = {**_min_score_changes(base, min_score), **changes}
        draft = derive(base, changes, base_label=f"live version v{base['version']}")
        candidate = CompiledStrategy("draft", parse_spec(draft.body), champion.scorecard)
        pf = portfolio(
            portfolio_name
            or DEFAULT_PORTFOLIO.get(champion.scorecard.name, champion.scorecard.name)
        )
        report = backtest(candidate, pf, champion=champion)
        assert report.champion is not None

        def view(m: Any) -> dict[str, Any]:
            return {
                "approval_rate": m.approval_rate,
                "refer_rate": m.refer_rate,
                "bad_rate": m.bad_rate_approved,
                "expected_loss": m.expected_loss,
                "expected_cost_per_applicant": m.expected_cost_per_applicant,
                "approved": m.approved,
                "referred": m.referred,
                "declined": m.declined,
            }

        before, after = view(report.champion), view(report.strategy)
        return {
            "strategy": name,
            "live_version": {"version_id": base["id"], "version": base["version"]},
            "changes": draft.changes,
            "portfolio": report.portfolio,
            "applicants": report.strategy.n,
            "before": before,
            "after": after,
            "delta": {k: round(after[k] - before[k], 6) for k in before},
            "decisions_changed": report.decisions_changed,
            "newly_approved": report.swap_in,
            "no_longer_approved": report.swap_out,
            "loss_currency": champion.spec.currency,
            "proposed": False,
            "deployed": False,
        }

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
            raise NotFound(
                f"strategy {name} is not deployed", code="strategy_not_deployed", param="strategy"
            )
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
        if challenger_version_id is None and challenger_share:
            raise ValidationFailed(
                "challenger_share needs a challenger_version_id",
                code="invalid_share",
                param="challenger_share",
            )
        if challenger_version_id is not None and not 0.0 < challenger_share <= 0.5:
            raise ValidationFailed(
                "challenger_share must be in (0, 0.5]",
                code="invalid_share",
                param="challenger_share",
            )
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
            if chal_row.name != champ_row.name:
                raise ValidationFailed(
                    f"challenger is a version of {chal_row.name}, not {champ_row.name}",
                    code="challenger_slot_mismatch",
                    param="challenger_version_id",
                )
            if chal_row.id == champ_row.id:
                raise ValidationFailed(
                    "challenger must differ from the champion",
                    code="challenger_is_champion",
                    param="challenger_version_id",
                )
            rows.append(("challenger_version_id", chal_row))
        for param, row in rows:
            report = self._compile(row).run_tests()
            if not report.passed:
                failing = [r.name + ": " + r.message for r in report.results if not r.passed]
                raise Conflict(
                    f"strategy version {row.id} ({row.name} v{row.version}) cannot be deployed: "
                    f"{report.failed} embedded test(s) fail — {failing[0]}",
                    code="strategy_tests_failed",
                    param=param,
                    details={"test_report": report.to_dict()},
                )
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
                raise NotFound(
                    f"strategy {name} is not deployed", code="strategy_not_deployed", param="name"
                )
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
                raise NotFound(
                    f"strategy {name} is not deployed", code="strategy_not_deployed", param="name"
                )
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
                raise NotFound(
                    f"strategy {name} is not deployed",
                    code="strategy_not_deployed",
                    param="strategy",
                )
            arm, strategy, other = live.route(applicant_key(applicant, application_id))
            routed.append(arm)
            decision = strategy.decide(applicant, trace=True)
            limit_minor = minor_units(decision.limit, decision.currency)
            if grant_minor is not None:
                if grant_currency is not None and grant_currency != decision.currency:
                    raise ToolError(
                        f"strategy {name} lends in {decision.currency}, not {grant_currency}",
                        code="currency_mismatch",
                    )
                if decision.outcome == "approve":
                    if grant_minor > limit_minor:
                        raise ToolError(
                            f"requested limit {grant_minor} exceeds the approved limit {limit_minor} {decision.currency} (minor units)",
                            code="amount_above_limit",
                        )
                    limit_minor = grant_minor
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
            pts = [int(row.points.get(f, 0)) for f in card.feature_names]
            factors = [r.to_dict() for r in card.reasons(pts, limit=len(pts))]
            best = {f.name: f.max_points for f in card.features}
            return {
                **decision_record(row),
                "points": [
                    {
                        "feature": f,
                        "points": row.points.get(f),
                        "best": best[f],
                        "value": row.applicant.get(f),
                    }
                    for f in card.feature_names
                ],
                "score_factors": factors,
                "trace": row.trace,
                "shadow": row.shadow,
                "applicant": row.applicant,
                "scaling": {
                    "base_points": card.scaling.base_points,
                    "base_odds": card.scaling.base_odds,
                    "pdo": card.scaling.pdo,
                },
            }


_SERVICES: weakref.WeakKeyDictionary[Database, CreditService] = weakref.WeakKeyDictionary()


def service_for(db: Database) -> CreditService:
    """The process-wide service of a database (router, tools and CLI share its live table)."""
    svc = _SERVICES.get(db)
    if svc is None:
        svc = _SERVICES[db] = CreditService(db)
    return svc


__all__ = ["CreditService", "service_for"]
