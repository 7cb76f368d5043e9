"""Scoring: features → calibrated score → decision with reason codes, single or batch.

Decisions come from the model's cost-based :class:`~tools.fraud.model.Policy`,
then two overrides that only ever make a decision stricter: a blocked entity
declines, and an external liveness attack (or a liveness score below the
policy floor) forces at least a review. Anything that goes wrong while
scoring (not while validating input — that is the caller's error) fails
closed: the result is ``review`` with reason ``SCORING_ERROR``, never approve.

A transaction id is scored once per scorer: repeats return the first result and
do not count twice in the velocity and graph state. This in-memory guard is
bounded (``cache_size``) and dies with the process; the durable one is the
score store behind :class:`tools.fraud.service.FraudService`.
"""

from __future__ import annotations

import logging
import math
from collections import OrderedDict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tools.fraud.features import FEATURE_NAMES, FeatureEngine
from tools.fraud.model import FraudModel
from tools.fraud.reasons import REASON_TEXT, Reason, top_reasons, tree_shap
from tools.fraud.schema import Transaction, entity_keys

log = logging.getLogger(__name__)

_STRICTNESS = {"approve": 0, "review": 1, "decline": 2}


@dataclass(frozen=True, slots=True)
class ScoreResult:
    """What scoring one transaction returns."""

    txn_id: str
    score: float | None
    """Calibrated fraud probability (None when scoring failed)."""
    decision: str
    """``approve``, ``review`` or ``decline``."""
    reasons: tuple[Reason, ...]
    """Top reason codes, strongest first (empty for a plain approve in batch mode)."""
    model_version: str | None
    review_at: float
    decline_at: float
    overrides: tuple[str, ...] = ()
    """Policy overrides applied on top of the model (``ENTITY_BLOCKED``, ``LIVENESS_ATTACK``)."""
    error_code: str | None = None
    """Set when scoring failed and the decision fell back to review."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "txn_id": self.txn_id,
            "score": self.score,
            "decision": self.decision,
            "reasons": [
                {
                    "code": r.code,
                    "description": r.description,
                    "contribution": round(r.contribution, 6),
                    "features": [
                        {
                            "feature": f.feature,
                            "value": f.value,
                            "contribution": round(f.contribution, 6),
                        }
                        for f in r.features[:4]
                    ],
                }
                for r in self.reasons
            ],
            "model_version": self.model_version,
            "thresholds": {"review_at": self.review_at, "decline_at": self.decline_at},
            "overrides": list(self.overrides),
            "error_code": self.error_code,
        }


def _override_reason(code: str) -> Reason:
    return Reason(code=code, description=REASON_TEXT[code], contribution=0.0, features=())


@dataclass(slots=True)
class _Cached:
    vector: np.ndarray
    result: ScoreResult


@dataclass(slots=True)
class FraudScorer:
    """Scores transactions with one model against one streaming feature state."""

    model: FraudModel
    engine: FeatureEngine = field(default_factory=FeatureEngine)
    top_k: int = 3
    cache_size: int = 100_000
    _idx: np.ndarray = field(init=False)
    _cache: OrderedDict[str, _Cached] = field(init=False, default_factory=OrderedDict)

    def __post_init__(self) -> None:
        self._idx = np.array(
            [FEATURE_NAMES.index(f) for f in self.model.feature_names], dtype=np.int64
        )
        # Built now (~0.3 s once per model), not in the first scored request.
        tree_shap(self.model.booster, len(self.model.feature_names))

    # ---- internals ---------------------------------------------------------
    def _decide(
        self,
        txn: Transaction,
        score: float,
        vector: np.ndarray,
        contrib: np.ndarray | None,
        blocked: Collection[tuple[str, str]],
    ) -> ScoreResult:
        policy = self.model.policy
        finite = math.isfinite(score)
        decision = policy.decide(score) if finite else "review"
        overrides: tuple[str, ...] = ()
        if blocked and any(k in blocked for k in entity_keys(txn)):
            overrides = ("ENTITY_BLOCKED",)
            decision = "decline"
        if txn.attack_type or (
            txn.liveness_score is not None and txn.liveness_score < policy.liveness_review_below
        ):
            overrides += ("LIVENESS_ATTACK",)
            if _STRICTNESS[decision] < _STRICTNESS["review"]:
                decision = "review"
        reasons: tuple[Reason, ...] = (
            tuple([_override_reason(c) for c in overrides]) if overrides else ()
        )
        if contrib is not None:
            reasons += tuple(
                top_reasons(self.model.feature_names, vector[self._idx], contrib[:-1], k=self.top_k)
            )
        # Positional: this runs for every payment scored, and keywords cost twice as much here.
        return ScoreResult(
            txn.txn_id,
            float(score) if finite else None,
            decision,
            reasons,
            self.model.version,
            policy.review_at,
            policy.decline_at,
            overrides,
            None if finite else "score_not_finite",
        )

    def _failed(self, txn_id: str, code: str) -> ScoreResult:
        return ScoreResult(
            txn_id=txn_id,
            score=None,
            decision="review",
            reasons=(_override_reason("SCORING_ERROR"),),
            model_version=self.model.version,
            review_at=self.model.policy.review_at,
            decline_at=self.model.policy.decline_at,
            error_code=code,
        )

    def _contributions(self, x: np.ndarray) -> np.ndarray:
        """TreeSHAP contributions for reason codes: the table lookup of :class:`TreeShap` (the
        same values as LightGBM's up to float rounding, in half the time), else LightGBM's.
        Explanations keep LightGBM's own values (:func:`contributions`): they show them whole."""
        shap = tree_shap(self.model.booster, len(self.model.feature_names))
        return self.model.contributions(x) if shap is None else shap.contributions(x)

    def _remember(self, txn_id: str, vector: np.ndarray, result: ScoreResult) -> None:
        self._cache[txn_id] = _Cached(vector, result)
        self._trim()

    def _trim(self) -> None:
        """Drop the oldest cached results beyond ``cache_size``."""
        cache = self._cache
        while len(cache) > self.cache_size:
            cache.popitem(last=False)

    # ---- public ------------------------------------------------------------
    def score(
        self, txn: Transaction, *, blocked: Collection[tuple[str, str]] = (), explain: bool = True
    ) -> ScoreResult:
        """Score one transaction (reasons included unless ``explain`` is False and it is approved)."""
        hit = self._cache.get(txn.txn_id)
        if hit is not None:
            return hit.result
        try:
            vector = np.asarray(self.engine.features(txn), dtype=np.float64)
            x = vector[self._idx].reshape(1, -1)
            score = float(self.model.predict_proba(x)[0])
            contrib = None
            if explain or not (math.isfinite(score) and score < self.model.policy.review_at):
                contrib = self._contributions(x)[0]
            result = self._decide(txn, score, vector, contrib, blocked)
        except Exception:  # fail closed: never approve because scoring broke
            log.exception("fraud scoring failed for %s", txn.txn_id)
            return self._failed(txn.txn_id, "scoring_failed")
        self._remember(txn.txn_id, vector, result)
        return result

    def score_batch(
        self,
        txns: Sequence[Transaction],
        *,
        blocked: Collection[tuple[str, str]] = (),
        explain: bool = False,
    ) -> list[ScoreResult]:
        """Score many transactions in order; one model call, contributions only where needed."""
        results: list[ScoreResult | None] = [None] * len(txns)
        cache = self._cache
        todo: list[int] = []
        for i, txn in enumerate(txns):
            hit = cache.get(txn.txn_id)
            if hit is None:
                todo.append(i)
            else:
                results[i] = hit.result
        # The chunk's features at once (velocity vectorised), bit for bit what one at a time
        # gives; a transaction that cannot be featured fails alone and leaves the state as is.
        batch = self.engine.features_batch([txns[i] for i in todo])
        for k, exc in batch.errors:
            txn = txns[todo[k]]
            log.error("fraud features failed for %s", txn.txn_id, exc_info=exc)
            results[todo[k]] = self._failed(txn.txn_id, "scoring_failed")
        fresh = [todo[k] for k in batch.rows]
        if fresh:
            try:
                full = batch.matrix
                x = full[:, self._idx]
                scores = self.model.predict_proba(x)
                need = np.flatnonzero(
                    np.ones(len(fresh), dtype=bool)
                    if explain
                    else ~(np.isfinite(scores) & (scores < self.model.policy.review_at))
                )
                contribs: dict[int, np.ndarray] = {}
                if len(need):
                    c = self._contributions(x[need])
                    contribs = {int(j): c[n] for n, j in enumerate(need)}
                policy, version = self.model.policy, self.model.version
                cache, decide = self._cache, self._decide
                review_at, decline_at = policy.review_at, policy.decline_at
                floor = policy.liveness_review_below
                for j, (i, score) in enumerate(zip(fresh, scores.tolist(), strict=True)):
                    txn = txns[i]
                    row = full[j]
                    contrib = contribs.get(j)
                    live = txn.liveness_score
                    if (
                        contrib is None
                        and not blocked
                        and score < review_at  # False for NaN: the general path answers it
                        and score < decline_at
                        and not txn.attack_type
                        and (live is None or live >= floor)
                    ):
                        # A plain approval, most of a batch: what _decide answers, built directly.
                        res = ScoreResult(
                            txn.txn_id, score, "approve", (), version, review_at, decline_at
                        )
                    else:
                        res = decide(txn, score, row, contrib, blocked)
                    results[i] = res
                    cache[txn.txn_id] = _Cached(row, res)
                self._trim()
            except Exception:
                log.exception("fraud batch scoring failed")
                for i in fresh:
                    results[i] = self._failed(txns[i].txn_id, "scoring_failed")
        return [r for r in results if r is not None]

    def model_values(self, txn_id: str) -> np.ndarray | None:
        """The feature values (``model.feature_names`` order) a cached transaction was scored
        on; None if it is not cached (never scored here, forgotten, or scoring failed)."""
        hit = self._cache.get(txn_id)
        return None if hit is None else hit.vector[self._idx]

    def forget(self, txn_ids: Iterable[str]) -> None:
        """Drop cached results (the caller keeps them elsewhere, e.g. the score store)."""
        for txn_id in txn_ids:
            self._cache.pop(txn_id, None)

    def explain(self, txn_id: str) -> dict[str, Any] | None:
        """Every feature's value and contribution for a transaction scored earlier (None if unknown)."""
        hit = self._cache.get(txn_id)
        if hit is None:
            return None
        base, margin, rows = contributions(self.model, hit.vector[self._idx])
        return {
            "txn_id": txn_id,
            "result": hit.result.to_dict(),
            "base_log_odds": base,
            "margin": margin,
            "features": rows,
        }


def contributions(
    model: FraudModel, values: np.ndarray
) -> tuple[float, float, list[dict[str, Any]]]:
    """Base log-odds, margin and per-feature ``{feature, value, contribution}`` (largest first)
    of one row of ``values`` in ``model.feature_names`` order (NaN = missing)."""
    x = np.asarray(values, dtype=np.float64).reshape(1, -1)
    contrib = model.contributions(x)[0]
    rows = sorted(
        (
            {
                "feature": name,
                "value": None if math.isnan(v) else float(v),
                "contribution": float(c),
            }
            for name, v, c in zip(
                model.feature_names, x[0].tolist(), contrib[:-1].tolist(), strict=True
            )
        ),
        key=lambda r: -abs(float(r["contribution"])),  # type: ignore[arg-type]
    )
    return float(contrib[-1]), float(contrib.sum()), rows


__all__ = ["FraudScorer", "ScoreResult", "contributions", "entity_keys"]
