"""The fraud model: LightGBM, Platt-calibrated probabilities and a cost-based threshold policy.

Training takes a time-ordered feature matrix. Its last ``valid_frac`` is held
back (never trained on) for early stopping, calibration and choosing the
policy thresholds; test data never enters here. The policy picks a review and
a decline threshold that minimise the expected cost on that validation slice::

    cost = Σ missed fraud amounts + c_review × reviews
         + Σ (1 − review_catch) × fraud amounts sent to review
         + Σ (c_fd + r_fd × amount) over declined genuine payments

subject to a cap on the decline false-positive rate and on the review rate.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from cockpit.errors import UserError
from cockpit.progress import Progress
from tools.fraud.metrics import classification_report


@dataclass(frozen=True, slots=True)
class CostModel:
    """What each outcome costs (USD), used to choose the thresholds."""

    review_cost: float = 4.0
    """Analyst time per manual review."""
    review_catch: float = 0.85
    """Share of fraud an analyst stops once it is in review."""
    false_decline_fixed: float = 2.0
    """Fixed cost of turning a genuine customer away."""
    false_decline_rate: float = 0.3
    """Plus this share of the amount (lost margin and churn)."""
    max_decline_fpr: float = 0.001
    """Decline at most this share of genuine traffic (DOMAIN 7.3 false-decline gate)."""
    max_review_rate: float = 0.03
    """Send at most this share of all traffic to review."""


@dataclass(frozen=True, slots=True)
class Policy:
    """Score thresholds (on calibrated probability) and the cost model they came from."""

    review_at: float
    """Scores at or above this go to review."""
    decline_at: float
    """Scores at or above this are declined."""
    costs: CostModel = field(default_factory=CostModel)
    liveness_review_below: float = 0.3
    """An external liveness score below this forces at least a review."""

    def decide(self, score: float) -> str:
        if score >= self.decline_at:
            return "decline"
        if score >= self.review_at:
            return "review"
        return "approve"


@dataclass(frozen=True, slots=True)
class TrainParams:
    """LightGBM settings; the defaults train in seconds on two cores."""

    n_estimators: int = 300
    learning_rate: float = 0.1
    """Fewer, larger steps: same held-out PR-AUC on the simulator as 0.05, half the trees to score."""
    num_leaves: int = 15
    max_depth: int = 4
    """Shallow trees keep TreeSHAP reason codes cheap (~0.3 ms a row) at no cost in PR-AUC here."""
    min_child_samples: int = 40
    feature_fraction: float = 0.8
    bagging_fraction: float = 0.8
    lambda_l2: float = 5.0
    early_stopping_rounds: int = 40
    valid_frac: float = 0.2
    num_threads: int = 1
    """One thread: on a shared 2-core box OpenMP contention made 2 threads ~5x slower."""
    seed: int = 7


@dataclass(slots=True)
class FraudModel:
    """A trained model: booster, calibration, policy and the metrics it was accepted on."""

    booster: lgb.Booster
    feature_names: tuple[str, ...]
    calib_a: float
    calib_b: float
    policy: Policy
    metrics: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    version: str | None = None

    def margin(self, x: np.ndarray) -> np.ndarray:
        """Raw LightGBM margin (log-odds before calibration)."""
        return np.asarray(self.booster.predict(x, raw_score=True, num_threads=1), dtype=np.float64)

    def calibrate(self, margin: np.ndarray) -> np.ndarray:
        z = self.calib_a * margin + self.calib_b
        return 1.0 / (1.0 + np.exp(-z))

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Calibrated fraud probability per row."""
        return self.calibrate(self.margin(x))

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """Per-feature contributions to the raw margin (last column: bias), LightGBM TreeSHAP."""
        return np.asarray(
            self.booster.predict(x, pred_contrib=True, num_threads=1), dtype=np.float64
        )


