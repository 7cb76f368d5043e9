"""Scoring against the score store: each transaction id is scored once.

A call's ids already in the tenant's score store (:mod:`tools.fraud.store`) are replayed when
their inputs are the same and refused (409 ``txn_already_scored``) when they differ; the rest
are scored and stored in the same DB transaction. A payment of a merchant other than the
caller's binding is refused before anything is read. What scores the fresh ids is the
caller's ``run``, and what a stored score adds to the in-memory state the service's
``_account``: this module only decides which ids get there, and stores their results.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError

from cockpit.db.session import Database
from cockpit.errors import CockpitError, Conflict, NotFound
from tools.fraud import store
from tools.fraud.model import FraudModel
from tools.fraud.schema import Transaction
from tools.fraud.scoring import FraudScorer, ScoreResult


class StoredScoring:
    """A tenant's fraud service scoring through its score store (the service owns these
    attributes: :class:`tools.fraud.service.FraudService`)."""

    tenant_id: str
    scorer: FraudScorer
    _lock: threading.Lock

    if TYPE_CHECKING:  # the service's live model and its in-memory accounting, for mypy only

        @property
        def model(self) -> FraudModel: ...

        def _account(self, txn: Transaction, res: ScoreResult) -> None: ...

    def _decide(
        self,
        db: Database,
        txns: Sequence[Transaction],
        run: Callable[[list[Transaction]], list[ScoreResult]],
        *,
        param: Callable[[int], str],
        merchant_id: str | None = None,
        merchant_ids: Sequence[str | None] | None = None,
    ) -> list[dict[str, Any] | CockpitError]:
        """Replay stored ids, score the rest and store them: one DB transaction (two if another
        worker stored one of the ids between our read and our write).

        ``param(i)`` prefixes the field names of item ``i`` in errors. A payment of a merchant
        other than ``merchant_id`` (when set) refuses the whole call before anything is read.
        A replay never crosses merchants: the merchant is part of the inputs' fingerprint.

        With ``merchant_ids`` (one binding per item) the items are independent requests: an
        item's error is its outcome instead of being raised, and the other items go on.
        """
        each = merchant_ids is not None
        out: list[dict[str, Any] | CockpitError] = [{} for _ in txns]
        failed: set[int] = set()

        def fail(i: int, exc: CockpitError) -> None:
            if not each:
                raise exc
            out[i] = exc
            failed.add(i)

        for i, t in enumerate(txns):
            bound = merchant_ids[i] if merchant_ids is not None else merchant_id
            if bound is not None and t.merchant_id != bound:
                fail(
                    i,
                    NotFound(
                        f"no merchant {t.merchant_id!r}",
                        code="merchant_not_found",
                        param=f"{param(i)}merchant_id",
                    ),
                )
        fps = [store.fingerprint(t) for t in txns]
        fresh: list[int] = []
        results: list[ScoreResult] = []
        wire: list[dict[str, Any]] = []
        rows: list[store.NewScore] = []
        with self._lock:
            try:
                # A plain connection, not a tenant session: the store's statements are Core and
                # name the tenant themselves (see tools.fraud.store).
                with db.engine.begin() as conn:
                    asked = [t.txn_id for i, t in enumerate(txns) if i not in failed]
                    prior = store.find(conn, self.tenant_id, asked) if asked else {}
                    for i, (t, fp) in enumerate(zip(txns, fps, strict=True)):
                        if i in failed:
                            continue
                        if t.txn_id in prior:  # all checked before anything is scored
                            try:
                                out[i] = _replay(t.txn_id, fp, prior[t.txn_id], f"{param(i)}txn_id")
                            except Conflict as exc:
                                fail(i, exc)
                        else:
                            fresh.append(i)
                    if not fresh:
                        return out
                    results = run([txns[i] for i in fresh])
                    wire = [r.to_dict() for r in results]
                    rows = [self._row(txns[i], fps[i], w) for i, w in zip(fresh, wire, strict=True)]
                    store.add(conn, self.tenant_id, rows)
                won: dict[str, store.PriorScore] = {}
            except IntegrityError:
                won = self._store_missing(db, rows)
            self.scorer.forget(r.txn_id for r in rows)  # the store holds them now
            for i, res, w in zip(fresh, results, wire, strict=True):
                t = txns[i]
                if t.txn_id in won:  # another worker stored it first: its result stands
                    try:
                        out[i] = _replay(t.txn_id, fps[i], won[t.txn_id], f"{param(i)}txn_id")
                    except Conflict as exc:
                        fail(i, exc)
                    continue
                self._account(t, res)
                out[i] = {**w, "replayed": False}
        return out

    def _row(self, txn: Transaction, fp: str, result: dict[str, Any]) -> store.NewScore:
        values = self.scorer.model_values(txn.txn_id)  # None if scoring failed (fail closed)
        features = {} if values is None else store.feature_map(self.model.feature_names, values)
        return store.NewScore(
            txn_id=txn.txn_id,
            merchant_id=txn.merchant_id,
            fingerprint=fp,
            result=result,
            model_version=self.model.version,
            features=features,
        )

    def _store_missing(
        self, db: Database, rows: list[store.NewScore]
    ) -> dict[str, store.PriorScore]:
        """Store the rows no other worker stored meanwhile; returns the ones it did store."""
        with db.engine.begin() as conn:
            won = store.find(conn, self.tenant_id, [r.txn_id for r in rows])
            store.add(conn, self.tenant_id, [r for r in rows if r.txn_id not in won])
        return won


def _replay(txn_id: str, fp: str, prior: store.PriorScore, param: str) -> dict[str, Any]:
    """The stored result for a retry with the same inputs; 409 for different ones."""
    if prior.fingerprint != fp:
        raise Conflict(
            f"transaction {txn_id!r} was already scored with different details; "
            "a transaction id is scored once — send a new txn_id for a new payment",
            code="txn_already_scored",
            param=param,
        )
    return {**prior.result, "replayed": True}
