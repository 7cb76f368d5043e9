"""Fraud services: live model + per-tenant streaming state and merchant statistics.

Tools and the router reach a tenant's :class:`FraudService` through
:func:`get_service`. The composition root may put a :class:`FraudHub` in
``extras["fraud"]``; otherwise a process-wide hub is built on first use from
the registry's live model (training a simulator model first if none exists,
so the demo works offline). Each tenant gets its own state; the demo tenant's
is warmed with the simulator's history so the entity graph has content.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from cockpit.config import Settings
from cockpit.errors import NotFound, ValidationFailed
from tools.fraud.features import FeatureEngine, label_events
from tools.fraud.model import FraudModel
from tools.fraud.registry import ModelRegistry, default_root
from tools.fraud.schema import ENTITY_KINDS, Transaction
from tools.fraud.scoring import FraudScorer, ScoreResult
from tools.fraud.simulator import SeedCustomer, SimConfig, frame_to_transactions, simulate
from tools.fraud.training import train_from_simulator

DEMO_SIM = SimConfig(n_customers=1500, days=45)
DEMO_CUSTOMERS_KEY = "fraud_demo_customers"
"""``extras`` entry: a callable giving the demo tenant's customers (the composition root sets it)."""


@dataclass(slots=True)
class _MerchantStats:
    scored: int = 0
    decisions: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    score_sum: float = 0.0
    amount_usd: float = 0.0
    declined_amount_usd: float = 0.0


class FraudService:
    """Thread-safe façade over one :class:`FraudScorer`."""

    def __init__(self, model: FraudModel, *, engine: FeatureEngine | None = None) -> None:
        self.scorer = FraudScorer(model=model, engine=engine or FeatureEngine())
        self._lock = threading.Lock()
        self._merchants: dict[str, _MerchantStats] = {}

    @property
    def model(self) -> FraudModel:
        return self.scorer.model

    def _account(self, txn: Transaction, res: ScoreResult) -> None:
        st = self._merchants.setdefault(txn.merchant_id, _MerchantStats())
        st.scored += 1
        st.decisions[res.decision] += 1
        st.score_sum += res.score or 0.0
        st.amount_usd += txn.amount_usd
        if res.decision == "decline":
            st.declined_amount_usd += txn.amount_usd
        for r in res.reasons:
            st.reasons[r.code] += 1

    def score(self, txn: Transaction, *, blocked: Collection[tuple[str, str]] = ()) -> ScoreResult:
        with self._lock:
            fresh = txn.txn_id not in self.scorer._cache
            res = self.scorer.score(txn, blocked=blocked)
            if fresh:
                self._account(txn, res)
            return res

    def score_batch(
        self,
        txns: Sequence[Transaction],
        *,
        blocked: Collection[tuple[str, str]] = (),
        explain: bool = False,
    ) -> list[ScoreResult]:
        ids = [t.txn_id for t in txns]
        if len(set(ids)) != len(ids):
            raise ValidationFailed(
                "txn_id values in a batch must be unique",
                code="duplicate_txn_id",
                param="transactions",
            )
        with self._lock:
            fresh = [t.txn_id not in self.scorer._cache for t in txns]
            results = self.scorer.score_batch(txns, blocked=blocked, explain=explain)
            for t, r, f in zip(txns, results, fresh, strict=True):
                if f:
                    self._account(t, r)
            return results

    def explain(self, txn_id: str) -> dict[str, Any]:
        with self._lock:
            out = self.scorer.explain(txn_id)
        if out is None:
            raise NotFound(
                f"no scored transaction {txn_id!r}", code="transaction_not_found", param="txn_id"
            )
        return out

    def report_fraud(self, customer_id: str, *, ts: float) -> None:
        with self._lock:
            self.scorer.engine.report_label(customer_id, ts=ts)

    def entity_graph(
        self, kind: str, entity_id: str, *, hops: int = 2, limit: int = 200
    ) -> dict[str, Any]:
        if kind not in ENTITY_KINDS:
            raise ValidationFailed(
                f"kind must be one of {', '.join(ENTITY_KINDS)}",
                code="invalid_entity_kind",
                param="kind",
            )
        with self._lock:
            view = self.scorer.engine.graph.neighbourhood(kind, entity_id, hops=hops, limit=limit)
        if not view["found"]:
            raise NotFound(
                f"no {kind} {entity_id!r} in the entity graph",
                code="entity_not_found",
                param="entity_id",
            )
        return {"kind": kind, "entity_id": entity_id, **view}

    def merchant_report(self, merchant_id: str) -> dict[str, Any]:
        with self._lock:
            st = self._merchants.get(merchant_id)
            if st is None:
                raise NotFound(
                    f"no scored traffic for merchant {merchant_id!r}",
                    code="merchant_not_found",
                    param="merchant_id",
                )
            n = st.scored
            return {
                "merchant_id": merchant_id,
                "scored": n,
                "approve_rate": st.decisions["approve"] / n,
                "review_rate": st.decisions["review"] / n,
                "decline_rate": st.decisions["decline"] / n,
                "mean_score": st.score_sum / n,
                "amount_usd": round(st.amount_usd, 2),
                "declined_amount_usd": round(st.declined_amount_usd, 2),
                "top_reasons": [{"code": c, "count": k} for c, k in st.reasons.most_common(5)],
                "model_version": self.model.version,
            }

    def merchants(self) -> list[str]:
        with self._lock:
            return sorted(self._merchants)

    def warm_up(
        self, txns: Sequence[Transaction], *, labels: Sequence[tuple[float, str]] = ()
    ) -> None:
        """Replay history into the state (and merchant stats) without keeping per-txn caches."""
        with self._lock:
            self.scorer.engine.report_labels(labels)
        for start in range(0, len(txns), 5000):
            self.score_batch(txns[start : start + 5000])
        with self._lock:
            self.scorer._cache.clear()