def booster_params(p: TrainParams) -> dict[str, Any]:
    """LightGBM's parameters for ``p``'s tree settings (rounds and stopping are the caller's)."""
    return {
        "objective": "binary",
        "learning_rate": p.learning_rate,
        "num_leaves": p.num_leaves,
        "max_depth": p.max_depth,
        "min_child_samples": p.min_child_samples,
        "feature_fraction": p.feature_fraction,
        "bagging_fraction": p.bagging_fraction,
        "bagging_freq": 1,
        "lambda_l2": p.lambda_l2,
        "num_threads": p.num_threads,
        "seed": p.seed,
        "deterministic": True,
        "verbosity": -1,
    }


def fit_platt(margin: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Platt scaling: ``(a, b)`` with P(fraud) = sigmoid(a · margin + b), fitted on ``y``."""
    if y.sum() == 0 or y.sum() == len(y):
        return 1.0, 0.0
    lr = LogisticRegression(C=1e4, max_iter=1000)
    lr.fit(margin.reshape(-1, 1), y)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def choose_policy(
    scores: np.ndarray, y: np.ndarray, amounts: np.ndarray, *, costs: CostModel
) -> tuple[Policy, dict[str, float]]:
    """Review / decline thresholds minimising expected cost on a validation slice."""
    y = np.asarray(y).astype(bool)
    order = np.argsort(-scores, kind="stable")
    s, yy, amt = scores[order], y[order], amounts[order]
    n = len(s)
    n_legit = max(int((~yy).sum()), 1)
    fraud_amt = np.r_[0.0, np.cumsum(np.where(yy, amt, 0.0))]  # over the top-k scores
    legit_cnt = np.r_[0, np.cumsum(~yy)]
    fd_cost = np.r_[
        0.0,
        np.cumsum(np.where(~yy, costs.false_decline_fixed + costs.false_decline_rate * amt, 0.0)),
    ]
    total_fraud = fraud_amt[-1]
    # Candidate cut points: "top k are flagged" for k on a grid (log-spaced, dense at the top).
    ks = np.unique(np.r_[0, np.geomspace(1, max(n, 1), num=160).astype(int), n])
    best: tuple[float, int, int] | None = None
    max_review = int(costs.max_review_rate * n)
    for kd in ks:
        if legit_cnt[kd] > costs.max_decline_fpr * n_legit:
            break
        for kr in ks[ks >= kd]:
            if kr - kd > max_review:
                break
            cost = (
                (total_fraud - fraud_amt[kr])
                + costs.review_cost * (kr - kd)
                + (1.0 - costs.review_catch) * (fraud_amt[kr] - fraud_amt[kd])
                + fd_cost[kd]
            )
            if best is None or cost < best[0]:
                best = (cost, int(kd), int(kr))
    assert best is not None
    cost, kd, kr = best

    def cut(k: int) -> float:
        # Threshold that flags exactly the top k (midpoint to the next score).
        if k <= 0:
            return float(np.nextafter(s[0], np.inf)) if n else 1.0
        if k >= n:
            return float(s[-1])
        return float((s[k - 1] + s[k]) / 2.0)

    decline_at = min(max(cut(kd), 0.0), 1.0)
    review_at = min(max(cut(kr), 0.0), decline_at)
    stats = {
        "expected_cost": float(cost),
        "cost_approve_all": float(total_fraud),
        "valid_decline_rate": kd / max(n, 1),
        "valid_review_rate": (kr - kd) / max(n, 1),
        "valid_false_decline_rate": float(legit_cnt[kd] / n_legit),
    }
    return Policy(review_at=review_at, decline_at=decline_at, costs=costs), stats


def _round_reporter(progress: Progress) -> Any:
    def report(env: Any) -> None:
        progress(env.iteration + 1, env.end_iteration)

    return report


def train_model(
    features: pd.DataFrame,
    y: np.ndarray,
    *,
    amounts: np.ndarray,
    feature_names: tuple[str, ...] | None = None,
    params: TrainParams | None = None,
    costs: CostModel | None = None,
    progress: Progress | None = None,
) -> FraudModel:
    """Train on a time-ordered matrix; the last ``valid_frac`` only calibrates and sets the policy.

    ``progress(done, total)`` hears each boosting round (early stopping may end it sooner).
    """
    p = params or TrainParams()
    names = tuple(feature_names or features.columns)
    missing = [f for f in names if f not in features.columns]
    if missing:
        raise UserError(
            f"unknown features: {missing}", code="unknown_feature", param="feature_names"
        )
    y = np.asarray(y).astype(int)
    n = len(y)
    cut = int(n * (1.0 - p.valid_frac))
    if cut < 10 or y[:cut].sum() < 2 or y[cut:].sum() < 1:
        raise UserError(
            "not enough labelled fraud to train (need positives in both the fit and validation slices)",
            code="insufficient_training_data",
        )
    x = features[list(names)].to_numpy(dtype=np.float64)
    lgb_params = {**booster_params(p), "metric": "average_precision"}
    train_set = lgb.Dataset(x[:cut], label=y[:cut], feature_name=list(names), free_raw_data=True)
    valid_set = lgb.Dataset(x[cut:], label=y[cut:], reference=train_set)
    booster = lgb.train(
        lgb_params,
        train_set,
        num_boost_round=p.n_estimators,
        valid_sets=[valid_set],
        callbacks=[lgb.early_stopping(p.early_stopping_rounds, verbose=False)]
        + ([_round_reporter(progress)] if progress is not None else []),
    )
    booster.free_dataset()
    model = FraudModel(
        booster=booster,
        feature_names=names,
        calib_a=1.0,
        calib_b=0.0,
        policy=Policy(review_at=0.5, decline_at=0.9),
        params=asdict(p),
    )
    margin_v = model.margin(x[cut:])
    model.calib_a, model.calib_b = fit_platt(margin_v, y[cut:])
    prob_v = model.calibrate(margin_v)
    model.policy, policy_stats = choose_policy(
        prob_v, y[cut:], np.asarray(amounts, dtype=np.float64)[cut:], costs=costs or CostModel()
    )
    model.metrics = {
        "validation": classification_report(y[cut:], prob_v),
        "policy": policy_stats,
        "train_rows": cut,
        "valid_rows": n - cut,
        "best_iteration": int(booster.best_iteration or booster.current_iteration()),
    }
    return model


def evaluate(
    model: FraudModel, features: pd.DataFrame, y: np.ndarray, *, amounts: np.ndarray
) -> dict[str, Any]:
    """Held-out metrics plus what the policy does there (decline / review / false-decline rates)."""
    x = features[list(model.feature_names)].to_numpy(dtype=np.float64)
    prob = model.predict_proba(x)
    y = np.asarray(y).astype(bool)
    report: dict[str, Any] = classification_report(y, prob)
    decline = prob >= model.policy.decline_at
    review = (prob >= model.policy.review_at) & ~decline
    amt = np.asarray(amounts, dtype=np.float64)
    fraud_amt = float(amt[y].sum())
    report.update(
        {
            "decline_rate": float(decline.mean()),
            "review_rate": float(review.mean()),
            "false_decline_rate": float(decline[~y].mean()) if (~y).any() else math.nan,
            "fraud_declined": float(decline[y].mean()) if y.any() else math.nan,
            "fraud_declined_or_reviewed": float((decline | review)[y].mean())
            if y.any()
            else math.nan,
            "amount_weighted_recall": float(amt[y & (decline | review)].sum() / fraud_amt)
            if fraud_amt > 0
            else math.nan,
        }
    )
    return report


__all__ = [
    "CostModel",
    "FraudModel",
    "Policy",
    "TrainParams",
    "choose_policy",
    "evaluate",
    "train_model",
]
