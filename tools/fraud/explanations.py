"""Explanations of stored scores: a score's every feature value and its contribution.

A stored score (:mod:`tools.fraud.store`) is explained by the model version that scored it:
the live model, or an older registry version loaded once and kept. When that model or the
score's features are missing, the values are still shown, without contributions. Never
scores or stores anything.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from cockpit.db.session import Database
from cockpit.errors import CockpitError, NotFound
from tools.fraud import store
from tools.fraud.model import FraudModel
from tools.fraud.scoring import contributions

ModelLoader = Callable[[str], FraudModel]
"""Loads a model version (the registry's ``load``), to explain scores of an older model."""


class StoredExplanations:
    """A tenant's fraud service explaining its stored scores (the service owns these
    attributes: :class:`tools.fraud.service.FraudService`)."""

    tenant_id: str
    _models: ModelLoader | None
    _older: dict[str, FraudModel | None]
    _older_lock: threading.Lock

    if TYPE_CHECKING:  # the service's read-only property (the live model), for mypy only

        @property
        def model(self) -> FraudModel: ...

    def explain(
        self, db: Database, txn_id: str, *, merchant_id: str | None = None
    ) -> dict[str, Any]:
        """The stored result, and every feature's value and contribution to the log-odds.

        With ``merchant_id`` (the caller's binding) another merchant's score is not found,
        exactly like a transaction never scored: its existence is not revealed.
        """
        rec = store.load(db, self.tenant_id, txn_id)
        if rec is None or (merchant_id is not None and rec.merchant_id != merchant_id):
            raise NotFound(
                f"no scored transaction {txn_id!r}", code="transaction_not_found", param="txn_id"
            )
        out: dict[str, Any] = {
            "txn_id": rec.txn_id,
            "merchant_id": rec.merchant_id,
            "scored_at": rec.created_at,
            "model_version": rec.model_version,
            "result": rec.result,
        }
        model = self._model_for(rec.model_version)
        if model is None or not rec.features or not set(model.feature_names) <= set(rec.features):
            why = (
                "scoring failed, so no features were computed"
                if not rec.features
                else f"model {rec.model_version} that scored it is not available here"
            )
            return {
                **out,
                "base_log_odds": None,
                "margin": None,
                "features": [
                    {"feature": k, "value": v, "contribution": None}
                    for k, v in rec.features.items()
                ],
                "note": f"feature contributions unavailable: {why}",
            }
        values = np.array([_nan(rec.features[n]) for n in model.feature_names], dtype=np.float64)
        base, margin, rows = contributions(model, values)
        return {**out, "base_log_odds": base, "margin": margin, "features": rows}

    def _model_for(self, version: str | None) -> FraudModel | None:
        """The model that scored a stored result: the live one, or an older registry version.
        An unversioned model (tests, benchmarks: never saved) is taken to be the live one."""
        if version == self.model.version:
            return self.model
        if version is None or self._models is None:
            return None
        with self._older_lock:
            if version not in self._older:
                try:
                    self._older[version] = self._models(version)
                except CockpitError:
                    self._older[version] = None
            return self._older[version]


def _nan(value: float | None) -> float:
    return math.nan if value is None else float(value)