DEMO_TENANT = "demo"  # the composition root's demo tenant (cockpit.app.DEMO_TENANT)


class FraudHub:
    """One model, one isolated :class:`FraudService` per tenant.

    Streaming state (velocity, entity graph, scored transactions, merchant
    statistics) never crosses tenants: a tenant only ever sees entities from
    its own traffic. With ``demo_history`` the demo tenant starts from the
    simulator's history so the entity graph and reports have content.
    """

    def __init__(
        self,
        model: FraudModel,
        *,
        demo_history: SimConfig | None = None,
        demo_customers: Callable[[], Sequence[SeedCustomer]] | None = None,
    ) -> None:
        self.model = model
        self._demo_history = demo_history
        self._demo_customers = demo_customers
        """Where the demo tenant's genuine customers come from (the payments demo world)."""
        self._tenants: dict[str, FraudService] = {}
        self._lock = threading.Lock()

    def tenant(self, tenant_id: str) -> FraudService:
        with self._lock:
            svc = self._tenants.get(tenant_id)
            if svc is None:
                svc = self._tenants[tenant_id] = FraudService(self.model)
                if tenant_id == DEMO_TENANT and self._demo_history is not None:
                    config = self._demo_history
                    seeds = tuple(self._demo_customers()) if self._demo_customers else ()
                    if seeds:
                        # Simulate around the payments world's own customers, cards and devices.
                        config = replace(config, customers=seeds)
                    frame = simulate(config)
                    svc.warm_up(frame_to_transactions(frame), labels=label_events(frame))
            return svc


_default: FraudHub | None = None
_default_lock = threading.Lock()


def load_or_train(settings: Settings, *, sim: SimConfig = DEMO_SIM) -> FraudModel:
    """The registry's live model; trains and registers a simulator model first if there is none."""
    registry = ModelRegistry(default_root(settings))
    if registry.live_version() is None:
        run = train_from_simulator(sim)
        registry.save(run.model, note="bootstrap: simulator model")
    return registry.load()


def get_hub(extras: dict[str, Any], settings: Settings) -> FraudHub:
    """The hub from ``extras["fraud"]`` or the process-wide default (built on first use)."""
    hub = extras.get("fraud")
    if isinstance(hub, FraudHub):
        return hub
    global _default
    with _default_lock:
        if _default is None:
            _default = FraudHub(
                load_or_train(settings),
                demo_history=DEMO_SIM if settings.demo else None,
                demo_customers=extras.get(DEMO_CUSTOMERS_KEY),
            )
        return _default


def get_service(extras: dict[str, Any], settings: Settings, tenant_id: str) -> FraudService:
    """The calling tenant's fraud service."""
    return get_hub(extras, settings).tenant(tenant_id)


__all__ = [
    "DEMO_CUSTOMERS_KEY",
    "DEMO_SIM",
    "DEMO_TENANT",
    "FraudHub",
    "FraudService",
    "get_hub",
    "get_service",
    "load_or_train",
]
