"""Fraud metrics (DOMAIN.md section 7.3): PR-AUC first, ROC-AUC, recall at a fixed false-positive rate."""

from __future__ import annotations

import math

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score


def recall_at_fpr(y: np.ndarray, scores: np.ndarray, fpr: float) -> float:
    """Share of positives scored above the highest threshold whose FPR on negatives is ≤ ``fpr``.

    Conservative: the threshold is an actual negative's score and ties count
    as negatives, so the realised FPR never exceeds ``fpr``.
    """
    y = np.asarray(y).astype(bool)
    scores = np.asarray(scores, dtype=np.float64)
    neg = np.sort(scores[~y])[::-1]
    pos = scores[y]
    if len(pos) == 0 or len(neg) == 0:
        return math.nan
    k = math.floor(fpr * len(neg))
    thr = neg[min(k, len(neg) - 1)]
    return float(np.mean(pos > thr))


def threshold_at_fpr(y: np.ndarray, scores: np.ndarray, fpr: float) -> float:
    """The score threshold :func:`recall_at_fpr` uses."""
    y = np.asarray(y).astype(bool)
    neg = np.sort(np.asarray(scores, dtype=np.float64)[~y])[::-1]
    k = math.floor(fpr * len(neg))
    return float(neg[min(k, len(neg) - 1)])


def classification_report(y: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """PR-AUC, ROC-AUC, recall at 0.1 / 1 / 5 % FPR, prevalence and (for probabilities) Brier."""
    y = np.asarray(y).astype(int)
    s = np.asarray(scores, dtype=np.float64)
    out = {
        "n": float(len(y)),
        "positives": float(y.sum()),
        "prevalence": float(y.mean()) if len(y) else math.nan,
        "pr_auc": float(average_precision_score(y, s)) if y.any() else math.nan,
        "roc_auc": float(roc_auc_score(y, s)) if 0 < y.sum() < len(y) else math.nan,
        "recall_at_0.1pct_fpr": recall_at_fpr(y, s, 0.001),
        "recall_at_1pct_fpr": recall_at_fpr(y, s, 0.01),
        "recall_at_5pct_fpr": recall_at_fpr(y, s, 0.05),
    }
    if len(s) and s.min() >= 0.0 and s.max() <= 1.0:
        out["brier"] = float(brier_score_loss(y, s))
    return out


__all__ = ["classification_report", "recall_at_fpr", "threshold_at_fpr"]
