"""Fraud model quality: the ULB real-data benchmark and simulator ablations. Prints JSON.

1. ULB / Worldline credit-card data (fetched with ``cockpit data fetch ulb-fraud``
   or automatically here): time-ordered 70/30 split; our LightGBM pipeline
   (``tools.fraud.model.train_model``: the last 20% of the training period
   for early stopping, calibration and thresholds) against a logistic-regression
   baseline trained on the same 70% in the same run. Gates (issue 5):
   ROC-AUC ≥ 0.975, PR-AUC ≥ 0.78, recall ≥ 0.75 at 0.1% FPR.
2. Simulator, held-out last 30% by time: the model with every feature family
   against ablations (tabular only, without graph, without sequence), with
   recall of fraud-ring members and card-testing attempts at ≤ 1% FPR.

Usage: ``python benchmarks/fraud_quality.py [--skip-ulb] [--customers N] [--days D]``
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from evals.report import emit
from tools.fraud.data import fetch_ulb, load_ulb
from tools.fraud.features import bulk_features
from tools.fraud.metrics import classification_report
from tools.fraud.model import TrainParams, evaluate, train_model
from tools.fraud.simulator import PATTERNS, SimConfig, simulate
from tools.fraud.training import pattern_recall, train_on_frame

GATES = {"roc_auc": 0.975, "pr_auc": 0.78, "recall_at_0.1pct_fpr": 0.75}
_KEYS = ("roc_auc", "pr_auc", "recall_at_0.1pct_fpr", "recall_at_1pct_fpr", "brier")


def _pick(report: dict[str, Any]) -> dict[str, float]:
    return {k: round(float(report[k]), 4) for k in _KEYS if k in report}


def ulb_benchmark() -> dict[str, Any]:
    fetch_ulb()
    frame = load_ulb()
    feats = frame.drop(columns=["Class", "Time"]).copy()
    feats["Amount"] = np.log1p(feats["Amount"])
    feats["hour"] = (frame["Time"] // 3600) % 24
    y = frame["Class"].to_numpy(dtype=int)
    cut = int(len(frame) * 0.7)
    t0 = time.perf_counter()
    model = train_model(
        feats.iloc[:cut],
        y[:cut],
        amounts=frame["Amount"].to_numpy()[:cut],
        params=TrainParams(n_estimators=600, learning_rate=0.03, min_child_samples=50),
    )
    lgb_s = time.perf_counter() - t0
    test = evaluate(model, feats.iloc[cut:], y[cut:], amounts=frame["Amount"].to_numpy()[cut:])
    t0 = time.perf_counter()
    baseline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=0.1))
    baseline.fit(feats.iloc[:cut].to_numpy(), y[:cut])
    lr_s = time.perf_counter() - t0
    lr = classification_report(y[cut:], baseline.predict_proba(feats.iloc[cut:].to_numpy())[:, 1])
    ours = _pick(test)
    return {
        "split": "time-ordered 70/30",
        "train_rows": cut,
        "test_rows": len(frame) - cut,
        "test_frauds": int(y[cut:].sum()),
        "lightgbm": {
            **ours,
            "train_seconds": round(lgb_s, 1),
            "trees": model.metrics["best_iteration"],
            "false_decline_rate": round(test["false_decline_rate"], 5),
            "amount_weighted_recall": round(test["amount_weighted_recall"], 4),
        },
        "logistic_regression": {**_pick(lr), "train_seconds": round(lr_s, 1)},
        "gates": {k: {"need": v, "got": ours[k], "pass": ours[k] >= v} for k, v in GATES.items()},
    }


ABLATIONS: dict[str, tuple[str, ...]] = {
    "all": ("tabular", "sequence", "graph"),
    "without_graph": ("tabular", "sequence"),
    "without_sequence": ("tabular", "graph"),
    "tabular_only": ("tabular",),
}


def simulator_benchmark(cfg: SimConfig) -> dict[str, Any]:
    t0 = time.perf_counter()
    frame = simulate(cfg)
    feats = bulk_features(frame)
    prep_s = time.perf_counter() - t0
    out: dict[str, Any] = {
        "rows": len(frame),
        "fraud_rows": int(frame["is_fraud"].sum()),
        "simulate_and_features_seconds": round(prep_s, 1),
        "ablations": {},
    }
    for name, fams in ABLATIONS.items():
        t0 = time.perf_counter()
        run = train_on_frame(frame, features=feats, families=fams)
        ring = pattern_recall(run, pattern="fraud_ring", fpr=0.01)
        ct = pattern_recall(run, pattern="card_testing", fpr=0.01)
        out["ablations"][name] = {
            **_pick(run.test_metrics),
            "train_seconds": round(time.perf_counter() - t0, 1),
            "ring_recall_at_1pct_fpr": round(ring["recall"], 4),
            "ring_rows": int(ring["pattern_rows"]),
            "card_testing_recall_at_1pct_fpr": round(ct["recall"], 4),
            "card_testing_rows": int(ct["pattern_rows"]),
            "false_decline_rate": round(run.test_metrics["false_decline_rate"], 5),
        }
        if name == "all":
            out["all_by_pattern_recall_at_1pct_fpr"] = {
                p: round(pattern_recall(run, pattern=p, fpr=0.01)["recall"], 4)
                for p in PATTERNS
                if p != "legit"
            }
    ab = out["ablations"]
    out["gates"] = {
        "ring_recall_all_ge_0.9": ab["all"]["ring_recall_at_1pct_fpr"] >= 0.9,
        "graph_lifts_ring_recall": round(
            ab["all"]["ring_recall_at_1pct_fpr"] - ab["without_graph"]["ring_recall_at_1pct_fpr"], 4
        ),
        "sequence_lifts_card_testing_recall_over_tabular": round(
            ab["without_graph"]["card_testing_recall_at_1pct_fpr"]
            - ab["tabular_only"]["card_testing_recall_at_1pct_fpr"],
            4,
        ),
        "pr_auc_in_plausible_band_0.6_0.9": 0.6 <= ab["all"]["pr_auc"] <= 0.9,
    }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-ulb", action="store_true", help="Only the simulator part")
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    result: dict[str, Any] = {}
    if not args.skip_ulb:
        result["ulb"] = ulb_benchmark()
    result["simulator"] = simulator_benchmark(
        SimConfig(seed=args.seed, n_customers=args.customers, days=args.days)
    )
    emit(result)


if __name__ == "__main__":
    main()
