"""Fraud services: live model + per-tenant streaming state and merchant statistics.

Tools and the router reach a tenant's :class:`FraudService` through
:func:`get_service`. The composition root may put a :class:`FraudHub` in
``extras["fraud"]``; otherwise a process-wide hub is built on first use from
the registry's live model (training a simulator model first if none exists,
so the demo works offline). Each tenant gets its own state; the demo tenant's
is warmed with the simulator's history so the entity graph has content.

What lives where: the velocity windows, entity graph and merchant statistics
are in memory (rebuilt from traffic); every scoring result is in the database
(``fraud_scores``), which is what explanations read and what keeps a retried
transaction from counting twice, across restarts and workers alike. Replaying, refusing or
storing each id is :mod:`tools.fraud.stored_scoring`; explaining a stored score, by the model
version that scored it, is :mod:`tools.fraud.explanations`. :class:`FraudService` inherits both.

Ownership: a stored score belongs to the merchant of the scored payment (its
``merchant_id``, a column of ``fraud_scores`` since the table exists, so no new column).
Callers pass their key's merchant binding: a bound key scores only its own merchant's
payments and never sees another merchant's score (404, as for an unknown transaction).
The in-memory velocity and graph state stay tenant-wide: fraud rings cross merchants. A bound
key's graph view names only entities its merchant's traffic carried
(:mod:`tools.fraud.graph_view`). Blocks apply per payment merchant
(:class:`tools.fraud.blocks.ActiveBlocks`): a merchant's block only to its own payments.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from cockpit.config import Settings
from cockpit.db.session import Database
from cockpit.errors import CockpitError, NotFound, ValidationFailed
from cockpit.settle import settle
from cockpit.toolkit.ids import check_id
from tools.fraud.batching import Outcome, ScoreQueues
from tools.fraud.blocks import Blocked, active_blocks
from tools.fraud.blocks import blocked_runs as _blocked_runs
from tools.fraud.demo import DEMO_CUSTOMERS_KEY
from tools.fraud.explanations import ModelLoader, StoredExplanations
from tools.fraud.features import FeatureEngine, label_events
from tools.fraud.graph_view import Sightings, merchant_view
from tools.fraud.merchant_stats import MerchantStats, merchant_report
from tools.fraud.model import FraudModel
from tools.fraud.registry import ModelRegistry, default_root
from tools.fraud.schema import ENTITY_KINDS, Transaction
from tools.fraud.scoring import FraudScorer, ScoreResult, entity_keys
from tools.fraud.simulator import SeedCustomer, SimConfig, frame_to_transactions, simulate
from tools.fraud.starter import install_starter
from tools.fraud.stored_scoring import StoredScoring
from tools.fraud.training import train_from_simulator

DEMO_SIM = SimConfig(n_customers=1500, days=45)


class FraudService(StoredScoring, StoredExplanations):
    """Thread-safe façade over one tenant's :class:`FraudScorer`, with every score stored.

    Scoring is idempotent per transaction id: an id already in the tenant's score store
    (:mod:`tools.fraud.store`) is answered from there — ``replayed: true``, nothing scored,
    the velocity / graph state and merchant statistics untouched — when its inputs are the
    same, and refused with 409 ``txn_already_scored`` when they differ. This holds across
    restarts and API workers, since the store is the database. Explanations read the store.
    """

    def __init__(
        self,
        model: FraudModel,
        *,
        tenant_id: str,
        engine: FeatureEngine | None = None,
        models: ModelLoader | None = None,
    ) -> None:
        self.tenant_id = tenant_id
        self.scorer = FraudScorer(model=model, engine=engine or FeatureEngine())
        self._lock = threading.Lock()
        self._merchants: dict[str, MerchantStats] = {}
        self._models = models
        self._older: dict[str, FraudModel | None] = {}
        self._older_lock = threading.Lock()
        self._sightings = Sightings()
        """Which merchants' traffic carried each entity: what a bound key may see by id."""
        self._queues = ScoreQueues(self._score_gathered)
        """Concurrent HTTP score requests, gathered into one thread hop, DB transaction and
        model call (:mod:`tools.fraud.batching`)."""

    @property
    def model(self) -> FraudModel:
        return self.scorer.model

    def _account(self, txn: Transaction, res: ScoreResult) -> None:
        self._sightings.add(txn.merchant_id, entity_keys(txn))
        self._merchants.setdefault(txn.merchant_id, MerchantStats()).add(txn, res)

    # ---- scoring -------------------------------------------------------------
    def score(
        self,
        db: Database,
        txn: Transaction,
        *,
        blocked: Blocked = (),
        merchant_id: str | None = None,
    ) -> dict[str, Any]:
        """Score one transaction (reason codes always), or replay its stored result.

        ``merchant_id`` is the caller's merchant binding: a bound key scores only its own
        merchant's payments (another merchant's is 404 ``merchant_not_found``).
        """

        def run(fresh: list[Transaction]) -> list[ScoreResult]:
            return [
                self.scorer.score(fresh[a], blocked=keys)
                for a, _, keys in _blocked_runs(fresh, blocked)
            ]

        return _results(self._decide(db, [txn], run, param=lambda _i: "", merchant_id=merchant_id))[
            0
        ]

    async def score_queued(
        self, db: Database, txn: Transaction, *, merchant_id: str | None = None
    ) -> dict[str, Any]:
        """:meth:`score` from the event loop, against the tenant's blocks in force: scored in
        the thread pool together with the requests that arrive meanwhile, each answered (or
        refused) exactly as :meth:`score` would answer it alone."""
        return await self._queues.score(db, txn, merchant_id=merchant_id)

    def _score_gathered(
        self, db: Database, txns: list[Transaction], merchant_ids: list[str | None]
    ) -> list[Outcome]:
        blocked = active_blocks(db, self.tenant_id)
        return self.score_each(db, txns, merchant_ids=merchant_ids, blocked=blocked)

    def score_batch(
        self,
        db: Database,
        txns: Sequence[Transaction],
        *,
        blocked: Blocked = (),
        explain: bool = False,
        merchant_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """Score many in order, stored in one transaction; already-stored ids are replayed.

        ``explain`` only adds reason codes to approvals; it is not part of the inputs, so a
        retry with another ``explain`` replays the first result as it was.
        """
        _unique(txns)

        def run(fresh: list[Transaction]) -> list[ScoreResult]:
            out: list[ScoreResult] = []
            for a, b, keys in _blocked_runs(fresh, blocked):
                out += self.scorer.score_batch(fresh[a:b], blocked=keys, explain=explain)
            return out

        return _results(
            self._decide(
                db, txns, run, param=lambda i: f"transactions[{i}].", merchant_id=merchant_id
            )
        )

    def score_each(
        self,
        db: Database,
        txns: Sequence[Transaction],
        *,
        merchant_ids: Sequence[str | None],
        blocked: Blocked = (),
    ) -> list[Outcome]:
        """Score independent single requests together: what :meth:`score` answers each, in one
        DB transaction and one model call (:mod:`tools.fraud.batching` gathers them).

        Each item gets its own outcome — its result, or the error :meth:`score` would have
        raised for it alone (``merchant_ids[i]`` is item ``i``'s caller binding) — so one bad
        request never fails the others. ``txn_id`` values must be unique: a repeat belongs in
        a later call, where it replays the first.
        """
        _unique(txns)

        def run(fresh: list[Transaction]) -> list[ScoreResult]:
            out: list[ScoreResult] = []
            for a, b, keys in _blocked_runs(fresh, blocked):
                out += self.scorer.score_batch(fresh[a:b], blocked=keys, explain=True)
            return out

        return self._decide(db, txns, run, param=lambda _i: "", merchant_ids=merchant_ids)

    # ---- reading -----------------------------------------------------------------
    def report_fraud(self, customer_id: str, *, ts: float) -> None:
        with self._lock:
            self.scorer.engine.report_label(customer_id, ts=ts)

    def entity_graph(
        self,
        kind: str,
        entity_id: str,
        *,
        hops: int = 2,
        limit: int = 200,
        merchant_id: str | None = None,
    ) -> dict[str, Any]:
        """The entity's neighbourhood and ring verdict (:meth:`EntityGraph.neighbourhood`).

        With ``merchant_id`` (the caller's binding) only entities that merchant's traffic
        carried are named, the rest counted (:func:`merchant_view`); an entity it never saw is
        404 like one nobody saw. Without it, the whole view, unchanged.
        """
        if kind not in ENTITY_KINDS:
            raise ValidationFailed(
                f"kind must be one of {', '.join(ENTITY_KINDS)}",
                code="invalid_entity_kind",
                param="kind",
            )
        check_id(entity_id, kind, param="entity_id")  # a payment id is no device's
        with self._lock:
            visible = merchant_id is None or self._sightings.seen_by(merchant_id, kind, entity_id)
            view = (
                self.scorer.engine.graph.neighbourhood(kind, entity_id, hops=hops, limit=limit)
                if visible
                else {"found": False}
            )
            if view["found"] and merchant_id is not None:
                view = merchant_view(view, merchant_id=merchant_id, sightings=self._sightings)
        if not view["found"]:
            raise NotFound(
                f"no {kind} {entity_id!r} in the entity graph",
                code="entity_not_found",
                param="entity_id",
            )
        return {"kind": kind, "entity_id": entity_id, **view}

    def merchant_report(self, merchant_id: str) -> dict[str, Any]:
        with self._lock:
            return merchant_report(self._merchants, merchant_id, model_version=self.model.version)

    def merchants(self) -> list[str]:
        with self._lock:
            return sorted(self._merchants)

    def warm_up(
        self, txns: Sequence[Transaction], *, labels: Sequence[tuple[float, str]] = ()
    ) -> None:
        """Replay history into the state and merchant stats. Nothing is stored: replaying
        history is not scoring, and those ids stay free for the tenant's own traffic."""
        _unique(txns)
        with self._lock:
            self.scorer.engine.report_labels(labels)
        for start in range(0, len(txns), 5000):
            chunk = txns[start : start + 5000]
            with self._lock:
                for t, r in zip(chunk, self.scorer.score_batch(chunk), strict=True):
                    self._account(t, r)
                self.scorer.forget(t.txn_id for t in chunk)


def _unique(txns: Sequence[Transaction]) -> None:
    ids = [t.txn_id for t in txns]
    if len(set(ids)) != len(ids):
        raise ValidationFailed(
            "txn_id values in a batch must be unique",
            code="duplicate_txn_id",
            param="transactions",
        )


def _results(outcomes: list[dict[str, Any] | CockpitError]) -> list[dict[str, Any]]:
    """The results of a call that raises its errors (so every outcome is a result)."""
    return [o for o in outcomes if isinstance(o, dict)]


DEMO_TENANT = "demo"  # the composition root's demo tenant (cockpit.app.DEMO_TENANT)


class FraudHub:
    """One model, one isolated :class:`FraudService` per tenant.

    Streaming state (velocity, entity graph, merchant statistics) never crosses
    tenants: a tenant only ever sees entities from its own traffic. Scored
    transactions live in the database, scoped by tenant (:mod:`tools.fraud.store`). With ``demo_history`` the demo tenant starts from the
    simulator's history so the entity graph and reports have content.
    """

    def __init__(
        self,
        model: FraudModel,
        *,
        demo_history: SimConfig | None = None,
        demo_customers: Callable[[], Sequence[SeedCustomer]] | None = None,
        models: ModelLoader | None = None,
        freeze_warm_state: bool = False,
        keep_history: bool = False,
    ) -> None:
        self.model = model
        self._freeze_warm_state = freeze_warm_state
        """Freeze the demo tenant's state out of the collector once warmed: a server's choice
        (as :mod:`cockpit.settle`); in a test process it would outlive its app."""
        self._keep_history = keep_history
        """Keep the simulated demo history for this process's next hub: the choice of a process
        that builds many apps on copies of one world (an eval run, tests), where simulating it
        cost ~7 CPU-s per app. A server builds one hub and lets the history go once replayed."""
        self._models = models
        """Loads older model versions, to explain scores stored before a retrain."""
        self._demo_history = demo_history
        self._demo_customers = demo_customers
        """Where the demo tenant's genuine customers come from (the payments demo world)."""
        self._tenants: dict[str, FraudService] = {}
        self._ready: dict[str, FraudService] = {}
        """Services fully built (warmed up): what :meth:`built` may hand out without waiting."""
        self._lock = threading.Lock()

    def built(self, tenant_id: str) -> FraudService | None:
        """The tenant's service if it is built already, else None; never blocks (event loop)."""
        return self._ready.get(tenant_id)

    def tenant(self, tenant_id: str) -> FraudService:
        with self._lock:
            svc = self._tenants.get(tenant_id)
            if svc is None:
                svc = self._tenants[tenant_id] = FraudService(
                    self.model, tenant_id=tenant_id, models=self._models
                )
                if tenant_id == DEMO_TENANT and self._demo_history is not None:
                    config = self._demo_history
                    seeds = tuple(self._demo_customers()) if self._demo_customers else ()
                    if seeds:
                        # Simulate around the payments world's own customers, cards and devices.
                        config = replace(config, customers=seeds)
                    history = _kept_history if self._keep_history else _demo_history
                    txns, labels = history(config)
                    svc.warm_up(txns, labels=labels)
                    if self._freeze_warm_state:
                        # ~250k long-lived objects (tracks, graph nodes, merchant statistics):
                        # every full collection re-walked them, ~40 us per HTTP score and ~20%
                        # of batch scoring. The demo tenant warms on first use, after the
                        # server's own settle after start-up, so it settles again here.
                        settle()
                self._ready[tenant_id] = svc
            return svc


def _demo_history(
    config: SimConfig,
) -> tuple[tuple[Transaction, ...], tuple[tuple[float, str], ...]]:
    """The simulated history the demo tenant warms up with, and its fraud labels."""
    frame = simulate(config)
    return tuple(frame_to_transactions(frame)), tuple(label_events(frame))


# The simulator is seeded, so a config always gives the same history; transactions are frozen.
_kept_history = functools.lru_cache(maxsize=1)(_demo_history)


_default_lock = threading.Lock()
_hub_lock = threading.Lock()


_bootstrap: dict[SimConfig, FraudModel] = {}
"""Simulator models trained in this process, by config: a new data dir registers a copy
instead of training again (the simulator is seeded, so the model would be the same)."""


def load_or_train(settings: Settings, *, sim: SimConfig = DEMO_SIM) -> FraudModel:
    """The registry's live model. A registry without one gets the shipped starter model (when
    it was trained from ``sim`` and today's code), else a simulator model trained here."""
    registry = ModelRegistry(default_root(settings))
    if registry.live_version() is None:
        install_starter(registry, sim)  # None when stale, or when another worker was first
    if registry.live_version() is None:
        with _default_lock:
            model = _bootstrap.get(sim)
            if model is None:
                model = _bootstrap[sim] = train_from_simulator(sim).model
        registry.save(model, note="bootstrap: simulator model")
    return registry.load()


def get_hub(extras: dict[str, Any], settings: Settings) -> FraudHub:
    """The app's hub, kept in its ``extras["fraud"]`` (built on first use).

    One hub per app, never per process: streaming state (velocity, graph, merchant statistics)
    belongs to the database the app serves, so two apps in one process — eval worlds, tests —
    never see each other's traffic.
    """
    hub = extras.get("fraud")
    if isinstance(hub, FraudHub):
        return hub
    with _hub_lock:
        hub = extras.get("fraud")
        if not isinstance(hub, FraudHub):
            hub = extras["fraud"] = FraudHub(
                load_or_train(settings),
                demo_history=DEMO_SIM if settings.demo else None,
                demo_customers=extras.get(DEMO_CUSTOMERS_KEY),
                models=ModelRegistry(default_root(settings)).load,
                # Servers run warm-ups; test apps and eval worlds (warmup=False) must not freeze
                # their state, and build many hubs on one world.
                freeze_warm_state=settings.warmup,
                keep_history=not settings.warmup,
            )
        return hub


def get_service(extras: dict[str, Any], settings: Settings, tenant_id: str) -> FraudService:
    """The calling tenant's fraud service."""
    return get_hub(extras, settings).tenant(tenant_id)


def built_service(extras: dict[str, Any], tenant_id: str) -> FraudService | None:
    """The tenant's service if the app's hub has built it already, else None (building may
    train a model or replay history: not for the event loop). Never blocks."""
    hub = extras.get("fraud")
    return hub.built(tenant_id) if isinstance(hub, FraudHub) else None


__all__ = [
    "DEMO_CUSTOMERS_KEY",
    "DEMO_SIM",
    "DEMO_TENANT",
    "FraudHub",
    "FraudService",
    "built_service",
    "get_hub",
    "get_service",
    "load_or_train",
]
